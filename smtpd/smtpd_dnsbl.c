/*
 * smtpd_dnsbl: the lookups of reject_rbl_client and reject_rhsbl_sender
 * (smtpd_dnsbl.h).  One A query per list and subject, then, when A
 * records came, a TXT query for the reply's text; one deadline
 * (smtpd_dnsbl_timeout) per answer over both.  The answers are hostile
 * DNS data: only A records of 4 bytes are kept (at most
 * SMTPD_DNSBL_ADDRS_MAX), the first TXT record is cut down by
 * dnsbl_text.  Run by smtpd, after the drop, from its event loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event.h"
#include "log.h"
#include "smtpd_dnsbl.h"
#include "smtpd_security.h"

/* The lists of the service, each once. */
static struct {
	const char *domain;
	int sender;
} dnsbl_lists[SMTPD_DNSBL_LISTS_MAX];
static size_t dnsbl_nlists;
static struct dns_ctx *dnsbl_ctx;
static long long dnsbl_deadline_ms;

static void
dnsbl_add_list(const struct restriction *r)
{
	int sender = r->kind == RESTRICT_REJECT_RHSBL_SENDER;
	size_t i;

	for (i = 0; i < dnsbl_nlists; i++)
		if (dnsbl_lists[i].sender == sender &&
		    strcmp(dnsbl_lists[i].domain, r->dnsbl.domain) == 0)
			return;
	if (dnsbl_nlists == SMTPD_DNSBL_LISTS_MAX)
		log_fatal("%s %s: more than %d DNS lists",
			  restriction_name(r->kind), r->arg,
			  SMTPD_DNSBL_LISTS_MAX);
	dnsbl_lists[dnsbl_nlists].domain = r->dnsbl.domain;
	dnsbl_lists[dnsbl_nlists].sender = sender;
	dnsbl_nlists++;
}

size_t
smtpd_dnsbl_load(const struct smtpd_security *sec)
{
	const struct restriction *r;
	size_t i;
	int st;

	for (st = 0; st < SMTPD_STAGES; st++)
		for (i = 0; i < sec->list[st].n; i++) {
			r = &sec->list[st].item[i];
			if (r->kind == RESTRICT_REJECT_RBL_CLIENT ||
			    r->kind == RESTRICT_REJECT_RHSBL_SENDER)
				dnsbl_add_list(r);
		}
	return dnsbl_nlists;
}

void
smtpd_dnsbl_open(struct dns_ctx *ctx, long long deadline_ms)
{
	dnsbl_ctx = ctx;
	dnsbl_deadline_ms = deadline_ms;
}

const char *
smtpd_dnsbl_sender_domain(const char *sender)
{
	const char *at = strrchr(sender, '@');

	if (at == NULL || at[1] == '[')
		return "";
	return at + 1;
}

/* The lookup of a is over: cancel what is left of it. */
static void
dnsbl_stop(struct smtpd_dnsbl_answer *a)
{
	if (a->query != 0)
		dns_query_cancel(dnsbl_ctx, a->query);
	a->query = 0;
	event_timer_cancel(a->timer);
	a->timer = 0;
}

/*
 * The answer is in, or failed (why: a reason; logged, not listed): tell
 * the session, which may free the set.
 */
static void
dnsbl_done(struct smtpd_dnsbl_answer *a, const char *why)
{
	struct smtpd_dnsbl_set *set = a->set;

	if (why != NULL) {
		log_warn("DNS list lookup failed: list=%s name=%s client=[%s] "
			 "error=%s; taken as not listed",
			 a->list, a->name, set->client, why);
		a->naddr = 0;
	}
	dnsbl_stop(a);
	a->state = SMTPD_DNSBL_DONE;
	set->fn(set->ctx);
}

static void
dnsbl_on_deadline(void *arg)
{
	struct smtpd_dnsbl_answer *a = arg;

	a->timer = 0;
	/* Listed, and the text did not come in time: no text. */
	dnsbl_done(a, a->naddr > 0 ? NULL : "timeout");
}

static void
dnsbl_on_txt(struct dns_result *r, void *arg)
{
	struct smtpd_dnsbl_answer *a = arg;
	size_t i;

	a->query = 0;
	for (i = 0; r->status == DNS_FOUND && i < r->count; i++)
		if (r->rr[i].type == DNS_T_TXT) {
			dnsbl_text(r->rr[i].data, r->rr[i].len, a->text,
				   sizeof(a->text));
			break;
		}
	dnsbl_done(a, NULL);
}

static void
dnsbl_on_a(struct dns_result *r, void *arg)
{
	struct smtpd_dnsbl_answer *a = arg;
	size_t i;

	a->query = 0;
	if (r->status == DNS_TEMPFAIL) {
		dnsbl_done(a, r->why[0] != '\0' ? r->why : "temporary failure");
		return;
	}
	for (i = 0; r->status == DNS_FOUND && i < r->count &&
		    a->naddr < SMTPD_DNSBL_ADDRS_MAX;
	     i++)
		if (r->rr[i].type == DNS_T_A && r->rr[i].addr.family == AF_INET)
			memcpy(a->addr + 4 * a->naddr++, r->rr[i].addr.bytes,
			       4);
	if (a->naddr == 0) {
		dnsbl_done(a, NULL);
		return;
	}
	a->query =
	    dns_query_start(dnsbl_ctx, a->name, DNS_T_TXT, dnsbl_on_txt, a);
}

/* Ask a's list about name (the subject under the list's domain). */
static void
dnsbl_ask(struct smtpd_dnsbl_answer *a)
{
	a->naddr = 0;
	a->text[0] = '\0';
	a->state = SMTPD_DNSBL_PENDING;
	a->timer = event_timer_add(dnsbl_deadline_ms, dnsbl_on_deadline, a);
	a->query = dns_query_start(dnsbl_ctx, a->name, DNS_T_A, dnsbl_on_a, a);
}

struct smtpd_dnsbl_set *
smtpd_dnsbl_start(const char *addr, smtpd_dnsbl_fn fn, void *ctx)
{
	struct smtpd_dnsbl_set *set;
	struct smtpd_dnsbl_answer *a;
	struct dns_addr da;
	size_t i;
	int known;

	if (dnsbl_nlists == 0)
		return NULL;
	set = xcalloc(1, sizeof(*set));
	set->answer = xcalloc(dnsbl_nlists, sizeof(*set->answer));
	set->n = dnsbl_nlists;
	set->fn = fn;
	set->ctx = ctx;
	strlcpy(set->client, addr, sizeof(set->client));
	known = dnsbl_ctx != NULL && dns_addr_parse(addr, &da) == 0;
	for (i = 0; i < set->n; i++) {
		a = &set->answer[i];
		a->set = set;
		a->list = dnsbl_lists[i].domain;
		a->sender = dnsbl_lists[i].sender;
		if (!a->sender && known &&
		    dns_reverse_name(&da, a->list, a->name, sizeof(a->name)) ==
			0)
			dnsbl_ask(a);
	}
	return set;
}

void
smtpd_dnsbl_sender(struct smtpd_dnsbl_set *set, const char *sender)
{
	const char *domain = smtpd_dnsbl_sender_domain(sender);
	struct smtpd_dnsbl_answer *a;
	size_t i;
	int n;

	if (set == NULL || domain[0] == '\0')
		return;
	for (i = 0; i < set->n; i++) {
		a = &set->answer[i];
		if (!a->sender || strcmp(a->about, domain) == 0)
			continue;
		dnsbl_stop(a);
		a->state = SMTPD_DNSBL_NONE;
		if (strlcpy(a->about, domain, sizeof(a->about)) >=
		    sizeof(a->about)) {
			a->about[0] = '\0';
			continue;
		}
		n = snprintf(a->name, sizeof(a->name), "%s.%s", domain,
			     a->list);
		if (dnsbl_ctx != NULL && n > 0 && (size_t)n < sizeof(a->name) &&
		    dns_name_valid(a->name))
			dnsbl_ask(a);
	}
}

void
smtpd_dnsbl_free(struct smtpd_dnsbl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		dnsbl_stop(&set->answer[i]);
	free(set->answer);
	free(set);
}
