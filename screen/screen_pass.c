/*
 * screen_pass: clients that passed wait here for an smtpd, and are handed
 * over one connection each (ipc_proto.h, "Passing a client"): connect to
 * the pass service (private/smtpd; the master starts smtpd processes on
 * demand as for any unix service), offer the client with its socket, not
 * a byte of it read, and on "ok" forget it (on "busy" or no answer, smtpd
 * has dropped its copy, or sends nothing once our end is closed, and ours
 * still holds the client).  Clients in mynetworks wait in a queue of their
 * own, served first and with two hand-offs of SCREEN_PASS_INFLIGHT kept for
 * them, and smtpd keeps smtpd_trusted_client_reserve sessions for them.
 * When smtpd is busy (every process at its client limit: "busy", or no
 * answer) the client waits, and hand-offs of others pause a moment
 * (backing off up to a second); it waits at most SCREEN_QUEUE_WAIT_MS (a
 * sender waits 5 minutes for a greeting, RFC 5321 4.5.3.2.1), and while
 * more than postscreen_post_queue_limit wait, new ones get "421 4.3.2" at
 * once, as postscreen answers when all server ports are busy.  A waiting
 * client that hangs up is forgotten.  Hostile input: smtpd's replies (frames,
 * bounded) and the client's early bytes (only peeked at).  Run by screen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "screen.h"

#define SCREEN_PASS_INFLIGHT 8            /* hand-offs at once */
#define SCREEN_PASS_TRUSTED_SLOTS 2       /* of them, kept for mynetworks */
#define SCREEN_PASS_ANSWER_MS 60000       /* an smtpd's "ok" or "busy" */
#define SCREEN_QUEUE_WAIT_MS (300 * 1000) /* a client's wait for one */
#define SCREEN_BACKOFF_MIN_MS 50
#define SCREEN_BACKOFF_MAX_MS 1000
#define SCREEN_UNREACHABLE_MS 1000 /* after the service refused us */

struct pass_job {
	int fd;
	struct screen_conn *conn;
	struct buf in;
	unsigned long timer;
};

static struct screen_dlist queue_trusted, queue_others;
static struct pass_job *pass_jobs[SCREEN_PASS_INFLIGHT];
static size_t pass_njobs, pass_untrusted_jobs;
static long long pass_pause_all, pass_pause_others, pass_backoff_ms;
static unsigned long pass_pump_timer;
static int pass_unreachable_logged;

static void pass_pump(void);
static void pass_expire(struct screen_conn *c);

void
screen_pass_init(void)
{
	screen_dlist_init(&queue_trusted, SCREEN_QUEUE_WAIT_MS, pass_expire);
	screen_dlist_init(&queue_others, SCREEN_QUEUE_WAIT_MS, pass_expire);
	pass_backoff_ms = SCREEN_BACKOFF_MIN_MS;
}

size_t
screen_pass_waiting(void)
{
	return queue_trusted.count + queue_others.count + pass_njobs;
}

static struct screen_dlist *
pass_queue_of(const struct screen_conn *c)
{
	return (c->flags & SCREEN_F_TRUSTED) ? &queue_trusted : &queue_others;
}

static void
pass_expire(struct screen_conn *c)
{
	log_info("NOQUEUE: reject: CONNECT from %s: all server ports busy",
		 screen_conn_name(c));
	screen_conn_reply_close(c, SCREEN_BUSY_REPLY);
}

/* Readable while waiting: a hang-up, or early bytes left for smtpd. */
static void
pass_on_client(int fd, unsigned events, void *ctx)
{
	struct screen_conn *c = ctx;
	char peek;
	ssize_t n = recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)events;
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n > 0) {
		event_set(fd, 0, pass_on_client, c);
		return;
	}
	log_info("HANGUP after %s from %s while waiting for smtpd",
		 screen_conn_age(c), screen_conn_name(c));
	screen_conn_close(c);
}

void
screen_pass_enqueue(struct screen_conn *c)
{
	if (!(c->flags & SCREEN_F_TRUSTED) &&
	    queue_others.count >= screen_cfg.post_queue_limit) {
		c->state = SCREEN_NEW; /* on no queue */
		pass_expire(c);
		return;
	}
	screen_dlist_add(pass_queue_of(c), c);
	event_set(c->fd, EVENT_READ, pass_on_client, c);
	pass_pump();
}

void
screen_pass_dequeue(struct screen_conn *c)
{
	screen_dlist_remove(c);
}

static void
pass_job_end(struct pass_job *j)
{
	size_t i;

	for (i = 0; i < pass_njobs; i++)
		if (pass_jobs[i] == j) {
			pass_jobs[i] = pass_jobs[--pass_njobs];
			break;
		}
	if (!(j->conn->flags & SCREEN_F_TRUSTED))
		pass_untrusted_jobs--;
	event_timer_cancel(j->timer);
	event_remove(j->fd);
	close(j->fd);
	buf_free(&j->in);
	free(j);
}

/* Not handed over: back to the head of its queue; pause a while. */
static void
pass_retry(struct pass_job *j, long long pause_ms, int others_only)
{
	struct screen_conn *c = j->conn;
	long long until = event_now_ms() + pause_ms;

	pass_job_end(j);
	c->state = SCREEN_QUEUED;
	screen_dlist_push_front(pass_queue_of(c), c);
	event_set(c->fd, EVENT_READ, pass_on_client, c);
	if (others_only)
		pass_pause_others = until;
	else
		pass_pause_all = until;
	pass_pump();
}

static void
pass_busy(struct pass_job *j)
{
	int trusted = (j->conn->flags & SCREEN_F_TRUSTED) != 0;

	pass_retry(j, trusted ? SCREEN_BACKOFF_MIN_MS : pass_backoff_ms,
		   !trusted);
	if (!trusted && pass_backoff_ms < SCREEN_BACKOFF_MAX_MS)
		pass_backoff_ms *= 2;
}

/* smtpd said ok: the client is smtpd's, and our copy of it goes. */
static void
pass_give(struct pass_job *j)
{
	struct screen_conn *c = j->conn;

	pass_backoff_ms = SCREEN_BACKOFF_MIN_MS;
	pass_job_end(j);
	screen_conn_handed(c);
	pass_pump();
}

/* smtpd's answer, if one came: 1 when the job ended, 0 to wait on. */
static int
pass_answer(struct pass_job *j)
{
	const char *why = NULL, *status;
	struct ipc_frame f;
	int r;

	ipc_frame_init(&f);
	r = ipc_read_frame(j->fd, &j->in, 512, &f, &why);
	status = r == 1 ? ipc_get_str(&f, IPC_STATUS) : NULL;
	if (r == 1 && status != NULL && strcmp(status, IPC_STATUS_OK) == 0)
		pass_give(j);
	else if (r == 1 && status != NULL &&
		 strcmp(status, IPC_STATUS_BUSY) == 0)
		pass_busy(j);
	else if (r != 0)
		pass_retry(j, SCREEN_BACKOFF_MIN_MS, 0);
	ipc_frame_free(&f);
	return r != 0;
}

static void
pass_on_answer(int fd, unsigned events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)pass_answer(ctx);
}

/* smtpd holds a copy of the socket: an "ok" that came late still counts. */
static void
pass_on_timeout(void *ctx)
{
	struct pass_job *j = ctx;

	j->timer = 0;
	if (pass_answer(j))
		return;
	log_warn("%s: no smtpd took %s within %d s; it waits",
		 screen_cfg.pass_service, screen_conn_name(j->conn),
		 SCREEN_PASS_ANSWER_MS / 1000);
	pass_retry(j, SCREEN_BACKOFF_MIN_MS, 0);
}

static int
pass_offer(int fd, const struct screen_conn *c)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, IPC_OP_PASS);
	ipc_put_str(&f, IPC_CLIENT_ADDR, c->addr);
	ipc_put_int(&f, IPC_CLIENT_PORT, c->port);
	if (c->flags & SCREEN_F_TRUSTED)
		ipc_put_int(&f, IPC_TRUSTED, 1);
	rc = ipc_send_nowait(fd, &f, c->fd);
	ipc_frame_free(&f);
	return rc;
}

/* Connect and offer; -1 (c still queued) when the service is not there. */
static int
pass_start(struct screen_conn *c)
{
	struct pass_job *j;
	int fd = ipc_connect_nowait(screen_cfg.pass_service);

	if (fd >= 0 && pass_offer(fd, c) != 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		if (errno != EAGAIN && !pass_unreachable_logged)
			log_warn("%s: %s; clients wait",
				 screen_cfg.pass_service, strerror(errno));
		pass_unreachable_logged = errno != EAGAIN;
		pass_pause_all =
		    event_now_ms() + (errno == EAGAIN ? SCREEN_BACKOFF_MIN_MS
						      : SCREEN_UNREACHABLE_MS);
		return -1;
	}
	pass_unreachable_logged = 0;
	j = xcalloc(1, sizeof(*j));
	j->fd = fd;
	j->conn = c;
	buf_init(&j->in);
	j->timer = event_timer_add(SCREEN_PASS_ANSWER_MS, pass_on_timeout, j);
	pass_jobs[pass_njobs++] = j;
	if (!(c->flags & SCREEN_F_TRUSTED))
		pass_untrusted_jobs++;
	c->state = SCREEN_HANDOFF;
	event_set(c->fd, 0, pass_on_client, c);
	event_set(fd, EVENT_READ, pass_on_answer, j);
	return 0;
}

static void
pass_on_pump_timer(void *ctx)
{
	(void)ctx;
	pass_pump_timer = 0;
	pass_pump();
}

/* The next client to hand over now, or NULL. */
static struct screen_conn *
pass_next(long long now)
{
	if (now < pass_pause_all || pass_njobs == SCREEN_PASS_INFLIGHT)
		return NULL;
	if (queue_trusted.head != NULL)
		return queue_trusted.head;
	if (now < pass_pause_others ||
	    pass_untrusted_jobs >=
		SCREEN_PASS_INFLIGHT - SCREEN_PASS_TRUSTED_SLOTS)
		return NULL;
	return queue_others.head;
}

static void
pass_pump(void)
{
	long long now = event_now_ms(), wake;
	struct screen_conn *c;

	while ((c = pass_next(now)) != NULL) {
		screen_dlist_remove(c);
		if (pass_start(c) != 0) {
			screen_dlist_push_front(pass_queue_of(c), c);
			break;
		}
	}
	if (pass_pump_timer != 0 ||
	    (queue_trusted.head == NULL && queue_others.head == NULL))
		return;
	wake = pass_pause_all > now ? pass_pause_all : pass_pause_others;
	if (wake > now)
		pass_pump_timer =
		    event_timer_add(wake - now, pass_on_pump_timer, NULL);
}

void
screen_pass_stop(void)
{
	long long by = event_now_ms() + SCREEN_STOP_GRACE_MS;

	screen_dlist_cap(&queue_trusted, by);
	screen_dlist_cap(&queue_others, by);
}
