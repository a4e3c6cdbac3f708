/*
 * smtpd_io_auth: a session waiting for auth(8).  When the session has a
 * user and password (SMTPD_ACT_AUTH), an untrusted client's attempt is
 * first counted by anvil, asked without blocking (over
 * smtpd_client_auth_rate_limit: 450 and no question asked); then the
 * credentials go to auth(8) and the session reads nothing until the verdict
 * comes, while every other session of the process goes on: the connect is
 * non-blocking (when auth's listener is full, as under a flood of AUTH
 * attempts, it is tried again from a timer), the question is written
 * when the socket takes it, and the answer is read as it comes.  No
 * verdict within ipc_timeout is a temporary failure.  Input: auth's answer
 * (smtpd_auth.c checks it).  Run by smtpd.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "server.h"
#include "smtpd_anvil.h"
#include "smtpd_auth.h"
#include "smtpd_conn.h"

#define AUTH_RETRY_MS 10 /* auth's listener was full: connect again */

/* 1 when the client made too many AUTH attempts (the warning logged). */
static int
conn_auth_over(struct smtpd_conn *c, unsigned rate)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	if (rate <= c->cfg->auth_rate_limit)
		return 0;
	log_warn("AUTH command rate limit exceeded: %u from %s for service %s",
		 rate,
		 smtpd_session_client(&c->session, client, sizeof(client)),
		 server_service_name());
	return 1;
}

/* The verdict is in (or will not come): the session answers. */
static void
conn_auth_done(struct smtpd_conn *c, enum smtpd_auth_result r)
{
	conn_auth_end(c);
	c->mode = MODE_CMD;
	conn_emit(c, smtpd_session_auth_done(&c->session, r));
	conn_arm_timer(c);
}

/* The question goes out as the socket takes it; then the answer. */
static void
conn_on_auth(int fd, unsigned events, void *ctx)
{
	struct smtpd_conn *c = ctx;
	enum smtpd_auth_result r;

	if (c->auth_out.len > 0) {
		if (ipc_send_buf(fd, &c->auth_out) < 0) {
			log_warn("%s: sending: %s", IPC_SOCK_AUTH,
				 strerror(errno));
			conn_auth_done(c, SMTPD_AUTH_TEMP);
			conn_after(c);
			return;
		}
		if (c->auth_out.len > 0)
			return;
		smtpd_auth_wipe(&c->auth_out);
		event_set(fd, EVENT_READ, conn_on_auth, c);
		if (!(events & EVENT_READ))
			return;
	}
	if (smtpd_auth_read(fd, &c->auth_in, &r) == 0)
		return;
	conn_auth_done(c, r);
	conn_after(c);
}

static int conn_auth_connect(struct smtpd_conn *c);

static void
conn_on_auth_retry(void *ctx)
{
	struct smtpd_conn *c = ctx;

	c->auth_retry = 0;
	if (conn_auth_connect(c) < 0) {
		conn_auth_done(c, SMTPD_AUTH_TEMP);
		conn_after(c);
	}
}

/*
 * A non-blocking connect to auth(8): 0 when connected (the question goes
 * out when the socket is writable) or to be tried again (auth's listener
 * is full), -1 when nobody listens (logged).
 */
static int
conn_auth_connect(struct smtpd_conn *c)
{
	c->auth_fd = ipc_connect_nowait(IPC_SOCK_AUTH);
	if (c->auth_fd >= 0) {
		event_set(c->auth_fd, EVENT_WRITE, conn_on_auth, c);
		return 0;
	}
	if (errno == EAGAIN) {
		c->auth_retry =
		    event_timer_add(AUTH_RETRY_MS, conn_on_auth_retry, c);
		return 0;
	}
	log_warn("connect to %s: %s", IPC_SOCK_AUTH, strerror(errno));
	return -1;
}

/* Counted: refused for its rate, or the question to auth(8). */
static void
conn_auth_ask(struct smtpd_conn *c, int over)
{
	if (over) {
		smtpd_session_auth_forget(&c->session);
		conn_emit(
		    c, smtpd_session_auth_done(&c->session, SMTPD_AUTH_RATE));
		return;
	}
	smtpd_auth_frame(&c->session, &c->auth_out);
	if (c->auth_out.len == 0 || conn_auth_connect(c) < 0) {
		smtpd_auth_wipe(&c->auth_out);
		conn_emit(
		    c, smtpd_session_auth_done(&c->session, SMTPD_AUTH_TEMP));
		return;
	}
	buf_reset(&c->auth_in);
	c->mode = MODE_WAIT_AUTH;
	conn_arm_timer(c);
}

/* anvil's count of the attempt (or ours, after its deadline). */
static void
conn_on_auth_count(void *ctx, int by, unsigned count, unsigned rate)
{
	struct smtpd_conn *c = ctx;

	(void)by;
	(void)count;
	c->anvil_waiting = 0;
	c->mode = MODE_CMD;
	conn_auth_ask(c, conn_auth_over(c, rate));
	conn_after(c);
}

void
conn_auth_start(struct smtpd_conn *c)
{
	unsigned rate = 0;
	int r;

	if (c->cfg->auth_rate_limit == 0 || c->session.trusted) {
		conn_auth_ask(c, 0);
		return;
	}
	r = smtpd_anvil_auth(c->session.client_addr, conn_on_auth_count, c,
			     &rate);
	if (r == SMTPD_ANVIL_ASKED) { /* the session waits, reading nothing */
		c->anvil_waiting = 1;
		c->mode = MODE_WAIT_AUTH;
		conn_arm_timer(c);
		return;
	}
	conn_auth_ask(c, r == SMTPD_ANVIL_OWN && conn_auth_over(c, rate));
}

void
conn_auth_end(struct smtpd_conn *c)
{
	if (c->anvil_waiting && c->mode == MODE_WAIT_AUTH)
		smtpd_anvil_cancel(c);
	if (c->mode == MODE_WAIT_AUTH)
		c->anvil_waiting = 0;
	if (c->auth_fd >= 0) {
		event_remove(c->auth_fd);
		close(c->auth_fd);
	}
	c->auth_fd = -1;
	event_timer_cancel(c->auth_retry);
	c->auth_retry = 0;
	smtpd_auth_wipe(&c->auth_out);
	buf_free(&c->auth_in);
}

void
conn_auth_timeout(struct smtpd_conn *c)
{
	log_warn("%s: no answer within %d s", "private/auth",
		 c->cfg->ipc_timeout);
	conn_auth_done(c, SMTPD_AUTH_TEMP);
	conn_after(c);
}
