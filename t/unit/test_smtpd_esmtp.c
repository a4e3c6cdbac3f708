/*
 * test_smtpd_esmtp: SMTPUTF8, DSN and CHUNKING in smtpd's pure parts: the
 * parser of MAIL and RCPT parameters (every keyword, bad values,
 * duplicates, xtext), the session's replies and what it keeps for
 * cleanup, BDAT's states and refusals (each leaving the chunk's bytes to
 * be discarded), and the chunk reader: exact byte counts, a CR LF split
 * between chunks, dots that end nothing, bare line ends refused.
 */
#include <string.h>
#include <strings.h>

#include "smtpd_bdat.h"
#include "smtpd_esmtp.h"
#include "smtpd_reply.h"
#include "smtpd_session.h"
#include "tap.h"

static struct smtpd_config cfg = {
    .myhostname = "mx.example.com",
    .banner = "mx.example.com ESMTP",
    .message_size_limit = 1000,
    .recipient_limit = 100,
    .soft_error_limit = 10,
    .hard_error_limit = 50,
};

static int
fake_domain(void *ctx, const char *domain)
{
	return strcmp(domain, "example.com") == 0;
}

static int
fake_user(void *ctx, const char *local)
{
	return strcasecmp(local, "alice") == 0 ||
	       strcmp(local, "j\xc3\xb6rg") == 0;
}

static const struct smtpd_lookup lookup = {NULL, fake_domain, fake_user};
static struct smtpd_session S;
static char reply[4096];
static enum smtpd_action act;

static const char *
cmd(const char *line)
{
	act = smtpd_session_input_line(&S, line, strlen(line));
	strlcpy(reply, buf_cstr(&S.reply), sizeof(reply));
	buf_reset(&S.reply);
	buf_reset(&S.log);
	return reply;
}

static const char *
take(enum smtpd_action a)
{
	act = a;
	strlcpy(reply, buf_cstr(&S.reply), sizeof(reply));
	buf_reset(&S.reply);
	buf_reset(&S.log);
	return reply;
}

static void
start(void)
{
	smtpd_session_free(&S);
	smtpd_session_init(&S, &cfg, &lookup, "192.0.2.1", "unknown", 0);
	smtpd_session_greeting(&S);
	cmd("EHLO client.example");
}

#define R(line, want, name) is_str(cmd(line), want "\r\n", name)

static enum smtpd_param_error
parse(const char *p, int mail, struct smtpd_params *out)
{
	struct smtpd_param_fault f;

	return smtpd_params_parse(p, strlen(p), mail, out, &f);
}

/* Parameters refused, each with the parser's verdict. */
static const struct {
	const char *text;
	int mail;
	enum smtpd_param_error want;
	const char *name;
} refused[] = {
    {" NOTIFY=NEVER", 1, SMTPD_PARAM_UNKNOWN, "NOTIFY is not MAIL's"},
    {" RET=FULL", 0, SMTPD_PARAM_UNKNOWN, "RET is not RCPT's"},
    {" RET=ALL", 1, SMTPD_PARAM_BAD_VALUE, "RET=ALL"},
    {" RET", 1, SMTPD_PARAM_BAD_VALUE, "RET without ="},
    {" SMTPUTF8=yes", 1, SMTPD_PARAM_BAD_VALUE, "SMTPUTF8 takes no value"},
    {" ENVID=a+0Ab", 1, SMTPD_PARAM_BAD_VALUE,
     "ENVID decoding to a control refused"},
    {" ENVID=a+", 1, SMTPD_PARAM_BAD_VALUE, "bad xtext refused"},
    {" ORCPT=a@b", 0, SMTPD_PARAM_BAD_VALUE, "ORCPT without a type"},
    {" ORCPT=rfc822;a+0Db", 0, SMTPD_PARAM_BAD_VALUE,
     "ORCPT decoding to CR refused"},
    {" NOTIFY=NEVER,DELAY", 0, SMTPD_PARAM_BAD_VALUE, "NEVER with DELAY"},
    {" RET=FULL RET=HDRS", 1, SMTPD_PARAM_DUPLICATE, "RET twice"},
    {" BODY=BINARYMIME", 1, SMTPD_PARAM_UNKNOWN, "BINARYMIME is not offered"},
    {" SIZE=1x", 1, SMTPD_PARAM_BAD_SIZE, "SIZE must be a number"},
};

static void
test_params(void)
{
	struct smtpd_params p;
	struct smtpd_param_fault f;
	const char *s;
	size_t i;

	is_int(parse("", 1, &p), SMTPD_PARAM_OK, "no parameters");
	is_int(parse(" SIZE=100 BODY=8BITMIME SMTPUTF8 RET=hdrs "
		     "ENVID=QQ+2B314",
		     1, &p),
	       SMTPD_PARAM_OK, "every MAIL parameter");
	ok(p.size == 100 && p.body_8bit && (p.seen & SMTPD_P_SMTPUTF8) &&
	       p.ret == DSN_RET_HDRS,
	   "their values");
	is_str(p.envid, "QQ+314", "ENVID decoded");
	is_int(parse(" NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@example.com", 0,
		     &p),
	       SMTPD_PARAM_OK, "every RCPT parameter");
	is_int(p.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY, "NOTIFY");
	is_str(p.orcpt, "rfc822;a+b@example.com", "ORCPT type kept, decoded");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		is_int(parse(refused[i].text, refused[i].mail, &p),
		       refused[i].want, refused[i].name);
	is_int(parse("SIZE=1", 1, &p), SMTPD_PARAM_SYNTAX, "no blank first");
	s = " SIZE=1 X-FOO=bar";
	smtpd_params_parse(s, strlen(s), 1, &p, &f);
	ok(f.param == s + 8 && f.param_len == 9 && f.keyword == NULL,
	   "the fault points at the unknown parameter");
}

static void
test_smtputf8(void)
{
	start();
	R("MAIL FROM:<j\xc3\xb6rg@remote.example>",
	  "553 5.6.7 Error: a UTF-8 address needs MAIL FROM with SMTPUTF8",
	  "UTF-8 sender without SMTPUTF8 refused");
	R("MAIL FROM:<j\xc3\xb6rg@remote.example> SMTPUTF8", "250 2.1.0 Ok",
	  "UTF-8 sender with SMTPUTF8");
	ok(S.ext.smtputf8, "the transaction is SMTPUTF8");
	R("RCPT TO:<j\xc3\xb6rg@example.com>", "250 2.1.5 Ok",
	  "UTF-8 local recipient");
	is_str(S.rcpt[0], "j\xc3\xb6rg@example.com", "kept as UTF-8");
	R("RCPT TO:<j\xc3\xb6rg\xc2\x85@example.com>",
	  "501 5.1.3 Bad recipient address syntax", "a C1 control refused");
	R("RCPT TO:<j\xc0\xafrg@example.com>",
	  "501 5.1.3 Bad recipient address syntax", "an overlong refused");
	cmd("RSET");
	ok(!S.ext.smtputf8, "RSET forgets SMTPUTF8");
	cmd("MAIL FROM:<a@remote.example>");
	R("RCPT TO:<j\xc3\xb6rg@example.com>",
	  "553 5.6.7 Error: a UTF-8 address needs MAIL FROM with SMTPUTF8",
	  "UTF-8 recipient without SMTPUTF8 refused");
	R("RCPT TO:<alice@example.com>", "250 2.1.5 Ok", "ASCII goes on");
}

static void
test_dsn(void)
{
	start();
	R("MAIL FROM:<a@remote.example> RET=HDRS ENVID=QQ314159",
	  "250 2.1.0 Ok", "RET and ENVID");
	ok(S.ext.ret == DSN_RET_HDRS, "RET kept");
	is_str(S.ext.envid, "QQ314159", "ENVID kept");
	R("RCPT TO:<alice@example.com> NOTIFY=SUCCESS "
	  "ORCPT=rfc822;Alice+40example.com",
	  "250 2.1.5 Ok", "NOTIFY and ORCPT");
	R("RCPT TO:<alice@example.com> NOTIFY=NEVER", "250 2.1.5 Ok", "NEVER");
	R("RCPT TO:<alice@example.com> NOTIFY=BOTH",
	  "501 5.5.4 Bad NOTIFY parameter syntax", "bad NOTIFY");
	R("RCPT TO:<alice@example.com> NOTIFY=NEVER NOTIFY=NEVER",
	  "501 5.5.4 Error: duplicate NOTIFY parameter", "NOTIFY twice");
	is_int(S.ext.rcpt_count, 2, "one DSN entry per accepted recipient");
	ok(S.ext.rcpt[0].notify == DSN_NOTIFY_SUCCESS &&
	       strcmp(S.ext.rcpt[0].orcpt, "rfc822;Alice@example.com") == 0,
	   "first recipient's NOTIFY and ORCPT");
	ok(S.ext.rcpt[1].notify == DSN_NOTIFY_NEVER &&
	       S.ext.rcpt[1].orcpt == NULL,
	   "second recipient's");
	cmd("RSET");
	is_int(S.ext.rcpt_count, 0, "RSET forgets them");
	is_str(S.ext.envid, "", "and ENVID");
}

static void
mail_rcpt(void)
{
	start();
	cmd("MAIL FROM:<a@remote.example>");
	cmd("RCPT TO:<alice@example.com>");
}

static void
test_bdat_states(void)
{
	struct smtpd_data_result r = {
	    -1, 250, "2.0.0", "Ok: queued", "0123456789ABCDEF0123456", 10};

	smtpd_session_free(&S);
	smtpd_session_init(&S, &cfg, &lookup, "192.0.2.1", "unknown", 0);
	smtpd_session_greeting(&S);
	take(SMTPD_ACT_REPLY);
	R("BDAT 5", "503 5.5.1 Error: send HELO/EHLO first",
	  "BDAT before EHLO");
	ok(act == SMTPD_ACT_BDAT && !S.ext.chunk_store && S.ext.chunk_size == 5,
	   "  its 5 bytes are to be discarded");
	cmd("EHLO client.example");
	R("BDAT 5", "503 5.5.1 Error: need MAIL command", "BDAT without MAIL");
	ok(act == SMTPD_ACT_BDAT && !S.ext.chunk_store, "  discarded");
	cmd("MAIL FROM:<a@remote.example>");
	R("BDAT 5 LAST", "503 5.5.1 Error: need RCPT command",
	  "BDAT without RCPT");
	cmd("RCPT TO:<alice@example.com>");
	R("BDAT x", "501 5.5.4 Syntax: BDAT count [LAST]",
	  "BDAT without a size");
	is_int(act, SMTPD_ACT_CLOSE, "  closes: the chunk cannot be skipped");

	mail_rcpt();
	is_str(cmd("BDAT 600"), "", "a chunk within the limit: no reply yet");
	ok(act == SMTPD_ACT_BDAT && S.ext.chunk_store, "  to be stored");
	is_str(take(smtpd_session_bdat_started(&S, 1)), "", "cleanup opened");
	is_str(take(smtpd_session_bdat_chunk(&S, -1)),
	       "250 2.0.0 Ok: 600 octets\r\n", "the chunk is acknowledged");
	R("DATA", "503 5.5.1 Error: DATA after BDAT in one transaction",
	  "DATA after BDAT refused");
	R("BDAT 401 LAST", "552 5.3.4 Message size exceeds fixed limit",
	  "the sum over message_size_limit refused before any byte");
	ok(act == SMTPD_ACT_BDAT && !S.ext.chunk_store &&
	       S.ext.chunk_size == 401,
	   "  its bytes discarded");
	ok(!S.ext.bdat && !S.have_sender, "  and the transaction is over");

	mail_rcpt();
	R("BDAT 1001", "552 5.3.4 Message size exceeds fixed limit",
	  "one chunk over the limit");
	R("BDAT 99999999999999999999 LAST",
	  "503 5.5.1 Error: need MAIL command",
	  "after it, BDAT needs MAIL again (a huge size saturates)");

	mail_rcpt();
	cmd("BDAT 10");
	take(smtpd_session_bdat_started(&S, 0));
	is_str(reply, "451 4.3.0 Error: queue file write error\r\n",
	       "cleanup unavailable: 451");
	ok(act == SMTPD_ACT_BDAT && !S.ext.chunk_store && !S.have_sender,
	   "  the chunk discarded, the transaction over");

	mail_rcpt();
	cmd("BDAT 10");
	take(smtpd_session_bdat_started(&S, 1));
	is_str(take(smtpd_session_bdat_chunk(&S, SMTPD_R_BARE_EOL)),
	       "550 5.6.0 Error: bare <LF> or <CR> in message; use "
	       "<CR><LF>\r\n",
	       "a bare line end in a chunk refuses it");
	ok(!S.ext.bdat && !S.have_sender, "  and ends the transaction");

	mail_rcpt();
	cmd("BDAT 3");
	take(smtpd_session_bdat_started(&S, 1));
	take(smtpd_session_bdat_chunk(&S, -1));
	is_str(cmd("BDAT 0 LAST"), "", "BDAT 0 LAST");
	ok(S.ext.chunk_last && S.ext.chunk_store, "  the last chunk");
	is_str(take(smtpd_session_data_done(&S, &r)),
	       "250 2.0.0 Ok: queued as 0123456789ABCDEF0123456\r\n",
	       "the message is queued");
	smtpd_session_disconnect(&S);
	ok(strstr(buf_cstr(&S.log), " bdat=2 ") != NULL,
	   "the disconnect line counts BDAT");
	buf_reset(&S.log);

	mail_rcpt();
	cmd("BDAT 3");
	take(smtpd_session_bdat_started(&S, 1));
	take(smtpd_session_bdat_chunk(&S, -1));
	R("RSET", "250 2.0.0 Ok", "RSET between chunks");
	ok(!S.ext.bdat, "  ends the BDAT transaction");
}

/* Take the chunk in pieces of n, as it may arrive. */
static size_t
feed(struct smtpd_chunk *c, struct smtp_data *d, const char *p, size_t len,
     size_t piece, struct buf *out)
{
	size_t off = 0, n, took;

	while (off < len && c->left > 0) {
		n = len - off < piece ? len - off : piece;
		took = smtpd_chunk_take(c, d, p + off, n, out);
		off += took;
	}
	return off;
}

static void
test_chunks(void)
{
	struct smtp_data d;
	struct smtpd_chunk c;
	struct buf out = BUF_INIT;
	const char *one = "Subject: x\r\n\r\nline\r", *two = "\n.\r\nend\r\n";
	const char *tail = "BDAT 1 LAST\r\n";
	char both[64];
	size_t n;

	smtp_data_init_chunked(&d, 1000, 10000);
	c.left = strlen(one);
	c.store = 1;
	n = feed(&c, &d, one, strlen(one), 3, &out);
	is_int(n, strlen(one), "the first chunk is taken exactly");
	snprintf(both, sizeof(both), "%s%s", two, tail);
	c.left = strlen(two);
	n = feed(&c, &d, both, strlen(both), 5, &out);
	is_int(n, strlen(two), "the second stops at its count, not at a line");
	smtp_data_end_chunked(&d);
	is_int(d.error, SMTP_DATA_OK, "no error");
	is_str(buf_cstr(&out), "Subject: x\n\nline\n.\nend\n",
	       "CR LF split between chunks is one line end; \".\" ends "
	       "nothing");

	smtp_data_init_chunked(&d, 1000, 10000);
	buf_reset(&out);
	c.left = 8;
	feed(&c, &d, "a\nb\r\nc\r\n", 8, 8, &out);
	is_int(d.error, SMTP_DATA_BARE_EOL, "a bare LF in a chunk is refused");
	smtp_data_init_chunked(&d, 1000, 10000);
	c.left = 4;
	feed(&c, &d, "ab\rc", 4, 1, &out);
	is_int(d.error, SMTP_DATA_BARE_EOL, "a bare CR in a chunk is refused");
	smtp_data_init_chunked(&d, 1000, 10000);
	c.left = 3;
	feed(&c, &d, "ab\r", 3, 1, &out);
	is_int(d.error, SMTP_DATA_OK, "a CR at a chunk's end waits");
	smtp_data_end_chunked(&d);
	is_int(d.error, SMTP_DATA_BARE_EOL, "  and is bare after LAST");
	buf_reset(&out);
	c.left = 5;
	c.store = 0;
	is_int(smtpd_chunk_take(&c, &d, "abcdefgh", 8, &out), 5,
	       "a discarded chunk takes its count");
	is_int(out.len, 0, "  and stores nothing");
	buf_free(&out);
}

int
main(void)
{
	test_params();
	test_smtputf8();
	test_dsn();
	test_bdat_states();
	test_chunks();
	smtpd_session_free(&S);
	return done_testing();
}
