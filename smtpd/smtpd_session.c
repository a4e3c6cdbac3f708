/*
 * smtpd_session: the dispatcher of the SMTP state machine, its table of
 * commands, error accounting and the session's log lines.  Command lines
 * are hostile client bytes of any value; only the verb is looked at here,
 * the rest goes to the command's function in smtpd_cmd*.c.  Pure (no I/O,
 * no globals written); run by smtpd, its unit tests and fuzz target.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd_cmd.h"
#include "smtpd_security.h"

#define VERB_MAX 16 /* longer is no command of ours */

struct smtpd_cmd {
	const char *name;
	enum smtpd_cmd_id id;
	smtpd_cmd_fn fn;
};

/* DEBUG, SHOWQ, WIZ, KILL, TURN and the like are absent on purpose. */
static const struct smtpd_cmd smtpd_cmds[] = {
    {"EHLO", SMTPD_CMD_EHLO, smtpd_cmd_ehlo},
    {"HELO", SMTPD_CMD_HELO, smtpd_cmd_helo},
    {"STARTTLS", SMTPD_CMD_STARTTLS, smtpd_cmd_starttls},
    {"AUTH", SMTPD_CMD_AUTH, smtpd_cmd_auth},
    {"MAIL", SMTPD_CMD_MAIL, smtpd_cmd_mail},
    {"RCPT", SMTPD_CMD_RCPT, smtpd_cmd_rcpt},
    {"DATA", SMTPD_CMD_DATA, smtpd_cmd_data},
    {"BDAT", SMTPD_CMD_BDAT, smtpd_cmd_bdat},
    {"RSET", SMTPD_CMD_RSET, smtpd_cmd_rset},
    {"NOOP", SMTPD_CMD_NOOP, smtpd_cmd_noop},
    {"VRFY", SMTPD_CMD_VRFY, smtpd_cmd_vrfy},
    {"EXPN", SMTPD_CMD_EXPN, smtpd_cmd_expn},
    {"ETRN", SMTPD_CMD_ETRN, smtpd_cmd_etrn},
    {"HELP", SMTPD_CMD_HELP, smtpd_cmd_help},
    {"QUIT", SMTPD_CMD_QUIT, smtpd_cmd_quit},
};

/* Names in the "disconnect" line, by enum smtpd_cmd_id. */
static const char *const smtpd_cmd_names[SMTPD_CMD_COUNT] = {
    "ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "bdat",
    "rset", "noop", "vrfy",     "expn", "etrn", "help", "quit", "unknown",
};

void
smtpd_session_init(struct smtpd_session *s, const struct smtpd_config *cfg,
		   const struct smtpd_lookup *lookup, const char *client_addr,
		   const char *client_name, int trusted)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->lookup = lookup;
	s->state = SMTPD_ST_GREETED;
	s->trusted = trusted;
	s->last_cmd = "CONNECT";
	strlcpy(s->client_addr, client_addr, sizeof(s->client_addr));
	strlcpy(s->client_name, client_name, sizeof(s->client_name));
	buf_init(&s->reply);
	buf_init(&s->log);
	smtpd_session_log(s, "connect from %s",
			  smtpd_session_client(s, client, sizeof(client)));
}

void
smtpd_session_free(struct smtpd_session *s)
{
	smtpd_session_auth_forget(s);
	smtpd_session_reset(s);
	smtpd_esmtp_free(&s->ext);
	free(s->rcpt);
	s->rcpt = NULL;
	s->rcpt_cap = 0;
	buf_free(&s->reply);
	buf_free(&s->log);
}

void
smtpd_session_greeting(struct smtpd_session *s)
{
	s->last_code =
	    smtpd_reply_put(&s->reply, SMTPD_R_GREETING, s->cfg->banner);
}

const char *
smtpd_session_client(const struct smtpd_session *s, char *out, size_t size)
{
	snprintf(out, size, "%s[%s]", s->client_name, s->client_addr);
	return out;
}

void
smtpd_session_log(struct smtpd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->log, fmt, ap);
	va_end(ap);
	buf_append_char(&s->log, '\n');
}

void
smtpd_session_reset(struct smtpd_session *s)
{
	size_t i;

	for (i = 0; i < s->rcpt_count; i++)
		free(s->rcpt[i]);
	s->rcpt_count = 0;
	s->rcpt_excess = 0;
	s->have_sender = 0;
	s->sender[0] = '\0';
	smtpd_esmtp_reset(&s->ext);
	if (s->state == SMTPD_ST_MAIL || s->state == SMTPD_ST_RCPT ||
	    s->state == SMTPD_ST_DATA)
		s->state = SMTPD_ST_READY;
}

void
smtpd_session_add_rcpt(struct smtpd_session *s, const char *addr)
{
	if (s->rcpt_count == s->rcpt_cap) {
		s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		s->rcpt = xreallocarray(s->rcpt, s->rcpt_cap, sizeof(*s->rcpt));
	}
	s->rcpt[s->rcpt_count++] = xstrdup(addr);
}

/* Count an error reply; at the hard limit add the 421 and close. */
static enum smtpd_action
count_error(struct smtpd_session *s)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	s->errors++;
	if (s->errors > 0 && s->errors >= s->cfg->soft_error_limit)
		s->delay = 1;
	if (s->errors <
	    (s->stress ? s->cfg->stress_error_limit : s->cfg->hard_error_limit))
		return SMTPD_ACT_REPLY;
	smtpd_reply_put(&s->reply, SMTPD_R_TOO_MANY_ERRORS, NULL);
	smtpd_session_log(s, "too many errors after %s from %s", s->last_cmd,
			  smtpd_session_client(s, client, sizeof(client)));
	s->state = SMTPD_ST_QUIT;
	return SMTPD_ACT_CLOSE;
}

enum smtpd_action
smtpd_session_account(struct smtpd_session *s, int code)
{
	s->last_code = code;
	if (s->errors > 0 && s->errors >= s->cfg->soft_error_limit)
		s->delay = 1;
	if (code < 400)
		return SMTPD_ACT_REPLY;
	return count_error(s);
}

enum smtpd_action
smtpd_session_reply(struct smtpd_session *s, enum smtpd_reply_id id,
		    const char *arg)
{
	return smtpd_session_account(s, smtpd_reply_put(&s->reply, id, arg));
}

void
smtpd_session_log_reject(struct smtpd_session *s, const char *cmd,
			 const struct buf *reply, const char *to)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];
	size_t len = reply->len;

	while (len > 0 &&
	       (reply->data[len - 1] == '\n' || reply->data[len - 1] == '\r'))
		len--;
	buf_printf(&s->log, "NOQUEUE: reject: %s from %s: %.*s;", cmd,
		   smtpd_session_client(s, client, sizeof(client)), (int)len,
		   buf_cstr(reply));
	if (s->have_sender)
		buf_printf(&s->log, " from=<%s>", s->sender);
	if (to != NULL)
		buf_printf(&s->log, " to=<%s>", to);
	buf_printf(&s->log, " proto=%s", s->esmtp ? "ESMTP" : "SMTP");
	if (s->helo[0] != '\0')
		buf_printf(&s->log, " helo=<%s>", s->helo);
	buf_append_char(&s->log, '\n');
}

enum smtpd_action
smtpd_session_reject(struct smtpd_session *s, const char *cmd,
		     enum smtpd_reply_id id, const char *arg, const char *to)
{
	struct buf line = BUF_INIT;

	smtpd_reply_put(&line, id, arg);
	smtpd_session_log_reject(s, cmd, &line, to);
	buf_free(&line);
	return smtpd_session_reply(s, id, arg);
}

static const struct smtpd_cmd *
find_cmd(const char *verb, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(smtpd_cmds) / sizeof(smtpd_cmds[0]); i++)
		if (strlen(smtpd_cmds[i].name) == len &&
		    strncasecmp(smtpd_cmds[i].name, verb, len) == 0)
			return &smtpd_cmds[i];
	return NULL;
}

static enum smtpd_action
unknown_cmd(struct smtpd_session *s, const char *verb, size_t len)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];
	char word[VERB_MAX + 4];

	s->cmd_total[SMTPD_CMD_UNKNOWN]++;
	s->last_cmd = "UNKNOWN";
	if (len == 0)
		return smtpd_session_reply(s, SMTPD_R_BAD_SYNTAX, NULL);
	smtpd_reply_sanitize(verb, len, VERB_MAX, word, sizeof(word));
	smtpd_session_log(s, "warning: unknown command %s from %s", word,
			  smtpd_session_client(s, client, sizeof(client)));
	return smtpd_session_reply(s, SMTPD_R_UNKNOWN_CMD, NULL);
}

enum smtpd_action
smtpd_session_input_line(struct smtpd_session *s, const char *line, size_t len)
{
	const struct smtpd_cmd *cmd;
	enum smtpd_action act;
	size_t vlen = 0, a, e;

	s->delay = 0;
	/* The caller feeds DATA to the data reader, not here. */
	if (s->state == SMTPD_ST_QUIT || s->state == SMTPD_ST_DATA)
		return SMTPD_ACT_CLOSE;
	if (s->sec.auth_step != 0) /* an answer to AUTH's 334 */
		return smtpd_auth_continue(s, line, len);
	if (memchr(line, '\0', len) != NULL) {
		s->cmd_total[SMTPD_CMD_UNKNOWN]++;
		return smtpd_session_reply(s, SMTPD_R_BAD_SYNTAX, NULL);
	}
	while (vlen < len && line[vlen] != ' ')
		vlen++;
	cmd = find_cmd(line, vlen);
	if (cmd == NULL)
		return unknown_cmd(s, line, vlen);
	a = vlen;
	while (a < len && (line[a] == ' ' || line[a] == '\t'))
		a++;
	e = len;
	while (e > a && (line[e - 1] == ' ' || line[e - 1] == '\t'))
		e--;
	s->last_cmd = cmd->name;
	s->cmd_total[cmd->id]++;
	if (smtpd_security_gate(s, cmd->id, &act))
		return act;
	act = cmd->fn(s, line + a, e - a);
	if (act == SMTPD_ACT_WAIT) { /* the same line comes again */
		s->cmd_total[cmd->id]--;
		return act;
	}
	/* DATA, BDAT and AUTH count when their outcome is known. */
	if (cmd->id != SMTPD_CMD_DATA && cmd->id != SMTPD_CMD_BDAT &&
	    cmd->id != SMTPD_CMD_AUTH && s->last_code < 400)
		s->cmd_ok[cmd->id]++;
	return act;
}

enum smtpd_action
smtpd_session_line_too_long(struct smtpd_session *s)
{
	s->delay = 0;
	s->cmd_total[SMTPD_CMD_UNKNOWN]++;
	s->last_cmd = "UNKNOWN";
	return smtpd_session_reply(s, SMTPD_R_LINE_TOO_LONG, NULL);
}

enum smtpd_action
smtpd_session_timeout(struct smtpd_session *s)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	smtpd_session_log(s, "timeout after %s from %s", s->last_cmd,
			  smtpd_session_client(s, client, sizeof(client)));
	s->last_code =
	    smtpd_reply_put(&s->reply, SMTPD_R_TIMEOUT, s->cfg->myhostname);
	s->state = SMTPD_ST_QUIT;
	return SMTPD_ACT_CLOSE;
}

enum smtpd_action
smtpd_session_pregreet(struct smtpd_session *s)
{
	smtpd_session_reject(s, "CONNECT", SMTPD_R_SYNC, NULL, NULL);
	s->state = SMTPD_ST_QUIT;
	return SMTPD_ACT_CLOSE;
}

void
smtpd_session_disconnect(struct smtpd_session *s)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];
	unsigned ok = 0, total = 0;
	int i;

	buf_printf(&s->log, "disconnect from %s",
		   smtpd_session_client(s, client, sizeof(client)));
	for (i = 0; i < SMTPD_CMD_COUNT; i++) {
		if (s->cmd_total[i] == 0)
			continue;
		ok += s->cmd_ok[i];
		total += s->cmd_total[i];
		buf_printf(&s->log, " %s=%u", smtpd_cmd_names[i], s->cmd_ok[i]);
		if (s->cmd_ok[i] != s->cmd_total[i])
			buf_printf(&s->log, "/%u", s->cmd_total[i]);
	}
	buf_printf(&s->log, " commands=%u", ok);
	if (ok != total)
		buf_printf(&s->log, "/%u", total);
	buf_append_char(&s->log, '\n');
}
