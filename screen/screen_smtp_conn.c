/*
 * screen_smtp_conn: a client that failed a test with the enforce action
 * talks to the screen's SMTP engine (screen_smtp.c) until it quits, runs
 * out of commands or time (postscreen_command_time_limit between
 * commands): it is greeted (the "220 " that ends the "220-" banner), and
 * every recipient it tries is refused with the failed test's 550, in the
 * log with its sender and helo.  Replies are small and go out with one
 * non-blocking send; a client that does not read them is dropped.
 * Hostile input: everything the client sends (through the pure engine).
 * Run by screen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event.h"
#include "log.h"
#include "screen.h"
#include "screen_smtp.h"

struct screen_smtp_conn {
	struct screen_smtp engine;
	char client[INET6_ADDRSTRLEN + 16];
};

static struct screen_dlist smtp_list;
static int smtp_list_ready;

static void smtp_expire(struct screen_conn *c);

/* Log lines the engine wrote, one log_info each. */
static void
smtp_log(struct buf *log)
{
	size_t start = 0, i;

	for (i = 0; i < log->len; i++)
		if (log->data[i] == '\n') {
			log_info("%.*s", (int)(i - start), log->data + start);
			start = i + 1;
		}
	buf_reset(log);
}

/* Everything in out, at once; -1 when the client does not take it. */
static int
smtp_send(struct screen_conn *c, const struct buf *out)
{
	ssize_t n;

	if (out->len == 0)
		return 0;
	n = send(c->fd, out->data, out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n == (ssize_t)out->len ? 0 : -1;
}

static void
smtp_on_read(int fd, unsigned events, void *ctx)
{
	struct screen_conn *c = ctx;
	struct buf out = BUF_INIT, log = BUF_INIT;
	char data[4096];
	ssize_t n = recv(fd, data, sizeof(data), MSG_DONTWAIT);
	enum screen_smtp_result r = SCREEN_SMTP_MORE;

	(void)events;
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		log_info("DISCONNECT %s", screen_conn_name(c));
		screen_conn_close(c);
		return;
	}
	r = screen_smtp_input(&c->smtp->engine, data, (size_t)n, &out, &log);
	smtp_log(&log);
	if (smtp_send(c, &out) != 0 || r == SCREEN_SMTP_CLOSE) {
		log_info("DISCONNECT %s", screen_conn_name(c));
		screen_conn_close(c);
	} else {
		screen_dlist_add(&smtp_list, c); /* the time starts again */
	}
	buf_free(&out);
	buf_free(&log);
}

static void
smtp_expire(struct screen_conn *c)
{
	struct buf out = BUF_INIT;

	log_info("COMMAND TIME LIMIT from %s after %s", screen_conn_name(c),
		 c->smtp->engine.last[0] ? c->smtp->engine.last : "CONNECT");
	buf_printf(&out, "421 4.4.2 %s Error: timeout exceeded\r\n",
		   screen_cfg.myhostname);
	(void)smtp_send(c, &out);
	buf_free(&out);
	screen_conn_close(c);
}

void
screen_smtp_start(struct screen_conn *c)
{
	struct screen_smtp_conn *s = xcalloc(1, sizeof(*s));
	struct buf out = BUF_INIT;

	if (!smtp_list_ready) {
		screen_dlist_init(&smtp_list, screen_cfg.command_time_ms,
				  smtp_expire);
		smtp_list_ready = 1;
	}
	strlcpy(s->client, screen_conn_name(c), sizeof(s->client));
	screen_smtp_init(&s->engine);
	s->engine.myhostname = screen_cfg.myhostname;
	s->engine.client = s->client;
	s->engine.reject = c->reject;
	s->engine.command_limit = screen_cfg.command_count_limit;
	c->smtp = s;
	c->state = SCREEN_SMTP;
	buf_printf(&out, "220 %s\r\n", screen_cfg.smtpd_banner);
	if (smtp_send(c, &out) != 0) {
		buf_free(&out);
		screen_conn_close(c);
		return;
	}
	buf_free(&out);
	screen_dlist_add(&smtp_list, c);
	event_set(c->fd, EVENT_READ, smtp_on_read, c);
}

void
screen_smtp_free(struct screen_conn *c)
{
	free(c->smtp);
	c->smtp = NULL;
}

void
screen_smtp_stop(void)
{
	struct screen_conn *c;

	while (smtp_list_ready && (c = smtp_list.head) != NULL) {
		screen_dlist_remove(c);
		screen_conn_reply_close(c, SCREEN_STOP_REPLY);
	}
}
