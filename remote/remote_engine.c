/*
 * remote_engine: the SMTP client session as an explicit state machine
 * (states in remote.h), with no I/O: the driver (remote_session.c) feeds
 * it replies and connection errors, and writes what it puts in e->out.
 * So a unit test drives it with scripted replies.
 *
 *   GREETING -220-> EHLO -250-> [STARTTLS -220-> handshake -> EHLO -250->]
 *                               [AUTH -235->] READY
 *                        -5xx-> HELO -250-> READY
 *   READY -begin-> TXN (MAIL, RCPT..., DATA; pipelined when offered)
 *         -354-> CONTENT -dot-> DOT -reply-> READY
 *   READY -rset-> RSET -250-> READY        READY -quit-> QUIT
 *   any failure that leaves the session unusable -> BROKEN
 *
 * Replies decide recipients: 2xx sent (after the dot), 4xx deferred, 5xx
 * bounced, with the remote text kept.  A failure before a transaction
 * (greeting, EHLO, HELO) leaves fail_text, and the driver tries the next
 * address.  The replies are hostile but arrive parsed and bounded
 * (remote_reply.c); texts built here are cut to their buffers.
 *
 * STARTTLS (RFC 3207) is sent once, when the server offers it and the
 * driver's tls_need is not NONE; the driver does the handshake
 * (SMTP_WANT_TLS) and reports it, and the engine then forgets the first
 * EHLO's answer and asks again.  A server that does not offer it, or
 * refuses it, is given up when TLS is required (4.7.4).  AUTH (RFC 4954,
 * PLAIN or LOGIN) is sent only when the driver gave credentials and only
 * over TLS: without TLS the session is given up, never the password sent
 * in clear text; a refusal (535) gives the session up with the server's
 * text, as a temporary failure.  The credentials stay the driver's; the
 * engine writes them, base64-encoded, into out only.
 * Runs in remote and in t/unit/test_remote_engine.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "remote.h"

static const char *const smtp_stage_names[SMTP_STAGE_COUNT] = {
    [SMTP_STAGE_CONNECT] = "connect",
    [SMTP_STAGE_GREETING] = "initial server greeting",
    [SMTP_STAGE_EHLO] = "EHLO",
    [SMTP_STAGE_HELO] = "HELO",
    [SMTP_STAGE_STARTTLS] = "STARTTLS",
    [SMTP_STAGE_AUTH] = "AUTH",
    [SMTP_STAGE_RSET] = "RSET",
    [SMTP_STAGE_MAIL] = "MAIL FROM",
    [SMTP_STAGE_RCPT] = "RCPT TO",
    [SMTP_STAGE_DATA] = "DATA",
    [SMTP_STAGE_CONTENT] = "message body",
    [SMTP_STAGE_DOT] = "end of DATA",
    [SMTP_STAGE_QUIT] = "QUIT",
};

const char *
smtp_stage_name(enum smtp_stage stage)
{
	return (unsigned)stage < SMTP_STAGE_COUNT ? smtp_stage_names[stage]
						  : "?";
}

void
smtp_engine_init(struct smtp_engine *e, const char *helo_name, const char *peer)
{
	memset(e, 0, sizeof(*e));
	buf_init(&e->out);
	snprintf(e->helo_name, sizeof(e->helo_name), "%s", helo_name);
	snprintf(e->peer, sizeof(e->peer), "%s", peer);
	e->state = SMTP_S_GREETING;
	e->want = SMTP_WANT_REPLY;
	e->stage = SMTP_STAGE_GREETING;
}

void
smtp_engine_free(struct smtp_engine *e)
{
	buf_free(&e->out);
	free(e->exp);
	free(e->exp_rcpt);
	e->exp = NULL;
	e->exp_rcpt = NULL;
}

/* --- results ------------------------------------------------------------ */

static void
engine_set(struct smtp_rcpt *rc, enum smtp_rcpt_state st, const char *dsn,
	   const char *diag, const char *text)
{
	rc->state = st;
	snprintf(rc->dsn, sizeof(rc->dsn), "%s", dsn);
	snprintf(rc->diag, sizeof(rc->diag), "%s", diag != NULL ? diag : "");
	snprintf(rc->text, sizeof(rc->text), "%s", text);
}

/* The enhanced code of a reply, or the class default. */
static const char *
engine_reply_dsn(const struct smtp_reply *r, char *buf, size_t size)
{
	if (r->dsn[0] != '\0')
		return r->dsn;
	snprintf(buf, size, "%d.0.0", r->code / 100);
	return buf;
}

/* A recipient decided by a reply to stage (2xx: sent). */
static void
engine_rcpt_reply(struct smtp_engine *e, struct smtp_rcpt *rc,
		  const struct smtp_reply *r, enum smtp_stage stage)
{
	char one[REMOTE_REPLY_TEXT_MAX], code[16];
	const char *dsn = engine_reply_dsn(r, code, sizeof(code));

	smtp_reply_oneline(r, one, sizeof(one));
	if (r->code / 100 == 2) {
		engine_set(rc, SMTP_RCPT_SENT, dsn, one, one);
		return;
	}
	rc->state = r->code / 100 == 5 ? SMTP_RCPT_BOUNCE : SMTP_RCPT_DEFER;
	snprintf(rc->dsn, sizeof(rc->dsn), "%s", dsn);
	snprintf(rc->diag, sizeof(rc->diag), "%s", one);
	snprintf(rc->text, sizeof(rc->text),
		 "host %s said: %s (in reply to %s command)", e->peer, one,
		 smtp_stage_name(stage));
}

/* Every recipient still without a final state gets this one. */
static void
engine_rest(struct smtp_engine *e, const struct smtp_reply *r,
	    enum smtp_stage stage, int only_accepted)
{
	size_t i;

	for (i = 0; i < e->txn->rcpt_count; i++) {
		struct smtp_rcpt *rc = &e->txn->rcpt[i];
		if (rc->state == SMTP_RCPT_ACCEPTED ||
		    (!only_accepted && rc->state == SMTP_RCPT_PENDING))
			engine_rcpt_reply(e, rc, r, stage);
	}
}

/* Defer every recipient not yet decided (a failed connection). */
static void
engine_rest_defer(struct smtp_engine *e, const char *text)
{
	size_t i;

	for (i = 0; i < e->txn->rcpt_count; i++) {
		struct smtp_rcpt *rc = &e->txn->rcpt[i];
		if (rc->state == SMTP_RCPT_PENDING ||
		    rc->state == SMTP_RCPT_ACCEPTED)
			engine_set(rc, SMTP_RCPT_DEFER, "4.4.2", NULL, text);
	}
}

/* Every recipient fails at once with our own reason (no command sent). */
static void
engine_all(struct smtp_engine *e, enum smtp_rcpt_state st, const char *dsn,
	   const char *text)
{
	size_t i;

	for (i = 0; i < e->txn->rcpt_count; i++)
		engine_set(&e->txn->rcpt[i], st, dsn, NULL, text);
}

/* --- the session ------------------------------------------------------ */

static void
engine_broken(struct smtp_engine *e, const char *dsn, const char *text)
{
	e->state = SMTP_S_BROKEN;
	e->want = SMTP_WANT_BROKEN;
	snprintf(e->fail_dsn, sizeof(e->fail_dsn), "%s", dsn);
	snprintf(e->fail_text, sizeof(e->fail_text), "%s", text);
}

static void
engine_send(struct smtp_engine *e, enum smtp_state st, enum smtp_stage stage,
	    const char *cmd, const char *arg)
{
	buf_printf(&e->out, "%s%s\r\n", cmd, arg);
	e->state = st;
	e->stage = stage;
	e->want = SMTP_WANT_REPLY;
}

static void
engine_ready(struct smtp_engine *e)
{
	e->state = e->closing ? SMTP_S_BROKEN : SMTP_S_READY;
	e->want = e->closing ? SMTP_WANT_BROKEN : SMTP_WANT_READY;
	if (e->closing)
		snprintf(e->fail_text, sizeof(e->fail_text),
			 "host %s closed the session", e->peer);
}

static void engine_auth_start(struct smtp_engine *e);

/*
 * After EHLO or HELO: STARTTLS when wanted and offered (once), then AUTH
 * when there are credentials and TLS is on, then ready.
 */
static void
engine_after_hello(struct smtp_engine *e)
{
	char text[REMOTE_TEXT_MAX];

	if (!e->tls_active && !e->tls_tried && e->tls_need != SMTP_TLS_NONE &&
	    e->caps.starttls) {
		e->tls_tried = 1;
		engine_send(e, SMTP_S_STARTTLS, SMTP_STAGE_STARTTLS, "STARTTLS",
			    "");
		return;
	}
	if (!e->tls_active &&
	    (e->tls_need == SMTP_TLS_MUST || e->auth_user != NULL)) {
		snprintf(text, sizeof(text),
			 "TLS is required%s, but was not offered by host %s",
			 e->auth_user != NULL ? " for SASL authentication" : "",
			 e->peer);
		engine_broken(e, "4.7.4", text);
		return;
	}
	if (e->auth_user != NULL && e->caps.auth) {
		engine_auth_start(e);
		return;
	}
	engine_ready(e);
}

/*
 * The server refused the session (greeting, EHLO, HELO, RSET).  Another
 * address may do better, so even a 5xx here only defers: the status
 * keeps the server's detail in class 4.
 */
static void
engine_refused(struct smtp_engine *e, const struct smtp_reply *r,
	       enum smtp_stage stage)
{
	char one[REMOTE_REPLY_TEXT_MAX], code[16], text[REMOTE_TEXT_MAX];

	smtp_reply_oneline(r, one, sizeof(one));
	if (stage == SMTP_STAGE_GREETING)
		snprintf(text, sizeof(text),
			 "host %s refused to talk to me: %s", e->peer, one);
	else
		snprintf(text, sizeof(text),
			 "host %s said: %s (in reply to %s command)", e->peer,
			 one, smtp_stage_name(stage));
	snprintf(code, sizeof(code), "4.%s", r->dsn[0] ? r->dsn + 2 : "0.0");
	engine_broken(e, code, text);
}

static void
engine_on_greeting(struct smtp_engine *e, const struct smtp_reply *r)
{
	if (r->code != 220) {
		engine_refused(e, r, SMTP_STAGE_GREETING);
		return;
	}
	engine_send(e, SMTP_S_EHLO, SMTP_STAGE_EHLO, "EHLO ", e->helo_name);
}

static void
engine_on_hello(struct smtp_engine *e, const struct smtp_reply *r)
{
	if (r->code / 100 == 2) {
		if (e->state == SMTP_S_EHLO)
			smtp_caps_parse(r, &e->caps);
		engine_after_hello(e);
	} else if (e->state == SMTP_S_EHLO && r->code / 100 == 5) {
		engine_send(e, SMTP_S_HELO, SMTP_STAGE_HELO, "HELO ",
			    e->helo_name);
	} else {
		engine_refused(e, r,
			       e->state == SMTP_S_EHLO ? SMTP_STAGE_EHLO
						       : SMTP_STAGE_HELO);
	}
}

/* --- STARTTLS and AUTH -----------------------------------------------------
 */

/* A refusal's enhanced code as a temporary one, or 4.<fallback>. */
static void
engine_soft_dsn(const struct smtp_reply *r, const char *fallback, char *code,
		size_t size)
{
	snprintf(code, size, "4.%s", r->dsn[0] ? r->dsn + 2 : fallback);
}

static void
engine_on_starttls(struct smtp_engine *e, const struct smtp_reply *r)
{
	char one[REMOTE_REPLY_TEXT_MAX], code[16], text[REMOTE_TEXT_MAX];

	if (r->code == 220) {
		e->want = SMTP_WANT_TLS;
		return;
	}
	if (r->code == 421) {
		engine_refused(e, r, SMTP_STAGE_STARTTLS);
		return;
	}
	if (e->tls_need == SMTP_TLS_MUST || e->auth_user != NULL) {
		smtp_reply_oneline(r, one, sizeof(one));
		snprintf(text, sizeof(text),
			 "TLS is required%s, but host %s refused to start "
			 "TLS: %s",
			 e->auth_user != NULL ? " for SASL authentication" : "",
			 e->peer, one);
		engine_soft_dsn(r, "7.4", code, sizeof(code));
		engine_broken(e, code, text);
		return;
	}
	engine_after_hello(e); /* may: on in clear text */
}

void
smtp_engine_tls_done(struct smtp_engine *e, int ok, const char *dsn,
		     const char *text)
{
	if (!ok) {
		e->tls_failed = 1;
		engine_broken(e, dsn, text);
		return;
	}
	e->tls_active = 1;
	memset(&e->caps, 0, sizeof(e->caps));
	engine_send(e, SMTP_S_EHLO, SMTP_STAGE_EHLO, "EHLO ", e->helo_name);
}

/* base64 of n bytes onto out (RFC 4648, as AUTH wants it). */
static void
engine_base64(struct buf *out, const void *p, size_t n)
{
	size_t need = 4 * ((n + 2) / 3) + 1;

	buf_reserve(out, need);
	EVP_EncodeBlock((unsigned char *)out->data + out->len, p, (int)n);
	out->len += need - 1;
	out->data[out->len] = '\0';
}

/* AUTH PLAIN with its initial response, else AUTH LOGIN. */
static void
engine_auth_start(struct smtp_engine *e)
{
	size_t u = strnlen(e->auth_user, 255), p = strnlen(e->auth_pass, 255);
	unsigned char plain[2 + 255 + 255];
	char text[REMOTE_TEXT_MAX];

	if (e->caps.auth_plain) {
		plain[0] = '\0';
		memcpy(plain + 1, e->auth_user, u);
		plain[1 + u] = '\0';
		memcpy(plain + 2 + u, e->auth_pass, p);
		buf_append_str(&e->out, "AUTH PLAIN ");
		engine_base64(&e->out, plain, 2 + u + p);
		buf_append_str(&e->out, "\r\n");
		explicit_bzero(plain, sizeof(plain));
		e->auth_login = 0;
		e->auth_step = 2;
	} else if (e->caps.auth_login) {
		buf_append_str(&e->out, "AUTH LOGIN\r\n");
		e->auth_login = 1;
		e->auth_step = 0;
	} else {
		snprintf(text, sizeof(text),
			 "SASL authentication failed: host %s offers no "
			 "mechanism Moat uses (PLAIN, LOGIN)",
			 e->peer);
		engine_broken(e, "4.7.0", text);
		return;
	}
	e->state = SMTP_S_AUTH;
	e->stage = SMTP_STAGE_AUTH;
	e->want = SMTP_WANT_REPLY;
}

static void
engine_on_auth(struct smtp_engine *e, const struct smtp_reply *r)
{
	char one[REMOTE_REPLY_TEXT_MAX], code[16], text[REMOTE_TEXT_MAX];
	const char *v;

	if (r->code == 235) {
		engine_ready(e);
		return;
	}
	if (r->code == 334 && e->auth_login && e->auth_step < 2) {
		v = e->auth_step++ == 0 ? e->auth_user : e->auth_pass;
		engine_base64(&e->out, v, strnlen(v, 255));
		buf_append_str(&e->out, "\r\n");
		e->want = SMTP_WANT_REPLY;
		return;
	}
	smtp_reply_oneline(r, one, sizeof(one));
	snprintf(text, sizeof(text),
		 "SASL authentication failed; server %s said: %s", e->peer,
		 one);
	engine_soft_dsn(r, "7.0", code, sizeof(code));
	engine_broken(e, code, text);
}

/* --- capabilities ------------------------------------------------------- */

static int
caps_word(const char *line, size_t len, const char *word, const char **arg)
{
	size_t n = strlen(word);

	if (len < n || strncasecmp(line, word, n) != 0 ||
	    (len > n && line[n] != ' ' && line[n] != '='))
		return 0;
	*arg = len > n ? line + n + 1 : line + len;
	return 1;
}

static unsigned long long
caps_number(const char *p, const char *end)
{
	unsigned long long v = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (v > UINT64_MAX / 10 - 10)
			return 0; /* absurd: as if no limit were given */
		v = v * 10 + (unsigned long long)(*p++ - '0');
	}
	return v;
}

/* "AUTH PLAIN LOGIN CRAM-MD5" (or "AUTH=..."): the mechanisms. */
static void
caps_auth(const char *p, const char *end, struct smtp_caps *caps)
{
	const char *w;

	caps->auth = 1;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		for (w = p; p < end && *p != ' '; p++)
			;
		if (p - w == 5 && strncasecmp(w, "PLAIN", 5) == 0)
			caps->auth_plain = 1;
		else if (p - w == 5 && strncasecmp(w, "LOGIN", 5) == 0)
			caps->auth_login = 1;
	}
}

static void
caps_line(const char *l, size_t len, struct smtp_caps *caps)
{
	const char *arg;

	if (caps_word(l, len, "PIPELINING", &arg))
		caps->pipelining = 1;
	else if (caps_word(l, len, "SIZE", &arg)) {
		caps->size = 1;
		caps->size_max = caps_number(arg, l + len);
	} else if (caps_word(l, len, "8BITMIME", &arg))
		caps->eightbitmime = 1;
	else if (caps_word(l, len, "SMTPUTF8", &arg))
		caps->smtputf8 = 1;
	else if (caps_word(l, len, "DSN", &arg))
		caps->dsn = 1;
	else if (caps_word(l, len, "STARTTLS", &arg))
		caps->starttls = 1;
	else if (caps_word(l, len, "AUTH", &arg))
		caps_auth(arg, l + len, caps);
}

void
smtp_caps_parse(const struct smtp_reply *r, struct smtp_caps *caps)
{
	const char *p = r->text, *end = r->text + r->len, *nl;

	memset(caps, 0, sizeof(*caps));
	caps->esmtp = 1;
	/* The first line is the greeting; each further one a keyword. */
	nl = memchr(p, '\n', (size_t)(end - p));
	while (nl != NULL) {
		p = nl + 1;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (end - p > 4)
			caps_line(p + 4, (size_t)((nl ? nl : end) - p - 4),
				  caps);
	}
}

/* --- the transaction ---------------------------------------------------- */

static void
engine_expect(struct smtp_engine *e, enum smtp_expect what, size_t rcpt)
{
	e->exp[e->exp_tail] = what;
	e->exp_rcpt[e->exp_tail++] = rcpt;
}

static enum smtp_stage
engine_expect_stage(enum smtp_expect x)
{
	static const enum smtp_stage stages[] = {
	    [SMTP_EXP_MAIL] = SMTP_STAGE_MAIL,
	    [SMTP_EXP_RCPT] = SMTP_STAGE_RCPT,
	    [SMTP_EXP_DATA] = SMTP_STAGE_DATA,
	    [SMTP_EXP_DOT] = SMTP_STAGE_DOT,
	};
	return stages[x];
}

static void
engine_mail_cmd(struct smtp_engine *e)
{
	const struct smtp_txn *t = e->txn;

	buf_printf(&e->out, "MAIL FROM:<%s>", t->sender);
	if (e->caps.size)
		buf_printf(&e->out, " SIZE=%llu", t->size);
	if (t->eightbit && e->caps.eightbitmime)
		buf_append_str(&e->out, " BODY=8BITMIME");
	if (t->smtputf8 && e->caps.smtputf8)
		buf_append_str(&e->out, " SMTPUTF8");
	if (e->caps.dsn && t->ret != NULL)
		buf_printf(&e->out, " RET=%s", t->ret);
	if (e->caps.dsn && t->envid != NULL) {
		buf_append_str(&e->out, " ENVID=");
		smtp_xtext(t->envid, &e->out);
	}
	buf_append_str(&e->out, "\r\n");
	engine_expect(e, SMTP_EXP_MAIL, 0);
}

static void
engine_rcpt_cmd(struct smtp_engine *e, size_t i)
{
	const struct smtp_rcpt *rc = &e->txn->rcpt[i];

	buf_printf(&e->out, "RCPT TO:<%s>", rc->addr);
	if (e->caps.dsn && rc->notify != NULL)
		buf_printf(&e->out, " NOTIFY=%s", rc->notify);
	if (e->caps.dsn && rc->orcpt != NULL) {
		buf_append_str(&e->out, " ORCPT=rfc822;");
		smtp_xtext(rc->orcpt, &e->out);
	}
	buf_append_str(&e->out, "\r\n");
	engine_expect(e, SMTP_EXP_RCPT, i);
}

static void
engine_data_cmd(struct smtp_engine *e)
{
	buf_append_str(&e->out, "DATA\r\n");
	engine_expect(e, SMTP_EXP_DATA, 0);
}

/* What the session decides without asking: 1 when it decided all. */
static int
engine_refuse_early(struct smtp_engine *e)
{
	const struct smtp_txn *t = e->txn;
	char text[REMOTE_TEXT_MAX];

	if (e->caps.size && e->caps.size_max > 0 &&
	    t->size > e->caps.size_max) {
		snprintf(text, sizeof(text),
			 "message size %llu exceeds size limit %llu of server "
			 "%s",
			 t->size, e->caps.size_max, e->peer);
		engine_all(e, SMTP_RCPT_BOUNCE, "5.3.4", text);
		return 1;
	}
	if (t->smtputf8 && !e->caps.smtputf8) {
		snprintf(text, sizeof(text),
			 "SMTPUTF8 is required, but was not offered by host %s",
			 e->peer);
		engine_all(e, SMTP_RCPT_BOUNCE, "5.6.7", text);
		return 1;
	}
	if (t->eightbit && t->require_8bitmime && !e->caps.eightbitmime) {
		snprintf(text, sizeof(text),
			 "8-bit content, but host %s does not offer 8BITMIME",
			 e->peer);
		engine_all(e, SMTP_RCPT_BOUNCE, "5.6.3", text);
		return 1;
	}
	return 0;
}

void
smtp_engine_begin(struct smtp_engine *e, struct smtp_txn *txn)
{
	size_t i, need = txn->rcpt_count + 3;

	e->txn = txn;
	e->exp_head = e->exp_tail = 0;
	e->next_rcpt = 0;
	e->accepted = 0;
	e->mail_failed = 0;
	for (i = 0; i < txn->rcpt_count; i++)
		txn->rcpt[i].state = SMTP_RCPT_PENDING;
	if (e->state != SMTP_S_READY || engine_refuse_early(e)) {
		if (e->state != SMTP_S_READY)
			engine_rest_defer(e, "session not ready");
		return;
	}
	if (need > e->exp_cap) {
		e->exp = xreallocarray(e->exp, need, sizeof(*e->exp));
		e->exp_rcpt =
		    xreallocarray(e->exp_rcpt, need, sizeof(*e->exp_rcpt));
		e->exp_cap = need;
	}
	e->txns++;
	engine_mail_cmd(e);
	if (e->caps.pipelining) {
		for (i = 0; i < txn->rcpt_count; i++)
			engine_rcpt_cmd(e, i);
		engine_data_cmd(e);
		e->next_rcpt = txn->rcpt_count;
	}
	e->state = SMTP_S_TXN;
	e->want = SMTP_WANT_REPLY;
	e->stage = SMTP_STAGE_MAIL;
}

/* The transaction is over: every recipient has its state. */
static void
engine_txn_end(struct smtp_engine *e)
{
	e->exp_head = e->exp_tail = 0;
	engine_ready(e);
}

/* Without pipelining: the command after a reply, if any. */
static void
engine_next_cmd(struct smtp_engine *e)
{
	if (e->mail_failed) {
		engine_txn_end(e);
	} else if (e->next_rcpt < e->txn->rcpt_count) {
		engine_rcpt_cmd(e, e->next_rcpt++);
	} else if (e->accepted > 0) {
		engine_data_cmd(e);
	} else {
		engine_txn_end(e);
	}
}

static void
engine_on_data(struct smtp_engine *e, const struct smtp_reply *r)
{
	if (r->code == 354 && (e->mail_failed || e->accepted == 0)) {
		/* RFC 2920 3.1: nobody to send to; end the empty DATA. */
		buf_append_str(&e->out, ".\r\n");
		engine_expect(e, SMTP_EXP_DOT, (size_t)-1);
		e->stage = SMTP_STAGE_DOT;
		return;
	}
	if (r->code == 354) {
		e->state = SMTP_S_CONTENT;
		e->want = SMTP_WANT_CONTENT;
		e->stage = SMTP_STAGE_CONTENT;
		return;
	}
	if (!e->mail_failed && r->code / 100 != 2)
		engine_rest(e, r, SMTP_STAGE_DATA, 1);
	else if (!e->mail_failed)
		engine_rest_defer(e, "unexpected reply to DATA");
	engine_txn_end(e);
}

static void
engine_on_txn(struct smtp_engine *e, const struct smtp_reply *r)
{
	enum smtp_expect x = e->exp[e->exp_head];
	size_t i = e->exp_rcpt[e->exp_head++];

	if (r->code == 421)
		e->closing = 1;
	switch (x) {
	case SMTP_EXP_MAIL:
		if (r->code / 100 != 2) {
			e->mail_failed = 1;
			engine_rest(e, r, SMTP_STAGE_MAIL, 0);
		}
		break;
	case SMTP_EXP_RCPT:
		if (e->mail_failed)
			break;
		if (r->code / 100 == 2) {
			e->txn->rcpt[i].state = SMTP_RCPT_ACCEPTED;
			e->accepted++;
		} else {
			engine_rcpt_reply(e, &e->txn->rcpt[i], r,
					  SMTP_STAGE_RCPT);
		}
		break;
	case SMTP_EXP_DATA:
		engine_on_data(e, r);
		return;
	case SMTP_EXP_DOT:
		if (i != (size_t)-1)
			engine_rest(e, r, SMTP_STAGE_DOT, 1);
		engine_txn_end(e);
		return;
	}
	if (e->exp_head == e->exp_tail && !e->caps.pipelining)
		engine_next_cmd(e);
	else if (e->exp_head == e->exp_tail)
		engine_txn_end(e); /* cannot happen: DATA is always queued */
	if (e->state == SMTP_S_TXN)
		e->stage = engine_expect_stage(e->exp[e->exp_head]);
}

void
smtp_engine_content_sent(struct smtp_engine *e)
{
	e->exp_head = e->exp_tail = 0;
	engine_expect(e, SMTP_EXP_DOT, 0);
	e->state = SMTP_S_TXN;
	e->want = SMTP_WANT_REPLY;
	e->stage = SMTP_STAGE_DOT;
}

void
smtp_engine_rset(struct smtp_engine *e)
{
	engine_send(e, SMTP_S_RSET, SMTP_STAGE_RSET, "RSET", "");
}

void
smtp_engine_quit(struct smtp_engine *e)
{
	engine_send(e, SMTP_S_QUIT, SMTP_STAGE_QUIT, "QUIT", "");
}

void
smtp_engine_reply(struct smtp_engine *e, const struct smtp_reply *r)
{
	switch (e->state) {
	case SMTP_S_GREETING:
		engine_on_greeting(e, r);
		break;
	case SMTP_S_EHLO:
	case SMTP_S_HELO:
		engine_on_hello(e, r);
		break;
	case SMTP_S_RSET:
		if (r->code / 100 == 2)
			engine_ready(e);
		else
			engine_refused(e, r, SMTP_STAGE_RSET);
		break;
	case SMTP_S_TXN:
		engine_on_txn(e, r);
		break;
	case SMTP_S_QUIT:
		e->state = SMTP_S_BROKEN;
		e->want = SMTP_WANT_BROKEN;
		break;
	case SMTP_S_STARTTLS:
		if (e->want == SMTP_WANT_REPLY) {
			engine_on_starttls(e, r);
			break;
		}
		engine_broken(e, "4.4.2",
			      "protocol error: an unexpected reply");
		break;
	case SMTP_S_AUTH:
		engine_on_auth(e, r);
		break;
	case SMTP_S_READY:
	case SMTP_S_CONTENT:
	case SMTP_S_DOT:
	case SMTP_S_BROKEN:
		engine_broken(e, "4.4.2",
			      "protocol error: an unexpected reply");
		break;
	}
}

void
smtp_engine_io_error(struct smtp_engine *e, int timeout, const char *detail)
{
	char text[REMOTE_TEXT_MAX];
	const char *verb = "sending", *what = smtp_stage_name(e->stage);
	const char *tail = "";

	if (e->stage == SMTP_STAGE_GREETING)
		verb = "receiving the";
	else if (e->stage == SMTP_STAGE_EHLO || e->stage == SMTP_STAGE_HELO) {
		verb = "performing the";
		tail = " handshake";
	} else if (e->stage == SMTP_STAGE_DOT)
		tail = " -- message may be sent more than once";
	if (timeout || detail == NULL)
		snprintf(text, sizeof(text), "%s %s %s %s %s%s",
			 timeout ? "conversation with" : "lost connection with",
			 e->peer, timeout ? "timed out while" : "while", verb,
			 what, tail);
	else
		snprintf(text, sizeof(text),
			 "lost connection with %s while %s %s%s: %s", e->peer,
			 verb, what, tail, detail);
	smtp_engine_abort(e, text);
}

void
smtp_engine_abort(struct smtp_engine *e, const char *text)
{
	if (e->state == SMTP_S_TXN || e->state == SMTP_S_CONTENT ||
	    e->state == SMTP_S_DOT)
		engine_rest_defer(e, text);
	engine_broken(e, "4.4.2", text);
}
