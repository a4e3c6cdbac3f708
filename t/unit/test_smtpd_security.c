/*
 * test_smtpd_security: STARTTLS, AUTH and the sender restrictions in the
 * SMTP state machine, driven line by line: STARTTLS offered only with a
 * certificate and never inside TLS, everything forgotten after the
 * handshake (EHLO again), MAIL refused before TLS under encrypt, AUTH
 * never before TLS and never a 535 in clear text, the 334 exchanges of
 * PLAIN and LOGIN, aborts and bad base64, failures that count and delay
 * longer each time, the relay an authenticated client may use, the
 * protocol word and the log lines in Postfix's shapes (fail2ban's).
 */
#include <string.h>
#include <strings.h>

#include "smtpd_reply.h"
#include "smtpd_security.h"
#include "smtpd_session.h"
#include "tap.h"
#include "tls_files.h"

static int
fake_logins(void *ctx, const char *key, struct buf *logins)
{
	(void)ctx;
	if (strcmp(key, "alice@example.com") == 0) {
		buf_append_str(logins, "alice");
		return 1;
	}
	if (strcmp(key, "@shared.example") == 0) {
		buf_append_str(logins, "bob, alice");
		return 1;
	}
	return strcmp(key, "broken@example.com") == 0 ? -1 : 0;
}

static struct smtpd_security sec = {
    .tls_level = TLS_LEV_MAY,
    .tls_ready = 1,
    .sasl_enable = 1,
    .sender_logins = fake_logins,
};

static struct smtpd_config cfg = {
    .myhostname = "mx.example.com",
    .banner = "mx.example.com ESMTP",
    .message_size_limit = 10240000,
    .recipient_limit = 1000,
    .soft_error_limit = 10,
    .hard_error_limit = 20,
    .sec = &sec,
};

static int
fake_domain(void *ctx, const char *domain)
{
	(void)ctx;
	return strcmp(domain, "example.com") == 0;
}

static int
fake_user(void *ctx, const char *local)
{
	(void)ctx;
	return strcasecmp(local, "alice") == 0;
}

static const struct smtpd_lookup lookup = {NULL, fake_domain, fake_user};

static struct smtpd_session S;
static char reply[4096], logtext[4096];
static enum smtpd_action act;

static const char *
cmd(const char *line)
{
	act = smtpd_session_input_line(&S, line, strlen(line));
	strlcpy(reply, buf_cstr(&S.reply), sizeof(reply));
	strlcpy(logtext, buf_cstr(&S.log), sizeof(logtext));
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
	buf_reset(&S.reply);
	buf_reset(&S.log);
}

static void
handshake(void)
{
	smtpd_session_tls_started(&S, "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256,
				  256);
	strlcpy(logtext, buf_cstr(&S.log), sizeof(logtext));
	buf_reset(&S.log);
}

/* A session inside TLS, after EHLO. */
static void
start_tls(void)
{
	start();
	cmd("EHLO client.example");
	cmd("STARTTLS");
	handshake();
	cmd("EHLO client.example");
}

#define R(line, want, name) is_str(cmd(line), want "\r\n", name)

static void
starttls(void)
{
	start();
	ok(strstr(cmd("EHLO client.example"), "250-STARTTLS\r\n") != NULL,
	   "EHLO offers STARTTLS when a certificate is loaded");
	ok(strstr(reply, "AUTH") == NULL, "and no AUTH before TLS");
	R("STARTTLS now", "501 5.5.4 Syntax: STARTTLS", "STARTTLS takes none");
	R("STARTTLS", "220 2.0.0 Ready to start TLS", "STARTTLS: 220");
	is_int(act, SMTPD_ACT_STARTTLS, "the caller starts the handshake");
	handshake();
	is_str(logtext,
	       "TLS connection established from unknown[192.0.2.1]: TLSv1.3 "
	       "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n",
	       "the handshake is logged in Postfix's words");
	is_int(S.state, SMTPD_ST_GREETED, "the session starts over");
	is_str(S.helo, "", "the clear-text HELO is forgotten");
	R("MAIL FROM:<a@example.org>", "503 5.5.1 Error: send HELO/EHLO first",
	  "no MAIL before a new EHLO");
	cmd("EHLO client.example");
	ok(strstr(reply, "STARTTLS") == NULL,
	   "inside TLS, EHLO offers no STARTTLS");
	ok(strstr(reply, "250-AUTH PLAIN LOGIN\r\n") != NULL,
	   "inside TLS, EHLO offers AUTH PLAIN LOGIN");
	R("STARTTLS", "503 5.5.1 Error: TLS already active",
	  "STARTTLS inside TLS is refused");
	is_str(smtpd_session_protocol(&S), "ESMTPS", "the protocol is ESMTPS");
	is_str(S.sec.tls_info, "TLSv1.3 TLS_AES_256_GCM_SHA384 256 256",
	       "what cleanup gets for the Received header");

	start();
	cmd("EHLO client.example");
	cmd("MAIL FROM:<a@example.org>");
	R("STARTTLS", "503 5.5.1 Error: MAIL transaction in progress",
	  "no STARTTLS inside a transaction");
	sec.tls_ready = 0;
	start();
	ok(strstr(cmd("EHLO client.example"), "STARTTLS") == NULL,
	   "no certificate: no STARTTLS offered");
	R("STARTTLS", "502 5.5.1 Error: command not implemented",
	  "and STARTTLS is not implemented");
	sec.tls_level = TLS_LEV_ENCRYPT;
	R("STARTTLS", "454 4.7.0 TLS not available due to local problem",
	  "required but without a certificate: 454");
	sec.tls_ready = 1;
	sec.tls_level = TLS_LEV_NONE;
	start();
	ok(strstr(cmd("EHLO client.example"), "STARTTLS") == NULL,
	   "level none: no STARTTLS");
}

static void
encrypt_level(void)
{
	sec.tls_level = TLS_LEV_ENCRYPT;
	start();
	cmd("EHLO client.example");
	R("MAIL FROM:<a@example.org>",
	  "530 5.7.0 Must issue a STARTTLS command first",
	  "encrypt: MAIL before STARTTLS is refused");
	R("NOOP", "250 2.0.0 Ok", "other commands still work");
	cmd("STARTTLS");
	handshake();
	cmd("EHLO client.example");
	R("MAIL FROM:<a@example.org>", "250 2.1.0 Ok",
	  "encrypt: MAIL inside TLS is taken");
	sec.tls_level = TLS_LEV_MAY;
}

static void
auth_before_tls(void)
{
	start();
	cmd("EHLO client.example");
	R("AUTH PLAIN AGFsaWNlAHNlY3JldA==",
	  "530 5.7.0 Must issue a STARTTLS command first",
	  "AUTH before TLS: 530, never 535");
	ok(S.sec.auth_user[0] == '\0' && S.sec.auth_pass[0] == '\0',
	   "and the credentials were not even decoded");
	R("AUTH LOGIN", "530 5.7.0 Must issue a STARTTLS command first",
	  "AUTH LOGIN before TLS: 530 too, no 334");
	sec.sasl_enable = 0;
	start_tls();
	R("AUTH PLAIN AGFsaWNlAHNlY3JldA==",
	  "503 5.5.1 Error: authentication not enabled",
	  "where AUTH is off: 503");
	sec.sasl_enable = 1;
}

static void
auth_plain(void)
{
	start_tls();
	is_str(cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), "",
	       "PLAIN with its response: no reply yet");
	is_int(act, SMTPD_ACT_AUTH, "the caller asks auth(8)");
	is_str(S.sec.auth_user, "alice", "the user");
	is_str(S.sec.auth_pass, "secret", "the password");
	smtpd_session_auth_done(&S, SMTPD_AUTH_OK);
	is_str(buf_cstr(&S.reply), "235 2.7.0 Authentication successful\r\n",
	       "235");
	is_str(S.sec.auth_pass, "", "the password is wiped");
	buf_reset(&S.reply);
	is_str(smtpd_session_protocol(&S), "ESMTPSA",
	       "the protocol is ESMTPSA");
	R("AUTH PLAIN AGFsaWNlAHNlY3JldA==",
	  "503 5.5.1 Error: already authenticated", "no second AUTH");
	cmd("MAIL FROM:<alice@example.com>");
	R("RCPT TO:<someone@far.example>", "250 2.1.5 Ok",
	  "an authenticated client may relay");
	cmd("RSET");
	buf_reset(&S.log);
	smtpd_session_disconnect(&S);
	ok(strstr(buf_cstr(&S.log), " ehlo=2 starttls=1 auth=1/2 ") != NULL,
	   "the disconnect line counts starttls=1 auth=1/2 (one refused)");

	start_tls();
	R("AUTH PLAIN", "334 ", "PLAIN without a response: an empty 334");
	cmd("AGFsaWNlAHNlY3JldA==");
	is_int(act, SMTPD_ACT_AUTH, "the response completes it");
	smtpd_session_auth_forget(&S);
	start_tls();
	R("AUTH plain =", "501 5.5.2 Cannot decode response",
	  "an empty PLAIN message is no credentials");
	R("AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==",
	  "501 5.5.2 Cannot decode response",
	  "acting as another user (authzid) is refused");
	R("AUTH PLAIN !!!!", "501 5.5.2 Cannot decode response",
	  "bad base64: 501");
	R("AUTH CRAM-MD5", "504 5.5.4 Unsupported authentication mechanism",
	  "unknown mechanism: 504");
	R("AUTH", "501 5.5.4 Syntax: AUTH mechanism [initial-response]",
	  "AUTH needs a mechanism");
	cmd("MAIL FROM:<a@example.org>");
	R("AUTH PLAIN", "503 5.5.1 Error: MAIL transaction in progress",
	  "no AUTH inside a transaction");
}

static void
auth_login(void)
{
	start_tls();
	R("AUTH LOGIN", "334 VXNlcm5hbWU6", "LOGIN asks for the user name");
	R("YWxpY2U=", "334 UGFzc3dvcmQ6", "then for the password");
	cmd("c2VjcmV0");
	is_int(act, SMTPD_ACT_AUTH, "then auth(8) is asked");
	is_str(S.sec.auth_user, "alice", "the LOGIN user");
	is_str(S.sec.auth_pass, "secret", "the LOGIN password");
	smtpd_session_auth_done(&S, SMTPD_AUTH_FAIL);
	is_str(buf_cstr(&S.reply),
	       "535 5.7.8 Error: authentication failed: authentication "
	       "failure\r\n",
	       "a wrong password: 535 (inside TLS)");
	is_str(buf_cstr(&S.log),
	       "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: "
	       "UGFzc3dvcmQ6, sasl_username=alice\n",
	       "logged as Postfix does, with the user (fail2ban's filter)");
	is_int(S.delay, 1, "the first failure is delayed once");
	is_int(S.errors, 1, "and counts as an error");
	buf_reset(&S.reply);
	buf_reset(&S.log);
	R("AUTH LOGIN YWxpY2U=", "334 UGFzc3dvcmQ6",
	  "LOGIN with the user name given at once");
	cmd("d3Jvbmc=");
	smtpd_session_auth_done(&S, SMTPD_AUTH_FAIL);
	is_int(S.delay, 2, "the second failure is delayed twice as long");
	buf_reset(&S.reply);
	buf_reset(&S.log);
	R("AUTH LOGIN", "334 VXNlcm5hbWU6", "a third try");
	R("*", "501 5.7.0 Authentication aborted", "* aborts it");
	R("NOOP", "250 2.0.0 Ok", "and the next line is a command again");
	R("AUTH LOGIN", "334 VXNlcm5hbWU6", "a fourth");
	R("not base64", "501 5.5.2 Cannot decode response",
	  "a bad answer ends it");
	is_str(cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), "", "once more");
	smtpd_session_auth_done(&S, SMTPD_AUTH_TEMP);
	is_str(buf_cstr(&S.reply),
	       "454 4.7.0 Temporary authentication failure\r\n",
	       "auth(8) unavailable: 454");
	ok(strstr(buf_cstr(&S.log),
		  "authentication failed: Connection lost to authentication "
		  "server") != NULL,
	   "logged in the words fail2ban knows are no attack");
	buf_reset(&S.reply);
	buf_reset(&S.log);
	is_str(cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), "", "and again");
	smtpd_session_auth_done(&S, SMTPD_AUTH_RATE);
	is_str(buf_cstr(&S.reply),
	       "450 4.7.1 Error: too many AUTH commands from 192.0.2.1\r\n",
	       "over smtpd_client_auth_rate_limit: 450");
}

/* The sender restrictions, applied at RCPT TO (smtpd_delay_reject). */
static const char *
sender_then_rcpt(const char *mail)
{
	cmd("RSET");
	is_str(cmd(mail), "250 2.1.0 Ok\r\n", mail);
	return cmd("RCPT TO:<alice@example.com>");
}

static void
sender_restrictions(void)
{
	static const struct restriction senders[] = {
	    {.kind = RESTRICT_REJECT_SENDER_LOGIN_MISMATCH, .index = -1},
	    {.kind = RESTRICT_PERMIT_SASL_AUTHENTICATED, .index = -1},
	    {.kind = RESTRICT_REJECT, .index = -1}};

	sec.list[SMTPD_STAGE_SENDER].item = senders;
	sec.list[SMTPD_STAGE_SENDER].n = 3;
	start_tls();
	is_str(sender_then_rcpt("MAIL FROM:<a@example.org>"),
	       "554 5.7.1 <a@example.org>: Sender address rejected: Access "
	       "denied\r\n",
	       "unauthenticated on a submission service: refused");
	ok(strstr(logtext, "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: "
			   "554 5.7.1 <a@example.org>: Sender address "
			   "rejected: Access denied; from=<a@example.org> "
			   "to=<alice@example.com> proto=ESMTP "
			   "helo=<client.example>") != NULL,
	   "logged with the whole envelope");
	is_str(sender_then_rcpt("MAIL FROM:<alice@example.com>"),
	       "553 5.7.1 <alice@example.com>: Sender address rejected: not "
	       "logged in\r\n",
	       "an owned address without AUTH: not logged in");
	cmd("RSET");
	is_str(cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), "", "AUTH as alice");
	smtpd_session_auth_done(&S, SMTPD_AUTH_OK);
	buf_reset(&S.reply);
	is_str(sender_then_rcpt("MAIL FROM:<bob@example.com>"),
	       "553 5.7.1 <bob@example.com>: Sender address rejected: not "
	       "owned by the user\r\n",
	       "alice may not send as bob");
	is_str(sender_then_rcpt("MAIL FROM:<Alice@Example.COM>"),
	       "250 2.1.5 Ok\r\n", "alice may send as herself (any case)");
	is_str(sender_then_rcpt("MAIL FROM:<carol@shared.example>"),
	       "250 2.1.5 Ok\r\n", "an @domain entry lists her too");
	is_str(sender_then_rcpt("MAIL FROM:<broken@example.com>"),
	       "451 4.3.0 <broken@example.com>: Temporary lookup failure\r\n",
	       "a map that cannot answer: 451");
	is_str(sender_then_rcpt("MAIL FROM:<>"), "250 2.1.5 Ok\r\n",
	       "the null sender is not checked");
	sec.list[SMTPD_STAGE_SENDER].n = 0;
}

int
main(void)
{
	starttls();
	encrypt_level();
	sec.tls_level = TLS_LEV_MAY;
	auth_before_tls();
	auth_plain();
	auth_login();
	sender_restrictions();
	smtpd_session_free(&S);
	return done_testing();
}
