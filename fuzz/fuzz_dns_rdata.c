/*
 * fuzz_dns_rdata: hostile RDATA into the decoders of common/dns_rdata.c,
 * and hostile MX answers into the delivery plan of common/dns_mx.c.  The
 * first byte picks the record type.  Checked: a decoded name is a valid
 * host name (or the root) of at most 253 characters; TXT and TLSA data
 * never exceed the input; decoding the same bytes again gives the same
 * record; a name decoded from a prefix of the RDATA ends where it says.
 * For MX, the records the input holds (a 2-byte length before each) make
 * an answer; every host has the address 192.0.2.1 unless the input says
 * otherwise, and the plan must respect its limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int types[] = {DNS_T_A,   DNS_T_AAAA,  DNS_T_MX,   DNS_T_TXT,
			    DNS_T_PTR, DNS_T_CNAME, DNS_T_TLSA, 99};

static void
check_rr(const struct dns_rr *rr, size_t len)
{
	size_t n = strlen(rr->name);

	if (n > 253)
		abort();
	if (n > 0 && strcmp(rr->name, ".") != 0 && !dns_name_valid(rr->name))
		abort();
	if (rr->len > len || (rr->len > 0 && rr->data == NULL))
		abort();
}

static void
decode_twice(int type, const uint8_t *p, size_t len)
{
	struct dns_rr a, b;
	enum dns_rdata_status sa = dns_rdata_decode(type, p, len, &a);
	enum dns_rdata_status sb = dns_rdata_decode(type, p, len, &b);

	if (sa != sb)
		abort();
	if (sa == DNS_RDATA_OK) {
		check_rr(&a, len);
		if (strcmp(a.name, b.name) != 0 || a.pref != b.pref ||
		    a.len != b.len ||
		    (a.len && memcmp(a.data, b.data, a.len)) ||
		    memcmp(&a.addr, &b.addr, sizeof(a.addr)) != 0)
			abort();
	}
	dns_rr_clear(&a);
	dns_rr_clear(&b);
}

/* The fake DNS of the plan: MX from the input, one address per host. */
struct fake_dns {
	const uint8_t *p;
	size_t len;
	uint32_t rng;
};

static int
fake_lookup(void *arg, const char *name, int type, struct dns_result *out)
{
	struct fake_dns *f = arg;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	out->type = type;
	strlcpy(out->qname, name, sizeof(out->qname));
	strlcpy(out->canonname, name, sizeof(out->canonname));
	out->rr = calloc(DNS_RR_MAX, sizeof(*out->rr));
	if (type != DNS_T_MX) {
		out->status = name[0] % 3 == 0 ? DNS_TEMPFAIL : DNS_FOUND;
		if (out->status == DNS_FOUND) {
			dns_addr_parse(name[0] % 2 ? "192.0.2.1"
						   : "2001:db8::1",
				       &out->rr[0].addr);
			out->rr[0].type = type;
			out->count = 1;
		}
		return 0;
	}
	while (off + 2 <= f->len && out->count < DNS_RR_MAX) {
		size_t n = (size_t)f->p[off] << 8 | f->p[off + 1];

		off += 2;
		if (n > f->len - off)
			n = f->len - off;
		if (dns_rdata_decode(DNS_T_MX, f->p + off, n,
				     &out->rr[out->count]) == DNS_RDATA_OK)
			out->count++;
		off += n;
	}
	out->status = out->count > 0 ? DNS_FOUND : DNS_NODATA;
	return 0;
}

static uint32_t
fake_random(void *arg)
{
	struct fake_dns *f = arg;

	f->rng = f->rng * 1103515245u + 12345u;
	return f->rng >> 8;
}

static void
plan(const uint8_t *p, size_t len, unsigned limit)
{
	static const char *const own[] = {"self.example"};
	struct fake_dns f = {p, len, 1};
	struct dns_mx_policy pol;
	struct dns_plan *out = malloc(sizeof(*out));

	memset(&pol, 0, sizeof(pol));
	pol.own_names = own;
	pol.own_names_count = 1;
	pol.addr_limit = limit;
	pol.pref = (enum dns_addr_pref)(limit % 3);
	pol.lookup = fake_lookup;
	pol.lookup_arg = &f;
	pol.random = fake_random;
	pol.random_arg = &f;
	dns_mx_plan("example.org", 0, &pol, out);
	if (out->count > DNS_MX_TARGET_MAX || (limit && out->count > limit) ||
	    (out->status == DNS_PLAN_OK) != (out->count > 0) ||
	    (out->status != DNS_PLAN_OK && out->text[0] == '\0'))
		abort();
	for (size_t i = 1; i < out->count; i++)
		if (out->target[i].pref < out->target[i - 1].pref)
			abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNS_NAME_MAX];
	int type, n;

	if (size == 0)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	data++;
	size--;
	decode_twice(type, data, size);
	n = dns_name_decode(data, size, name, sizeof(name));
	if (n > (int)size ||
	    (n >= 0 && strcmp(name, ".") != 0 && !dns_name_valid(name)))
		abort();
	if (n > 0) {
		char again[DNS_NAME_MAX];

		if (dns_name_decode(data, (size_t)n, again, sizeof(again)) !=
			n ||
		    strcmp(name, again) != 0)
			abort();
	}
	if (type == DNS_T_MX)
		plan(data, size, (unsigned)(size % 7));
	return 0;
}
