/*
 * qmgr_dest: delivery scheduling.  A destination is a transport and a
 * next hop ("smtp" and "example.com", "relay" and "[192.0.2.1]:25",
 * "local" and ""); each has a FIFO of jobs and runs at most its
 * transport's *_destination_concurrency_limit of them at once.  Each
 * service (the agent behind a transport: local, remote) has at most its
 * master.conf process limit of connections open, busy or idle; the
 * destinations with jobs waiting take turns (round robin), so one slow
 * destination cannot hold every process.
 *
 * Connection reuse: a connection to remote that finished a job stays
 * open, idle, for smtp_connection_cache_time_limit; the next job for the
 * same destination takes it (and remote its SMTP session, after RSET)
 * before any new connection is made.  When the service is at its
 * process limit, the oldest idle connection is closed to make room for
 * another destination.
 *
 * Batches: each local recipient is a destination of its own
 * (qmgr_message.c), so local_destination_concurrency_limit is per
 * recipient; a local job takes along the jobs queued for the same
 * recipient, up to local_delivery_batch_limit messages in one request
 * (local delivers them to the same mailbox and makes them durable
 * together), and the limit counts batches.  Input: qmgr's
 * own state; transport_maps values are root's (checked in qmgr_transport.c).
 * Runs in qmgr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "maps.h"
#include "params.h"
#include "qmgr.h"
#include "server.h"
#include "service_table.h"

#define QMGR_DEST_HASH 4096 /* buckets, a power of two */

struct qmgr_dest {
	enum qmgr_transport_id tp;
	char nexthop[QMGR_NEXTHOP_MAX];
	struct qmgr_job *head, *tail;
	unsigned busy;   /* agents running one of its jobs */
	unsigned agents; /* agents open for it, busy or idle */
	unsigned pinned; /* held by the pump: not freed */
	int on_ready;
	struct qmgr_dest *ready_next;
	struct qmgr_dest *hash_next;
};

struct qmgr_service {
	int present;    /* a line in master.conf */
	unsigned limit; /* its maxproc */
	unsigned open;  /* connections, busy or idle */
	int pumping;
	struct qmgr_dest *ready_head, *ready_tail;
	struct qmgr_agent *idle_head, *idle_tail; /* oldest first */
};

static struct qmgr_dest *qmgr_dests[QMGR_DEST_HASH];
static struct qmgr_service qmgr_services[QMGR_SERVICE_COUNT];
static unsigned qmgr_busy_total;
static struct map *qmgr_transport_map;
static int qmgr_transport_map_failed;

static void qmgr_service_pump(enum qmgr_service_id s);

/* --- set-up ----------------------------------------------------------------
 */

/* Still root, outside the chroot: master.conf and the map are readable. */
void
qmgr_dest_init(void)
{
	struct service_table t = {NULL, 0};
	struct buf err = BUF_INIT;
	const char *maps = param_str("transport_maps");
	size_t i, s;

	if (service_table_load(server_config_dir(), &t, &err) != 0)
		log_warn("%s", buf_cstr(&err));
	for (s = 0; s < QMGR_SERVICE_COUNT; s++)
		for (i = 0; i < t.count; i++)
			if (strcmp(t.svc[i].name, qmgr_service_socket[s]) ==
			    0) {
				qmgr_services[s].present = 1;
				qmgr_services[s].limit =
				    (unsigned)t.svc[i].maxproc;
			}
	service_table_free(&t);
	buf_reset(&err);
	if (maps[0] != '\0' &&
	    (qmgr_transport_map = map_open(maps, &err)) == NULL) {
		log_warn("transport_maps %s: %s (mail that needs it is "
			 "deferred)",
			 maps, buf_cstr(&err));
		qmgr_transport_map_failed = 1;
	}
	buf_free(&err);
}

int
qmgr_service_present(enum qmgr_service_id svc)
{
	return qmgr_services[svc].present;
}

static int
qmgr_dest_lookup(void *ctx, const char *key, struct buf *value)
{
	(void)ctx;
	if (qmgr_transport_map_failed)
		return -1;
	return map_lookup(qmgr_transport_map, key, value);
}

void
qmgr_dest_route(const char *addr, struct qmgr_route *r)
{
	if (qmgr_transport_map != NULL && !server_stopping() &&
	    map_changed(qmgr_transport_map)) {
		/* Finish what runs, then a fresh qmgr opens the new map. */
		log_info("transport_maps %s changed: restarting",
			 param_str("transport_maps"));
		server_wind_down();
	}
	qmgr_transport_route(addr,
			     qmgr_transport_map != NULL ||
				     qmgr_transport_map_failed
				 ? qmgr_dest_lookup
				 : NULL,
			     NULL, r);
}

/* --- destinations ----------------------------------------------------------
 */

static struct qmgr_dest **
qmgr_dest_slot(enum qmgr_transport_id tp, const char *nexthop)
{
	unsigned h = 2166136261u ^ (unsigned)tp;
	struct qmgr_dest **pp;

	for (const char *p = nexthop; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	pp = &qmgr_dests[h & (QMGR_DEST_HASH - 1)];
	while (*pp != NULL &&
	       ((*pp)->tp != tp || strcmp((*pp)->nexthop, nexthop) != 0))
		pp = &(*pp)->hash_next;
	return pp;
}

static struct qmgr_dest *
qmgr_dest_get(enum qmgr_transport_id tp, const char *nexthop)
{
	struct qmgr_dest **pp = qmgr_dest_slot(tp, nexthop);

	if (*pp == NULL) {
		*pp = xcalloc(1, sizeof(**pp));
		(*pp)->tp = tp;
		snprintf((*pp)->nexthop, sizeof((*pp)->nexthop), "%s", nexthop);
	}
	return *pp;
}

/* Forget a destination with nothing queued, running or open. */
static void
qmgr_dest_maybe_free(struct qmgr_dest *d)
{
	struct qmgr_dest **pp;

	if (d->head != NULL || d->agents > 0 || d->pinned > 0 || d->on_ready)
		return;
	pp = qmgr_dest_slot(d->tp, d->nexthop);
	*pp = d->hash_next;
	free(d);
}

enum qmgr_transport_id
qmgr_dest_transport(const struct qmgr_dest *d)
{
	return d->tp;
}

const char *
qmgr_dest_nexthop(const struct qmgr_dest *d)
{
	return d->nexthop;
}

static struct qmgr_service *
qmgr_dest_service(const struct qmgr_dest *d)
{
	return &qmgr_services[qmgr_transport_table[d->tp].service];
}

static unsigned
qmgr_dest_limit(const struct qmgr_dest *d)
{
	return (unsigned)param_int(
	    qmgr_transport_table[d->tp].concurrency_param);
}

static void
qmgr_dest_ready(struct qmgr_dest *d)
{
	struct qmgr_service *sv = qmgr_dest_service(d);

	if (d->on_ready || d->head == NULL)
		return;
	d->on_ready = 1;
	d->ready_next = NULL;
	if (sv->ready_tail != NULL)
		sv->ready_tail->ready_next = d;
	else
		sv->ready_head = d;
	sv->ready_tail = d;
}

static struct qmgr_dest *
qmgr_ready_pop(struct qmgr_service *sv)
{
	struct qmgr_dest *d = sv->ready_head;

	sv->ready_head = d->ready_next;
	if (sv->ready_head == NULL)
		sv->ready_tail = NULL;
	d->on_ready = 0;
	return d;
}

static void
qmgr_ready_push_front(struct qmgr_service *sv, struct qmgr_dest *d)
{
	d->on_ready = 1;
	d->ready_next = sv->ready_head;
	sv->ready_head = d;
	if (sv->ready_tail == NULL)
		sv->ready_tail = d;
}

static struct qmgr_job *
qmgr_dest_pop(struct qmgr_dest *d)
{
	struct qmgr_job *job = d->head;

	d->head = job->next;
	if (d->head == NULL)
		d->tail = NULL;
	job->next = NULL;
	return job;
}

/* The one recipient of a local job. */
static const char *
qmgr_job_addr(const struct qmgr_job *job)
{
	return job->msg->env.rcpt[job->rcpt[0]].addr;
}

/*
 * A local job takes along, as one batch (chained on job->next), up to
 * local_delivery_batch_limit - 1 more jobs queued for the same recipient
 * (the same address), in queue order; the scan stops after
 * QMGR_BATCH_SCAN jobs, so a long queue of other recipients costs little.
 */
static void
qmgr_dest_batch(struct qmgr_dest *d, struct qmgr_job *job)
{
	long long limit = param_int("local_delivery_batch_limit");
	struct qmgr_job **pp = &d->head, *prev = NULL, *last = job, *j;
	long long n = 1;
	size_t scanned = 0;

	if (qmgr_transport_table[d->tp].service != QMGR_SERVICE_LOCAL ||
	    job->count != 1)
		return;
	while ((j = *pp) != NULL && n < limit && scanned++ < QMGR_BATCH_SCAN) {
		if (j->count != 1 ||
		    strcmp(qmgr_job_addr(j), qmgr_job_addr(job)) != 0) {
			prev = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		if (d->tail == j)
			d->tail = prev;
		j->next = NULL;
		last->next = j;
		last = j;
		n++;
	}
}

void
qmgr_dest_enqueue(struct qmgr_message *msg, enum qmgr_transport_id tp,
		  const char *nexthop, const size_t *rcpt, size_t count)
{
	struct qmgr_dest *d = qmgr_dest_get(tp, nexthop);
	struct qmgr_job *job = xcalloc(1, sizeof(*job));
	size_t i;

	job->msg = msg;
	job->dest = d;
	job->count = job->left = count;
	job->rcpt = xreallocarray(NULL, count, sizeof(*job->rcpt));
	job->answered = xcalloc(count, 1);
	for (i = 0; i < count; i++) {
		job->rcpt[i] = rcpt[i];
		msg->res[rcpt[i]].state = QMGR_RCPT_WAITING;
	}
	if (d->tail != NULL)
		d->tail->next = job;
	else
		d->head = job;
	d->tail = job;
	qmgr_dest_ready(d);
	qmgr_service_pump(qmgr_transport_table[tp].service);
}

/* --- idle agents -----------------------------------------------------------
 */

static void
qmgr_idle_remove(struct qmgr_service *sv, struct qmgr_agent *a)
{
	if (a->idle_prev != NULL)
		a->idle_prev->idle_next = a->idle_next;
	else
		sv->idle_head = a->idle_next;
	if (a->idle_next != NULL)
		a->idle_next->idle_prev = a->idle_prev;
	else
		sv->idle_tail = a->idle_prev;
	a->idle_next = a->idle_prev = NULL;
}

static void
qmgr_idle_add(struct qmgr_service *sv, struct qmgr_agent *a)
{
	a->idle_next = NULL;
	a->idle_prev = sv->idle_tail;
	if (sv->idle_tail != NULL)
		sv->idle_tail->idle_next = a;
	else
		sv->idle_head = a;
	sv->idle_tail = a;
}

/* An idle connection to d, taken off the idle list, or NULL. */
static struct qmgr_agent *
qmgr_idle_take(struct qmgr_service *sv, const struct qmgr_dest *d)
{
	struct qmgr_agent *a;

	for (a = sv->idle_tail; a != NULL; a = a->idle_prev)
		if (a->dest == d) {
			qmgr_idle_remove(sv, a);
			return a;
		}
	return NULL;
}

/* A connection closed: the counts that held it. */
static void
qmgr_agent_forget(struct qmgr_service *sv, struct qmgr_agent *a)
{
	struct qmgr_dest *d = a->dest;

	qmgr_agent_close(a);
	sv->open--;
	d->agents--;
	qmgr_dest_maybe_free(d);
}

/* Close the oldest idle connection to make room; 0 when there is none. */
static int
qmgr_idle_evict(struct qmgr_service *sv)
{
	struct qmgr_agent *a = sv->idle_head;

	if (a == NULL)
		return 0;
	qmgr_idle_remove(sv, a);
	qmgr_agent_forget(sv, a);
	return 1;
}

void
qmgr_dest_idle_gone(struct qmgr_agent *a)
{
	enum qmgr_service_id s = qmgr_transport_table[a->dest->tp].service;
	struct qmgr_service *sv = &qmgr_services[s];

	qmgr_idle_remove(sv, a);
	qmgr_agent_forget(sv, a); /* may free the destination too */
	qmgr_service_pump(s);
}

/* --- running jobs ----------------------------------------------------------
 */

void
qmgr_dest_agent_done(struct qmgr_agent *a, int reusable)
{
	struct qmgr_dest *d = a->dest;
	struct qmgr_service *sv = qmgr_dest_service(d);
	enum qmgr_service_id s = qmgr_transport_table[d->tp].service;

	d->busy--;
	qmgr_busy_total--;
	d->pinned++;
	if (reusable && !server_stopping()) {
		qmgr_idle_add(sv, a);
		qmgr_agent_idle(
		    a, param_int("smtp_connection_cache_time_limit") * 1000);
	} else {
		qmgr_agent_forget(sv, a);
	}
	qmgr_dest_ready(d);
	qmgr_service_pump(s); /* d stays pinned: the pump may not free it */
	d->pinned--;
	qmgr_dest_maybe_free(d);
}

/* A connection for d: an idle one, or a new one if the service has room. */
static struct qmgr_agent *
qmgr_dest_agent(struct qmgr_service *sv, struct qmgr_dest *d, int *full)
{
	struct qmgr_agent *a = qmgr_idle_take(sv, d);
	struct buf why = BUF_INIT;

	*full = 0;
	if (a != NULL)
		return a;
	if (sv->open >= sv->limit && !qmgr_idle_evict(sv)) {
		*full = 1;
		return NULL;
	}
	if ((a = qmgr_agent_open(d, &why)) == NULL) {
		/* The agent cannot be reached: its jobs fail one by one. */
		qmgr_job_fail(qmgr_dest_pop(d), buf_cstr(&why));
		buf_free(&why);
		return NULL;
	}
	buf_free(&why);
	sv->open++;
	d->agents++;
	return a;
}

/* Start d's first job; 1 when the service has no room (d waits). */
static int
qmgr_dest_start_one(struct qmgr_service *sv, struct qmgr_dest *d)
{
	struct qmgr_agent *a;
	struct qmgr_job *job;
	int full;

	a = qmgr_dest_agent(sv, d, &full);
	if (full) {
		qmgr_ready_push_front(sv, d);
		return 1;
	}
	if (a != NULL) {
		job = qmgr_dest_pop(d);
		qmgr_dest_batch(d, job);
		d->busy++;
		qmgr_busy_total++;
		qmgr_agent_start(a, job); /* may end at once, calling done */
	}
	if (d->head != NULL && d->busy < qmgr_dest_limit(d))
		qmgr_dest_ready(d);
	return 0;
}

static void
qmgr_service_pump(enum qmgr_service_id s)
{
	struct qmgr_service *sv = &qmgr_services[s];
	struct qmgr_dest *d;
	int full = 0;

	if (sv->pumping)
		return; /* the loop below goes on */
	sv->pumping = 1;
	/* A reload lets running deliveries finish and starts no new ones. */
	while (!full && !server_stopping() && sv->ready_head != NULL) {
		d = qmgr_ready_pop(sv);
		d->pinned++;
		if (d->head != NULL && d->busy < qmgr_dest_limit(d))
			full = qmgr_dest_start_one(sv, d);
		d->pinned--;
		qmgr_dest_maybe_free(d);
	}
	sv->pumping = 0;
}

int
qmgr_deliver_running(void)
{
	return qmgr_busy_total > 0;
}
