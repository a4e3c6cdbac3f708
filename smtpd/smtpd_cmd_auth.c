/*
 * smtpd_cmd_auth: AUTH PLAIN and LOGIN (RFC 4954) in the state machine,
 * offered and accepted only inside TLS, so a password never crosses the
 * network in clear and no 535 is ever sent in clear text (before TLS
 * AUTH gets 530, or 503 where AUTH is off).  The session collects the
 * user and password through the 334 exchange and hands them to the
 * caller (SMTPD_ACT_AUTH), which asks auth(8); a failure counts as an
 * error and delays the reply longer each time.  Also the sender
 * restrictions of MAIL FROM (smtpd_sender_login_maps).  Input: hostile
 * client text, decoded by smtpd_sasl.c.  Pure; run by smtpd.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtpd_cmd.h"
#include "smtpd_sasl.h"
#include "smtpd_security.h"

#define AUTH_DELAY_MAX 10 /* smtpd_error_sleep_time periods at most */
#define AUTH_STEP_PLAIN 1 /* the next line is PLAIN's message */
#define AUTH_STEP_USER 2  /* LOGIN's user name */
#define AUTH_STEP_PASS 3  /* LOGIN's password */
#define AUTH_DECODE_MAX (SMTPD_AUTH_USER_MAX + SMTPD_AUTH_PASS_MAX + 260)
#define CHALLENGE_USER "VXNlcm5hbWU6" /* "Username:" */
#define CHALLENGE_PASS "UGFzc3dvcmQ6" /* "Password:" */

void
smtpd_session_auth_forget(struct smtpd_session *s)
{
	explicit_bzero(s->sec.auth_pass, sizeof(s->sec.auth_pass));
}

/* The exchange is over without a verdict: forget it, reply id. */
static enum smtpd_action
auth_abort(struct smtpd_session *s, enum smtpd_reply_id id)
{
	s->sec.auth_step = 0;
	smtpd_session_auth_forget(s);
	s->last_cmd = "AUTH";
	return smtpd_session_reply(s, id, NULL);
}

static enum smtpd_action
auth_challenge(struct smtpd_session *s, int step, const char *text)
{
	s->sec.auth_step = step;
	s->last_code = smtpd_reply_put(&s->reply, SMTPD_R_AUTH_CHALLENGE, text);
	return SMTPD_ACT_REPLY;
}

/* One step's decoded bytes; the action, SMTPD_ACT_AUTH when complete. */
static enum smtpd_action
auth_take(struct smtpd_session *s, int step, const unsigned char *msg,
	  size_t len)
{
	struct smtpd_sec_state *st = &s->sec;
	enum smtpd_sasl_error e;

	if (step == AUTH_STEP_PLAIN)
		e = smtpd_sasl_plain(msg, len, st->auth_user,
				     sizeof(st->auth_user), st->auth_pass,
				     sizeof(st->auth_pass));
	else if (step == AUTH_STEP_USER)
		e = smtpd_sasl_user(msg, len, st->auth_user,
				    sizeof(st->auth_user));
	else
		e = smtpd_sasl_pass(msg, len, st->auth_pass,
				    sizeof(st->auth_pass));
	if (e != SMTPD_SASL_OK)
		return auth_abort(s, SMTPD_R_AUTH_DECODE);
	if (step == AUTH_STEP_USER)
		return auth_challenge(s, AUTH_STEP_PASS, CHALLENGE_PASS);
	st->auth_step = 0;
	s->last_cmd = "AUTH";
	return SMTPD_ACT_AUTH;
}

/* Decode a base64 line (or "=" as the empty initial response). */
static enum smtpd_action
auth_response(struct smtpd_session *s, int step, const char *b64, size_t len,
	      int initial)
{
	unsigned char msg[AUTH_DECODE_MAX];
	enum smtpd_action act;
	size_t n = 0;

	if (initial && len == 1 && b64[0] == '=')
		len = 0;
	if (smtpd_sasl_base64_decode(b64, len, msg, sizeof(msg), &n) !=
	    SMTPD_SASL_OK) {
		explicit_bzero(msg, sizeof(msg));
		return auth_abort(s, SMTPD_R_AUTH_DECODE);
	}
	act = auth_take(s, step, msg, n);
	explicit_bzero(msg, sizeof(msg));
	return act;
}

enum smtpd_action
smtpd_auth_continue(struct smtpd_session *s, const char *line, size_t len)
{
	int step = s->sec.auth_step;

	s->sec.auth_step = 0;
	if (len == 1 && line[0] == '*')
		return auth_abort(s, SMTPD_R_AUTH_ABORTED);
	return auth_response(s, step, line, len, 0);
}

/* Why AUTH cannot start now, as a reply id; -1 when it can. */
static int
auth_refusal(const struct smtpd_session *s)
{
	const struct smtpd_security *sec = s->cfg->sec;

	if (sec == NULL || !sec->sasl_enable)
		return SMTPD_R_AUTH_DISABLED;
	if (!s->sec.tls) /* never a password, nor a 535, in clear text */
		return SMTPD_R_NEED_STARTTLS;
	if (s->state == SMTPD_ST_GREETED)
		return SMTPD_R_NEED_HELO;
	if (s->sec.authenticated)
		return SMTPD_R_AUTH_ALREADY;
	if (s->have_sender)
		return SMTPD_R_IN_TRANSACTION;
	return -1;
}

enum smtpd_action
smtpd_cmd_auth(struct smtpd_session *s, const char *arg, size_t len)
{
	int refusal = auth_refusal(s);
	size_t mlen = 0, r;

	if (refusal >= 0)
		return smtpd_session_reply(s, refusal, NULL);
	while (mlen < len && arg[mlen] != ' ')
		mlen++;
	for (r = mlen; r < len && arg[r] == ' '; r++)
		;
	if (mlen == 0)
		return smtpd_session_reply(s, SMTPD_R_AUTH_SYNTAX, NULL);
	s->sec.auth_mech = smtpd_sasl_mech_parse(arg, mlen);
	s->sec.auth_user[0] = '\0';
	if (s->sec.auth_mech == 0)
		return smtpd_session_reply(s, SMTPD_R_AUTH_MECH, NULL);
	if (r < len && memchr(arg + r, ' ', len - r) != NULL)
		return smtpd_session_reply(s, SMTPD_R_AUTH_SYNTAX, NULL);
	if (s->sec.auth_mech == SMTPD_SASL_PLAIN)
		return r < len ? auth_response(s, AUTH_STEP_PLAIN, arg + r,
					       len - r, 1)
			       : auth_challenge(s, AUTH_STEP_PLAIN, "");
	return r < len ? auth_response(s, AUTH_STEP_USER, arg + r, len - r, 1)
		       : auth_challenge(s, AUTH_STEP_USER, CHALLENGE_USER);
}

/* The user name for the log: printable, bounded. */
static void
auth_user_text(const struct smtpd_session *s, char *out, size_t size)
{
	smtpd_reply_sanitize(s->sec.auth_user, strlen(s->sec.auth_user), 64,
			     out, size);
}

/*
 * The warning fail2ban's postfix-sasl filter reads: the client, the
 * mechanism, the reason (for LOGIN, as Postfix, the last challenge) and
 * the user.
 */
static void
auth_log_failure(struct smtpd_session *s, const char *reason)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2], user[80];

	auth_user_text(s, user, sizeof(user));
	smtpd_session_log(s,
			  "warning: %s: SASL %s authentication failed: %s, "
			  "sasl_username=%s",
			  smtpd_session_client(s, client, sizeof(client)),
			  smtpd_sasl_mech_name(s->sec.auth_mech), reason, user);
}

static enum smtpd_action
auth_failed(struct smtpd_session *s)
{
	enum smtpd_action act;

	s->sec.auth_failures++;
	auth_log_failure(s, s->sec.auth_mech == SMTPD_SASL_LOGIN
				? CHALLENGE_PASS
				: "authentication failure");
	act = smtpd_session_reply(s, SMTPD_R_AUTH_FAILED, NULL);
	/* A growing delay: one more error_sleep for every failure. */
	if ((unsigned)s->delay < s->sec.auth_failures)
		s->delay = s->sec.auth_failures < AUTH_DELAY_MAX
			       ? (int)s->sec.auth_failures
			       : AUTH_DELAY_MAX;
	return act;
}

enum smtpd_action
smtpd_session_auth_done(struct smtpd_session *s, enum smtpd_auth_result r)
{
	smtpd_session_auth_forget(s);
	s->delay = 0;
	s->last_cmd = "AUTH";
	switch (r) {
	case SMTPD_AUTH_OK:
		s->sec.authenticated = 1;
		s->cmd_ok[SMTPD_CMD_AUTH]++;
		return smtpd_session_reply(s, SMTPD_R_AUTH_OK, NULL);
	case SMTPD_AUTH_FAIL:
		return auth_failed(s);
	case SMTPD_AUTH_TEMP:
		/* Postfix's words, which fail2ban knows are no attack. */
		auth_log_failure(s, "Connection lost to authentication server");
		return smtpd_session_reply(s, SMTPD_R_AUTH_TEMP, NULL);
	case SMTPD_AUTH_RATE:
		break;
	}
	return smtpd_session_reply(s, SMTPD_R_AUTH_RATE, s->client_addr);
}

void
smtpd_security_log_auth(const struct smtpd_session *s, struct buf *out)
{
	char user[80];

	if (!s->sec.authenticated)
		return;
	auth_user_text(s, user, sizeof(user));
	buf_printf(out, ", sasl_method=%s, sasl_username=%s",
		   smtpd_sasl_mech_name(s->sec.auth_mech), user);
}
