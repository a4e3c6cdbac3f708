/*
 * dns_query: running lookups on libunbound's resolver thread, with our own
 * deadline: the blocking dns_lookup (poll on the context's descriptor until
 * the answer or smtp_dns_timeout, then cancel) and the asynchronous
 * dns_query_start for event loops (the descriptor in event.h's epoll, an
 * event timer per query).  libunbound calls dns_ub_answer from inside
 * ub_process(); the answers are only queued there and the callers' code
 * runs after ub_process() returns, so a callback may start or cancel
 * queries freely.  No parsing here (dns.c converts the answers).  Runs in
 * the remote daemon and, later, smtpd.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "dns_ctx.h"
#include "event.h"
#include "log.h"

#define DNS_CLASS_IN 1

struct dns_query {
	struct dns_ctx *ctx;
	unsigned long id;
	int ub_id;
	int type;
	char name[DNS_NAME_MAX];
	dns_query_fn cb; /* NULL: a blocking lookup waits for it */
	void *arg;
	unsigned long timer;
	int started;  /* handed to libunbound */
	int finished; /* result is set */
	int orphan;   /* cancelled, but libunbound may still answer */
	struct dns_result result;
	struct dns_query *next;
};

static void
dns_query_unlink(struct dns_query **list, struct dns_query *q)
{
	for (; *list != NULL; list = &(*list)->next) {
		if (*list == q) {
			*list = q->next;
			q->next = NULL;
			return;
		}
	}
}

static void
dns_query_free(struct dns_query *q)
{
	if (q->timer != 0)
		event_timer_cancel(q->timer);
	dns_result_free(&q->result);
	free(q);
}

/* Called by libunbound from inside ub_process(): queue the answer. */
static void
dns_ub_answer(void *mydata, int err, struct ub_result *ub)
{
	struct dns_query *q = mydata, **tail;
	struct dns_ctx *ctx = q->ctx;

	dns_query_unlink(&ctx->queries, q);
	if (q->orphan) {
		if (ub != NULL)
			ub_resolve_free(ub);
		dns_query_free(q);
		return;
	}
	dns_result_convert(q->name, q->type, err, ub, &q->result);
	if (ub != NULL)
		ub_resolve_free(ub);
	q->finished = 1;
	for (tail = &ctx->done; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = q;
}

/* Hand the queued answers to their callers, oldest first. */
static void
dns_run_done(struct dns_ctx *ctx)
{
	struct dns_query *q;

	while ((q = ctx->done) != NULL) {
		ctx->done = q->next;
		q->next = NULL;
		if (q->cb == NULL)
			continue; /* dns_lookup holds it and sees finished */
		q->cb(&q->result, q->arg);
		dns_query_free(q);
	}
}

static void
dns_process(struct dns_ctx *ctx)
{
	int rc = ub_process(ctx->ub);

	if (rc != 0)
		log_warn("dns: ub_process: %s", ub_strerror(rc));
	dns_run_done(ctx);
}

/* A query record, started on libunbound unless the name is refused. */
static struct dns_query *
dns_query_new(struct dns_ctx *ctx, const char *name, int type, dns_query_fn cb,
	      void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	size_t n;
	int rc;

	q->ctx = ctx;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	q->id = ++ctx->next_id;
	n = strlcpy(q->name, name, sizeof(q->name));
	if (n < sizeof(q->name) && n > 1 && q->name[n - 1] == '.')
		q->name[n - 1] = '\0';
	for (char *p = q->name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	q->next = ctx->queries;
	ctx->queries = q;
	if (n >= sizeof(q->name) || !dns_name_valid(q->name)) {
		dns_result_tempfail(q->name, type, "not a host name",
				    &q->result);
		q->result.status = DNS_BADNAME;
		q->result.rcode = 0;
		q->finished = 1;
		return q;
	}
	rc = ub_resolve_async(ctx->ub, q->name, type, DNS_CLASS_IN, q,
			      dns_ub_answer, &q->ub_id);
	if (rc != 0) {
		dns_result_tempfail(q->name, type, ub_strerror(rc), &q->result);
		q->finished = 1;
		return q;
	}
	q->started = 1;
	return q;
}

/*
 * Stop waiting for q and take it off the list.  A query libunbound still
 * holds stays listed as an orphan, freed when its answer comes.
 */
static void
dns_query_abandon(struct dns_ctx *ctx, struct dns_query *q)
{
	if (q->started && !q->finished && ub_cancel(ctx->ub, q->ub_id) != 0) {
		q->orphan = 1;
		q->cb = NULL;
		return;
	}
	dns_query_unlink(&ctx->queries, q);
}

/* Move q's result to out; q is freed unless it is an orphan. */
static void
dns_query_take(struct dns_query *q, struct dns_result *out)
{
	*out = q->result;
	memset(&q->result, 0, sizeof(q->result));
	if (!q->orphan)
		dns_query_free(q);
}

int
dns_lookup(struct dns_ctx *ctx, const char *name, int type,
	   struct dns_result *out)
{
	struct dns_query *q = dns_query_new(ctx, name, type, NULL, NULL);
	long long deadline = event_now_ms() + ctx->timeout_ms, left;
	struct pollfd pfd;

	pfd.fd = ub_fd(ctx->ub);
	pfd.events = POLLIN;
	while (!q->finished) {
		left = deadline - event_now_ms();
		if (left <= 0) {
			dns_query_abandon(ctx, q);
			dns_result_tempfail(q->name, type, "timeout",
					    &q->result);
			dns_query_take(q, out);
			return 0;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			dns_query_abandon(ctx, q);
			dns_result_tempfail(q->name, type, strerror(errno),
					    &q->result);
			dns_query_take(q, out);
			return -1;
		}
		if (pfd.revents != 0)
			dns_process(ctx);
	}
	dns_query_unlink(&ctx->queries, q); /* a refused name */
	dns_query_take(q, out);
	return 0;
}

static void
dns_query_deadline(void *arg)
{
	struct dns_query *q = arg;
	struct dns_ctx *ctx = q->ctx;
	dns_query_fn cb = q->cb;

	q->timer = 0;
	if (!q->finished)
		dns_result_tempfail(q->name, q->type, "timeout", &q->result);
	dns_query_abandon(ctx, q);
	cb(&q->result, q->arg);
	if (q->orphan)
		dns_result_free(&q->result);
	else
		dns_query_free(q);
}

static void
dns_event_ready(int fd, unsigned events, void *arg)
{
	dns_process(arg);
}

unsigned long
dns_query_start(struct dns_ctx *ctx, const char *name, int type,
		dns_query_fn cb, void *arg)
{
	struct dns_query *q;

	if (cb == NULL)
		return 0;
	if (!ctx->in_event_loop) {
		event_set(ub_fd(ctx->ub), EVENT_READ, dns_event_ready, ctx);
		ctx->in_event_loop = 1;
	}
	q = dns_query_new(ctx, name, type, cb, arg);
	/* A refused name is answered from the loop too, never from here. */
	q->timer = event_timer_add(q->finished ? 0 : ctx->timeout_ms,
				   dns_query_deadline, q);
	return q->id;
}

static struct dns_query *
dns_query_find(struct dns_query *list, unsigned long id)
{
	for (; list != NULL; list = list->next)
		if (list->id == id && !list->orphan)
			return list;
	return NULL;
}

void
dns_query_cancel(struct dns_ctx *ctx, unsigned long id)
{
	struct dns_query *q;

	if ((q = dns_query_find(ctx->done, id)) != NULL) {
		dns_query_unlink(&ctx->done, q);
		dns_query_free(q);
	} else if ((q = dns_query_find(ctx->queries, id)) != NULL &&
		   q->cb != NULL) {
		dns_query_abandon(ctx, q);
		if (!q->orphan)
			dns_query_free(q);
		else if (q->timer != 0) {
			event_timer_cancel(q->timer);
			q->timer = 0;
		}
	}
}

size_t
dns_query_pending(const struct dns_ctx *ctx)
{
	size_t n = 0;

	for (const struct dns_query *q = ctx->queries; q; q = q->next)
		n += !q->orphan;
	for (const struct dns_query *q = ctx->done; q; q = q->next)
		n++;
	return n;
}

void
dns_query_forget_all(struct dns_ctx *ctx)
{
	struct dns_query *q;

	while ((q = ctx->queries) != NULL) {
		ctx->queries = q->next;
		dns_query_free(q);
	}
	while ((q = ctx->done) != NULL) {
		ctx->done = q->next;
		dns_query_free(q);
	}
}
