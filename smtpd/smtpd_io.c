/*
 * smtpd_io: the event-driven side of an SMTP connection.  Bytes from the
 * client are hostile: a command line is looked at only once complete and
 * within smtpd_command_line_limit (a longer one is answered once and then
 * skipped to its LF without being kept), DATA goes through the byte state
 * machine of common/smtp_data.c, a BDAT chunk is taken by its byte count
 * (smtpd_bdat.c) through the same machine, and nothing is read while
 * replies pile up
 * unread, while a delayed reply is held or while cleanup is answering, so
 * every buffer stays bounded.  Replies to pipelined commands leave in one
 * write per batch.  After STARTTLS nothing more is read in clear text:
 * whatever the client pipelined behind it is dropped, the 220 goes out,
 * and the socket belongs to the TLS handshake (smtpd_io_tls.c).  Run by
 * smtpd (unprivileged, chrooted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "log.h"
#include "server.h"
#include "smtpd_anvil.h"
#include "smtpd_bdat.h"
#include "smtpd_cleanup.h"
#include "smtp_data.h"
#include "smtpd_conn.h"
#include "smtpd_rdns.h"
#include "smtpd_reply.h"

void
conn_drain_log(struct smtpd_conn *c)
{
	struct buf *log = &c->session.log;
	size_t start = 0, i;

	for (i = 0; i < log->len; i++) {
		if (log->data[i] != '\n')
			continue;
		log_info("%.*s", (int)(i - start), log->data + start);
		start = i + 1;
	}
	buf_reset(log);
}

/*
 * Stress mode: while the process serves 80% or more of smtpd_client_limit
 * sessions, idle clients get smtpd_stress_timeout instead of smtpd_timeout
 * (those already waiting too) and a client's errors end its session at
 * smtpd_stress_error_limit; it ends below 60%, so that it does not flap.
 */
static struct smtpd_conn *conns;
static int stress;

static void
conn_stress_check(const struct smtpd_io_config *cfg)
{
	unsigned n = server_client_count();
	struct smtpd_conn *c;

	if (!stress && n * 5 >= cfg->client_limit * 4) {
		stress = 1;
		log_info("entering stress mode: %u of %u sessions", n,
			 cfg->client_limit);
		for (c = conns; c != NULL; c = c->next)
			if (c->mode == MODE_CMD && !c->closing && !c->paused)
				conn_arm_timer(c);
	} else if (stress && n * 5 < cfg->client_limit * 3) {
		stress = 0;
		log_info("leaving stress mode: %u of %u sessions", n,
			 cfg->client_limit);
	}
}

/*
 * The session proper starts (and logs "connect from NAME[ADDR]") once the
 * client's name is known, or when it ends or is refused before that.
 */
static void
conn_session_start(struct smtpd_conn *c, const char *name, enum smtpd_rdns rdns)
{
	if (c->started)
		return;
	smtpd_rdns_cancel(c->rdns);
	c->rdns = NULL;
	smtpd_session_init(&c->session, c->cfg->session, c->cfg->lookup,
			   c->addr, name, c->trusted);
	c->session.rdns = rdns;
	c->session.dnsbl = c->dnsbl;
	c->started = 1;
}

void
conn_close(struct smtpd_conn *c)
{
	const struct smtpd_io_config *cfg = c->cfg;

	conn_session_start(c, "unknown", SMTPD_RDNS_NONE);

	event_timer_cancel(c->timer);
	event_timer_cancel(c->delay_timer);
	event_timer_cancel(c->pending_timer);
	conn_cleanup_close(c);
	smtpd_cleanup_free(&c->cleanup);
	conn_auth_end(c);
	smtpd_dnsbl_free(c->dnsbl);
	smtpd_tls_free(c->tls);
	event_remove(c->fd);
	close(c->fd);
	if (c->anvil_waiting)
		smtpd_anvil_cancel(c);
	if (c->anvil_counted)
		smtpd_anvil_disconnect(c->addr);
	smtpd_session_disconnect(&c->session);
	conn_drain_log(c);
	smtpd_session_free(&c->session);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->held);
	buf_free(&c->content);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	server_client_done();
	conn_stress_check(cfg);
}

int
conn_reading(const struct smtpd_conn *c)
{
	return c->mode != MODE_WAIT_CLEANUP && c->mode != MODE_WAIT_AUTH &&
	       !c->tls_starting && !c->handshaking && !c->anvil_waiting &&
	       !c->dnsbl_waiting && !conn_cleanup_full(c);
}

static void conn_on_timer(void *ctx);

void
conn_arm_timer(struct smtpd_conn *c)
{
	const struct smtpd_io_config *cfg = c->cfg;
	long long secs = cfg->timeout;

	if (c->mode == MODE_DATA || c->mode == MODE_BDAT)
		secs = cfg->data_timeout;
	else if (c->mode == MODE_WAIT_CLEANUP || c->mode == MODE_WAIT_AUTH)
		secs = cfg->ipc_timeout;
	else if (stress)
		secs = cfg->stress_timeout;
	event_timer_cancel(c->timer);
	c->timer = event_timer_add(c->closing ? CLOSE_GRACE_MS : secs * 1000,
				   conn_on_timer, c);
}

static void
conn_on_delay(void *ctx)
{
	struct smtpd_conn *c = ctx;

	c->delay_timer = 0;
	c->paused = 0;
	buf_append(&c->out, c->held.data, c->held.len);
	buf_reset(&c->held);
	conn_after(c);
}

static void conn_start_data(struct smtpd_conn *c);
static void conn_start_bdat(struct smtpd_conn *c);

/* Pass on what the session produced: log lines, the reply, the action. */
void
conn_emit(struct smtpd_conn *c, enum smtpd_action act)
{
	struct smtpd_session *s = &c->session;

	conn_drain_log(c);
	if (s->reply.len > 0) {
		if (s->delay > 0 && c->cfg->error_sleep > 0 && !c->paused) {
			c->paused = 1;
			c->delay_timer = event_timer_add(
			    (long long)c->cfg->error_sleep * 1000 * s->delay,
			    conn_on_delay, c);
		}
		buf_append(c->paused ? &c->held : &c->out, s->reply.data,
			   s->reply.len);
		buf_reset(&s->reply);
	}
	if (act == SMTPD_ACT_CLOSE) {
		c->closing = 1;
		conn_arm_timer(c);
	} else if (act == SMTPD_ACT_DATA) {
		conn_start_data(c);
	} else if (act == SMTPD_ACT_BDAT) {
		conn_start_bdat(c);
	} else if (act == SMTPD_ACT_STARTTLS) {
		conn_starttls(c);
	} else if (act == SMTPD_ACT_AUTH) {
		conn_auth_start(c);
	}
}

/*
 * A BDAT chunk follows.  The first stored one of a transaction opens
 * cleanup (then conn_emit comes back here with the chunk accepted, or
 * refused and to be discarded); the bytes are taken in MODE_BDAT.
 */
static void
conn_start_bdat(struct smtpd_conn *c)
{
	struct smtpd_session *s = &c->session;
	int ok;

	if (s->ext.chunk_store && !s->ext.bdat) {
		ok = conn_cleanup_open(c) == 0;
		if (!ok)
			conn_cleanup_close(c);
		smtp_data_init_chunked(&c->data, c->cfg->line_length_limit,
				       c->cfg->session->message_size_limit);
		conn_emit(c, smtpd_session_bdat_started(s, ok));
		return;
	}
	smtpd_chunk_start(&c->chunk, s);
	c->mode = MODE_BDAT;
	conn_arm_timer(c);
}

/* cleanup held for a BDAT transaction the session has since ended. */
static void
conn_drop_orphan(struct smtpd_conn *c)
{
	if (c->cleanup.open && c->mode == MODE_CMD && !c->session.ext.bdat)
		conn_cleanup_close(c);
}

static void
conn_start_data(struct smtpd_conn *c)
{
	int ok = conn_cleanup_open(c) == 0;

	conn_emit(c, smtpd_session_data_started(&c->session, ok));
	if (!ok) {
		conn_cleanup_close(c);
		return;
	}
	c->mode = MODE_DATA;
	smtp_data_init(&c->data, c->cfg->line_length_limit,
		       c->cfg->session->message_size_limit);
	conn_arm_timer(c);
}

void
conn_finish_data(struct smtpd_conn *c, struct smtpd_data_result *r)
{
	conn_cleanup_close(c);
	c->mode = MODE_CMD;
	r->size = c->data.size;
	conn_emit(c, smtpd_session_data_done(&c->session, r));
	conn_arm_timer(c);
}

/* The end of DATA: abort, or send op=end and wait for cleanup. */
static void
conn_end_data(struct smtpd_conn *c)
{
	struct smtpd_data_result r = {-1, 0, NULL, NULL, NULL, 0};

	if (c->data.error != SMTP_DATA_OK) {
		conn_cleanup_close(c); /* nothing is queued */
		r.reject_id = smtpd_data_reject_id(c->data.error);
		conn_finish_data(c, &r);
		return;
	}
	if (smtpd_cleanup_finish(&c->cleanup) != 0 ||
	    conn_cleanup_send(c) != 0) {
		r.reject_id = SMTPD_R_QUEUE_ERROR;
		conn_finish_data(c, &r);
		return;
	}
	c->mode = MODE_WAIT_CLEANUP; /* conn_after watches for the reply */
	conn_arm_timer(c);
}

/* Feed buffered bytes to the data reader; 1 when something was taken. */
static int
conn_data(struct smtpd_conn *c)
{
	size_t used = 0;
	int end;

	if (c->in.len == 0)
		return 0;
	end = smtp_data_input(&c->data, c->in.data, c->in.len, &c->content,
			      &used);
	buf_consume(&c->in, used);
	if (c->data.error == SMTP_DATA_OK) {
		smtpd_cleanup_data(&c->cleanup, &c->content);
		(void)conn_cleanup_send(c); /* a failure: 451 at the end */
	} else {
		buf_reset(&c->content);
	}
	if (end)
		conn_end_data(c);
	return 1;
}

/* A chunk is complete: its reply, or for the LAST one the end. */
static void
conn_end_chunk(struct smtpd_conn *c)
{
	struct smtpd_session *s = &c->session;

	c->mode = MODE_CMD;
	if (c->chunk.store && s->ext.chunk_last) {
		smtp_data_end_chunked(&c->data);
		conn_end_data(c);
		return;
	}
	if (c->chunk.store)
		conn_emit(c, smtpd_session_bdat_chunk(
				 s, smtpd_data_reject_id(c->data.error)));
	conn_drop_orphan(c);
	conn_arm_timer(c);
}

/* Take BDAT chunk bytes: exactly the chunk's count, never a line. */
static int
conn_bdat(struct smtpd_conn *c)
{
	size_t n;

	if (c->chunk.left > 0) {
		if (c->in.len == 0)
			return 0;
		n = smtpd_chunk_take(&c->chunk, &c->data, c->in.data, c->in.len,
				     &c->content);
		buf_consume(&c->in, n);
		if (c->chunk.store && c->data.error == SMTP_DATA_OK) {
			smtpd_cleanup_data(&c->cleanup, &c->content);
			(void)conn_cleanup_send(c);
		} else {
			buf_reset(&c->content);
		}
		if (c->chunk.left > 0)
			return 1;
	}
	conn_end_chunk(c);
	return 1;
}

/* Handle one complete command line; 1 when something was taken. */
static int
conn_command(struct smtpd_conn *c)
{
	size_t limit = c->cfg->command_line_limit, len;
	const char *lf = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
	enum smtpd_action act;

	if (c->discarding || (lf == NULL && c->in.len > limit + 1)) {
		if (!c->discarding)
			conn_emit(c, smtpd_session_line_too_long(&c->session));
		c->discarding = lf == NULL;
		buf_consume(&c->in,
			    lf ? (size_t)(lf - c->in.data) + 1 : c->in.len);
		return lf != NULL || c->in.len > 0;
	}
	if (lf == NULL)
		return 0;
	len = (size_t)(lf - c->in.data);
	if (len > 0 && c->in.data[len - 1] == '\r')
		len--;
	c->session.stress = stress;
	if (len > limit)
		act = smtpd_session_line_too_long(&c->session);
	else
		act = smtpd_session_input_line(&c->session, c->in.data, len);
	if (act == SMTPD_ACT_WAIT) { /* the line stays for conn_on_dnsbl */
		c->dnsbl_waiting = 1;
		return 0;
	}
	buf_consume(&c->in, (size_t)(lf - c->in.data) + 1);
	conn_emit(c, act);
	if (c->session.have_sender)
		smtpd_dnsbl_sender(c->dnsbl, c->session.sender);
	conn_drop_orphan(c);
	return 1;
}

static void
conn_process(struct smtpd_conn *c)
{
	int progress = 1;

	while (progress && !c->closing && !c->paused && conn_reading(c) &&
	       c->out.len < OUT_HIGH)
		progress = c->mode == MODE_DATA   ? conn_data(c)
			   : c->mode == MODE_BDAT ? conn_bdat(c)
						  : conn_command(c);
}

/* Write what we can; -1 when the client is gone. */
static int
conn_flush(struct smtpd_conn *c)
{
	if (c->tls != NULL)
		return conn_tls_flush(c);
	return ipc_send_buf(c->fd, &c->out);
}

void
conn_lost(struct smtpd_conn *c)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	conn_session_start(c, "unknown", SMTPD_RDNS_NONE);
	if (!c->closing)
		log_info(
		    "lost connection after %s from %s",
		    c->mode == MODE_DATA   ? "DATA"
		    : c->mode == MODE_BDAT ? "BDAT"
					   : c->session.last_cmd,
		    smtpd_session_client(&c->session, client, sizeof(client)));
	conn_close(c);
}

/*
 * The last reply is written: send FIN and read (and drop) what the client
 * still sends until it closes, so unread input does not make the kernel
 * answer with a reset that could destroy the reply in flight.
 */
static void
conn_linger(struct smtpd_conn *c)
{
	if (!c->shut) {
		c->shut = 1;
		/* close_notify first, then TLS is over: the rest is drained. */
		smtpd_tls_free(c->tls);
		c->tls = NULL;
		if (shutdown(c->fd, SHUT_WR) != 0) {
			conn_close(c);
			return;
		}
		event_timer_cancel(c->timer);
		c->timer = event_timer_add(LINGER_MS, conn_on_timer, c);
	}
	event_set(c->fd, EVENT_READ, conn_on_client, c);
}

/*
 * Replies wait while more of a pipelined batch is already there to be
 * read, or while cleanup decides the message that ends it: they then
 * leave together (RFC 2920), not as small writes one after another, which
 * Nagle's algorithm holds back behind the client's delayed ACK (40 ms a
 * message for a run of BDAT chunks, whose replies came before the last).
 */
static int
conn_batch_pending(struct smtpd_conn *c)
{
	char peek;

	if (c->mode == MODE_WAIT_CLEANUP)
		return c->out.len < OUT_HIGH;
	if (c->closing || c->paused || !conn_reading(c) ||
	    c->out.len >= OUT_HIGH ||
	    c->in.len > c->cfg->command_line_limit + 1)
		return 0;
	/* Under TLS: records decrypted already, or more on the socket. */
	if (c->tls != NULL && smtpd_tls_pending(c->tls))
		return 1;
	return recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* After any event: process, write, then watch what we need next. */
void
conn_after(struct smtpd_conn *c)
{
	int want_read, batch;

	conn_process(c);
	conn_cleanup_watch(c);
	batch = c->out.len > 0 && conn_batch_pending(c);
	if (!batch && conn_flush(c) != 0) {
		conn_lost(c);
		return;
	}
	if (c->closing && c->out.len == 0 && !c->paused) {
		conn_linger(c);
		return;
	}
	if (c->tls_starting && c->out.len == 0 && !c->paused) {
		conn_tls_begin(c); /* the 220 is out: the handshake's turn */
		return;
	}
	want_read = !c->closing && !c->paused && conn_reading(c) &&
		    c->out.len < OUT_HIGH &&
		    c->in.len <= c->cfg->command_line_limit + 1;
	if (c->tls != NULL) {
		conn_tls_watch(c, want_read, c->out.len > 0 && !batch);
		return;
	}
	event_set(c->fd,
		  (want_read ? EVENT_READ : 0) |
		      (c->out.len > 0 && !batch ? EVENT_WRITE : 0),
		  conn_on_client, c);
}

static void
conn_on_timer(void *ctx)
{
	struct smtpd_conn *c = ctx;
	struct smtpd_data_result r = {
	    SMTPD_R_QUEUE_ERROR, 0, NULL, NULL, NULL, 0};

	c->timer = 0;
	if (c->closing) {
		conn_close(c);
		return;
	}
	conn_session_start(c, "unknown", SMTPD_RDNS_TEMP);
	if (c->handshaking) {
		conn_tls_timeout(c);
		return;
	}
	if (c->mode == MODE_WAIT_AUTH) {
		conn_auth_timeout(c);
		return;
	}
	if (c->mode == MODE_WAIT_CLEANUP) {
		log_warn("cleanup: no reply within %d s", c->cfg->ipc_timeout);
		conn_finish_data(c, &r);
		conn_after(c);
		return;
	}
	if (c->paused) {
		event_timer_cancel(c->delay_timer);
		c->delay_timer = 0;
		c->paused = 0;
		buf_append(&c->out, c->held.data, c->held.len);
		buf_reset(&c->held);
	}
	conn_cleanup_close(c);
	conn_emit(c, smtpd_session_timeout(&c->session));
	conn_after(c);
}

/* Read once: the bytes (> 0), 0 at the end, -1 on an error, -2 later. */
static ssize_t
conn_recv(struct smtpd_conn *c, char *buf, size_t len)
{
	ssize_t n;

	if (c->tls != NULL)
		return conn_tls_recv(c, buf, len);
	n = recv(c->fd, buf, len, MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return -2;
	return n;
}

static int conn_early_talker(struct smtpd_conn *c);

void
conn_on_client(int fd, unsigned events, void *ctx)
{
	struct smtpd_conn *c = ctx;
	char tmp[READ_CHUNK];
	ssize_t n;

	(void)fd;
	if (c->handshaking) {
		conn_tls_handshake(c);
		return;
	}
	if ((events & EVENT_READ) ||
	    (c->tls != NULL && c->tls_read_wants_write &&
	     (events & EVENT_WRITE))) {
		n = conn_recv(c, tmp, sizeof(tmp));
		if (n == 0 || n == -1) {
			conn_lost(c);
			return;
		}
		/* An early talker's bytes are dropped: the session ends. */
		if (n > 0 && !c->closing && !conn_early_talker(c)) {
			buf_append(&c->in, tmp, (size_t)n);
			conn_arm_timer(c);
		}
		explicit_bzero(tmp, n > 0 ? (size_t)n : 0);
	} else if (events & EVENT_ERROR) {
		conn_lost(c);
		return;
	}
	conn_after(c);
}

/* The numeric address of the peer; IPv4-mapped IPv6 shown as IPv4. */
static void
peer_address(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	const char *r = NULL;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			r = inet_ntop(AF_INET, &s4->sin_addr, out, size);
		else if (ss.ss_family == AF_INET6 &&
			 IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			r = inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
				      size);
		else if (ss.ss_family == AF_INET6)
			r = inet_ntop(AF_INET6, &s6->sin6_addr, out, size);
	}
	if (r == NULL)
		strlcpy(out, "unknown", size);
}

/*
 * A client that talks before our greeting is no SMTP client.  The
 * greeting goes out at once, with no pause on a well-behaved client's
 * path; early talking is caught two ways.  Bytes already there when the
 * greeting is about to be written were sent before it (this is all a
 * trusted client or one the screen passed gets: the screen held the
 * pause).  And for other clients of a directly listening smtpd, bytes
 * that arrive sooner after the greeting than half the connection's
 * round-trip time (the kernel's estimate from the handshake) cannot be an
 * answer to it: the greeting needs half a round trip to reach the client
 * and the answer another half to come back.  We see bytes when we read
 * them, never before they arrived, so a fast client is never taken for
 * an early talker; a talker whose bytes come later than that window is
 * missed (on a LAN the window is short: the screen is the real check).
 */
static int
conn_talked(struct smtpd_conn *c)
{
	char peek;

	return recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0 ||
	       (c->tls != NULL && smtpd_tls_pending(c->tls));
}

static long long
conn_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Half the handshake's round-trip time, in microseconds; 0: unknown. */
static long long
conn_early_window(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < sizeof(ti))
		return 0;
	return (long long)ti.tcpi_rtt / 2;
}

void
conn_greet(struct smtpd_conn *c)
{
	if (conn_talked(c)) {
		conn_emit(c, smtpd_session_pregreet(&c->session));
		conn_after(c);
		return;
	}
	if (!c->session.trusted && !c->cfg->screened && c->tls == NULL) {
		c->early_us = conn_early_window(c->fd);
		c->greet_us = conn_now_us();
	}
	smtpd_session_greeting(&c->session);
	conn_emit(c, SMTPD_ACT_REPLY);
	conn_after(c);
}

/*
 * The first bytes after the greeting: 1 when they came too soon to be an
 * answer to it (the 554 is queued and the connection closes).
 */
static int
conn_early_talker(struct smtpd_conn *c)
{
	int early;

	if (c->early_us == 0)
		return 0;
	early = conn_now_us() < c->greet_us + c->early_us;
	c->early_us = 0;
	if (!early)
		return 0;
	conn_emit(c, smtpd_session_pregreet(&c->session));
	return 1;
}

/*
 * Judge an untrusted client on anvil's counts (by 0) or this process's
 * own (by 1); 1 when it is over a limit (the 421 is queued and the
 * connection closes), 0 to go on.
 */
static int
conn_over_limit(struct smtpd_conn *c, int by, unsigned count, unsigned rate)
{
	const struct smtpd_io_config *cfg = c->cfg;
	const char *addr = c->addr;
	enum smtpd_anvil_verdict v;
	char line[512];
	int n;

	v = smtpd_anvil_judge(
	    count, rate, cfg->connection_count_limit,
	    by == 0 ? cfg->connection_rate_limit
		    : smtpd_anvil_fallback_rate(cfg->connection_count_limit,
						cfg->connection_rate_limit));
	if (v == SMTPD_ANVIL_OK)
		return 0;
	log_warn("Connection %s limit exceeded: %u from unknown[%s] for "
		 "service smtpd",
		 v == SMTPD_ANVIL_COUNT ? "concurrency" : "rate",
		 v == SMTPD_ANVIL_COUNT ? count : rate, addr);
	n = snprintf(line, sizeof(line),
		     "421 4.7.0 %s Error: too many connections from %s\r\n",
		     cfg->session->myhostname, addr);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = snprintf(line, sizeof(line),
			     "421 4.7.0 Error: too many connections\r\n");
	if (n > 0)
		buf_append(&c->out, line, (size_t)n);
	c->closing = 1;
	conn_arm_timer(c);
	return 1;
}

/* Counted (or not counted at all), name known: refuse, or greet. */
static void
conn_start(struct smtpd_conn *c, int over)
{
	conn_session_start(c, "unknown", SMTPD_RDNS_NONE);
	if (over) {
		if (c->cfg->wrapper) /* no clear text before TLS on 465 */
			buf_reset(&c->out);
		conn_drain_log(c);
		conn_after(c);
		return;
	}
	if (c->cfg->wrapper) { /* the client speaks first: its ClientHello */
		conn_drain_log(c);
		conn_tls_begin(c);
		return;
	}
	conn_greet(c);
}

/* Greet once anvil has answered and the name is known. */
static void
conn_proceed(struct smtpd_conn *c)
{
	if (!c->anvil_waiting && c->rdns == NULL) {
		conn_start(c, 0);
		return;
	}
	conn_drain_log(c);
	event_set(c->fd, 0, conn_on_client, c); /* read nothing yet */
}

/* anvil's answer (or our own counts after its deadline). */
static void
conn_on_anvil(void *ctx, int by, unsigned count, unsigned rate)
{
	struct smtpd_conn *c = ctx;

	c->anvil_waiting = 0;
	if (conn_over_limit(c, by, count, rate))
		conn_start(c, 1);
	else
		conn_proceed(c);
}

/* The reverse DNS verdict: the session starts with the name. */
static void
conn_on_rdns(void *ctx, enum smtpd_rdns verdict, const char *name)
{
	struct smtpd_conn *c = ctx;

	c->rdns = NULL;
	conn_session_start(c, name, verdict);
	conn_proceed(c);
}

/*
 * A DNS list answered: a RCPT that waited (reading nothing more, so
 * pipelined commands keep their order) is taken again.
 */
static void
conn_on_dnsbl(void *ctx)
{
	struct smtpd_conn *c = ctx;

	if (!c->dnsbl_waiting)
		return;
	c->dnsbl_waiting = 0;
	conn_after(c);
}

/*
 * Count an untrusted client with anvil (or, while anvil is away, in this
 * process): the session waits for the answer, reading nothing and not
 * greeted, while every other session goes on.
 */
static void
conn_count(struct smtpd_conn *c)
{
	const struct smtpd_io_config *cfg = c->cfg;
	unsigned count, rate;
	int r;

	if (cfg->connection_count_limit == 0 &&
	    cfg->connection_rate_limit == 0) {
		conn_proceed(c);
		return;
	}
	r = smtpd_anvil_connect(c->addr, conn_on_anvil, c, &count, &rate);
	if (r < 0) {
		conn_proceed(c);
		return;
	}
	c->anvil_counted = 1;
	if (r == SMTPD_ANVIL_ASKED)
		c->anvil_waiting = 1;
	else if (conn_over_limit(c, 1, count, rate)) {
		conn_start(c, 1);
		return;
	}
	conn_proceed(c);
}

void
smtpd_io_accept(int fd, const struct smtpd_io_config *cfg)
{
	struct smtpd_conn *c = xcalloc(1, sizeof(*c));
	struct smtpd_net net;
	int loopback;

	c->fd = fd;
	c->cfg = cfg;
	c->auth_fd = -1;
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	conn_stress_check(cfg);
	peer_address(fd, c->addr, sizeof(c->addr));
	loopback = smtpd_rdns_is_loopback(c->addr);
	c->trusted = smtpd_access_parse_addr(c->addr, &net) == 0 &&
		     smtpd_access_match(cfg->nets, cfg->net_count, &net);
	smtpd_cleanup_init(&c->cleanup, cfg->ipc_timeout);
	conn_arm_timer(c);
	/* Trusted clients too: their name goes in the log and Received. */
	if (!loopback)
		c->rdns = smtpd_rdns_start(c->addr, conn_on_rdns, c);
	c->dnsbl = smtpd_dnsbl_start(c->addr, conn_on_dnsbl, c);
	if (loopback)
		conn_session_start(c, "localhost", SMTPD_RDNS_OK);
	else if (c->rdns == NULL)
		conn_session_start(c, "unknown", SMTPD_RDNS_NONE);
	if (c->trusted)
		conn_proceed(c);
	else
		conn_count(c);
}
