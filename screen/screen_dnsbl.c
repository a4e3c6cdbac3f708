/*
 * screen_dnsbl: the DNSBL lookups of one client (screen_dnsbl.h): one A
 * query per distinct list domain (the client's address reversed under
 * it), started when the client connects, through common/dns.h's
 * asynchronous interface (the context opened before the chroot, as
 * remote's is); each answer adds its sites' weights to the client's
 * score, and the first list that counts against the client is asked for
 * its TXT text, for the reply.  A query that fails or times out
 * (smtp_dns_timeout) counts as not listed.  When nothing is left in
 * flight the connection is told (screen_conn_tested).  The answers are
 * hostile: only A records of 4 bytes count, TXT text goes through
 * dnsbl_text.  Run by screen.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "screen.h"

static struct dns_ctx *dnsbl_ctx;

/* One query in flight: which client, which list, A or TXT. */
struct dnsbl_query {
	struct screen_dnsbl_run *run;
	unsigned long id;
	const char *domain; /* the list's (a site's string) */
	int type;
};

struct screen_dnsbl_run {
	struct screen_conn *conn;
	/* an A query per list, a TXT query per list that led the score */
	struct dnsbl_query q[2 * SCREEN_DNSBL_SITES_MAX];
	size_t nq;
	unsigned pending;
	const struct dnsbl_site *top; /* listed it with most weight */
	char text[DNSBL_TEXT_MAX + 1];
};

int
screen_dnsbl_open(struct buf *err)
{
	if ((dnsbl_ctx = dns_open(err)) == NULL)
		return -1;
	return 0;
}

static void dnsbl_on_answer(struct dns_result *r, void *arg);

/* Start one query of the run; 0, or -1 when the name does not fit. */
static int
dnsbl_ask(struct screen_dnsbl_run *run, const char *domain, int type,
	  const char *name)
{
	struct dnsbl_query *q = &run->q[run->nq];

	if (run->nq == sizeof(run->q) / sizeof(run->q[0]))
		return -1;
	q->run = run;
	q->domain = domain;
	q->type = type;
	q->id = dns_query_start(dnsbl_ctx, name, type, dnsbl_on_answer, q);
	run->nq++;
	run->pending++;
	return 0;
}

static void
dnsbl_start_txt(struct screen_dnsbl_run *run)
{
	struct dns_addr a;
	char name[DNS_NAME_MAX];

	if (dns_addr_parse(run->conn->addr, &a) == 0 &&
	    dns_reverse_name(&a, run->top->domain, name, sizeof(name)) == 0)
		(void)dnsbl_ask(run, run->top->domain, DNS_T_TXT, name);
}

static void
dnsbl_on_a(struct dnsbl_query *q, const struct dns_result *r)
{
	struct screen_dnsbl_run *run = q->run;
	unsigned char addrs[DNS_RR_MAX * 4];
	size_t i, n = 0;
	const struct dnsbl_site *top = run->top;

	if (r->status != DNS_FOUND)
		return;
	for (i = 0; i < r->count && n < DNS_RR_MAX; i++)
		if (r->rr[i].type == DNS_T_A && r->rr[i].addr.family == AF_INET)
			memcpy(addrs + 4 * n++, r->rr[i].addr.bytes, 4);
	run->conn->score += dnsbl_score(screen_cfg.sites, screen_cfg.site_count,
					q->domain, addrs, n, &run->top);
	if (run->top != top) { /* a new leader: its text for the reply */
		run->text[0] = '\0';
		dnsbl_start_txt(run);
	}
}

static void
dnsbl_on_answer(struct dns_result *r, void *arg)
{
	struct dnsbl_query *q = arg;
	struct screen_dnsbl_run *run = q->run;

	q->id = 0;
	run->pending--;
	if (q->type == DNS_T_A)
		dnsbl_on_a(q, r);
	else if (r->status == DNS_FOUND && r->count > 0 &&
		 r->rr[0].type == DNS_T_TXT && run->top != NULL &&
		 strcmp(q->domain, run->top->domain) == 0)
		dnsbl_text(r->rr[0].data, r->rr[0].len, run->text,
			   sizeof(run->text));
	if (run->pending == 0)
		screen_conn_tested(run->conn);
}

void
screen_dnsbl_start(struct screen_conn *c)
{
	struct screen_dnsbl_run *run;
	struct dns_addr a;
	char name[DNS_NAME_MAX];
	size_t i, j;

	if (dnsbl_ctx == NULL || dns_addr_parse(c->addr, &a) != 0)
		return;
	run = xcalloc(1, sizeof(*run));
	run->conn = c;
	c->dnsbl = run;
	for (i = 0; i < screen_cfg.site_count; i++) {
		const char *d = screen_cfg.sites[i].domain;
		for (j = 0; j < i; j++)
			if (strcmp(screen_cfg.sites[j].domain, d) == 0)
				break; /* asked already */
		if (j == i && dns_reverse_name(&a, d, name, sizeof(name)) == 0)
			(void)dnsbl_ask(run, d, DNS_T_A, name);
	}
}

unsigned
screen_dnsbl_pending(const struct screen_conn *c)
{
	return c->dnsbl != NULL ? c->dnsbl->pending : 0;
}

const char *
screen_dnsbl_listed_by(const struct screen_conn *c, const char **text)
{
	*text = "";
	if (c->dnsbl == NULL || c->dnsbl->top == NULL)
		return NULL;
	*text = c->dnsbl->text;
	return c->dnsbl->top->domain;
}

void
screen_dnsbl_cancel(struct screen_conn *c)
{
	struct screen_dnsbl_run *run = c->dnsbl;
	size_t i;

	if (run == NULL)
		return;
	for (i = 0; i < run->nq; i++)
		if (run->q[i].id != 0) {
			dns_query_cancel(dnsbl_ctx, run->q[i].id);
			run->q[i].id = 0;
		}
	run->pending = 0;
}

void
screen_dnsbl_end(struct screen_conn *c)
{
	screen_dnsbl_cancel(c);
	free(c->dnsbl);
	c->dnsbl = NULL;
}
