/*
 * smtpd_io_cleanup: a session's conversation with cleanup, driven by the
 * event loop so that a slow or stopped cleanup holds only the session it
 * serves, never the process.  Frames wait in the session's own buffer
 * (smtpd_cleanup.h); cleanup is connected only once the message is
 * complete or CLEANUP_LAZY bytes of it wait, so a client that trickles a
 * small message holds its own session and no cleanup process (a large
 * one meets cleanup's submission deadline).  Frames are written when
 * cleanup's socket is writable;
 * while more than CLEANUP_HIGH bytes wait, the client is not read
 * (conn_reading), so the buffer stays bounded and the client feels the
 * backpressure through TCP.  When cleanup's listener is full the connect
 * is tried again every CLEANUP_RETRY_MS for up to ipc_timeout; the reply
 * after op=end is read when it comes.  Input: cleanup's reply, checked by
 * smtpd_cleanup.c.  Run by smtpd.
 */
#include "event.h"
#include "log.h"
#include "smtpd_conn.h"
#include "smtpd_reply.h"

#define CLEANUP_RETRY_MS 10
#define CLEANUP_LAZY (64 * 1024) /* bytes held before cleanup is asked */

static void conn_on_cleanup(int fd, unsigned events, void *ctx);

/* Watch cleanup's socket for what the session needs from it now. */
void
conn_cleanup_watch(struct smtpd_conn *c)
{
	unsigned ev = 0;

	if (c->cleanup.fd >= 0 && c->cleanup.out.len > 0)
		ev |= EVENT_WRITE;
	if (c->cleanup.fd >= 0 && c->mode == MODE_WAIT_CLEANUP)
		ev |= EVENT_READ;
	if (ev == c->cleanup_events)
		return;
	if (ev == 0)
		event_remove(c->cleanup.fd);
	else
		event_set(c->cleanup.fd, ev, conn_on_cleanup, c);
	c->cleanup_events = ev;
}

void
conn_cleanup_close(struct smtpd_conn *c)
{
	if (c->cleanup_events != 0 && c->cleanup.fd >= 0)
		event_remove(c->cleanup.fd);
	c->cleanup_events = 0;
	event_timer_cancel(c->cleanup_timer);
	c->cleanup_timer = 0;
	smtpd_cleanup_close(&c->cleanup);
}

/* A send failed: whatever comes is dropped, the message gets 451. */
static void
conn_cleanup_failed(struct smtpd_conn *c)
{
	struct smtpd_data_result r = {
	    SMTPD_R_QUEUE_ERROR, 0, NULL, NULL, NULL, 0};

	conn_cleanup_close(c);
	if (c->mode == MODE_WAIT_CLEANUP)
		conn_finish_data(c, &r);
}

static void conn_on_cleanup_retry(void *ctx);

/* Connect when due: 0 connected or retrying (listener full), -1 failed. */
static int
conn_cleanup_connect(struct smtpd_conn *c)
{
	int r;

	if (c->cleanup_timer != 0)
		return 0; /* a retry is due */
	r = smtpd_cleanup_connect(&c->cleanup);
	if (r == 1) { /* cleanup's listener is full: soon again */
		c->cleanup_until =
		    event_now_ms() + (long long)c->cfg->ipc_timeout * 1000;
		c->cleanup_timer =
		    event_timer_add(CLEANUP_RETRY_MS, conn_on_cleanup_retry, c);
		return 0;
	}
	return r;
}

/* Write what cleanup's socket takes now; -1 when it failed. */
int
conn_cleanup_send(struct smtpd_conn *c)
{
	if (c->cleanup.fd < 0) {
		if (c->cleanup.failed)
			return -1;
		if (!c->cleanup.open ||
		    (!c->cleanup.ended &&
		     smtpd_cleanup_backlog(&c->cleanup) < CLEANUP_LAZY))
			return 0; /* not yet: the message may be trickling */
		if (conn_cleanup_connect(c) != 0) {
			conn_cleanup_failed(c);
			return -1;
		}
		if (c->cleanup.fd < 0)
			return 0;
	}
	if (smtpd_cleanup_flush(&c->cleanup) != 0) {
		conn_cleanup_failed(c);
		return -1;
	}
	return 0;
}

static void
conn_on_cleanup_retry(void *ctx)
{
	struct smtpd_conn *c = ctx;
	int r = smtpd_cleanup_connect(&c->cleanup);

	c->cleanup_timer = 0;
	if (r == 1 && event_now_ms() < c->cleanup_until) {
		c->cleanup_timer =
		    event_timer_add(CLEANUP_RETRY_MS, conn_on_cleanup_retry, c);
		return;
	}
	if (r == 1) {
		log_warn("cleanup: %s accepts no connection within %d s",
			 "private/cleanup", c->cfg->ipc_timeout);
		c->cleanup.failed = 1;
	}
	if (r != 0)
		conn_cleanup_failed(c);
	else
		(void)conn_cleanup_send(c);
	conn_after(c);
}

int
conn_cleanup_open(struct smtpd_conn *c)
{
	conn_cleanup_close(c);
	if (smtpd_cleanup_open(&c->cleanup, &c->session) < 0) {
		conn_cleanup_close(c);
		return -1;
	}
	return 0; /* connected by conn_cleanup_send when due */
}

int
conn_cleanup_full(const struct smtpd_conn *c)
{
	return smtpd_cleanup_backlog(&c->cleanup) > CLEANUP_HIGH;
}

static void
conn_on_cleanup(int fd, unsigned events, void *ctx)
{
	struct smtpd_conn *c = ctx;
	struct smtpd_data_result r = {
	    SMTPD_R_QUEUE_ERROR, 0, NULL, NULL, NULL, 0};
	int got;

	(void)fd;
	if ((events & (EVENT_WRITE | EVENT_ERROR)) &&
	    conn_cleanup_send(c) != 0) {
		conn_after(c);
		return;
	}
	if (c->mode == MODE_WAIT_CLEANUP &&
	    (events & (EVENT_READ | EVENT_ERROR))) {
		got = smtpd_cleanup_read_reply(&c->cleanup);
		if (got == 0 && !(events & EVENT_ERROR))
			return;
		if (got == 1) {
			r.reject_id = -1;
			r.code = c->cleanup.code;
			r.dsn = c->cleanup.dsn;
			r.text = c->cleanup.text;
			r.queue_id = c->cleanup.queue_id;
		}
		conn_finish_data(c, &r);
	}
	conn_after(c);
}
