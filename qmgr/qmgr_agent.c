/*
 * qmgr_agent: a connection to a delivery agent.  A job goes out as one
 * request, {op=deliver, ...} with a read-only descriptor of the queue
 * file (ipc_proto.h: local takes one recipient, remote up to
 * default_destination_recipient_limit), and comes back as one result
 * frame per recipient, each recorded in the queue file as it arrives
 * (qmgr_message_result), so what a killed agent already reported is kept.
 * A local batch (qmgr_dest.c) goes out as one such frame per message,
 * each with its own descriptor, and each result frame names its message
 * (batch_index, queue_id); each message's descriptors, and so its status
 * sync, go with its own last result.
 * A remote connection may then stay open, idle, for the next job to the
 * same destination (qmgr_dest.c); while idle, end of file or any byte
 * from the agent closes it.  Hostile input: the agent's frames, bounded
 * and validated; a lost connection, a garbled frame or a timeout defers
 * the recipients not yet answered ("delivery agent failed"), never
 * bounces them.  Runs in qmgr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dsn.h"
#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "qmgr.h"
#include "utf8.h"

#define QMGR_REPLY_MAX (64 * 1024) /* bytes buffered from an agent */
#define QMGR_AGENT_FAILED "delivery agent failed"

static const char *
qmgr_agent_name(const struct qmgr_agent *a)
{
	return qmgr_transport_table[qmgr_dest_transport(a->dest)].name;
}

void
qmgr_job_free(struct qmgr_job *job)
{
	free(job->rcpt);
	free(job->answered);
	free(job);
}

/*
 * Record one recipient's result; the fds the job holds go with the last
 * one (after which the message may be gone).
 */
static void
qmgr_job_result(struct qmgr_job *job, size_t k, enum qmgr_result result,
		int logged, const char *dsn, const char *text)
{
	int last = job->left == 1;

	job->answered[k] = 1;
	job->left--;
	job->t.done_ms = qmgr_now_ms();
	if (job->t.conn_ms == 0)
		job->t.conn_ms = job->t.done_ms;
	qmgr_message_result(
	    job->msg, job->rcpt[k], result, last && job->held, logged,
	    qmgr_transport_table[qmgr_dest_transport(job->dest)].name, dsn,
	    text, &job->t);
}

void
qmgr_job_fail(struct qmgr_job *job, const char *what)
{
	size_t k;

	for (k = 0; k < job->count && job->left > 0; k++) {
		if (job->answered[k])
			continue;
		if (job->left == job->count && k == 0)
			log_warn(
			    "%s: to=<%s>: %s: %s", job->msg->id,
			    job->msg->env.rcpt[job->rcpt[k]].addr,
			    qmgr_transport_table[qmgr_dest_transport(job->dest)]
				.name,
			    what);
		if (job->msg->res[job->rcpt[k]].state == QMGR_RCPT_WAITING)
			job->msg->res[job->rcpt[k]].state = QMGR_RCPT_BUSY;
		qmgr_job_result(job, k, QMGR_DEFER, 0, "4.3.0",
				QMGR_AGENT_FAILED);
	}
	qmgr_job_free(job);
}

/* Recipients of the agent's job (or batch) not yet answered. */
static size_t
qmgr_agent_left(const struct qmgr_agent *a)
{
	size_t left = 0;

	for (const struct qmgr_job *j = a->job; j != NULL; j = j->next)
		left += j->left;
	return left;
}

/* The job is over (every recipient answered or deferred). */
static void
qmgr_agent_end_job(struct qmgr_agent *a, int reusable)
{
	struct qmgr_job *job, *next;

	if (a->timer != 0)
		event_timer_cancel(a->timer);
	a->timer = 0;
	for (job = a->job; job != NULL; job = next) {
		next = job->next;
		qmgr_job_free(job);
	}
	a->job = NULL;
	qmgr_dest_agent_done(a, reusable);
}

/* Every job of a batch not yet answered is deferred. */
static void
qmgr_agent_fail(struct qmgr_agent *a, const char *what)
{
	struct qmgr_job *job = a->job, *next;
	char text[256];

	snprintf(text, sizeof(text), "%s", what);
	a->job = NULL;
	if (a->timer != 0)
		event_timer_cancel(a->timer);
	a->timer = 0;
	for (; job != NULL; job = next) {
		next = job->next;
		qmgr_job_fail(job, text);
	}
	qmgr_dest_agent_done(a, 0);
}

/*
 * The job a result frame is for: the batch_index-th of a batch (whose
 * queue_id, when given, must be its message's), else the only one; NULL
 * when the frame names none, or one already answered.
 */
static struct qmgr_job *
qmgr_agent_frame_job(const struct qmgr_agent *a, const struct ipc_frame *f)
{
	const char *id = ipc_get_str(f, IPC_QUEUE_ID);
	struct qmgr_job *job = a->job;
	long long k = 0;

	if (ipc_get(f, IPC_BATCH_INDEX) != NULL &&
	    ipc_get_int(f, IPC_BATCH_INDEX, 0, IPC_BATCH_MAX - 1, &k) != 0)
		return NULL;
	while (job != NULL && k-- > 0)
		job = job->next;
	if (job == NULL || job->left == 0 ||
	    (ipc_get(f, IPC_BATCH_INDEX) == NULL && a->job->next != NULL))
		return NULL;
	if (id != NULL && strcmp(id, job->msg->id) != 0)
		return NULL;
	return job;
}

/* The enhanced status code, forced into the class of the status. */
static const char *
qmgr_agent_dsn(const char *dsn, char cls, char *out, size_t size)
{
	size_t i, dots = 0, digits = 0;

	if (dsn == NULL || dsn[0] != cls || dsn[1] != '.' || strlen(dsn) > 11)
		goto fallback;
	for (i = 2; dsn[i] != '\0'; i++) {
		if (dsn[i] == '.') {
			if (digits == 0 || ++dots > 1)
				goto fallback;
			digits = 0;
		} else if (dsn[i] >= '0' && dsn[i] <= '9' && digits < 3) {
			digits++;
		} else {
			goto fallback;
		}
	}
	if (dots != 1 || digits == 0)
		goto fallback;
	snprintf(out, size, "%s", dsn);
	return out;
fallback:
	snprintf(out, size, "%c.0.0", cls);
	return out;
}

/* Apply one result frame; -1 when it is malformed. */
static int
qmgr_agent_frame(struct qmgr_agent *a, const struct ipc_frame *f)
{
	struct qmgr_job *job = qmgr_agent_frame_job(a, f);
	const char *status = ipc_get_str(f, IPC_STATUS);
	const char *text = ipc_get_str(f, IPC_TEXT);
	enum qmgr_result result;
	long long k = 0;
	char code[16], cls;

	if (job == NULL)
		return -1;
	if (ipc_get(f, IPC_RCPT_INDEX) != NULL
		? ipc_get_int(f, IPC_RCPT_INDEX, 0, (long long)job->count - 1,
			      &k) != 0
		: job->count != 1)
		return -1;
	if (job->answered[k] || status == NULL)
		return -1;
	if (strcmp(status, IPC_STATUS_SENT) == 0) {
		result = QMGR_SENT;
		cls = '2';
	} else if (strcmp(status, IPC_STATUS_DEFER) == 0) {
		result = QMGR_DEFER;
		cls = '4';
	} else if (strcmp(status, IPC_STATUS_BOUNCE) == 0) {
		result = QMGR_BOUNCE;
		cls = '5';
	} else {
		return -1;
	}
	if (text == NULL || text[0] == '\0')
		text = result == QMGR_SENT ? "delivered" : "no reason given";
	if (ipc_get(f, IPC_CLOSE) != NULL)
		a->close_after = 1;
	qmgr_message_keep_remote(job->msg, job->rcpt[k],
				 ipc_get_str(f, IPC_DIAG),
				 ipc_get_str(f, IPC_REMOTE_MTA));
	if (result == QMGR_SENT) {
		int remote = qmgr_transport_table[qmgr_dest_transport(a->dest)]
				 .service == QMGR_SERVICE_REMOTE;
		int passed = ipc_get(f, IPC_DSN_PASSED) != NULL;
		job->msg->res[job->rcpt[k]].relayed = remote && !passed;
		job->msg->res[job->rcpt[k]].no_notice = remote && passed;
	}
	/* The agent logged the recipient's line itself. */
	qmgr_job_result(
	    job, (size_t)k, result, 1,
	    qmgr_agent_dsn(ipc_get_str(f, IPC_DSN), cls, code, sizeof(code)),
	    text);
	return 0;
}

static void
qmgr_agent_on_read(int fd, unsigned events, void *ctx)
{
	struct qmgr_agent *a = ctx;
	const char *why = NULL;
	struct ipc_frame f;
	int r;

	(void)events;
	if (a->job == NULL) {
		/* Idle: the agent went away (or talks out of turn). */
		qmgr_dest_idle_gone(a);
		return;
	}
	ipc_frame_init(&f);
	while ((r = ipc_read_frame(fd, &a->in, QMGR_REPLY_MAX, &f, &why)) ==
	       1) {
		if (f.fd >= 0 || qmgr_agent_frame(a, &f) != 0) {
			why = "a malformed result";
			r = -1;
			break;
		}
		ipc_frame_reset(&f);
		if (qmgr_agent_left(a) == 0)
			break;
	}
	ipc_frame_free(&f);
	if (r < 0)
		qmgr_agent_fail(a, strcmp(why, IPC_WHY_EOF) == 0
				       ? "connection lost before the reply"
				       : why);
	else if (qmgr_agent_left(a) == 0)
		qmgr_agent_end_job(
		    a,
		    qmgr_transport_table[qmgr_dest_transport(a->dest)].reuse &&
			!a->close_after && a->in.len == 0);
}

static void
qmgr_agent_on_timeout(void *ctx)
{
	struct qmgr_agent *a = ctx;

	a->timer = 0;
	if (a->job == NULL)
		qmgr_dest_idle_gone(a);
	else
		qmgr_agent_fail(a, "timeout waiting for the reply");
}

struct qmgr_agent *
qmgr_agent_open(struct qmgr_dest *d, struct buf *why)
{
	const char *path =
	    qmgr_service_socket[qmgr_transport_table[qmgr_dest_transport(d)]
				    .service];
	struct qmgr_agent *a;
	int sock;

	/* XXX a blocking connect: instant on a unix socket with backlog. */
	sock = ipc_connect(path, (int)param_int("ipc_timeout"));
	if (sock < 0) {
		buf_printf(why, "connect to %s: %s", path, strerror(errno));
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->sock = sock;
	a->dest = d;
	buf_init(&a->in);
	return a;
}

void
qmgr_agent_close(struct qmgr_agent *a)
{
	event_remove(a->sock);
	close(a->sock);
	if (a->timer != 0)
		event_timer_cancel(a->timer);
	buf_free(&a->in);
	free(a);
}

void
qmgr_agent_idle(struct qmgr_agent *a, long long idle_ms)
{
	event_set(a->sock, EVENT_READ, qmgr_agent_on_read, a);
	a->timer = event_timer_add(idle_ms, qmgr_agent_on_timeout, a);
}

/*
 * NOTIFY and ORCPT for remote to pass on (RFC 3461 4.2); an ORCPT whose
 * type is not rfc822, or that is not ASCII, stays here (remote writes
 * "ORCPT=rfc822;" and takes printable ASCII).  XXX a "utf-8" ORCPT (RFC
 * 6533) is not passed on.
 */
static void
qmgr_agent_rcpt_dsn(const struct queue_rcpt *r, struct ipc_frame *f)
{
	char notify[DSN_NOTIFY_TEXT_MAX];

	if (r->dsn_notify != 0) {
		dsn_notify_format(r->dsn_notify, notify);
		ipc_put_str(f, IPC_DSN_NOTIFY, notify);
	}
	if (r->dsn_orcpt != NULL &&
	    strncasecmp(r->dsn_orcpt, "rfc822;", 7) == 0 &&
	    !utf8_has_8bit(r->dsn_orcpt, strlen(r->dsn_orcpt)))
		ipc_put_str(f, IPC_DSN_ORCPT, r->dsn_orcpt + 7);
}

static void
qmgr_agent_request(const struct qmgr_job *job, struct ipc_frame *f)
{
	const struct qmgr_message *msg = job->msg;
	enum qmgr_transport_id tp = qmgr_dest_transport(job->dest);
	size_t k;

	ipc_put_str(f, IPC_OP, IPC_OP_DELIVER);
	ipc_put_str(f, IPC_QUEUE_ID, msg->id);
	ipc_put_str(f, IPC_SENDER, msg->env.sender);
	if (qmgr_transport_table[tp].multi_rcpt) {
		ipc_put_str(f, IPC_TRANSPORT, qmgr_transport_table[tp].name);
		ipc_put_str(f, IPC_NEXTHOP, qmgr_dest_nexthop(job->dest));
	}
	for (k = 0; k < job->count; k++) {
		const struct queue_rcpt *r = &msg->env.rcpt[job->rcpt[k]];
		ipc_put_str(f, IPC_RCPT, r->addr);
		if (r->orig != NULL)
			ipc_put_str(f, IPC_ORIG_RCPT, r->orig);
		if (qmgr_transport_table[tp].multi_rcpt)
			qmgr_agent_rcpt_dsn(r, f);
	}
	ipc_put_int(f, IPC_CONTENT_OFFSET, (long long)msg->env.content_offset);
	ipc_put_int(f, IPC_CONTENT_LENGTH, (long long)msg->env.content_length);
	ipc_put_int(f, IPC_ARRIVAL, msg->env.arrival);
	ipc_put_int(f, IPC_TIME_ARRIVAL, msg->arrival_ms);
	ipc_put_int(f, IPC_TIME_ACTIVE, msg->active_ms);
	ipc_put_int(f, IPC_TIME_HANDOFF, job->t.start_ms);
	if (!qmgr_transport_table[tp].multi_rcpt)
		return;
	if (dsn_ret_name(msg->env.dsn_ret) != NULL)
		ipc_put_str(f, IPC_DSN_RET, dsn_ret_name(msg->env.dsn_ret));
	if (msg->env.dsn_envid != NULL)
		ipc_put_str(f, IPC_DSN_ENVID, msg->env.dsn_envid);
	if (msg->env.smtputf8)
		ipc_put_str(f, IPC_SMTPUTF8, "1");
}

/* Seconds a job may take before qmgr gives up on the agent. */
static long long
qmgr_agent_time_limit(const struct qmgr_job *job)
{
	long long t = param_int("ipc_timeout");
	long long addrs = param_int("smtp_mx_address_limit");
	const char *const *fb;

	if (!qmgr_transport_table[qmgr_dest_transport(job->dest)].multi_rcpt)
		return t + param_int("command_time_limit");
	addrs = (addrs == 0 ? 16 : addrs) +
		(long long)param_list("smtp_fallback_relay", &fb);
	t += addrs * (param_int("smtp_connect_timeout") +
		      2 * param_int("smtp_helo_timeout"));
	t += param_int("smtp_rset_timeout") + param_int("smtp_mail_timeout") +
	     (long long)job->count * param_int("smtp_rcpt_timeout") +
	     param_int("smtp_data_init_timeout") +
	     param_int("smtp_data_done_timeout") +
	     param_int("smtp_quit_timeout");
	t += (1 + (long long)job->msg->env.content_length / (64 * 1024)) *
	     param_int("smtp_data_xfer_timeout");
	return t;
}

/*
 * Mark the batch's recipients busy and open each message's descriptors;
 * a job whose message cannot be opened fails alone and leaves the batch.
 * The number of jobs left.
 */
static size_t
qmgr_agent_hold(struct qmgr_agent *a)
{
	struct qmgr_job **pp = &a->job, *job;
	struct buf why = BUF_INIT;
	size_t k, n = 0;

	while ((job = *pp) != NULL) {
		job->t.start_ms = qmgr_now_ms();
		for (k = 0; k < job->count; k++)
			job->msg->res[job->rcpt[k]].state = QMGR_RCPT_BUSY;
		buf_reset(&why);
		if (qmgr_message_hold_fds(job->msg, &why) == 0) {
			job->held = 1;
			pp = &job->next;
			n++;
			continue;
		}
		*pp = job->next;
		job->next = NULL;
		qmgr_job_fail(job, buf_cstr(&why));
	}
	buf_free(&why);
	return n;
}

/* One frame per job, the first with the batch's size; 0 or -1 (errno). */
static int
qmgr_agent_send(struct qmgr_agent *a, size_t n)
{
	int timeout = (int)param_int("ipc_timeout"), r = 0;
	struct ipc_frame f;

	for (struct qmgr_job *job = a->job; job != NULL && r == 0;
	     job = job->next) {
		ipc_frame_init(&f);
		qmgr_agent_request(job, &f);
		if (n > 1 && job == a->job)
			ipc_put_int(&f, IPC_BATCH, (long long)n);
		r = ipc_send(a->sock, &f, job->msg->fd_ro, timeout);
		ipc_frame_free(&f);
	}
	return r;
}

void
qmgr_agent_start(struct qmgr_agent *a, struct qmgr_job *job)
{
	struct buf why = BUF_INIT;
	size_t n;

	if (a->timer != 0)
		event_timer_cancel(a->timer);
	a->timer = 0;
	event_remove(a->sock);
	a->job = job;
	if ((n = qmgr_agent_hold(a)) == 0) {
		qmgr_dest_agent_done(a, 0); /* each job failed on its own */
		return;
	}
	if (qmgr_agent_send(a, n) != 0) {
		buf_printf(&why, "send to %s: %s", qmgr_agent_name(a),
			   strerror(errno));
		qmgr_agent_fail(a, buf_cstr(&why));
		buf_free(&why);
		return;
	}
	buf_free(&why);
	for (job = a->job; job != NULL; job = job->next)
		job->t.conn_ms = qmgr_now_ms();
	job = a->job;
	(void)fcntl(a->sock, F_SETFL, fcntl(a->sock, F_GETFL) | O_NONBLOCK);
	event_set(a->sock, EVENT_READ, qmgr_agent_on_read, a);
	a->timer = event_timer_add(qmgr_agent_time_limit(job) * 1000,
				   qmgr_agent_on_timeout, a);
}
