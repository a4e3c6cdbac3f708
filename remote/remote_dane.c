/*
 * remote_dane: which TLSA records authenticate a mail server (RFC 7672).
 * A target may use DANE only when its address records, and the MX
 * records that named it, were DNSSEC-validated; then the TLSA RRset at
 * _PORT._tcp.HOST (first at the name its CNAMEs lead to) decides:
 *   secure, with usable records   DANE (OpenSSL matches them)
 *   secure, none usable           TLS without authentication (encrypt)
 *   insecure, or no records       no DANE (the level falls back)
 *   lookup failure, or bogus      the host is skipped (temporary)
 * Usable: DANE-TA(2) and DANE-EE(3) with a known selector and matching
 * type; PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (RFC 7672 3.1.3).
 * The TLSA records are hostile (a zone's owner writes them): every length
 * is checked before it is kept.  The decisions are pure; the lookup goes
 * through libunbound.  Runs in remote; tested by test_remote_dane.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_mx.h"
#include "remote_tls.h"

int
dane_eligible(unsigned dns_flags, int via_mx)
{
	if (!(dns_flags & DNS_TARGET_ADDR_SECURE))
		return 0;
	return !via_mx || (dns_flags & DNS_TARGET_MX_SECURE) != 0;
}

int
dane_rec_usable(uint8_t usage, uint8_t selector, uint8_t mtype, size_t len)
{
	if (usage != 2 && usage != 3)
		return 0;
	if (selector > 1)
		return 0;
	switch (mtype) {
	case 0:
		return len > 0 && len <= DANE_DATA_MAX;
	case 1:
		return len == 32; /* SHA2-256 */
	case 2:
		return len == 64; /* SHA2-512 */
	default:
		return 0;
	}
}

void
dane_set_free(struct dane_set *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		free(s->rec[i].data);
	s->count = 0;
}

enum dane_status
dane_from_tlsa(const struct dns_result *r, struct dane_set *out, char *why,
	       size_t size)
{
	size_t i;

	dane_set_free(out);
	why[0] = '\0';
	if (r->status == DNS_TEMPFAIL) {
		snprintf(why, size, "TLSA lookup error for %s: %s", r->qname,
			 r->why[0] ? r->why : "temporary failure");
		return DANE_TEMPFAIL;
	}
	if (r->status != DNS_FOUND || r->dnssec != DNS_SECURE)
		return DANE_NONE;
	for (i = 0; i < r->count && out->count < DNS_RR_MAX; i++) {
		const struct dns_rr *rr = &r->rr[i];
		struct dane_rec *d = &out->rec[out->count];

		if (rr->type != DNS_T_TLSA || rr->data == NULL ||
		    !dane_rec_usable(rr->usage, rr->selector, rr->mtype,
				     rr->len))
			continue;
		d->usage = rr->usage;
		d->selector = rr->selector;
		d->mtype = rr->mtype;
		d->len = rr->len;
		d->data = xmalloc(rr->len);
		memcpy(d->data, rr->data, rr->len);
		out->count++;
	}
	if (out->count == 0) {
		snprintf(why, size,
			 "all TLSA records of %s are unusable: TLS without "
			 "authentication",
			 r->qname);
		return DANE_UNUSABLE;
	}
	return DANE_USABLE;
}

/* One TLSA lookup, through the context remote_nexthop_dns_open made. */
static enum dane_status
dane_lookup_one(const char *host, int port, struct dane_set *out, char *why,
		size_t size)
{
	struct dns_ctx *ctx = remote_nexthop_dns_ctx();
	char name[DNS_NAME_MAX];
	struct dns_result r;
	enum dane_status st;

	if (ctx == NULL ||
	    dns_tlsa_name(host, (unsigned)port, name, sizeof(name)) != 0) {
		snprintf(why, size, "TLSA lookup error for %s: no DNS", host);
		return DANE_TEMPFAIL;
	}
	dns_lookup(ctx, name, DNS_T_TLSA, &r);
	st = dane_from_tlsa(&r, out, why, size);
	snprintf(out->base, sizeof(out->base), "%s", host);
	dns_result_free(&r);
	return st;
}

enum dane_status
remote_dane_lookup(const char *host, const char *canon, int port,
		   struct dane_set *out, char *why, size_t size)
{
	enum dane_status st;

	if (canon != NULL && canon[0] != '\0' && strcmp(canon, host) != 0) {
		st = dane_lookup_one(canon, port, out, why, size);
		if (st != DANE_NONE)
			return st;
	}
	return dane_lookup_one(host, port, out, why, size);
}
