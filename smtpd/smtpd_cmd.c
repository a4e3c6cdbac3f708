/*
 * smtpd_cmd: the SMTP commands that carry no address: EHLO, HELO, DATA,
 * RSET, NOOP, VRFY, EXPN, ETRN, HELP, QUIT.  Arguments are hostile client
 * text.  VRFY and EXPN never look anything up, so smtpd is no user-name
 * oracle.  Pure; run by smtpd.
 */
#include <stdio.h>
#include <string.h>

#include "queue_file.h"
#include "smtpd_cmd.h"

/* A HELO/EHLO argument: one word of printable ASCII, kept for the log. */
static int
helo_valid(const char *arg, size_t len)
{
	size_t i;

	if (len == 0 || len > SMTPD_HELO_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)arg[i] <= 0x20 ||
		    (unsigned char)arg[i] >= 0x7f)
			return 0;
	return 1;
}

static void
set_helo(struct smtpd_session *s, const char *arg, size_t len, int esmtp)
{
	smtpd_session_reset(s);
	memcpy(s->helo, arg, len);
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	s->state = SMTPD_ST_READY;
}

enum smtpd_action
smtpd_cmd_ehlo(struct smtpd_session *s, const char *arg, size_t len)
{
	char size[32];

	if (!helo_valid(arg, len))
		return smtpd_session_reply(s, SMTPD_R_EHLO_SYNTAX, NULL);
	set_helo(s, arg, len, 1);
	snprintf(size, sizeof(size), "SIZE %zu", s->cfg->message_size_limit);
	smtpd_reply_put_custom(&s->reply, 250, NULL, s->cfg->myhostname, 1);
	smtpd_reply_put_custom(&s->reply, 250, NULL, "PIPELINING", 1);
	smtpd_reply_put_custom(&s->reply, 250, NULL, size, 1);
	smtpd_reply_put_custom(&s->reply, 250, NULL, "8BITMIME", 1);
	/* RFC 6531, 3461, 3030; BINARYMIME is not offered. */
	smtpd_reply_put_custom(&s->reply, 250, NULL, "SMTPUTF8", 1);
	smtpd_reply_put_custom(&s->reply, 250, NULL, "DSN", 1);
	smtpd_reply_put_custom(&s->reply, 250, NULL, "CHUNKING", 1);
	smtpd_reply_put_custom(&s->reply, 250, NULL, "ENHANCEDSTATUSCODES", 0);
	s->last_code = 250;
	return SMTPD_ACT_REPLY;
}

enum smtpd_action
smtpd_cmd_helo(struct smtpd_session *s, const char *arg, size_t len)
{
	if (!helo_valid(arg, len))
		return smtpd_session_reply(s, SMTPD_R_HELO_SYNTAX, NULL);
	set_helo(s, arg, len, 0);
	return smtpd_session_reply(s, SMTPD_R_HELO, s->cfg->myhostname);
}

enum smtpd_action
smtpd_cmd_data(struct smtpd_session *s, const char *arg, size_t len)
{
	if (s->state == SMTPD_ST_GREETED)
		return smtpd_session_reply(s, SMTPD_R_NEED_HELO, NULL);
	if (!s->have_sender)
		return smtpd_session_reply(s, SMTPD_R_NEED_MAIL, NULL);
	if (s->rcpt_count == 0)
		return smtpd_session_reply(s, SMTPD_R_NEED_RCPT, NULL);
	if (len > 0)
		return smtpd_session_reply(s, SMTPD_R_NOARG_SYNTAX, "DATA");
	if (s->ext.bdat) /* RFC 3030 2: no mixing in one transaction */
		return smtpd_session_reply(s, SMTPD_R_DATA_AFTER_BDAT, NULL);
	return SMTPD_ACT_DATA;
}

enum smtpd_action
smtpd_cmd_rset(struct smtpd_session *s, const char *arg, size_t len)
{
	if (len > 0)
		return smtpd_session_reply(s, SMTPD_R_NOARG_SYNTAX, "RSET");
	smtpd_session_reset(s);
	return smtpd_session_reply(s, SMTPD_R_OK, NULL);
}

enum smtpd_action
smtpd_cmd_noop(struct smtpd_session *s, const char *arg, size_t len)
{
	return smtpd_session_reply(s, SMTPD_R_OK, NULL);
}

enum smtpd_action
smtpd_cmd_vrfy(struct smtpd_session *s, const char *arg, size_t len)
{
	/* The same answer for every argument: no lookup, no oracle. */
	if (len == 0)
		return smtpd_session_reply(s, SMTPD_R_VRFY_SYNTAX, NULL);
	return smtpd_session_reply(s, SMTPD_R_VRFY, NULL);
}

enum smtpd_action
smtpd_cmd_expn(struct smtpd_session *s, const char *arg, size_t len)
{
	return smtpd_session_reply(s, SMTPD_R_EXPN, NULL);
}

enum smtpd_action
smtpd_cmd_etrn(struct smtpd_session *s, const char *arg, size_t len)
{
	return smtpd_session_reply(s, SMTPD_R_ETRN, NULL);
}

enum smtpd_action
smtpd_cmd_help(struct smtpd_session *s, const char *arg, size_t len)
{
	return smtpd_session_reply(s, SMTPD_R_HELP, NULL);
}

enum smtpd_action
smtpd_cmd_quit(struct smtpd_session *s, const char *arg, size_t len)
{
	if (len > 0)
		return smtpd_session_reply(s, SMTPD_R_NOARG_SYNTAX, "QUIT");
	smtpd_session_reply(s, SMTPD_R_BYE, NULL);
	s->state = SMTPD_ST_QUIT;
	return SMTPD_ACT_CLOSE;
}

enum smtpd_action
smtpd_session_data_started(struct smtpd_session *s, int ok)
{
	s->delay = 0;
	if (!ok)
		return smtpd_session_reject(s, "DATA", SMTPD_R_QUEUE_ERROR,
					    NULL, NULL);
	s->state = SMTPD_ST_DATA;
	return smtpd_session_reply(s, SMTPD_R_DATA_GO, NULL);
}

/* cleanup's refusal, passed on when it is a well-formed 4xx or 5xx. */
static int
cleanup_refusal(const struct smtpd_data_result *r, struct buf *line)
{
	char text[200];

	if (r->code < 400 || r->code > 599 || r->dsn == NULL ||
	    !smtpd_reply_dsn_valid(r->dsn) || r->dsn[0] != '0' + r->code / 100)
		return -1;
	smtpd_reply_sanitize(r->text ? r->text : "",
			     r->text ? strlen(r->text) : 0, sizeof(text) - 4,
			     text, sizeof(text));
	smtpd_reply_put_custom(line, r->code, r->dsn,
			       text[0] ? text : "Error: message refused", 0);
	return 0;
}

static enum smtpd_action
data_outcome(struct smtpd_session *s, const struct smtpd_data_result *r)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];
	const char *to = s->rcpt_count > 0 ? s->rcpt[0] : NULL;
	struct buf line = BUF_INIT;
	enum smtpd_action act;

	if (r->reject_id < 0 && r->code == 250 && r->queue_id != NULL &&
	    queue_id_valid(r->queue_id)) {
		smtpd_session_log(
		    s, "%s: client=%s", r->queue_id,
		    smtpd_session_client(s, client, sizeof(client)));
		s->cmd_ok[s->ext.bdat ? SMTPD_CMD_BDAT : SMTPD_CMD_DATA]++;
		return smtpd_session_reply(s, SMTPD_R_QUEUED, r->queue_id);
	}
	if (r->reject_id >= 0 && r->reject_id < SMTPD_R_COUNT)
		return smtpd_session_reject(s, "END-OF-MESSAGE", r->reject_id,
					    NULL, to);
	if (cleanup_refusal(r, &line) != 0)
		return smtpd_session_reject(s, "END-OF-MESSAGE",
					    SMTPD_R_QUEUE_ERROR, NULL, to);
	smtpd_session_log_reject(s, "END-OF-MESSAGE", &line, to);
	buf_append(&s->reply, line.data, line.len);
	act = smtpd_session_account(s, r->code);
	buf_free(&line);
	return act;
}

enum smtpd_action
smtpd_session_data_done(struct smtpd_session *s,
			const struct smtpd_data_result *r)
{
	enum smtpd_action act;

	s->delay = 0;
	s->last_cmd = "END-OF-MESSAGE";
	act = data_outcome(s, r);
	smtpd_session_reset(s);
	return act;
}
