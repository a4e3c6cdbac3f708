/*
 * smtpd_rdns: PTR, then forward confirmation, for one client at a time
 * per lookup, many lookups at once (smtpd_rdns.h).  A lookup has its own
 * deadline (smtpd_rdns_timeout) on top of the resolver's
 * (smtp_dns_timeout): at the deadline its queries are cancelled and the
 * verdict is TEMP.  The DNS answers are hostile; only records of the type
 * asked for count, and the name kept is one dns_rdata.c decoded and
 * checked as a host name.  The resolver is asked over TCP
 * (dns_open_tcp): a resolver that is down refuses at once, so clients
 * are not held for the deadline (test instances point it at a closed
 * port).  Run by smtpd.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "event.h"
#include "log.h"
#include "smtpd_rdns.h"

struct smtpd_rdns_lookup {
	struct dns_addr addr;
	char name[DNS_NAME_MAX]; /* the PTR name being confirmed */
	unsigned long query;     /* in flight: a dns query id */
	unsigned long timer;
	smtpd_rdns_fn fn;
	void *ctx;
};

static struct dns_ctx *rdns_ctx;
static long long rdns_deadline_ms;

void
smtpd_rdns_open(struct dns_ctx *ctx, long long deadline_ms)
{
	rdns_deadline_ms = deadline_ms;
	rdns_ctx = ctx;
}

static void
rdns_free(struct smtpd_rdns_lookup *l)
{
	if (l->query != 0)
		dns_query_cancel(rdns_ctx, l->query);
	event_timer_cancel(l->timer);
	free(l);
}

/* The verdict to the session, and the lookup is over. */
static void
rdns_done(struct smtpd_rdns_lookup *l, enum smtpd_rdns v)
{
	smtpd_rdns_fn fn = l->fn;
	void *ctx = l->ctx;
	char name[DNS_NAME_MAX];

	strlcpy(name, v == SMTPD_RDNS_OK ? l->name : "unknown", sizeof(name));
	rdns_free(l); /* cancels a query still in flight (the deadline) */
	fn(ctx, v, name);
}

static void
rdns_on_deadline(void *arg)
{
	struct smtpd_rdns_lookup *l = arg;

	l->timer = 0;
	rdns_done(l, SMTPD_RDNS_TEMP);
}

/* NXDOMAIN and NODATA are answers (FAIL); the rest is for now (TEMP). */
static enum smtpd_rdns
rdns_not_found(const struct dns_result *r)
{
	return r->status == DNS_NXDOMAIN || r->status == DNS_NODATA ||
		       r->status == DNS_BADNAME
		   ? SMTPD_RDNS_FAIL
		   : SMTPD_RDNS_TEMP;
}

/* An answer came: 1 when it ends the lookup (nothing found). */
static int
rdns_answered(struct smtpd_rdns_lookup *l, const struct dns_result *r)
{
	l->query = 0;
	if (r->status == DNS_FOUND)
		return 0;
	rdns_done(l, rdns_not_found(r));
	return 1;
}

static void
rdns_on_forward(struct dns_result *r, void *arg)
{
	struct smtpd_rdns_lookup *l = arg;
	size_t i;

	if (rdns_answered(l, r))
		return;
	for (i = 0; i < r->count; i++)
		if ((r->rr[i].type == DNS_T_A || r->rr[i].type == DNS_T_AAAA) &&
		    dns_addr_equal(&r->rr[i].addr, &l->addr)) {
			rdns_done(l, SMTPD_RDNS_OK);
			return;
		}
	rdns_done(l, SMTPD_RDNS_FAIL); /* the name does not map back */
}

static void
rdns_on_ptr(struct dns_result *r, void *arg)
{
	struct smtpd_rdns_lookup *l = arg;
	size_t i;

	if (rdns_answered(l, r))
		return;
	/* XXX only the first PTR name is confirmed, as most MTAs do. */
	for (i = 0; i < r->count && r->rr[i].type != DNS_T_PTR; i++)
		;
	if (i == r->count || !dns_name_valid(r->rr[i].name) ||
	    strchr(r->rr[i].name, '.') == NULL) {
		rdns_done(l, SMTPD_RDNS_FAIL);
		return;
	}
	strlcpy(l->name, r->rr[i].name, sizeof(l->name));
	l->query = dns_query_start(
	    rdns_ctx, l->name, l->addr.family == AF_INET ? DNS_T_A : DNS_T_AAAA,
	    rdns_on_forward, l);
}

struct smtpd_rdns_lookup *
smtpd_rdns_start(const char *addr, smtpd_rdns_fn fn, void *ctx)
{
	struct smtpd_rdns_lookup *l;
	char ptr[DNS_NAME_MAX];
	struct dns_addr a;

	if (rdns_ctx == NULL || dns_addr_parse(addr, &a) != 0 ||
	    dns_reverse_name(&a, NULL, ptr, sizeof(ptr)) != 0)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->addr = a;
	l->fn = fn;
	l->ctx = ctx;
	l->timer = event_timer_add(rdns_deadline_ms, rdns_on_deadline, l);
	l->query = dns_query_start(rdns_ctx, ptr, DNS_T_PTR, rdns_on_ptr, l);
	return l;
}

int
smtpd_rdns_is_loopback(const char *addr)
{
	static const unsigned char v6[16] = {[15] = 1};
	static const unsigned char v4[4] = {127, 0, 0, 1};
	struct dns_addr a;

	if (dns_addr_parse(addr, &a) != 0)
		return 0;
	return a.family == AF_INET ? memcmp(a.bytes, v4, sizeof(v4)) == 0
				   : memcmp(a.bytes, v6, sizeof(v6)) == 0;
}

void
smtpd_rdns_cancel(struct smtpd_rdns_lookup *l)
{
	if (l != NULL)
		rdns_free(l);
}
