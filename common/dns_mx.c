/*
 * dns_mx: the list of addresses to try for a domain (RFC 5321 5.1, RFC
 * 7505), as a pure function of injected lookups and random numbers, so
 * that every case is unit tested.  The answers are hostile (a domain may
 * publish 64 MX records, its own address among them, or a CNAME loop):
 * every list is bounded and at most DNS_MX_HOST_LOOKUPS hosts are looked
 * up.  Error texts and enhanced status codes are Postfix's, so log
 * readers and bounce parsers see what they know.  Runs in the remote
 * daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns_mx.h"
#include "params.h"

#define DNS_MX_HOST_LOOKUPS 16 /* MX hosts whose addresses are looked up */
#define DNS_MX_NO_SELF (~0u)

struct dns_mx_host {
	char name[DNS_NAME_MAX];
	unsigned pref;
};

/* The outcome of one host's address lookups. */
struct dns_mx_addrs {
	enum dns_status status; /* FOUND, or why none */
	int failed_type;        /* the lookup that gave status */
	struct dns_result a, aaaa;
};

/* Fail the plan; the caller writes out->text. */
static char *
dns_plan_fail(struct dns_plan *out, enum dns_plan_status st, const char *dsn)
{
	out->status = st;
	out->count = 0;
	strlcpy(out->dsn, dsn, sizeof(out->dsn));
	return out->text;
}

#define DNS_NOT_FOUND "Host or domain name not found. Name service error for "

/* Postfix's words for a lookup that found nothing. */
static void
dns_plan_not_found(struct dns_plan *out, enum dns_status st, const char *name,
		   int type)
{
	const size_t n = sizeof(out->text);
	const char *t = dns_type_name(type);

	if (st == DNS_TEMPFAIL)
		snprintf(dns_plan_fail(out, DNS_PLAN_DEFER, "4.4.3"), n,
			 DNS_NOT_FOUND "name=%s type=%s: Host not found, "
				       "try again",
			 name, t);
	else if (st == DNS_NODATA)
		snprintf(dns_plan_fail(out, DNS_PLAN_BOUNCE, "5.4.4"), n,
			 DNS_NOT_FOUND "name=%s type=%s: Host found but no "
				       "data record of requested type",
			 name, t);
	else if (st == DNS_BADNAME)
		snprintf(dns_plan_fail(out, DNS_PLAN_BOUNCE, "5.1.2"), n,
			 "Domain name %s is not a valid host name", name);
	else
		snprintf(dns_plan_fail(out, DNS_PLAN_BOUNCE, "5.4.4"), n,
			 DNS_NOT_FOUND "name=%s type=%s: Host not found", name,
			 t);
}

static void
dns_plan_null_mx(struct dns_plan *out, const char *domain)
{
	snprintf(dns_plan_fail(out, DNS_PLAN_BOUNCE, "5.1.10"),
		 sizeof(out->text), "Domain %s does not accept mail (nullMX)",
		 domain);
}

static int
dns_mx_host_cmp(const void *a, const void *b)
{
	const struct dns_mx_host *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* Sort by preference, then shuffle each run of equal preferences. */
static void
dns_mx_order(struct dns_mx_host *h, size_t n, const struct dns_mx_policy *pol)
{
	size_t start, end, i, j;
	struct dns_mx_host t;

	qsort(h, n, sizeof(*h), dns_mx_host_cmp);
	for (start = 0; start < n; start = end) {
		for (end = start + 1; end < n && h[end].pref == h[start].pref;
		     end++)
			;
		for (i = end - 1; i > start; i--) {
			j = start + pol->random(pol->random_arg) %
					(uint32_t)(i - start + 1);
			t = h[i];
			h[i] = h[j];
			h[j] = t;
		}
	}
}

static int
dns_mx_own_name(const struct dns_mx_policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->own_names_count; i++) {
		const char *own = pol->own_names[i];
		size_t n = strlen(own);

		if (n > 1 && own[n - 1] == '.')
			n--;
		if (n > 0 && strlen(name) == n &&
		    strncasecmp(name, own, n) == 0)
			return 1;
	}
	return 0;
}

static int
dns_mx_own_addr(const struct dns_mx_policy *pol, const struct dns_result *r)
{
	if (r->status != DNS_FOUND)
		return 0;
	for (size_t i = 0; i < r->count; i++)
		for (size_t j = 0; j < pol->own_addrs_count; j++)
			if (dns_addr_equal(&r->rr[i].addr, &pol->own_addrs[j]))
				return 1;
	return 0;
}

/*
 * The MX hosts from the answer, or the domain itself.  0 with hosts set,
 * or -1 with out failed.
 */
static int
dns_mx_hosts(const char *domain, int no_mx, const struct dns_mx_policy *pol,
	     struct dns_mx_host *h, size_t *n, unsigned *flags,
	     struct dns_plan *out)
{
	struct dns_result mx;

	*n = 0;
	*flags = 0;
	if (no_mx) {
		strlcpy(h[0].name, domain, sizeof(h[0].name));
		h[0].pref = 0;
		*n = 1;
		return 0;
	}
	memset(&mx, 0, sizeof(mx));
	pol->lookup(pol->lookup_arg, domain, DNS_T_MX, &mx);
	if (mx.dnssec == DNS_SECURE)
		*flags |= DNS_TARGET_MX_SECURE;
	if (mx.status == DNS_NODATA) {
		strlcpy(h[0].name, domain, sizeof(h[0].name));
		h[0].pref = 0;
		*n = 1;
		*flags |= DNS_TARGET_IMPLICIT;
	} else if (mx.status != DNS_FOUND) {
		dns_plan_not_found(out, mx.status, domain, DNS_T_MX);
	} else if (mx.count == 1 && strcmp(mx.rr[0].name, ".") == 0) {
		dns_plan_null_mx(out, domain);
	} else {
		for (size_t i = 0; i < mx.count && *n < DNS_RR_MAX; i++) {
			if (strcmp(mx.rr[i].name, ".") == 0)
				continue; /* a null MX among others */
			strlcpy(h[*n].name, mx.rr[i].name, sizeof(h->name));
			h[*n].pref = mx.rr[i].pref;
			(*n)++;
		}
		if (*n == 0)
			dns_plan_null_mx(out, domain);
	}
	dns_result_free(&mx);
	return *n > 0 ? 0 : -1;
}

static void
dns_mx_lookup_addrs(const struct dns_mx_policy *pol, const char *host,
		    struct dns_mx_addrs *r)
{
	memset(r, 0, sizeof(*r));
	pol->lookup(pol->lookup_arg, host, DNS_T_AAAA, &r->aaaa);
	pol->lookup(pol->lookup_arg, host, DNS_T_A, &r->a);
	if (r->a.status == DNS_FOUND || r->aaaa.status == DNS_FOUND) {
		r->status = DNS_FOUND;
		return;
	}
	/* The more hopeful failure: a temporary one may clear up. */
	if (r->aaaa.status == DNS_TEMPFAIL) {
		r->status = DNS_TEMPFAIL;
		r->failed_type = DNS_T_AAAA;
	} else {
		r->status = r->a.status;
		r->failed_type = DNS_T_A;
	}
}

static void
dns_mx_addrs_free(struct dns_mx_addrs *r)
{
	dns_result_free(&r->a);
	dns_result_free(&r->aaaa);
}

static int
dns_plan_full(const struct dns_plan *out, const struct dns_mx_policy *pol)
{
	return out->count >= DNS_MX_TARGET_MAX ||
	       (pol->addr_limit > 0 && out->count >= pol->addr_limit);
}

static void
dns_plan_add(struct dns_plan *out, const struct dns_mx_policy *pol,
	     const struct dns_mx_host *h, const struct dns_result *r, size_t i,
	     unsigned flags)
{
	struct dns_target *t;

	if (i >= r->count || dns_plan_full(out, pol))
		return;
	t = &out->target[out->count++];
	strlcpy(t->host, h->name, sizeof(t->host));
	strlcpy(t->canon, r->canonname, sizeof(t->canon));
	t->addr = r->rr[i].addr;
	t->pref = h->pref;
	t->flags =
	    flags | (r->dnssec == DNS_SECURE ? DNS_TARGET_ADDR_SECURE : 0);
}

/* Append one host's addresses in the order smtp_address_preference says. */
static void
dns_plan_host(struct dns_plan *out, const struct dns_mx_policy *pol,
	      const struct dns_mx_host *h, const struct dns_mx_addrs *r,
	      unsigned flags)
{
	const struct dns_result *first = &r->aaaa, *second = &r->a;
	size_t n1, n2;

	if (pol->pref == DNS_PREF_IPV4) {
		first = &r->a;
		second = &r->aaaa;
	}
	n1 = first->status == DNS_FOUND ? first->count : 0;
	n2 = second->status == DNS_FOUND ? second->count : 0;
	if (pol->pref != DNS_PREF_ANY) {
		for (size_t i = 0; i < n1; i++)
			dns_plan_add(out, pol, h, first, i, flags);
		for (size_t i = 0; i < n2; i++)
			dns_plan_add(out, pol, h, second, i, flags);
		return;
	}
	for (size_t i = 0; i < n1 || i < n2; i++) {
		if (i < n1)
			dns_plan_add(out, pol, h, first, i, flags);
		if (i < n2)
			dns_plan_add(out, pol, h, second, i, flags);
	}
}

void
dns_mx_plan(const char *domain, int no_mx, const struct dns_mx_policy *pol,
	    struct dns_plan *out)
{
	struct dns_mx_host *h = xcalloc(DNS_RR_MAX, sizeof(*h));
	struct dns_mx_addrs *addrs = NULL;
	unsigned flags, self = DNS_MX_NO_SELF;
	size_t n, looked = 0, found = 0, i, last_fail = 0;
	int any_tempfail = 0;

	memset(out, 0, sizeof(*out));
	if (dns_mx_hosts(domain, no_mx, pol, h, &n, &flags, out) != 0)
		goto done;
	dns_mx_order(h, n, pol);
	for (i = 0; i < n; i++)
		if (dns_mx_own_name(pol, h[i].name) && h[i].pref < self)
			self = h[i].pref;
	addrs = xcalloc(n, sizeof(*addrs));
	/* Look up hosts a preference group at a time, until enough. */
	for (i = 0; i < n && h[i].pref < self && looked < DNS_MX_HOST_LOOKUPS;
	     i++) {
		if (i > 0 && h[i].pref != h[i - 1].pref &&
		    pol->addr_limit > 0 && found >= pol->addr_limit)
			break;
		dns_mx_lookup_addrs(pol, h[i].name, &addrs[i]);
		looked = i + 1;
		found += addrs[i].a.count + addrs[i].aaaa.count;
		if (dns_mx_own_addr(pol, &addrs[i].a) ||
		    dns_mx_own_addr(pol, &addrs[i].aaaa))
			self = h[i].pref;
	}
	for (i = 0; i < looked && h[i].pref < self; i++) {
		if (addrs[i].status == DNS_FOUND) {
			dns_plan_host(out, pol, &h[i], &addrs[i], flags);
			continue;
		}
		any_tempfail |= addrs[i].status == DNS_TEMPFAIL;
		if (addrs[i].status == DNS_TEMPFAIL || !any_tempfail)
			last_fail = i;
	}
	if (out->count > 0)
		goto done;
	if (self != DNS_MX_NO_SELF && (self == h[0].pref || looked == 0))
		snprintf(dns_plan_fail(out, DNS_PLAN_BOUNCE, "5.4.6"),
			 sizeof(out->text), "mail for %s loops back to myself",
			 domain);
	else if (looked > 0)
		dns_plan_not_found(out, addrs[last_fail].status,
				   h[last_fail].name,
				   addrs[last_fail].failed_type);
	else
		snprintf(dns_plan_fail(out, DNS_PLAN_DEFER, "4.4.3"),
			 sizeof(out->text), "no usable MX host for %s", domain);
done:
	for (i = 0; addrs != NULL && i < n; i++)
		dns_mx_addrs_free(&addrs[i]);
	free(addrs);
	free(h);
}

int
dns_addr_pref_parse(const char *text, enum dns_addr_pref *out)
{
	if (strcasecmp(text, "any") == 0)
		*out = DNS_PREF_ANY;
	else if (strcasecmp(text, "ipv6") == 0)
		*out = DNS_PREF_IPV6;
	else if (strcasecmp(text, "ipv4") == 0)
		*out = DNS_PREF_IPV4;
	else
		return -1;
	return 0;
}

static int
dns_mx_ctx_lookup(void *arg, const char *name, int type, struct dns_result *out)
{
	return dns_lookup(arg, name, type, out);
}

static uint32_t
dns_mx_random(void *arg)
{
	(void)arg;
	return arc4random();
}

int
dns_mx_policy_init(struct dns_mx_policy *pol, struct dns_ctx *ctx,
		   struct buf *err)
{
	static const char *own_names[1];
	const char *pref = param_str("smtp_address_preference");

	memset(pol, 0, sizeof(*pol));
	if (dns_addr_pref_parse(pref, &pol->pref) != 0) {
		buf_printf(err,
			   "smtp_address_preference: expected any, ipv6 or "
			   "ipv4, not \"%s\"",
			   pref);
		return -1;
	}
	own_names[0] = param_str("myhostname");
	pol->own_names = own_names;
	pol->own_names_count = 1;
	pol->own_addrs_count = dns_own_addrs(ctx, &pol->own_addrs);
	pol->addr_limit = (size_t)param_int("smtp_mx_address_limit");
	pol->lookup = dns_mx_ctx_lookup;
	pol->lookup_arg = ctx;
	pol->random = dns_mx_random;
	return 0;
}
