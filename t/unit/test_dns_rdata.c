/*
 * test_dns_rdata: the RDATA decoders (MX, A, AAAA, TLSA, TXT, PTR, CNAME)
 * on good and hostile bytes, and the name and address helpers.
 */
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "tap.h"

#define RD(...)                                                                \
	(const unsigned char[])                                                \
	{                                                                      \
		__VA_ARGS__                                                    \
	}
#define DECODE(type, bytes) dns_rdata_decode(type, bytes, sizeof(bytes), &rr)

static void
test_mx(void)
{
	struct dns_rr rr;
	static const unsigned char mx[] = {0,   10,  3,   'M', 'x', '1', 7, 'e',
					   'x', 'a', 'm', 'p', 'l', 'e', 0};
	static const unsigned char null_mx[] = {0, 0, 0};
	static const unsigned char trailing[] = {0, 5, 1, 'a', 0, 0};
	static const unsigned char pointer[] = {0, 5, 0xc0, 12};
	static const unsigned char bad_char[] = {0, 5, 3, 'a', ' ', 'b', 0};
	static const unsigned char dot_in_label[] = {0, 5, 3, 'a', '.', 'b', 0};
	static const unsigned char nul_in_label[] = {0, 5, 3, 'a', 0, 'b', 0};
	static const unsigned char truncated[] = {0, 5, 4, 'a', 'b', 'c'};
	static const unsigned char short_mx[] = {0, 5};

	is_int(DECODE(DNS_T_MX, mx), DNS_RDATA_OK, "MX decodes");
	is_int(rr.pref, 10, "MX preference");
	is_str(rr.name, "mx1.example", "MX exchange, in lower case");
	is_int(DECODE(DNS_T_MX, null_mx), DNS_RDATA_OK, "null MX decodes");
	is_str(rr.name, ".", "null MX exchange is the root");
	is_int(DECODE(DNS_T_MX, trailing), DNS_RDATA_BAD,
	       "MX with bytes after the name is refused");
	is_int(DECODE(DNS_T_MX, pointer), DNS_RDATA_BAD,
	       "a compression pointer is refused");
	is_int(DECODE(DNS_T_MX, bad_char), DNS_RDATA_BAD,
	       "a space in a label is refused");
	is_int(DECODE(DNS_T_MX, dot_in_label), DNS_RDATA_BAD,
	       "a dot inside a label is refused");
	is_int(DECODE(DNS_T_MX, nul_in_label), DNS_RDATA_BAD,
	       "a NUL inside a label is refused");
	is_int(DECODE(DNS_T_MX, truncated), DNS_RDATA_BAD,
	       "a truncated name is refused");
	is_int(DECODE(DNS_T_MX, short_mx), DNS_RDATA_BAD,
	       "an MX without a name is refused");
}

static void
test_long_names(void)
{
	unsigned char wire[300];
	char out[DNS_NAME_MAX];
	size_t n = 0;

	/* 4 labels of 63: 4 * 64 + 1 = 257 bytes > 255: refused. */
	for (int l = 0; l < 4; l++) {
		wire[n++] = 63;
		memset(wire + n, 'a', 63);
		n += 63;
	}
	wire[n++] = 0;
	is_int(dns_name_decode(wire, n, out, sizeof(out)), -1,
	       "a name over 255 bytes is refused");
	/* 3 labels of 63 and one of 61: 255 bytes, the longest. */
	wire[192] = 61;
	wire[192 + 62] = 0;
	is_int(dns_name_decode(wire, 255, out, sizeof(out)), 255,
	       "a name of 255 bytes decodes");
	is_int(strlen(out), 253, "into 253 characters");
	is_int(dns_name_decode(wire, 255, out, 100), -1,
	       "a name longer than the output is refused");
	wire[0] = 64;
	is_int(dns_name_decode(wire, 255, out, sizeof(out)), -1,
	       "a 64-byte label is refused");
}

static void
test_addresses(void)
{
	struct dns_rr rr;
	char text[64];
	static const unsigned char a[] = {192, 0, 2, 1};
	static const unsigned char a5[] = {192, 0, 2, 1, 0};
	static const unsigned char aaaa[16] = {0x20, 0x01, 0x0d,
					       0xb8, [15] = 1};

	is_int(DECODE(DNS_T_A, a), DNS_RDATA_OK, "A decodes");
	dns_addr_text(&rr.addr, text, sizeof(text));
	is_str(text, "192.0.2.1", "A address");
	is_int(DECODE(DNS_T_A, a5), DNS_RDATA_BAD, "A of 5 bytes is refused");
	is_int(DECODE(DNS_T_AAAA, aaaa), DNS_RDATA_OK, "AAAA decodes");
	is_int(rr.addr.family, AF_INET6, "AAAA is IPv6");
	dns_addr_text(&rr.addr, text, sizeof(text));
	is_str(text, "2001:db8::1", "AAAA address");
	is_int(DECODE(DNS_T_AAAA, a), DNS_RDATA_BAD,
	       "AAAA of 4 bytes is refused");
}

static void
test_tlsa_txt(void)
{
	struct dns_rr rr;
	static const unsigned char tlsa[] = {3, 1, 1, 0xab, 0xcd};
	static const unsigned char tlsa_empty[] = {3, 1, 1};
	static const unsigned char txt[] = {5, 'v', '=', 'S',  'T', 'S',
					    0, 3,   '1', '\0', 'x'};
	static const unsigned char txt_over[] = {5, 'a', 'b'};

	is_int(DECODE(DNS_T_TLSA, tlsa), DNS_RDATA_OK, "TLSA decodes");
	ok(rr.usage == 3 && rr.selector == 1 && rr.mtype == 1,
	   "TLSA usage, selector, matching type");
	ok(rr.len == 2 && rr.data[0] == 0xab && rr.data[1] == 0xcd,
	   "TLSA association data");
	dns_rr_clear(&rr);
	is_int(DECODE(DNS_T_TLSA, tlsa_empty), DNS_RDATA_BAD,
	       "TLSA without data is refused");
	is_int(DECODE(DNS_T_TXT, txt), DNS_RDATA_OK, "TXT decodes");
	ok(rr.len == 8 && memcmp(rr.data, "v=STS1\0x", 8) == 0,
	   "TXT strings joined, empty ones and NUL bytes kept as bytes");
	dns_rr_clear(&rr);
	is_int(DECODE(DNS_T_TXT, txt_over), DNS_RDATA_BAD,
	       "TXT string longer than the RDATA is refused");
	is_int(dns_rdata_decode(DNS_T_TXT, RD(0), 0, &rr), DNS_RDATA_BAD,
	       "empty TXT RDATA is refused");
}

static void
test_ptr(void)
{
	struct dns_rr rr;
	static const unsigned char ptr[] = {4, 'h', 'o', 's', 't', 1, 't', 0};
	static const unsigned char root[] = {0};

	is_int(DECODE(DNS_T_PTR, ptr), DNS_RDATA_OK, "PTR decodes");
	is_str(rr.name, "host.t", "PTR name");
	is_int(DECODE(DNS_T_CNAME, ptr), DNS_RDATA_OK, "CNAME decodes");
	is_int(DECODE(DNS_T_PTR, root), DNS_RDATA_OK, "a PTR to the root");
	is_str(rr.name, ".", "is '.'");
	is_int(dns_rdata_decode(99, ptr, sizeof(ptr), &rr), DNS_RDATA_BAD,
	       "an unknown type is refused");
}

static void
test_helpers(void)
{
	struct dns_addr a;
	char out[DNS_NAME_MAX];

	ok(dns_name_valid("mx1.example.org"), "a host name is valid");
	ok(dns_name_valid("mx1.example.org."), "with a trailing dot too");
	ok(dns_name_valid("_25._tcp.mx.example"), "underscores are allowed");
	ok(!dns_name_valid(""), "empty is not");
	ok(!dns_name_valid("."), "the root is not a host");
	ok(!dns_name_valid("a..b"), "an empty label is not");
	ok(!dns_name_valid("a b.c"), "a space is not");
	ok(!dns_name_valid("a\\.b"), "an escape is not");
	ok(!dns_name_valid("[192.0.2.1]"), "an address literal is not");
	is_int(dns_addr_parse("127.0.0.1", &a), 0, "parse IPv4");
	is_int(dns_reverse_name(&a, NULL, out, sizeof(out)), 0, "PTR name");
	is_str(out, "1.0.0.127.in-addr.arpa", "IPv4 reverse name");
	dns_addr_parse("127.0.0.2", &a);
	dns_reverse_name(&a, "zen.example", out, sizeof(out));
	is_str(out, "2.0.0.127.zen.example", "DNSBL name");
	is_int(dns_addr_parse("2001:db8::1", &a), 0, "parse IPv6");
	dns_reverse_name(&a, NULL, out, sizeof(out));
	is_str(
	    out,
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "ip6.arpa",
	    "IPv6 reverse name");
	is_int(dns_reverse_name(&a, NULL, out, 20), -1,
	       "reverse name too long for the output");
	is_int(dns_addr_parse("example.org", &a), -1, "a name is no address");
	is_int(dns_tlsa_name("mx.example.org", 25, out, sizeof(out)), 0,
	       "TLSA name");
	is_str(out, "_25._tcp.mx.example.org", "TLSA name text");
	is_int(dns_tlsa_name("mx example", 25, out, sizeof(out)), -1,
	       "TLSA name of a bad host");
}

int
main(void)
{
	test_mx();
	test_long_names();
	test_addresses();
	test_tlsa_txt();
	test_ptr();
	test_helpers();
	return done_testing();
}
