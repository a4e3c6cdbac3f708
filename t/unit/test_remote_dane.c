/*
 * test_remote_dane: the DANE decisions of remote_dane.c (RFC 7672) on
 * made-up TLSA answers: which targets may use DANE at all (DNSSEC for the
 * address and MX records), which records are usable (DANE-TA and DANE-EE
 * with a known selector, matching type and digest length; PKIX usages
 * never), and what an answer means: usable records, secure but unusable
 * ones (TLS without authentication), insecure or absent ones (no DANE),
 * a failed or bogus lookup (the host is skipped).  Pure: no resolver.
 */
#include <stdlib.h>
#include <string.h>

#include "dns_mx.h"
#include "remote_tls.h"
#include "tap.h"

static unsigned char digest32[32], digest64[64];

static void
tlsa(struct dns_result *r, size_t i, uint8_t u, uint8_t s, uint8_t m,
     unsigned char *data, size_t len)
{
	r->rr[i].type = DNS_T_TLSA;
	r->rr[i].usage = u;
	r->rr[i].selector = s;
	r->rr[i].mtype = m;
	r->rr[i].data = data;
	r->rr[i].len = len;
	r->count = i + 1;
}

static void
answer(struct dns_result *r, enum dns_status st, enum dns_dnssec sec)
{
	static struct dns_rr rr[8];

	memset(r, 0, sizeof(*r));
	memset(rr, 0, sizeof(rr));
	r->status = st;
	r->dnssec = sec;
	r->type = DNS_T_TLSA;
	r->rr = rr;
	strlcpy(r->qname, "_25._tcp.mx.example.com", sizeof(r->qname));
	strlcpy(r->why, "SERVFAIL", sizeof(r->why));
}

static void
test_eligible(void)
{
	ok(dane_eligible(DNS_TARGET_MX_SECURE | DNS_TARGET_ADDR_SECURE, 1),
	   "MX and address records validated: DANE may apply");
	ok(!dane_eligible(DNS_TARGET_ADDR_SECURE, 1),
	   "an insecure MX RRset: no DANE (its names could be forged)");
	ok(!dane_eligible(DNS_TARGET_MX_SECURE, 1),
	   "insecure address records: no DANE");
	ok(dane_eligible(DNS_TARGET_ADDR_SECURE, 0),
	   "a [host] next hop needs only its addresses validated");
	ok(dane_eligible(DNS_TARGET_MX_SECURE | DNS_TARGET_ADDR_SECURE |
			     DNS_TARGET_IMPLICIT,
			 1),
	   "no MX (a validated denial) and validated addresses: DANE");
}

static void
test_usable(void)
{
	ok(dane_rec_usable(3, 1, 1, 32) && dane_rec_usable(2, 0, 2, 64) &&
	       dane_rec_usable(3, 0, 0, 500),
	   "DANE-EE and DANE-TA with SHA-256, SHA-512 or the full data");
	ok(!dane_rec_usable(0, 1, 1, 32) && !dane_rec_usable(1, 1, 1, 32),
	   "PKIX-TA and PKIX-EE are unusable for SMTP (RFC 7672 3.1.3)");
	ok(!dane_rec_usable(3, 2, 1, 32) && !dane_rec_usable(3, 1, 3, 32) &&
	       !dane_rec_usable(4, 1, 1, 32),
	   "unknown usages, selectors and matching types are unusable");
	ok(!dane_rec_usable(3, 1, 1, 31) && !dane_rec_usable(3, 1, 2, 32) &&
	       !dane_rec_usable(3, 1, 0, 0),
	   "a digest of the wrong length is unusable");
}

static void
test_answers(void)
{
	struct dns_result r;
	struct dane_set s;
	char why[256];

	memset(&s, 0, sizeof(s));
	answer(&r, DNS_FOUND, DNS_SECURE);
	tlsa(&r, 0, 1, 1, 1, digest32, 32);
	tlsa(&r, 1, 3, 1, 1, digest32, 32);
	tlsa(&r, 2, 2, 0, 2, digest64, 64);
	is_int(dane_from_tlsa(&r, &s, why, sizeof(why)), DANE_USABLE,
	       "secure records, some usable: DANE");
	ok(s.count == 2 && s.rec[0].usage == 3 && s.rec[1].usage == 2 &&
	       s.rec[1].len == 64,
	   "the usable records are kept, the PKIX one dropped");
	ok(s.rec[0].data != digest32 &&
	       memcmp(s.rec[0].data, digest32, 32) == 0,
	   "kept as copies of the answer's data");

	answer(&r, DNS_FOUND, DNS_SECURE);
	tlsa(&r, 0, 0, 0, 1, digest32, 32);
	tlsa(&r, 1, 3, 1, 1, digest32, 20);
	is_int(dane_from_tlsa(&r, &s, why, sizeof(why)), DANE_UNUSABLE,
	       "secure records, none usable: TLS without authentication");
	is_int(s.count, 0, "nothing kept (the earlier set was freed)");

	answer(&r, DNS_FOUND, DNS_INSECURE);
	tlsa(&r, 0, 3, 1, 1, digest32, 32);
	is_int(dane_from_tlsa(&r, &s, why, sizeof(why)), DANE_NONE,
	       "insecure records: no DANE (the level falls back)");

	answer(&r, DNS_NODATA, DNS_SECURE);
	is_int(dane_from_tlsa(&r, &s, why, sizeof(why)), DANE_NONE,
	       "no TLSA records: no DANE");
	answer(&r, DNS_NXDOMAIN, DNS_SECURE);
	is_int(dane_from_tlsa(&r, &s, why, sizeof(why)), DANE_NONE,
	       "no such name: no DANE");

	answer(&r, DNS_TEMPFAIL, DNS_BOGUS);
	is_int(dane_from_tlsa(&r, &s, why, sizeof(why)), DANE_TEMPFAIL,
	       "a bogus answer: a temporary failure, never a fallback");
	is_str(why, "TLSA lookup error for _25._tcp.mx.example.com: SERVFAIL",
	       "saying what failed");
	answer(&r, DNS_TEMPFAIL, DNS_INSECURE);
	is_int(dane_from_tlsa(&r, &s, why, sizeof(why)), DANE_TEMPFAIL,
	       "a lookup that failed: a temporary failure");
	dane_set_free(&s);
}

int
main(void)
{
	memset(digest32, 0xab, sizeof(digest32));
	memset(digest64, 0xcd, sizeof(digest64));
	test_eligible();
	test_usable();
	test_answers();
	return done_testing();
}
