/*
 * dns_rdata: decoders of the RDATA of the record types Moat uses (MX, A,
 * AAAA, TLSA, TXT, PTR, CNAME), and the name and address helpers around
 * them.  The bytes come from whoever answers DNS: every length is counted,
 * names are checked label by label and only host names pass.  Pure: no I/O,
 * no logging, no globals; fuzzed by fuzz/fuzz_dns_rdata.c.  Runs in every
 * process that looks something up (remote, later smtpd).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

#define DNS_LABEL_MAX 63
#define DNS_WIRE_NAME_MAX 255

static int
dns_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static char
dns_lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

int
dns_name_decode(const unsigned char *data, size_t len, char *out,
		size_t outsize)
{
	size_t in = 0, o = 0;

	if (outsize < 2)
		return -1;
	for (;;) {
		size_t n;

		if (in >= len)
			return -1;
		n = data[in++];
		if (n == 0)
			break;
		if (n > DNS_LABEL_MAX || n > len - in ||
		    in + n >= DNS_WIRE_NAME_MAX)
			return -1; /* also refuses compression pointers */
		if (o > 0)
			out[o++] = '.';
		if (o + n + 1 > outsize)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (!dns_label_char(data[in + i]))
				return -1;
			out[o++] = dns_lower(data[in + i]);
		}
		in += n;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return (int)in;
}

int
dns_name_valid(const char *text)
{
	size_t label = 0, total = strlen(text);

	if (total > 0 && text[total - 1] == '.')
		total--;
	if (total == 0 || total > 253)
		return 0;
	for (size_t i = 0; i < total; i++) {
		if (text[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!dns_label_char((unsigned char)text[i]) ||
		    ++label > DNS_LABEL_MAX)
			return 0;
	}
	return label > 0;
}

static unsigned
dns_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* A name that must fill the rest of the RDATA exactly. */
static enum dns_rdata_status
dns_rdata_name(const unsigned char *p, size_t len, struct dns_rr *rr)
{
	int n = dns_name_decode(p, len, rr->name, sizeof(rr->name));

	return n >= 0 && (size_t)n == len ? DNS_RDATA_OK : DNS_RDATA_BAD;
}

static enum dns_rdata_status
dns_rdata_txt(const unsigned char *p, size_t len, struct dns_rr *rr)
{
	size_t in = 0, o = 0;

	if (len == 0)
		return DNS_RDATA_BAD;
	rr->data = malloc(len); /* the strings joined are shorter */
	if (rr->data == NULL)
		return DNS_RDATA_BAD;
	while (in < len) {
		size_t n = p[in++];

		if (n > len - in || o + n > DNS_TXT_MAX)
			return DNS_RDATA_BAD;
		memcpy(rr->data + o, p + in, n);
		o += n;
		in += n;
	}
	rr->len = o;
	return DNS_RDATA_OK;
}

static enum dns_rdata_status
dns_rdata_tlsa(const unsigned char *p, size_t len, struct dns_rr *rr)
{
	if (len < 4) /* RFC 6698: fields, then at least one byte of data */
		return DNS_RDATA_BAD;
	rr->usage = p[0];
	rr->selector = p[1];
	rr->mtype = p[2];
	rr->len = len - 3;
	rr->data = malloc(rr->len);
	if (rr->data == NULL)
		return DNS_RDATA_BAD;
	memcpy(rr->data, p + 3, rr->len);
	return DNS_RDATA_OK;
}

enum dns_rdata_status
dns_rdata_decode(int type, const unsigned char *rdata, size_t len,
		 struct dns_rr *rr)
{
	enum dns_rdata_status st = DNS_RDATA_BAD;

	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (len != (type == DNS_T_A ? 4u : 16u))
			break;
		rr->addr.family = type == DNS_T_A ? AF_INET : AF_INET6;
		memcpy(rr->addr.bytes, rdata, len);
		st = DNS_RDATA_OK;
		break;
	case DNS_T_MX:
		if (len < 3)
			break;
		rr->pref = dns_get16(rdata);
		st = dns_rdata_name(rdata + 2, len - 2, rr);
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		st = dns_rdata_name(rdata, len, rr);
		break;
	case DNS_T_TXT:
		st = dns_rdata_txt(rdata, len, rr);
		break;
	case DNS_T_TLSA:
		st = dns_rdata_tlsa(rdata, len, rr);
		break;
	}
	if (st != DNS_RDATA_OK)
		dns_rr_clear(rr);
	return st;
}

void
dns_rr_clear(struct dns_rr *rr)
{
	free(rr->data);
	rr->data = NULL;
	rr->len = 0;
}

int
dns_addr_text(const struct dns_addr *a, char *out, size_t outsize)
{
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    inet_ntop(a->family, a->bytes, out, (socklen_t)outsize) == NULL)
		return -1;
	return 0;
}

int
dns_addr_parse(const char *text, struct dns_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, text, a->bytes) == 1)
		a->family = AF_INET6;
	else
		return -1;
	return 0;
}

int
dns_addr_equal(const struct dns_addr *a, const struct dns_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

int
dns_reverse_name(const struct dns_addr *a, const char *suffix, char *out,
		 size_t outsize)
{
	static const char hex[] = "0123456789abcdef";
	struct buf b = BUF_INIT;
	int rc = 0;

	if (a->family == AF_INET) {
		for (int i = 3; i >= 0; i--)
			buf_printf(&b, "%u.", a->bytes[i]);
	} else if (a->family == AF_INET6) {
		for (int i = 15; i >= 0; i--) {
			buf_append_char(&b, hex[a->bytes[i] & 0xf]);
			buf_append_char(&b, '.');
			buf_append_char(&b, hex[a->bytes[i] >> 4]);
			buf_append_char(&b, '.');
		}
	} else {
		rc = -1;
	}
	if (suffix == NULL)
		suffix = a->family == AF_INET ? "in-addr.arpa" : "ip6.arpa";
	buf_append_str(&b, suffix);
	if (rc == 0 && (b.len >= outsize || !dns_name_valid(buf_cstr(&b))))
		rc = -1;
	if (rc == 0)
		memcpy(out, b.data, b.len + 1);
	buf_free(&b);
	return rc;
}

int
dns_tlsa_name(const char *host, unsigned port, char *out, size_t outsize)
{
	int n = snprintf(out, outsize, "_%u._tcp.%s", port, host);

	if (n < 0 || (size_t)n >= outsize || port == 0 || port > 65535 ||
	    !dns_name_valid(out))
		return -1;
	return 0;
}

const char *
dns_type_name(int type)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_CNAME:
		return "CNAME";
	case DNS_T_PTR:
		return "PTR";
	case DNS_T_MX:
		return "MX";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_TLSA:
		return "TLSA";
	}
	return "unknown";
}

const char *
dns_status_name(enum dns_status s)
{
	static const char *const names[] = {
	    [DNS_FOUND] = "found",       [DNS_NODATA] = "nodata",
	    [DNS_NXDOMAIN] = "nxdomain", [DNS_TEMPFAIL] = "tempfail",
	    [DNS_BADNAME] = "badname",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s]
							      : "unknown";
}

const char *
dns_dnssec_name(enum dns_dnssec d)
{
	return d == DNS_SECURE  ? "secure"
	       : d == DNS_BOGUS ? "bogus"
				: "insecure";
}
