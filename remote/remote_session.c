/*
 * remote_session: runs the SMTP engine (remote_engine.c) over real
 * connections.  For one request: reuse the session cached from the
 * previous request when it serves the same destination (RSET first; a
 * dead one is replaced silently), else resolve the destination
 * (remote_nexthop.c) and try each address in turn until one gives a
 * usable session (a refused connection, a 4xx or 5xx greeting or EHLO, a
 * timeout, a TLS failure: next address), then run the transaction:
 * commands, the content (dot-stuffed, CRLF) streamed from qmgr's
 * read-only descriptor, each stage bounded by its smtp_*_timeout.  The
 * session stays cached while smtp_connection_reuse_count_limit and
 * _time_limit allow.
 *
 * TLS: each address gets its plan (remote_tls_plan.c), and credentials
 * when smtp_sasl_password_maps has some for it (then TLS is required).
 * When the engine asks for the handshake, the bytes the server sent
 * after its 220 must be none (a plain-text injection otherwise), the
 * handshake and the certificate check happen (remote_tls.c), and the log
 * says how it went, Postfix's way:
 *   ID: Verified TLS connection established to mx.example.com
 *       [192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
 *       (256/256 bits)
 * At the may level a failed handshake is followed at once by a second
 * connection to the same address without STARTTLS (the first left the
 * session unusable; an attacker who can break a handshake can also strip
 * STARTTLS, so may loses nothing), as Postfix's opportunistic TLS does;
 * never with credentials, DANE, MTA-STS or a stricter level.
 * Hostile input: the server's replies (parsed and bounded elsewhere), its
 * handshake (OpenSSL) and its timing.  Runs in remote.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "log.h"
#include "params.h"
#include "remote_tls.h"

static int
session_timeout(enum smtp_stage stage)
{
	static const char *const names[SMTP_STAGE_COUNT] = {
	    [SMTP_STAGE_CONNECT] = "smtp_connect_timeout",
	    [SMTP_STAGE_GREETING] = "smtp_helo_timeout",
	    [SMTP_STAGE_EHLO] = "smtp_helo_timeout",
	    [SMTP_STAGE_HELO] = "smtp_helo_timeout",
	    [SMTP_STAGE_STARTTLS] = "smtp_helo_timeout",
	    [SMTP_STAGE_AUTH] = "smtp_helo_timeout",
	    [SMTP_STAGE_RSET] = "smtp_rset_timeout",
	    [SMTP_STAGE_MAIL] = "smtp_mail_timeout",
	    [SMTP_STAGE_RCPT] = "smtp_rcpt_timeout",
	    [SMTP_STAGE_DATA] = "smtp_data_init_timeout",
	    [SMTP_STAGE_CONTENT] = "smtp_data_xfer_timeout",
	    [SMTP_STAGE_DOT] = "smtp_data_done_timeout",
	    [SMTP_STAGE_QUIT] = "smtp_quit_timeout",
	};

	return (int)param_int(names[stage]);
}

static long long
session_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Feed the content to fn a chunk at a time (pread: the descriptor's
 * offset is not used).  0; -2 with why when the queue file cannot be
 * read; or what fn returned when it was not 0.
 */
static int
session_read(const struct remote_msg *m,
	     int (*fn)(void *ctx, const char *p, size_t n), void *ctx,
	     struct buf *why)
{
	static char chunk[REMOTE_CHUNK];
	off_t done = 0;
	ssize_t n;
	int r;

	while (done < m->length) {
		size_t want = m->length - done < (off_t)sizeof(chunk)
				  ? (size_t)(m->length - done)
				  : sizeof(chunk);
		n = pread(m->fd, chunk, want, m->offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_printf(why, "cannot read the queue file: %s",
				   n == 0 ? "truncated" : strerror(errno));
			return -2;
		}
		if ((r = fn(ctx, chunk, (size_t)n)) != 0)
			return r;
		done += n;
	}
	return 0;
}

struct session_out {
	struct remote_conn *conn;
	struct smtp_stuff stuff;
	struct buf out;
	int timeout;
};

static int
session_send_chunk(void *ctx, const char *p, size_t n)
{
	struct session_out *o = ctx;

	buf_reset(&o->out);
	smtp_stuff(&o->stuff, p, n, &o->out);
	return remote_conn_write(o->conn, o->out.data, o->out.len,
				 o->timeout) != 0
		   ? -1
		   : 0;
}

/*
 * The content, stuffed, then the dot: 0, -1 (connection), -2 (queue, or
 * qmgr gone: the dot is not sent, so the server drops the message).
 */
static int
session_content(struct remote_conn *c, const struct remote_msg *m,
		struct buf *why)
{
	struct session_out o;
	int r;

	o.conn = c;
	o.timeout = session_timeout(SMTP_STAGE_CONTENT);
	buf_init(&o.out);
	smtp_stuff_init(&o.stuff);
	r = session_read(m, session_send_chunk, &o, why);
	if (r == 0 && !ipc_peer_alive(m->client_fd)) {
		/* Nobody would record the result: never send the dot. */
		buf_printf(why, "qmgr went away; the message was not sent");
		r = -2;
	}
	if (r == 0) {
		buf_reset(&o.out);
		smtp_stuff_end(&o.stuff, &o.out);
		r = remote_conn_write(c, o.out.data, o.out.len, o.timeout) != 0
			? -1
			: 0;
	}
	buf_free(&o.out);
	return r;
}

/* The handshake the engine asked for, and its verdict. */
static void
session_starttls(struct remote_cache *rc)
{
	struct smtp_engine *e = &rc->engine;
	const struct remote_tls_plan *p = rc->plan;
	struct remote_tls_info info;
	struct buf why = BUF_INIT, text = BUF_INIT;

	if (rc->conn.in.len > 0) {
		buf_printf(&text,
			   "Cannot start TLS: host %s sent more after its "
			   "reply to STARTTLS",
			   e->peer);
		smtp_engine_tls_done(e, 0, "4.7.5", buf_cstr(&text));
	} else if (remote_tls_start(&rc->conn, p,
				    (int)param_int("smtp_starttls_timeout"),
				    &info, &why) == 0) {
		log_info("%s: %s TLS connection established to %s:%d: %s with "
			 "cipher %s (%d/%d bits)%s%s%s",
			 rc->queue_id, remote_tls_trust_name(info.trust),
			 rc->conn.peer, rc->conn.addr.port, info.protocol,
			 info.cipher, info.bits, info.alg_bits,
			 p->why_level ? " (" : "",
			 p->why_level ? p->why_level : "",
			 p->why_level ? ")" : "");
		smtp_engine_tls_done(e, 1, NULL, NULL);
	} else {
		buf_printf(&text, "host %s: %s", e->peer, buf_cstr(&why));
		smtp_engine_tls_done(e, 0, "4.7.5", buf_cstr(&text));
	}
	buf_free(&why);
	buf_free(&text);
}

/* Nothing of a password stays in the output buffer once written. */
static void
session_clear_out(struct smtp_engine *e)
{
	if (e->stage == SMTP_STAGE_AUTH && e->out.data != NULL)
		explicit_bzero(e->out.data, e->out.len);
	buf_reset(&e->out);
}

/* Drive the engine until it is READY or BROKEN. */
static void
session_run(struct remote_cache *rc, const struct remote_msg *m)
{
	struct smtp_engine *e = &rc->engine;
	struct buf why = BUF_INIT;
	struct smtp_reply reply;
	const char *err;
	int r;

	while (e->want == SMTP_WANT_REPLY || e->want == SMTP_WANT_CONTENT ||
	       e->want == SMTP_WANT_TLS) {
		if (e->want == SMTP_WANT_TLS) {
			session_starttls(rc);
			continue;
		}
		if (e->out.len > 0) {
			r = remote_conn_write(&rc->conn, e->out.data,
					      e->out.len,
					      session_timeout(e->stage));
			session_clear_out(e);
			if (r != 0) {
				smtp_engine_io_error(e, errno == ETIMEDOUT,
						     NULL);
				continue;
			}
		}
		if (e->want == SMTP_WANT_CONTENT) {
			e->stage = SMTP_STAGE_CONTENT;
			buf_reset(&why);
			r = session_content(&rc->conn, m, &why);
			if (r == -2)
				smtp_engine_abort(e, buf_cstr(&why));
			else if (r != 0)
				smtp_engine_io_error(e, errno == ETIMEDOUT,
						     NULL);
			else
				smtp_engine_content_sent(e);
			continue;
		}
		if (remote_conn_reply(&rc->conn, &reply,
				      session_timeout(e->stage), &err) == 1)
			smtp_engine_reply(e, &reply);
		else
			smtp_engine_io_error(e, errno == ETIMEDOUT,
					     errno == EPROTO ? err : NULL);
	}
	buf_free(&why);
}

void
remote_cache_init(struct remote_cache *rc)
{
	memset(rc, 0, sizeof(*rc));
	remote_conn_init(&rc->conn);
	rc->plan = xcalloc(1, sizeof(*rc->plan));
	rc->creds = xcalloc(1, sizeof(*rc->creds));
}

static void
session_drop(struct remote_cache *rc)
{
	remote_conn_close(&rc->conn);
	smtp_engine_free(&rc->engine);
	rc->open = 0;
	rc->uses = 0;
}

void
remote_cache_close(struct remote_cache *rc)
{
	if (!rc->open)
		return;
	if (rc->engine.want == SMTP_WANT_READY) {
		smtp_engine_quit(&rc->engine);
		session_run(rc, NULL);
	}
	session_drop(rc);
}

/* May the cached session take one more transaction? */
static int
session_reusable(const struct remote_cache *rc)
{
	long long count = param_int("smtp_connection_reuse_count_limit");
	long long age = event_now_ms() - rc->conn.opened_ms;

	return rc->open && rc->engine.want == SMTP_WANT_READY &&
	       (count == 0 || rc->uses < (unsigned long long)count) &&
	       age < param_int("smtp_connection_reuse_time_limit") * 1000LL;
}

/* Every recipient gets the same temporary or permanent failure. */
static void
session_fail_all(struct smtp_txn *txn, int permanent, const char *dsn,
		 const char *text)
{
	size_t i;

	for (i = 0; i < txn->rcpt_count; i++) {
		struct smtp_rcpt *rc = &txn->rcpt[i];
		rc->state = permanent ? SMTP_RCPT_BOUNCE : SMTP_RCPT_DEFER;
		snprintf(rc->dsn, sizeof(rc->dsn), "%s", dsn);
		snprintf(rc->text, sizeof(rc->text), "%s", text);
		rc->diag[0] = '\0';
	}
}

/* Reuse the cached session for nexthop: 1 when it is READY again. */
static int
session_reuse(struct remote_cache *rc, const char *nexthop)
{
	if (rc->open && strcmp(rc->conn.nexthop, nexthop) == 0 &&
	    session_reusable(rc)) {
		smtp_engine_rset(&rc->engine);
		session_run(rc, NULL);
		if (rc->engine.want == SMTP_WANT_READY)
			return 1;
		session_drop(rc); /* gone meanwhile: start afresh */
	}
	remote_cache_close(rc);
	return 0;
}

/*
 * One connection to a: greeting, EHLO, STARTTLS as need says, AUTH with
 * creds.  0 when READY; 1 when a may-level handshake failed; else -1.
 */
static int
session_attempt(struct remote_cache *rc, const struct remote_addr *a,
		enum smtp_tls_need need, const struct sasl_creds *creds,
		struct buf *why, char dsn[16])
{
	int timeout = session_timeout(SMTP_STAGE_CONNECT), tls_failed;

	buf_reset(why);
	remote_conn_init(&rc->conn);
	if (remote_conn_open(&rc->conn, a, timeout, why) != 0) {
		snprintf(dsn, 16, "4.4.1");
		remote_conn_close(&rc->conn);
		return -1;
	}
	smtp_engine_init(&rc->engine, param_str("smtp_helo_name"),
			 rc->conn.peer);
	rc->engine.tls_need = need;
	if (creds != NULL) {
		rc->engine.auth_user = creds->user;
		rc->engine.auth_pass = creds->pass;
	}
	rc->open = 1;
	session_run(rc, NULL);
	rc->engine.auth_user = rc->engine.auth_pass = NULL;
	if (rc->engine.want == SMTP_WANT_READY)
		return 0;
	buf_set_str(why, rc->engine.fail_text);
	snprintf(dsn, 16, "%s", rc->engine.fail_dsn);
	tls_failed = rc->engine.tls_failed;
	session_drop(rc);
	return tls_failed && need == SMTP_TLS_MAY && creds == NULL ? 1 : -1;
}

/* The plan and credentials for a; -1 (why) when a must be skipped. */
static int
session_prepare(struct remote_cache *rc, const struct remote_dest_tls *d,
		const struct remote_addr *a, struct buf *why, char dsn[16])
{
	const char *w;
	int r;

	buf_reset(why);
	if (remote_tls_addr_plan(d, a, rc->queue_id, rc->plan, dsn, why) != 0)
		return -1;
	r = remote_sasl_lookup(a->host, a->nexthop, rc->creds, &w);
	if (r < 0) {
		snprintf(dsn, 16, "4.7.0");
		buf_printf(why, "smtp_sasl_password_maps: the entry for %s: %s",
			   a->host, w);
		return -1;
	}
	if (r == 1) /* never a password in clear text */
		rc->plan->need = SMTP_TLS_MUST;
	return 0;
}

/* Try each address until one gives a READY session: 0, or -1 (why). */
static int
session_connect(struct remote_cache *rc, const struct remote_dest_tls *d,
		const struct remote_addr_list *l, struct buf *why, char dsn[16])
{
	const struct sasl_creds *creds;
	size_t i;
	int r;

	for (i = 0; i < l->count; i++) {
		const struct remote_addr *a = &l->addr[i];

		if (session_prepare(rc, d, a, why, dsn) != 0)
			continue;
		creds = rc->creds->user[0] != '\0' ? rc->creds : NULL;
		r = session_attempt(rc, a, rc->plan->need, creds, why, dsn);
		if (r == 1 && rc->plan->level == TLS_LEV_MAY) {
			log_info("%s: %s; trying %s[%s]:%d again without TLS",
				 rc->queue_id, buf_cstr(why), a->host, a->ip,
				 a->port);
			r = session_attempt(rc, a, SMTP_TLS_NONE, NULL, why,
					    dsn);
		}
		remote_sasl_clear(rc->creds);
		if (r == 0)
			return 0;
	}
	return -1;
}

static void
session_outcome(const struct remote_cache *rc, struct remote_outcome *out)
{
	const struct remote_addr *a = &rc->conn.addr;

	snprintf(out->relay, sizeof(out->relay), "%s[%s]:%d", a->host, a->ip,
		 a->port);
	snprintf(out->mta, sizeof(out->mta), "%s", a->host);
	out->dsn = rc->engine.caps.dsn;
}

/* Any recipient the engine left open is deferred (never lost). */
static void
session_settle(struct smtp_txn *txn)
{
	size_t i;

	for (i = 0; i < txn->rcpt_count; i++) {
		struct smtp_rcpt *rc = &txn->rcpt[i];
		if (rc->state == SMTP_RCPT_PENDING ||
		    rc->state == SMTP_RCPT_ACCEPTED) {
			rc->state = SMTP_RCPT_DEFER;
			snprintf(rc->dsn, sizeof(rc->dsn), "4.4.2");
			snprintf(rc->text, sizeof(rc->text),
				 "no final reply from the server");
		}
	}
}

/*
 * A new session for nexthop: its TLS policy, its addresses, a connection.
 * 0, or -1 with every recipient of txn failed.
 */
static int
session_new(struct remote_cache *rc, const char *nexthop, struct smtp_txn *txn)
{
	const char *const *fallback;
	size_t nfallback = param_list("smtp_fallback_relay", &fallback);
	struct remote_dest_tls *d = xmalloc(sizeof(*d));
	struct remote_addr_list *list = xmalloc(sizeof(*list));
	struct remote_resolve_error err;
	struct buf why = BUF_INIT;
	char dsn[16] = "4.4.1";
	int r = -1;

	if (remote_tls_dest(nexthop, rc->queue_id, d, dsn, &why) != 0)
		session_fail_all(txn, 0, dsn, buf_cstr(&why));
	else if (remote_nexthop_resolve(
		     nexthop, (size_t)param_int("smtp_mx_address_limit"),
		     fallback, nfallback, list, &err) != 0)
		session_fail_all(txn, err.permanent, err.dsn, err.text);
	else if (session_connect(rc, d, list, &why, dsn) != 0)
		session_fail_all(txn, 0, dsn, buf_cstr(&why));
	else {
		snprintf(rc->conn.nexthop, sizeof(rc->conn.nexthop), "%s",
			 nexthop);
		r = 0;
	}
	buf_free(&why);
	free(d);
	free(list);
	return r;
}

void
remote_session_deliver(struct remote_cache *rc, const char *nexthop,
		       const struct remote_msg *m, struct smtp_txn *txn,
		       struct remote_outcome *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->relay, sizeof(out->relay), "none");
	rc->queue_id = m->queue_id != NULL ? m->queue_id : "-";
	if (!session_reuse(rc, nexthop) && session_new(rc, nexthop, txn) != 0) {
		out->ready_ms = out->done_ms = session_wall_ms();
		return;
	}
	out->ready_ms = session_wall_ms();
	session_outcome(rc, out);
	smtp_engine_begin(&rc->engine, txn);
	session_run(rc, m);
	session_settle(txn);
	out->done_ms = session_wall_ms();
	out->conn_use = ++rc->uses;
	if (rc->engine.want != SMTP_WANT_READY)
		session_drop(rc);
	else if (!session_reusable(rc))
		remote_cache_close(rc);
}

static int
session_scan_chunk(void *ctx, const char *p, size_t n)
{
	smtp_content_scan(ctx, p, n);
	return 0;
}

int
remote_msg_scan(struct remote_msg *m, struct buf *why)
{
	memset(&m->info, 0, sizeof(m->info));
	return session_read(m, session_scan_chunk, &m->info, why) == 0 ? 0 : -1;
}
