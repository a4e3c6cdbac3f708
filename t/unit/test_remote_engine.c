/*
 * test_remote_engine: the SMTP client session engine driven by a pure
 * script: each step feeds one server reply (or a connection failure), the
 * commands the engine asks to write are collected into a transcript, and
 * the recipients' states and texts are checked.  No sockets: the engine
 * has none; remote_session.c runs the same engine over real connections
 * (tested by t/integration/37-remote-peers.t).
 */
#include <stdio.h>
#include <string.h>

#include "remote.h"
#include "tap.h"

#define PEER "mx.example.net[192.0.2.25]"

struct script {
	struct smtp_engine e;
	struct buf wire; /* what the engine wrote, "|" between writes */
};

static void
reply_of(const char *text, struct smtp_reply *r)
{
	struct buf in = BUF_INIT;
	const char *why;

	buf_append_str(&in, text);
	if (smtp_reply_take(&in, r, &why) != 1)
		printf("# bad scripted reply: %s\n", text);
	buf_free(&in);
}

static void
collect(struct script *s)
{
	if (s->e.out.len > 0) {
		if (s->wire.len > 0)
			buf_append_char(&s->wire, '|');
		buf_append(&s->wire, s->e.out.data, s->e.out.len);
		buf_reset(&s->e.out);
	}
	if (s->e.want == SMTP_WANT_CONTENT) {
		buf_append_str(&s->wire, "|<content>");
		smtp_engine_content_sent(&s->e);
	}
}

/* Feed replies (each "CODE text\r\n..."); NULL ends. */
static void
feed(struct script *s, const char *const *replies)
{
	struct smtp_reply r;

	collect(s);
	for (; *replies != NULL; replies++) {
		if (s->e.want != SMTP_WANT_REPLY) {
			printf("# engine wants no reply for: %s", *replies);
			return;
		}
		reply_of(*replies, &r);
		smtp_engine_reply(&s->e, &r);
		collect(s);
	}
}

static void
open_session(struct script *s, const char *ehlo)
{
	const char *const greet[] = {"220 mx.example.net ESMTP\r\n", ehlo,
				     NULL};

	smtp_engine_init(&s->e, "client.example", PEER);
	buf_init(&s->wire);
	feed(s, greet);
}

static void
close_script(struct script *s)
{
	smtp_engine_free(&s->e);
	buf_free(&s->wire);
}

static struct smtp_rcpt rcpts[4];

static void
txn_init(struct smtp_txn *t, size_t n)
{
	static const char *const addrs[] = {"a@example.net", "b@example.net",
					    "c@example.net", "d@example.net"};
	size_t i;

	memset(t, 0, sizeof(*t));
	memset(rcpts, 0, sizeof(rcpts));
	for (i = 0; i < n; i++)
		rcpts[i].addr = addrs[i];
	t->sender = "s@example.org";
	t->rcpt = rcpts;
	t->rcpt_count = n;
	t->size = 1234;
}

#define CAPS_ALL                                                               \
	"250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10000\r\n"           \
	"250-8BITMIME\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES\r\n"
#define CAPS_NONE "250 mx.example.net\r\n"

static void
test_pipelined(void)
{
	struct script s;
	struct smtp_txn t;
	const char *const r1[] = {"250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n",
				  "550 5.1.1 <b@example.net>: User unknown\r\n",
				  "354 go ahead\r\n", NULL};
	const char *const r2[] = {"250 2.0.0 Ok: queued as X1\r\n", NULL};

	open_session(&s, CAPS_ALL);
	is_str(buf_cstr(&s.wire), "EHLO client.example\r\n",
	       "EHLO after the greeting");
	ok(s.e.caps.pipelining && s.e.caps.size && s.e.caps.size_max == 10000 &&
	       s.e.caps.eightbitmime && s.e.caps.dsn && !s.e.caps.smtputf8,
	   "capabilities parsed from the EHLO reply");
	is_int(s.e.want, SMTP_WANT_READY, "the session is ready");
	buf_reset(&s.wire);
	txn_init(&t, 2);
	t.eightbit = 1;
	smtp_engine_begin(&s.e, &t);
	feed(&s, r1);
	is_str(buf_cstr(&s.wire),
	       "MAIL FROM:<s@example.org> SIZE=1234 BODY=8BITMIME\r\n"
	       "RCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\n"
	       "DATA\r\n|<content>",
	       "MAIL, RCPT, RCPT, DATA in one write; content after 354");
	feed(&s, r2);
	is_int(rcpts[0].state, SMTP_RCPT_SENT, "a: sent");
	is_str(rcpts[0].text, "250 2.0.0 Ok: queued as X1",
	       "a: the server's reply is the text");
	is_str(rcpts[0].dsn, "2.0.0", "a: its status code");
	is_int(rcpts[1].state, SMTP_RCPT_BOUNCE, "b: bounced by its 550");
	is_str(rcpts[1].text,
	       "host " PEER " said: 550 5.1.1 <b@example.net>: User unknown "
	       "(in reply to RCPT TO command)",
	       "b: the text names the host, the reply and the command");
	is_str(rcpts[1].diag, "550 5.1.1 <b@example.net>: User unknown",
	       "b: the reply itself for Diagnostic-Code");
	is_str(rcpts[1].dsn, "5.1.1", "b: the server's status code");
	is_int(s.e.want, SMTP_WANT_READY, "ready for the next transaction");
	close_script(&s);
}

static void
test_plain(void)
{
	struct script s;
	struct smtp_txn t;
	const char *const r[] = {"250 Ok\r\n", "451 4.2.0 busy\r\n",
				 "250 Ok\r\n", "354 go\r\n",
				 "250 Ok\r\n", NULL};

	open_session(&s, CAPS_NONE);
	buf_reset(&s.wire);
	txn_init(&t, 2);
	t.eightbit = 1;
	smtp_engine_begin(&s.e, &t);
	feed(&s, r);
	is_str(buf_cstr(&s.wire),
	       "MAIL FROM:<s@example.org>\r\n|RCPT TO:<a@example.net>\r\n|"
	       "RCPT TO:<b@example.net>\r\n|DATA\r\n|<content>",
	       "without PIPELINING one command a reply; no SIZE=, no BODY= "
	       "(8-bit sent anyway)");
	is_int(rcpts[0].state, SMTP_RCPT_DEFER, "a: deferred by its 451");
	is_str(rcpts[0].dsn, "4.2.0", "a: 4.2.0");
	is_int(rcpts[1].state, SMTP_RCPT_SENT, "b: sent");
	is_str(rcpts[1].dsn, "2.0.0", "b: 2.0.0 when the server gives none");
	close_script(&s);
}

static void
test_all_refused(void)
{
	struct script s;
	struct smtp_txn t;
	const char *const plain[] = {"250 Ok\r\n", "550 no\r\n", NULL};
	const char *const piped[] = {"250 Ok\r\n", "550 5.1.1 no\r\n",
				     "354 go\r\n", "554 5.5.1 nothing\r\n",
				     NULL};

	open_session(&s, CAPS_NONE);
	buf_reset(&s.wire);
	txn_init(&t, 1);
	smtp_engine_begin(&s.e, &t);
	feed(&s, plain);
	is_str(buf_cstr(&s.wire),
	       "MAIL FROM:<s@example.org>\r\n|RCPT TO:<a@example.net>\r\n",
	       "every recipient refused: no DATA");
	is_int(rcpts[0].state, SMTP_RCPT_BOUNCE, "the recipient bounced");
	is_str(rcpts[0].dsn, "5.0.0", "5.0.0 when the server gives none");
	is_int(s.e.want, SMTP_WANT_READY, "the session stays usable");
	close_script(&s);

	open_session(&s, CAPS_ALL);
	buf_reset(&s.wire);
	txn_init(&t, 1);
	smtp_engine_begin(&s.e, &t);
	feed(&s, piped);
	is_str(buf_cstr(&s.wire),
	       "MAIL FROM:<s@example.org> SIZE=1234\r\nRCPT "
	       "TO:<a@example.net>\r\nDATA\r\n|.\r\n",
	       "pipelined DATA answered 354 with nobody to send to: a lone "
	       "dot (RFC 2920), never the content");
	is_int(rcpts[0].state, SMTP_RCPT_BOUNCE, "the recipient bounced");
	close_script(&s);
}

static void
test_refusals(void)
{
	struct script s;
	const char *const helo[] = {"250 mx.example.net\r\n", NULL};

	open_session(&s, "502 5.5.1 not implemented\r\n");
	is_str(buf_cstr(&s.wire),
	       "EHLO client.example\r\n|HELO client.example\r\n",
	       "EHLO refused with 5xx: HELO");
	feed(&s, helo);
	ok(s.e.want == SMTP_WANT_READY && !s.e.caps.esmtp,
	   "HELO accepted: ready, without extensions");
	close_script(&s);

	smtp_engine_init(&s.e, "client.example", PEER);
	buf_init(&s.wire);
	{
		const char *const g[] = {"554 5.7.1 go away\r\n", NULL};
		feed(&s, g);
	}
	is_int(s.e.want, SMTP_WANT_BROKEN, "a 554 greeting breaks the session");
	is_str(s.e.fail_text,
	       "host " PEER " refused to talk to me: 554 5.7.1 go away",
	       "with Postfix's words");
	is_str(s.e.fail_dsn, "4.7.1",
	       "as a temporary status: another address may take it");
	close_script(&s);

	open_session(&s, "421 4.3.2 shutting down\r\n");
	is_int(s.e.want, SMTP_WANT_BROKEN, "a 421 to EHLO breaks the session");
	is_str(s.e.fail_text,
	       "host " PEER " said: 421 4.3.2 shutting down (in reply to EHLO "
	       "command)",
	       "naming the command");
	close_script(&s);
}

static void
test_early(void)
{
	struct script s;
	struct smtp_txn t;

	open_session(&s, CAPS_ALL);
	buf_reset(&s.wire);
	txn_init(&t, 2);
	t.size = 20000;
	smtp_engine_begin(&s.e, &t);
	ok(s.wire.len == 0 && s.e.out.len == 0,
	   "over the server's SIZE: nothing is sent");
	is_int(rcpts[1].state, SMTP_RCPT_BOUNCE, "every recipient bounced");
	is_str(rcpts[1].dsn, "5.3.4", "with 5.3.4");
	is_str(rcpts[0].text,
	       "message size 20000 exceeds size limit 10000 of server " PEER,
	       "saying why");
	is_int(s.e.want, SMTP_WANT_READY, "the session is still usable");
	txn_init(&t, 1);
	t.size = 10000;
	smtp_engine_begin(&s.e, &t);
	is_int(s.e.state, SMTP_S_TXN, "a message of exactly the limit is sent");
	close_script(&s);

	open_session(&s, "250-x\r\n250 SIZE\r\n");
	txn_init(&t, 1);
	t.size = 1000000000ULL;
	smtp_engine_begin(&s.e, &t);
	is_int(s.e.state, SMTP_S_TXN, "SIZE without a number: no fixed limit");
	close_script(&s);

	open_session(&s, CAPS_NONE);
	txn_init(&t, 1);
	t.eightbit = 1;
	t.require_8bitmime = 1;
	smtp_engine_begin(&s.e, &t);
	is_str(rcpts[0].dsn, "5.6.3",
	       "8-bit content, no 8BITMIME, smtp_require_8bitmime: bounced");
	txn_init(&t, 1);
	t.smtputf8 = 1;
	smtp_engine_begin(&s.e, &t);
	is_str(rcpts[0].dsn, "5.6.7", "SMTPUTF8 needed and not offered: 5.6.7");
	close_script(&s);
}

static void
test_dsn_params(void)
{
	struct script s;
	struct smtp_txn t;

	open_session(&s, CAPS_ALL);
	buf_reset(&s.wire);
	txn_init(&t, 1);
	t.ret = "HDRS";
	t.envid = "id+1 x";
	rcpts[0].notify = "FAILURE,DELAY";
	rcpts[0].orcpt = "a=b@example.net";
	smtp_engine_begin(&s.e, &t);
	is_str(buf_cstr(&s.e.out),
	       "MAIL FROM:<s@example.org> SIZE=1234 RET=HDRS "
	       "ENVID=id+2B1+20x\r\n"
	       "RCPT TO:<a@example.net> NOTIFY=FAILURE,DELAY "
	       "ORCPT=rfc822;a+3Db@example.net\r\nDATA\r\n",
	       "DSN parameters passed on (xtext) when the server offers DSN");
	close_script(&s);

	open_session(&s, CAPS_NONE);
	txn_init(&t, 1);
	t.ret = "FULL";
	rcpts[0].notify = "NEVER";
	smtp_engine_begin(&s.e, &t);
	is_str(buf_cstr(&s.e.out), "MAIL FROM:<s@example.org>\r\n",
	       "and left out when it does not");
	close_script(&s);
}

static void
test_failures(void)
{
	struct script s;
	struct smtp_txn t;
	const char *const mail451[] = {
	    "451 4.7.1 greylisted\r\n", "503 5.5.1 no MAIL\r\n",
	    "503 5.5.1 no MAIL\r\n", "554 5.5.1 no rcpt\r\n", NULL};
	const char *const upto354[] = {"250 ok\r\n", "250 ok\r\n", "354 go\r\n",
				       NULL};
	const char *const dot452[] = {"452 4.3.1 full\r\n", NULL};

	open_session(&s, CAPS_ALL);
	txn_init(&t, 2);
	smtp_engine_begin(&s.e, &t);
	feed(&s, mail451);
	ok(rcpts[0].state == SMTP_RCPT_DEFER &&
	       rcpts[1].state == SMTP_RCPT_DEFER,
	   "451 to MAIL FROM defers every recipient");
	is_str(rcpts[1].text,
	       "host " PEER " said: 451 4.7.1 greylisted (in reply to MAIL "
	       "FROM command)",
	       "with the reply to MAIL FROM, not the 503 that follow");
	is_int(s.e.want, SMTP_WANT_READY, "ready again");

	txn_init(&t, 1);
	smtp_engine_begin(&s.e, &t);
	feed(&s, upto354);
	feed(&s, dot452);
	is_str(rcpts[0].text,
	       "host " PEER " said: 452 4.3.1 full (in reply to end of DATA "
	       "command)",
	       "a 4xx to the dot defers");

	txn_init(&t, 1);
	smtp_engine_begin(&s.e, &t);
	feed(&s, upto354);
	smtp_engine_io_error(&s.e, 1, NULL);
	is_int(rcpts[0].state, SMTP_RCPT_DEFER, "a timeout after the dot");
	is_str(rcpts[0].text,
	       "conversation with " PEER " timed out while sending end of "
	       "DATA -- message may be sent more than once",
	       "says that the message may arrive twice");
	is_int(s.e.want, SMTP_WANT_BROKEN, "and ends the session");
	close_script(&s);

	smtp_engine_init(&s.e, "client.example", PEER);
	buf_init(&s.wire);
	smtp_engine_io_error(&s.e, 0, NULL);
	is_str(s.e.fail_text,
	       "lost connection with " PEER " while receiving the initial "
	       "server greeting",
	       "a lost connection before the greeting");
	close_script(&s);
}

static void
test_reuse(void)
{
	struct script s;
	struct smtp_txn t;
	const char *const ok250[] = {"250 2.0.0 Ok\r\n", NULL};
	const char *const txn1[] = {"250 ok\r\n", "250 ok\r\n", "354 go\r\n",
				    "250 2.0.0 queued\r\n", NULL};
	const char *const rcpt421[] = {
	    "250 ok\r\n", "421 4.4.2 closing\r\n", "250 ok\r\n",
	    "354 go\r\n", "250 2.0.0 queued\r\n",  NULL};

	open_session(&s, CAPS_ALL);
	txn_init(&t, 1);
	smtp_engine_begin(&s.e, &t);
	feed(&s, txn1);
	buf_reset(&s.wire);
	smtp_engine_rset(&s.e);
	feed(&s, ok250);
	is_str(buf_cstr(&s.wire), "RSET\r\n", "RSET before reusing a session");
	is_int(s.e.want, SMTP_WANT_READY, "250 to RSET: ready");
	txn_init(&t, 2);
	smtp_engine_begin(&s.e, &t);
	feed(&s, rcpt421);
	ok(rcpts[0].state == SMTP_RCPT_DEFER &&
	       rcpts[1].state == SMTP_RCPT_SENT,
	   "a 421 to one RCPT defers that recipient only");
	is_int(s.e.want, SMTP_WANT_BROKEN,
	       "and the session is not reused after a 421");
	is_int(s.e.txns, 2, "two transactions on the session");
	close_script(&s);
}

/* A session whose driver wants TLS (and AUTH with user): greeting fed. */
static void
tls_session(struct script *s, enum smtp_tls_need need, const char *user)
{
	const char *const greet[] = {"220 mx.example.net ESMTP\r\n", NULL};

	smtp_engine_init(&s->e, "client.example", PEER);
	buf_init(&s->wire);
	s->e.tls_need = need;
	s->e.auth_user = user;
	s->e.auth_pass = user != NULL ? "pa:ss" : NULL;
	feed(s, greet);
}

#define CAPS_TLS "250-mx.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
#define CAPS_AUTH                                                              \
	"250-mx.example.net\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN\r\n"

static void
test_starttls(void)
{
	struct script s;
	const char *const ehlo_tls[] = {CAPS_TLS, "220 2.0.0 go ahead\r\n",
					NULL};
	const char *const ehlo2[] = {CAPS_NONE, NULL};
	const char *const refused[] = {CAPS_TLS,
				       "454 4.7.0 TLS not available\r\n", NULL};
	const char *const plain[] = {CAPS_NONE, NULL};

	tls_session(&s, SMTP_TLS_MAY, NULL);
	feed(&s, ehlo_tls);
	is_str(buf_cstr(&s.wire), "EHLO client.example\r\n|STARTTLS\r\n",
	       "may: STARTTLS when offered");
	is_int(s.e.want, SMTP_WANT_TLS, "220: the driver's handshake next");
	smtp_engine_tls_done(&s.e, 1, NULL, NULL);
	ok(!s.e.caps.starttls && !s.e.caps.pipelining && s.e.tls_active,
	   "after the handshake the first EHLO's answer is forgotten");
	buf_reset(&s.wire);
	feed(&s, ehlo2);
	is_str(buf_cstr(&s.wire), "EHLO client.example\r\n",
	       "EHLO again (RFC 3207 4.2), no second STARTTLS");
	is_int(s.e.want, SMTP_WANT_READY, "then ready");
	close_script(&s);

	tls_session(&s, SMTP_TLS_MAY, NULL);
	feed(&s, ehlo_tls);
	smtp_engine_tls_done(&s.e, 0, "4.7.5", "Cannot start TLS: handshake");
	ok(s.e.want == SMTP_WANT_BROKEN && s.e.tls_failed,
	   "a failed handshake breaks the session, marked for a retry");
	is_str(s.e.fail_dsn, "4.7.5", "with the driver's status");
	close_script(&s);

	tls_session(&s, SMTP_TLS_MAY, NULL);
	feed(&s, refused);
	is_int(s.e.want, SMTP_WANT_READY,
	       "may: a refused STARTTLS goes on in clear text");
	close_script(&s);

	tls_session(&s, SMTP_TLS_MUST, NULL);
	feed(&s, refused);
	is_int(s.e.want, SMTP_WANT_BROKEN,
	       "encrypt: a refused STARTTLS breaks");
	is_str(s.e.fail_text,
	       "TLS is required, but host " PEER " refused to start TLS: 454 "
	       "4.7.0 TLS not available",
	       "saying so");
	is_str(s.e.fail_dsn, "4.7.0", "with the server's code");
	close_script(&s);

	tls_session(&s, SMTP_TLS_MUST, NULL);
	feed(&s, plain);
	is_str(s.e.fail_text,
	       "TLS is required, but was not offered by host " PEER,
	       "encrypt: no STARTTLS offered breaks the session");
	is_str(s.e.fail_dsn, "4.7.4", "with 4.7.4");
	close_script(&s);

	tls_session(&s, SMTP_TLS_NONE, NULL);
	feed(&s, (const char *const[]){CAPS_TLS, NULL});
	ok(s.e.want == SMTP_WANT_READY &&
	       strstr(s.wire.data, "STARTTLS") == NULL,
	   "none: no STARTTLS even when offered");
	close_script(&s);
}

/* A session over TLS that has credentials, its wire emptied. */
static void
auth_session(struct script *s)
{
	const char *const tls[] = {CAPS_TLS, "220 go\r\n", NULL};

	tls_session(s, SMTP_TLS_MUST, "u@example.net");
	feed(s, tls);
	smtp_engine_tls_done(&s->e, 1, NULL, NULL);
	buf_reset(&s->wire);
}

static void
test_auth(void)
{
	struct script s;
	const char *const plain_ok[] = {CAPS_AUTH, "235 2.7.0 ok\r\n", NULL};
	const char *const login[] = {
	    "250-x\r\n250 AUTH=LOGIN\r\n", "334 VXNlcm5hbWU6\r\n",
	    "334 UGFzc3dvcmQ6\r\n", "235 2.7.0 ok\r\n", NULL};
	const char *const refused[] = {
	    CAPS_AUTH, "535 5.7.8 Error: authentication failed\r\n", NULL};
	const char *const cram[] = {"250-x\r\n250 AUTH CRAM-MD5\r\n", NULL};

	auth_session(&s);
	feed(&s, plain_ok);
	is_str(buf_cstr(&s.wire),
	       "EHLO client.example\r\n|AUTH PLAIN AHVAZXhhbXBsZS5uZXQAcGE6c3M="
	       "\r\n",
	       "over TLS: AUTH PLAIN with the initial response");
	is_int(s.e.want, SMTP_WANT_READY, "235: ready");
	close_script(&s);

	auth_session(&s);
	feed(&s, login);
	is_str(buf_cstr(&s.wire),
	       "EHLO client.example\r\n|AUTH LOGIN\r\n|dUBleGFtcGxlLm5ldA==\r\n"
	       "|cGE6c3M=\r\n",
	       "LOGIN only (AUTH=): user, then password, after each 334");
	is_int(s.e.want, SMTP_WANT_READY, "235: ready");
	close_script(&s);

	auth_session(&s);
	feed(&s, refused);
	is_int(s.e.want, SMTP_WANT_BROKEN, "535 breaks the session");
	is_str(s.e.fail_text,
	       "SASL authentication failed; server " PEER " said: 535 5.7.8 "
	       "Error: authentication failed",
	       "with the server's reply kept");
	is_str(s.e.fail_dsn, "4.7.8", "as a temporary failure");
	close_script(&s);

	tls_session(&s, SMTP_TLS_MAY, "u@example.net");
	feed(&s, (const char *const[]){CAPS_AUTH, NULL});
	is_int(s.e.want, SMTP_WANT_BROKEN,
	       "credentials, AUTH offered, no STARTTLS: broken");
	ok(strstr(buf_cstr(&s.wire), "AUTH") == NULL,
	   "and no AUTH was sent in clear text");
	is_str(s.e.fail_text,
	       "TLS is required for SASL authentication, but was not offered "
	       "by host " PEER,
	       "saying why");
	close_script(&s);

	auth_session(&s);
	feed(&s, cram);
	is_str(s.e.fail_text,
	       "SASL authentication failed: host " PEER " offers no mechanism "
	       "Moat uses (PLAIN, LOGIN)",
	       "no common mechanism: broken, nothing sent");
	close_script(&s);

	auth_session(&s);
	feed(&s, (const char *const[]){CAPS_NONE, NULL});
	is_int(s.e.want, SMTP_WANT_READY,
	       "a server that offers no AUTH is used without it");
	close_script(&s);
}

static void
test_stages(void)
{
	is_str(smtp_stage_name(SMTP_STAGE_RCPT), "RCPT TO", "stage RCPT");
	is_str(smtp_stage_name(SMTP_STAGE_DOT), "end of DATA", "stage DOT");
	is_str(smtp_stage_name(SMTP_STAGE_COUNT), "?", "no stage");
}

int
main(void)
{
	test_pipelined();
	test_plain();
	test_all_refused();
	test_refusals();
	test_early();
	test_dsn_params();
	test_failures();
	test_reuse();
	test_starttls();
	test_auth();
	test_stages();
	return done_testing();
}
