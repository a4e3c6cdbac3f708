/*
 * screen_conn: one client of the screen, from accept to its verdict.
 *
 *   mynetworks          ALLOWLISTED: straight to the smtpd queue, first
 *   too many            421 (screening queue full; the client's own
 *                       connections in the screen over the limit)
 *   cached pass         PASS OLD: to the queue, nothing sent, no delay
 *   otherwise           "220-" banner, the greet pause (talking before
 *                       the end of the greeting is PREGREET), the DNSBL
 *                       lookups; then PASS NEW (cached) and the queue, or
 *                       the failed test's action: drop (521), enforce
 *                       (screen_smtp_conn.c: 550 to every RCPT) or
 *                       ignore (passed on, not cached)
 *
 * Not one byte of a client that is passed on is read: early talkers are
 * seen with MSG_PEEK, and a client passed with bytes pending meets
 * smtpd's own early-talker check.  Log lines are postscreen's ("CONNECT
 * from [192.0.2.1]:4321 to [192.0.2.25]:25", "PREGREET 11 after 0.2 from
 * [192.0.2.1]:4321: EHLO x\r\n", "PASS NEW ...", "HANGUP after 0.5 from
 * ... in tests before SMTP handshake", "DNSBL rank 3 for ...").  Hostile
 * input: the client's early bytes (only escaped into the log) and its
 * address (from the kernel).  Run by screen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "anvil_table.h"
#include "client_key.h"
#include "event.h"
#include "log.h"
#include "screen.h"
#include "server.h"
#include "server_pass.h"

#define SCREEN_PEEK_MAX 100 /* early bytes shown in a PREGREET line */

struct screen_config screen_cfg;
int screen_stopping;
static struct screen_dlist greet_list, dnsbl_list;
static struct anvil_table *conn_clients; /* per-client counts */
static struct anvil_peer conn_peer;
static size_t conn_testing; /* the pre-queue: testing or in SMTP */

static void conn_greet_over(struct screen_conn *c);

static long long
conn_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static void conn_dnsbl_over(struct screen_conn *c);

void
screen_conn_init(void)
{
	screen_dlist_init(&greet_list, screen_cfg.greet_wait_ms,
			  conn_greet_over);
	screen_dlist_init(&dnsbl_list, screen_cfg.dnsbl_timeout_ms,
			  conn_dnsbl_over);
	conn_clients = anvil_table_new(screen_cfg.pre_queue_limit +
					   screen_cfg.post_queue_limit + 1024,
				       60 * 1000);
}

const char *
screen_conn_name(const struct screen_conn *c)
{
	static char name[INET6_ADDRSTRLEN + 16];

	snprintf(name, sizeof(name), "[%s]:%u", c->addr, c->port);
	return name;
}

const char *
screen_conn_age(const struct screen_conn *c)
{
	static char text[32];

	screen_delay_text(conn_now_us() - c->start_us, text, sizeof(text));
	return text;
}

/* The address of one end of the socket, as text; 0 or -1. */
static int
conn_sockaddr(int fd, int peer, char *addr, size_t size, unsigned *port)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *s4 = (const void *)&ss;
	const struct sockaddr_in6 *s6 = (const void *)&ss;
	socklen_t len = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		  : getsockname(fd, (struct sockaddr *)&ss, &len)) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		*port = ntohs(s4->sin_port);
		return server_pass_addr_text(AF_INET, &s4->sin_addr, addr,
					     size);
	}
	*port = ntohs(s6->sin6_port);
	return server_pass_addr_text(ss.ss_family, &s6->sin6_addr, addr, size);
}

static int
conn_trusted(const struct screen_conn *c)
{
	struct smtpd_net net;

	return smtpd_access_parse_addr(c->addr, &net) == 0 &&
	       smtpd_access_match(screen_cfg.nets, screen_cfg.net_count, &net);
}

static void
conn_free(struct screen_conn *c)
{
	char key[CLIENT_KEY_MAX];

	screen_dlist_remove(c);
	screen_dnsbl_end(c);
	screen_smtp_free(c);
	if (c->state == SCREEN_QUEUED)
		screen_pass_dequeue(c);
	if (c->state == SCREEN_TESTING || c->state == SCREEN_SMTP)
		conn_testing--;
	if ((c->flags & SCREEN_F_COUNTED) &&
	    client_key(c->addr, screen_cfg.v6_prefix, key, sizeof(key)) == 0)
		anvil_table_disconnect(conn_clients, &conn_peer, key,
				       event_now_ms());
	event_remove(c->fd);
	free(c->reject);
	free(c);
	server_client_done();
}

void
screen_conn_handed(struct screen_conn *c)
{
	int fd = c->fd;

	conn_free(c);
	close(fd);
}

void
screen_conn_close(struct screen_conn *c)
{
	char junk[4096];
	int fd = c->fd, i;

	conn_free(c);
	/* What the client sent unread would make close() send a reset. */
	for (i = 0; i < 4 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0;
	     i++)
		;
	(void)shutdown(fd, SHUT_WR);
	close(fd);
}

void
screen_conn_reply_close(struct screen_conn *c, const char *reply)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s\r\n", reply);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	screen_conn_close(c);
}

static void
conn_reject(struct screen_conn *c, const char *why, const char *reply)
{
	log_info("NOQUEUE: reject: CONNECT from %s: %s", screen_conn_name(c),
		 why);
	screen_conn_reply_close(c, reply);
}

/* Out of testing, on to the smtpd queue. */
static void
conn_to_queue(struct screen_conn *c)
{
	if (c->state == SCREEN_TESTING)
		conn_testing--;
	c->state = SCREEN_QUEUED;
	screen_pass_enqueue(c);
}

/* Readable while testing: an early talker, or a hang-up. */
static void
conn_on_read(int fd, unsigned events, void *ctx)
{
	struct screen_conn *c = ctx;
	char peek[SCREEN_PEEK_MAX], text[4 * SCREEN_PEEK_MAX + 1];
	ssize_t n = recv(fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);

	(void)events;
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		log_info("HANGUP after %s from %s in tests before SMTP "
			 "handshake",
			 screen_conn_age(c), screen_conn_name(c));
		screen_conn_close(c);
		return;
	}
	event_set(fd, 0, conn_on_read, c); /* the bytes stay unread */
	if (!(c->flags & SCREEN_F_GREET))
		return; /* not tested: smtpd will see them */
	c->flags |= SCREEN_F_PREGREET;
	screen_escape(peek, (size_t)n, text, sizeof(text));
	log_info("PREGREET %zd after %s from %s: %s", n, screen_conn_age(c),
		 screen_conn_name(c), text);
	if (screen_cfg.greet_action == SCREEN_DROP) {
		log_info("DISCONNECT %s", screen_conn_name(c));
		screen_conn_reply_close(c, "521 5.5.1 Protocol error");
	}
}

/* Let the tests run: the banner, the pause, the lookups. */
static void
conn_start_tests(struct screen_conn *c, int greet, int dnsbl)
{
	char line[600];
	int n;

	c->state = SCREEN_TESTING;
	conn_testing++;
	if (greet) {
		c->flags |= SCREEN_F_GREET;
		n = snprintf(line, sizeof(line), "220-%s\r\n",
			     screen_cfg.greet_banner);
		if (screen_cfg.greet_banner[0] != '\0' && n > 0 &&
		    (size_t)n < sizeof(line) &&
		    send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) ==
			n)
			c->flags |= SCREEN_F_BANNER;
		screen_dlist_add(&greet_list, c);
	}
	if (dnsbl) {
		c->flags |= SCREEN_F_DNSBL;
		screen_dnsbl_start(c);
	}
	event_set(c->fd, EVENT_READ, conn_on_read, c);
	if (!greet)
		screen_conn_tested(c); /* nothing pending: decide at once */
}

/* Not trusted: the limits, then the cache, then the tests. */
static void
conn_screen(struct screen_conn *c)
{
	struct screen_cache_entry e;
	char key[CLIENT_KEY_MAX];
	unsigned count = 0, rate;
	long long now = (long long)time(NULL);
	int greet, dnsbl;

	if (conn_testing >= screen_cfg.pre_queue_limit) {
		conn_reject(c, "all screening ports busy",
			    "421 4.3.2 All screening ports are busy");
		return;
	}
	if (client_key(c->addr, screen_cfg.v6_prefix, key, sizeof(key)) == 0 &&
	    anvil_table_connect(conn_clients, &conn_peer, key, event_now_ms(),
				&count, &rate) == 0)
		c->flags |= SCREEN_F_COUNTED;
	if (screen_cfg.count_limit > 0 && count > screen_cfg.count_limit) {
		conn_reject(c, "too many connections",
			    "421 4.7.0 Error: too many connections");
		return;
	}
	memset(&e, 0, sizeof(e));
	(void)screen_cache_get(c->addr, &e);
	greet = e.greet_expiry <= now;
	dnsbl = screen_cfg.site_count > 0 && e.dnsbl_expiry <= now;
	if (!greet && !dnsbl) {
		log_info("PASS OLD %s", screen_conn_name(c));
		conn_to_queue(c);
		return;
	}
	conn_start_tests(c, greet, dnsbl);
}

void
screen_conn_accept(int fd)
{
	struct screen_conn *c = xcalloc(1, sizeof(*c));
	char local[INET6_ADDRSTRLEN];
	unsigned port, lport;

	c->fd = fd;
	c->start_us = conn_now_us();
	if (conn_sockaddr(fd, 1, c->addr, sizeof(c->addr), &port) != 0 ||
	    conn_sockaddr(fd, 0, local, sizeof(local), &lport) != 0) {
		free(c);
		close(fd);
		server_client_done();
		return;
	}
	c->port = (unsigned short)port;
	log_info("CONNECT from %s to [%s]:%u", screen_conn_name(c), local,
		 lport);
	if (server_client_count() > screen_cfg.client_limit) {
		conn_reject(c, "all server ports busy", SCREEN_BUSY_REPLY);
		return;
	}
	if (conn_trusted(c)) {
		c->flags |= SCREEN_F_TRUSTED;
		log_info("ALLOWLISTED %s", screen_conn_name(c));
		conn_to_queue(c);
		return;
	}
	conn_screen(c);
}

/* When the tests that ran passed: remember it for the next time. */
static void
conn_remember(struct screen_conn *c)
{
	struct screen_cache_entry e;
	long long now = (long long)time(NULL);

	memset(&e, 0, sizeof(e));
	(void)screen_cache_get(c->addr, &e);
	if (c->flags & SCREEN_F_GREET)
		e.greet_expiry = now + screen_cfg.greet_ttl;
	if (c->flags & SCREEN_F_DNSBL)
		e.dnsbl_expiry = now + screen_cfg.dnsbl_ttl;
	screen_cache_put(c->addr, &e);
}

/* The 5xx of the DNSBL test, naming the list and its text. */
static char *
conn_dnsbl_reply(const struct screen_conn *c, int code, const char *dsn)
{
	const char *text, *list = screen_dnsbl_listed_by(c, &text);
	struct buf b = BUF_INIT;

	buf_printf(&b,
		   "%d %s Service unavailable; client [%s] blocked using "
		   "%s%s%s",
		   code, dsn, c->addr, list != NULL ? list : "a DNSBL",
		   text[0] != '\0' ? "; " : "", text);
	return b.data;
}

/* Every test is over: the verdict. */
static void
conn_decide(struct screen_conn *c)
{
	int listed = (c->flags & SCREEN_F_DNSBL) &&
		     c->score >= screen_cfg.dnsbl_threshold;
	int greet_fail = (c->flags & SCREEN_F_PREGREET) &&
			 screen_cfg.greet_action != SCREEN_IGNORE;
	int dnsbl_fail = listed && screen_cfg.dnsbl_action != SCREEN_IGNORE;
	enum screen_action act =
	    dnsbl_fail ? screen_cfg.dnsbl_action : screen_cfg.greet_action;

	if (listed)
		log_info("DNSBL rank %d for %s", c->score, screen_conn_name(c));
	if (dnsbl_fail)
		c->reject = conn_dnsbl_reply(c, act == SCREEN_DROP ? 521 : 550,
					     "5.7.1");
	else if (greet_fail)
		c->reject =
		    xstrdup(act == SCREEN_DROP ? "521 5.5.1 Protocol error"
					       : "550 5.5.1 Protocol error");
	screen_dnsbl_end(c);
	if (c->reject != NULL && screen_stopping) {
		screen_conn_reply_close(c, SCREEN_STOP_REPLY);
	} else if (c->reject != NULL && act == SCREEN_DROP) {
		log_info("DISCONNECT %s", screen_conn_name(c));
		screen_conn_reply_close(c, c->reject);
	} else if (c->reject != NULL) {
		screen_smtp_start(c);
	} else {
		if (!(c->flags & SCREEN_F_PREGREET) && !listed) {
			log_info("PASS NEW %s", screen_conn_name(c));
			conn_remember(c);
		}
		conn_to_queue(c);
	}
}

/* Decide once the greet pause is over and no lookup is in flight. */
static void
conn_check(struct screen_conn *c)
{
	if (c->flags & SCREEN_F_GREET && c->dl == &greet_list)
		return;
	if (screen_dnsbl_pending(c) > 0) {
		if (c->dl != &dnsbl_list)
			screen_dlist_add_at(&dnsbl_list, c,
					    c->start_us / 1000 +
						screen_cfg.dnsbl_timeout_ms);
		return;
	}
	screen_dlist_remove(c);
	conn_decide(c);
}

void
screen_conn_tested(struct screen_conn *c)
{
	/* An allowlist's negative score may end the pause early. */
	if (screen_cfg.dnsbl_allow_threshold < 0 &&
	    screen_dnsbl_pending(c) == 0 &&
	    c->score <= screen_cfg.dnsbl_allow_threshold &&
	    !(c->flags & SCREEN_F_PREGREET))
		screen_dlist_remove(c);
	conn_check(c);
}

static void
conn_greet_over(struct screen_conn *c)
{
	conn_check(c);
}

/* The lookups took too long: what did not answer did not list it. */
static void
conn_dnsbl_over(struct screen_conn *c)
{
	log_warn("DNSBL lookups for %s took over %lld s; what did not "
		 "answer does not count",
		 screen_conn_name(c), screen_cfg.dnsbl_timeout_ms / 1000);
	screen_dnsbl_cancel(c);
	conn_check(c);
}

void
screen_conn_stop(void)
{
	struct screen_conn *c;

	screen_stopping = 1;
	while ((c = greet_list.head) != NULL) {
		screen_dlist_remove(c);
		c->flags &= ~SCREEN_F_GREET; /* cut short: not a pass to keep */
		conn_check(c);
	}
	while ((c = dnsbl_list.head) != NULL) {
		screen_dlist_remove(c);
		screen_dnsbl_cancel(c);
		conn_check(c);
	}
	screen_smtp_stop();
	screen_pass_stop();
}
