/*
 * qmgr_deliver: delivery jobs.  Each transport has a FIFO of jobs (one
 * recipient each) and runs at most its concurrency limit at once.  A job
 * connects to the agent's socket, sends {op=deliver, ...} with a read-only
 * descriptor of the queue file, and waits in the event loop for
 * {status, dsn, text}, bounded by ipc_timeout + command_time_limit (the
 * agent may run a command).  Hostile input: the agent's reply, bounded
 * and validated; a lost connection, a garbled reply or a timeout defers
 * the recipient ("delivery agent failed"), never bounces it.  Runs in qmgr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "server.h"
#include "params.h"
#include "qmgr.h"

#define QMGR_REPLY_MAX (16 * 1024) /* bytes of an agent's reply */
#define QMGR_AGENT_FAILED "delivery agent failed"

struct qmgr_job {
	struct qmgr_message *msg;
	size_t rcpt;
	enum qmgr_transport_id tp;
	int sock;
	struct buf in;
	unsigned long timer;
	struct qmgr_times t;
	int held; /* holds the message's fds */
	struct qmgr_job *next;
};

struct qmgr_lane {
	struct qmgr_job *head, *tail;
	unsigned busy;
	int pumping; /* no recursion through failing jobs */
};

static struct qmgr_lane qmgr_lanes[QMGR_TRANSPORT_COUNT];

static void qmgr_deliver_pump(enum qmgr_transport_id tp);

/* End a job with a result; the job's message may be freed after this. */
static void
qmgr_deliver_done(struct qmgr_job *job, enum qmgr_result result, int logged,
		  const char *dsn, const char *text)
{
	enum qmgr_transport_id tp = job->tp;

	if (job->sock >= 0) {
		event_remove(job->sock);
		close(job->sock);
	}
	if (job->timer != 0)
		event_timer_cancel(job->timer);
	job->t.done_ms = qmgr_now_ms();
	if (job->t.conn_ms == 0)
		job->t.conn_ms = job->t.done_ms;
	qmgr_lanes[tp].busy--;
	qmgr_message_result(job->msg, job->rcpt, result, job->held, logged,
			    qmgr_transport_table[tp].name, dsn, text, &job->t);
	buf_free(&job->in);
	free(job);
	qmgr_deliver_pump(tp);
}

static void
qmgr_deliver_fail(struct qmgr_job *job, const char *what)
{
	log_warn("%s: to=<%s>: %s: %s", job->msg->id,
		 job->msg->env.rcpt[job->rcpt].addr,
		 qmgr_transport_table[job->tp].name, what);
	qmgr_deliver_done(job, QMGR_DEFER, 0, "4.3.0", QMGR_AGENT_FAILED);
}

/* The enhanced status code, forced into the class of the status. */
static const char *
qmgr_deliver_dsn(const char *dsn, char cls, char *out, size_t size)
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

static void
qmgr_deliver_reply(struct qmgr_job *job, const struct ipc_frame *f)
{
	const char *status = ipc_get_str(f, IPC_STATUS);
	const char *text = ipc_get_str(f, IPC_TEXT);
	const char *dsn = ipc_get_str(f, IPC_DSN);
	enum qmgr_result result;
	char code[16];
	char cls;

	if (status == NULL) {
		qmgr_deliver_fail(job, "reply without a status");
		return;
	}
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
		qmgr_deliver_fail(job, "unknown status in reply");
		return;
	}
	if (text == NULL || text[0] == '\0')
		text = result == QMGR_SENT ? "delivered" : "no reason given";
	/* The agent logged each destination's line itself. */
	qmgr_deliver_done(job, result, 1,
			  qmgr_deliver_dsn(dsn, cls, code, sizeof(code)), text);
}

static void
qmgr_deliver_on_read(int fd, unsigned events, void *ctx)
{
	struct qmgr_job *job = ctx;
	struct ipc_frame f;
	const char *why = NULL;
	int r;

	(void)events;
	ipc_frame_init(&f);
	r = ipc_read_frame(fd, &job->in, QMGR_REPLY_MAX, &f, &why);
	if (r < 0)
		qmgr_deliver_fail(job, strcmp(why, IPC_WHY_EOF) == 0
					   ? "connection lost before the reply"
					   : why);
	else if (r > 0)
		qmgr_deliver_reply(job, &f);
	ipc_frame_free(&f);
}

static void
qmgr_deliver_on_timeout(void *ctx)
{
	struct qmgr_job *job = ctx;

	job->timer = 0;
	qmgr_deliver_fail(job, "timeout waiting for the reply");
}

static void
qmgr_deliver_request(const struct qmgr_job *job, struct ipc_frame *f)
{
	const struct qmgr_message *msg = job->msg;
	const struct queue_rcpt *r = &msg->env.rcpt[job->rcpt];

	ipc_put_str(f, IPC_OP, IPC_OP_DELIVER);
	ipc_put_str(f, IPC_QUEUE_ID, msg->id);
	ipc_put_str(f, IPC_SENDER, msg->env.sender);
	ipc_put_str(f, IPC_RCPT, r->addr);
	if (r->orig != NULL)
		ipc_put_str(f, IPC_ORIG_RCPT, r->orig);
	ipc_put_int(f, IPC_CONTENT_OFFSET, (long long)msg->env.content_offset);
	ipc_put_int(f, IPC_CONTENT_LENGTH, (long long)msg->env.content_length);
	ipc_put_int(f, IPC_ARRIVAL, msg->env.arrival);
}

/* Connect and send the request; -1 with what failed in why. */
static int
qmgr_deliver_send(struct qmgr_job *job, struct buf *why)
{
	const struct qmgr_transport *tp = &qmgr_transport_table[job->tp];
	int timeout = (int)param_int("ipc_timeout");
	struct ipc_frame f;
	int r;

	if (qmgr_message_hold_fds(job->msg, why) != 0)
		return -1;
	job->held = 1;
	/* XXX a blocking connect: instant on a unix socket with backlog. */
	job->sock = ipc_connect(tp->socket, timeout);
	if (job->sock < 0) {
		buf_printf(why, "connect to %s: %s", tp->socket,
			   strerror(errno));
		return -1;
	}
	ipc_frame_init(&f);
	qmgr_deliver_request(job, &f);
	r = ipc_send(job->sock, &f, job->msg->fd_ro, timeout);
	ipc_frame_free(&f);
	if (r != 0) {
		buf_printf(why, "send to %s: %s", tp->socket, strerror(errno));
		return -1;
	}
	return 0;
}

static void
qmgr_deliver_start(struct qmgr_job *job)
{
	struct buf why = BUF_INIT;
	long long limit;

	job->msg->res[job->rcpt].state = QMGR_RCPT_BUSY;
	job->t.start_ms = qmgr_now_ms();
	qmgr_lanes[job->tp].busy++;
	if (qmgr_deliver_send(job, &why) != 0) {
		qmgr_deliver_fail(job, buf_cstr(&why));
		buf_free(&why);
		return;
	}
	buf_free(&why);
	job->t.conn_ms = qmgr_now_ms();
	(void)fcntl(job->sock, F_SETFL, fcntl(job->sock, F_GETFL) | O_NONBLOCK);
	event_set(job->sock, EVENT_READ, qmgr_deliver_on_read, job);
	limit = param_int("ipc_timeout") + param_int("command_time_limit");
	job->timer =
	    event_timer_add(limit * 1000, qmgr_deliver_on_timeout, job);
}

static void
qmgr_deliver_pump(enum qmgr_transport_id tp)
{
	struct qmgr_lane *lane = &qmgr_lanes[tp];
	const char *param = qmgr_transport_table[tp].concurrency_param;
	unsigned limit = param != NULL ? (unsigned)param_int(param) : 1;
	struct qmgr_job *job;

	if (lane->pumping)
		return; /* the loop below goes on */
	lane->pumping = 1;
	/* A reload lets running deliveries finish and starts no new ones. */
	while (!server_stopping() && lane->busy < limit && lane->head != NULL) {
		job = lane->head;
		lane->head = job->next;
		if (lane->head == NULL)
			lane->tail = NULL;
		job->next = NULL;
		qmgr_deliver_start(job);
	}
	lane->pumping = 0;
}

int
qmgr_deliver_running(void)
{
	unsigned busy = 0;
	size_t i;

	for (i = 0; i < QMGR_TRANSPORT_COUNT; i++)
		busy += qmgr_lanes[i].busy;
	return busy > 0;
}

void
qmgr_deliver_enqueue(struct qmgr_message *msg, size_t rcpt,
		     enum qmgr_transport_id tp)
{
	struct qmgr_lane *lane = &qmgr_lanes[tp];
	struct qmgr_job *job = xcalloc(1, sizeof(*job));

	job->msg = msg;
	job->rcpt = rcpt;
	job->tp = tp;
	job->sock = -1;
	buf_init(&job->in);
	if (lane->tail != NULL)
		lane->tail->next = job;
	else
		lane->head = job;
	lane->tail = job;
	qmgr_deliver_pump(tp);
}
