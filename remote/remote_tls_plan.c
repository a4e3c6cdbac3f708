/*
 * remote_tls_plan: what TLS a delivery gets, decided in two steps.
 *
 * Per destination (a new connection for a next hop): the entry of
 * smtp_tls_policy_maps for the next hop (or a parent domain's .entry);
 * without one, smtp_tls_security_level and, for a domain whose mail goes
 * by MX, its MTA-STS policy (RFC 8461).  An entry of the table is the
 * administrator's word and wins over MTA-STS.
 *
 * Per address (remote_session.c tries them in order):
 *   none      no STARTTLS
 *   may       STARTTLS when offered; Trusted or Untrusted both do
 *   encrypt   STARTTLS required, no authentication
 *   dane      DANE when the host's TLSA records are DNSSEC-valid and
 *             usable (then required, and it wins over MTA-STS); secure
 *             but unusable records: encrypt; a failed or bogus TLSA
 *             lookup skips the host; otherwise as may
 *   dane-only DANE, or the host is skipped
 *   verify    the CA store and the host's name (the MX name as DNS gave
 *             it, or the [host] of the next hop), or match= names
 *   secure    the CA store and the next hop's domain or its subdomains
 *             (nexthop, dot-nexthop), or match= names
 * An enforced MTA-STS policy skips MX hosts it does not list and makes
 * the others verify their own name; testing only logs.
 *
 * Input: the policy table (root's, parsed strictly), DNS answers (DANE,
 * decoded and validated by libunbound), the MTA-STS policy (parsed in
 * remote_mta_sts.c).  Runs in remote.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "remote_tls.h"

static struct map *plan_map;

int
remote_tls_plan_open(struct buf *err)
{
	const char *src = param_str("smtp_tls_policy_maps");
	const char *level = param_str("smtp_tls_security_level");
	struct dns_ctx *ctx = remote_nexthop_dns_ctx();
	enum tls_level l;

	if (tls_level_parse(level, &l) != 0) {
		buf_printf(err,
			   "smtp_tls_security_level: \"%s\" is not none, may, "
			   "encrypt, dane, dane-only, verify or secure",
			   level);
		return -1;
	}
	if ((l == TLS_LEV_DANE || l == TLS_LEV_DANE_ONLY) &&
	    (ctx == NULL || !dns_validating(ctx)))
		log_warn("smtp_tls_security_level = %s without a DNSSEC trust "
			 "anchor: no TLSA record can be trusted",
			 level);
	if (src[0] != '\0' && (plan_map = map_open(src, err)) == NULL)
		return -1;
	return 0;
}

int
remote_tls_plan_changed(void)
{
	return plan_map != NULL && map_changed(plan_map);
}

/* The table's entry for nexthop: 1 (p), 0 none, -1 a bad one (why). */
static int
plan_table(const char *nexthop, struct tls_policy *p, struct buf *why)
{
	char key[REMOTE_HOST_MAX + 16];
	struct buf v = BUF_INIT;
	const char *w;
	size_t i;
	int r = 0;

	for (i = 0; plan_map != NULL && r == 0 &&
		    tls_policy_key(nexthop, i, key, sizeof(key));
	     i++)
		r = map_lookup(plan_map, key, &v);
	if (r == 1 &&
	    (buf_has_nul(&v) || tls_policy_parse(buf_cstr(&v), p, &w) != 0)) {
		buf_printf(why, "TLS policy lookup for %s: bad entry %s %s: %s",
			   nexthop, key, buf_cstr(&v),
			   buf_has_nul(&v) ? "a NUL byte" : w);
		r = -1;
	} else if (r < 0) {
		buf_printf(why,
			   "TLS policy lookup for %s: cannot read the "
			   "smtp_tls_policy_maps map",
			   nexthop);
	}
	buf_free(&v);
	return r;
}

/* The table, or the default level: 0, or -1 with dsn and why. */
static int
plan_policy(const char *nexthop, struct remote_dest_tls *d, char dsn[16],
	    struct buf *why)
{
	struct remote_nexthop nh;
	const char *w;
	int r;

	memset(d, 0, sizeof(*d));
	snprintf(d->nexthop, sizeof(d->nexthop), "%s", nexthop);
	if (remote_nexthop_parse(nexthop, &nh, &w) == 0) {
		snprintf(d->domain, sizeof(d->domain), "%s", nh.host);
		d->mx = nh.mx;
	}
	if ((r = plan_table(nexthop, &d->policy, why)) < 0) {
		snprintf(dsn, 16, "4.7.5");
		return -1;
	}
	d->from_table = r == 1;
	if (!d->from_table &&
	    tls_level_parse(param_str("smtp_tls_security_level"),
			    &d->policy.level) != 0)
		d->policy.level = TLS_LEV_MAY; /* checked at start */
	return 0;
}

int
remote_tls_dest(const char *nexthop, const char *queue_id,
		struct remote_dest_tls *d, char dsn[16], struct buf *why)
{
	if (plan_policy(nexthop, d, dsn, why) != 0)
		return -1;
	if (!d->from_table && d->mx && d->policy.level != TLS_LEV_NONE &&
	    param_bool("smtp_mta_sts_enable") &&
	    remote_mta_sts_policy(d->domain, queue_id, &d->sts_policy) == 1 &&
	    d->sts_policy.mode != MTA_STS_NONE)
		d->sts = 1;
	return 0;
}

/* A reference name into the plan, once. */
static void
plan_name(struct remote_tls_plan *p, const char *prefix, const char *name)
{
	size_t i;
	char n[REMOTE_HOST_MAX];

	if (name[0] == '\0' || p->nnames == TLS_NAMES_MAX ||
	    snprintf(n, sizeof(n), "%s%s", prefix, name) >= (int)sizeof(n))
		return;
	for (i = 0; i < p->nnames; i++)
		if (strcmp(p->names[i], n) == 0)
			return;
	memcpy(p->names[p->nnames++], n, sizeof(n));
}

/* verify and secure: match= names, or the level's own, expanded. */
static void
plan_pkix(struct remote_tls_plan *p, const struct tls_policy *pol,
	  const struct remote_dest_tls *d, const struct remote_addr *a)
{
	static const char *const verify_default[] = {"hostname"};
	static const char *const secure_default[] = {"nexthop", "dot-nexthop"};
	const char *const *names = verify_default;
	size_t i, n = 1;

	if (pol->nmatch > 0)
		n = pol->nmatch;
	else if (pol->level == TLS_LEV_SECURE) {
		names = secure_default;
		n = 2;
	}
	p->need = SMTP_TLS_MUST;
	p->auth = TLS_AUTH_PKIX;
	for (i = 0; i < n; i++) {
		const char *w = pol->nmatch > 0 ? pol->match[i] : names[i];

		if (strcmp(w, "hostname") == 0)
			plan_name(p, "", a->host);
		else if (strcmp(w, "nexthop") == 0)
			plan_name(p, "", d->domain);
		else if (strcmp(w, "dot-nexthop") == 0 && !a->literal)
			plan_name(p, ".", d->domain);
		else if (strcmp(w, "dot-nexthop") != 0)
			plan_name(p, "", w);
	}
}

/*
 * dane and dane-only: 1 when DANE decided (usable records: MTA-STS does
 * not apply), 0 to go on (as may, or as encrypt after unusable records,
 * with MTA-STS on top), -1 to skip the address.
 */
static int
plan_dane(struct remote_tls_plan *p, const struct remote_dest_tls *d,
	  const struct remote_addr *a, char dsn[16], struct buf *why)
{
	struct dns_ctx *ctx = remote_nexthop_dns_ctx();
	char text[512];
	enum dane_status st = DANE_NONE;

	if (!a->literal && ctx != NULL && dns_validating(ctx) &&
	    dane_eligible(a->dns_flags, a->via_mx))
		st = remote_dane_lookup(a->host, a->canon, a->port, &p->dane,
					text, sizeof(text));
	switch (st) {
	case DANE_TEMPFAIL:
		snprintf(dsn, 16, "4.7.5");
		buf_printf(why, "%s", text);
		return -1;
	case DANE_USABLE:
		p->need = SMTP_TLS_MUST;
		p->auth = TLS_AUTH_DANE;
		p->why_level = "DANE";
		snprintf(p->sni, sizeof(p->sni), "%s", p->dane.base);
		plan_name(p, "", a->host);
		if (a->via_mx)
			plan_name(p, "", d->domain);
		return 1;
	case DANE_UNUSABLE:
		p->level = TLS_LEV_ENCRYPT;
		p->need = SMTP_TLS_MUST;
		p->why_level = "unusable TLSA records";
		return 0;
	case DANE_NONE:
		break;
	}
	if (p->level == TLS_LEV_DANE_ONLY) {
		snprintf(dsn, 16, "4.7.5");
		buf_printf(why,
			   "no usable DNSSEC-validated TLSA records for %s "
			   "(level dane-only)",
			   a->host);
		return -1;
	}
	p->level = TLS_LEV_MAY;
	p->need = SMTP_TLS_MAY;
	return 0;
}

/* An MTA-STS policy on top of the level: 0, or -1 to skip the address. */
static int
plan_sts(struct remote_tls_plan *p, const struct remote_dest_tls *d,
	 const struct remote_addr *a, const char *queue_id, char dsn[16],
	 struct buf *why)
{
	int enforce = d->sts_policy.mode == MTA_STS_ENFORCE;

	if (!mta_sts_mx_match(&d->sts_policy, a->host)) {
		if (!enforce) {
			log_info("%s: MTA-STS policy of %s (testing): MX host "
				 "%s is not in the policy; delivering anyway",
				 queue_id, d->domain, a->host);
			return 0;
		}
		snprintf(dsn, 16, "4.7.5");
		buf_printf(why,
			   "MX host %s does not match the MTA-STS policy of %s "
			   "(mode enforce)",
			   a->host, d->domain);
		return -1;
	}
	if (enforce && p->level != TLS_LEV_SECURE) {
		p->level = TLS_LEV_VERIFY;
		p->need = SMTP_TLS_MUST;
		p->auth = TLS_AUTH_PKIX;
		p->nnames = 0;
		p->why_level = "MTA-STS";
		plan_name(p, "", a->host);
	}
	return 0;
}

/* The plan under d's policy (the destination's, or a fallback relay's). */
static int
plan_addr(const struct remote_dest_tls *d, int sts, const struct remote_addr *a,
	  const char *queue_id, struct remote_tls_plan *p, char dsn[16],
	  struct buf *why)
{
	int r;

	p->level = d->policy.level;
	if (!a->literal)
		snprintf(p->sni, sizeof(p->sni), "%s", a->host);
	switch (p->level) {
	case TLS_LEV_NONE:
		return 0;
	case TLS_LEV_MAY:
		p->need = SMTP_TLS_MAY;
		break;
	case TLS_LEV_ENCRYPT:
		p->need = SMTP_TLS_MUST;
		break;
	case TLS_LEV_DANE:
	case TLS_LEV_DANE_ONLY:
		if ((r = plan_dane(p, d, a, dsn, why)) != 0)
			return r < 0 ? -1 : 0; /* DANE wins over MTA-STS */
		break;
	case TLS_LEV_VERIFY:
	case TLS_LEV_SECURE:
		plan_pkix(p, &d->policy, d, a);
		break;
	}
	return sts ? plan_sts(p, d, a, queue_id, dsn, why) : 0;
}

int
remote_tls_addr_plan(const struct remote_dest_tls *d,
		     const struct remote_addr *a, const char *queue_id,
		     struct remote_tls_plan *p, char dsn[16], struct buf *why)
{
	struct remote_dest_tls *fb;
	int r;

	remote_tls_plan_free(p);
	memset(p, 0, sizeof(*p));
	if (strcmp(a->nexthop, d->nexthop) == 0)
		return plan_addr(d, d->sts, a, queue_id, p, dsn, why);
	/* A fallback relay: the policy of its own next hop, no MTA-STS. */
	fb = xmalloc(sizeof(*fb));
	r = plan_policy(a->nexthop, fb, dsn, why);
	if (r == 0)
		r = plan_addr(fb, 0, a, queue_id, p, dsn, why);
	free(fb);
	return r;
}

void
remote_tls_plan_free(struct remote_tls_plan *p)
{
	dane_set_free(&p->dane);
}
