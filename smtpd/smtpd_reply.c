/*
 * smtpd_reply: the table of every reply smtpd sends, and the helpers that
 * format a reply line.  Arguments are hostile only through
 * smtpd_reply_sanitize, which every caller uses for client text.  Pure;
 * run by smtpd.
 */
#include <string.h>

#include "smtpd_reply.h"

/* clang-format off */
const struct smtpd_reply smtpd_replies[SMTPD_R_COUNT] = {
	[SMTPD_R_GREETING] = {220, NULL, "%s"},
	[SMTPD_R_HELO] = {250, NULL, "%s"},
	[SMTPD_R_MAIL_OK] = {250, "2.1.0", "Ok"},
	[SMTPD_R_RCPT_OK] = {250, "2.1.5", "Ok"},
	[SMTPD_R_OK] = {250, "2.0.0", "Ok"},
	[SMTPD_R_DATA_GO] = {354, NULL, "End data with <CR><LF>.<CR><LF>"},
	[SMTPD_R_QUEUED] = {250, "2.0.0", "Ok: queued as %s"},
	[SMTPD_R_BYE] = {221, "2.0.0", "Bye"},
	[SMTPD_R_HELP] = {214, "2.0.0",
	    "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"},
	[SMTPD_R_VRFY] = {252, "2.0.0", "Send some mail, I'll try my best"},
	[SMTPD_R_EXPN] = {502, "5.5.1", "EXPN is not supported"},
	[SMTPD_R_ETRN] = {502, "5.5.1", "ETRN is not supported"},
	[SMTPD_R_UNKNOWN_CMD] = {500, "5.5.2", "Error: command not recognized"},
	[SMTPD_R_LINE_TOO_LONG] = {500, "5.5.2", "Error: line too long"},
	[SMTPD_R_BAD_SYNTAX] = {500, "5.5.2", "Error: bad syntax"},
	[SMTPD_R_HELO_SYNTAX] = {501, "5.5.4", "Syntax: HELO hostname"},
	[SMTPD_R_EHLO_SYNTAX] = {501, "5.5.4", "Syntax: EHLO hostname"},
	[SMTPD_R_MAIL_SYNTAX] = {501, "5.5.4", "Syntax: MAIL FROM:<address>"},
	[SMTPD_R_RCPT_SYNTAX] = {501, "5.5.4", "Syntax: RCPT TO:<address>"},
	[SMTPD_R_VRFY_SYNTAX] = {501, "5.5.4", "Syntax: VRFY address"},
	[SMTPD_R_NOARG_SYNTAX] = {501, "5.5.4", "Syntax: %s"},
	[SMTPD_R_BAD_SENDER] = {501, "5.1.7", "Bad sender address syntax"},
	[SMTPD_R_BAD_RCPT] = {501, "5.1.3", "Bad recipient address syntax"},
	[SMTPD_R_SENDER_NOT_FQDN] = {504, "5.5.2",
	    "<%s>: Sender address rejected: need fully-qualified address"},
	[SMTPD_R_RCPT_NOT_FQDN] = {504, "5.5.2",
	    "<%s>: Recipient address rejected: need fully-qualified address"},
	[SMTPD_R_BAD_SIZE] = {501, "5.5.4", "Bad message size syntax"},
	[SMTPD_R_BAD_OPTION] = {555, "5.5.4", "Unsupported option: %s"},
	[SMTPD_R_NEED_HELO] = {503, "5.5.1", "Error: send HELO/EHLO first"},
	[SMTPD_R_NESTED_MAIL] = {503, "5.5.1", "Error: nested MAIL command"},
	[SMTPD_R_NEED_MAIL] = {503, "5.5.1", "Error: need MAIL command"},
	[SMTPD_R_NEED_RCPT] = {503, "5.5.1", "Error: need RCPT command"},
	[SMTPD_R_SIZE_EXCEEDED] = {552, "5.3.4",
	    "Message size exceeds fixed limit"},
	[SMTPD_R_RELAY_DENIED] = {554, "5.7.1", "<%s>: Relay access denied"},
	[SMTPD_R_ROUTING_DENIED] = {550, "5.7.1",
	    "<%s>: Recipient address rejected: address routing syntax "
	    "(@route:, %, !, quoted @) is not accepted"},
	[SMTPD_R_USER_UNKNOWN] = {550, "5.1.1",
	    "<%s>: Recipient address rejected: "
	    "User unknown in local recipient table"},
	[SMTPD_R_LOOKUP_FAILED] = {451, "4.3.0",
	    "<%s>: Temporary lookup failure"},
	[SMTPD_R_TOO_MANY_RCPTS] = {452, "4.5.3", "Error: too many recipients"},
	[SMTPD_R_BARE_EOL] = {550, "5.6.0",
	    "Error: bare <LF> or <CR> in message; use <CR><LF>"},
	[SMTPD_R_DATA_LINE_TOO_LONG] = {552, "5.3.4",
	    "Error: message line too long"},
	[SMTPD_R_DATA_TOO_BIG] = {552, "5.3.4", "Error: message file too big"},
	[SMTPD_R_NEED_SMTPUTF8] = {553, "5.6.7",
	    "Error: a UTF-8 address needs MAIL FROM with SMTPUTF8"},
	[SMTPD_R_BAD_PARAM] = {501, "5.5.4", "Bad %s parameter syntax"},
	[SMTPD_R_DUP_PARAM] = {501, "5.5.4", "Error: duplicate %s parameter"},
	[SMTPD_R_BDAT_SYNTAX] = {501, "5.5.4", "Syntax: BDAT count [LAST]"},
	[SMTPD_R_BDAT_OK] = {250, "2.0.0", "Ok: %s octets"},
	[SMTPD_R_DATA_AFTER_BDAT] = {503, "5.5.1",
	    "Error: DATA after BDAT in one transaction"},
	[SMTPD_R_QUEUE_ERROR] = {451, "4.3.0", "Error: queue file write error"},
	[SMTPD_R_TOO_MANY_ERRORS] = {421, "4.7.0", "Error: too many errors"},
	[SMTPD_R_TIMEOUT] = {421, "4.4.2", "%s Error: timeout exceeded"},
	[SMTPD_R_SYNC] = {554, "5.5.0", "Error: SMTP protocol synchronization"},
};
/* clang-format on */

void
smtpd_reply_put_custom(struct buf *out, int code, const char *dsn,
		       const char *text, int more)
{
	buf_printf(out, "%03d%c", code, more ? '-' : ' ');
	if (dsn != NULL)
		buf_printf(out, "%s ", dsn);
	buf_append_str(out, text);
	buf_append(out, "\r\n", 2);
}

int
smtpd_reply_put(struct buf *out, enum smtpd_reply_id id, const char *arg)
{
	const struct smtpd_reply *r = &smtpd_replies[id];
	const char *mark = strstr(r->text, "%s");

	buf_printf(out, "%03d ", r->code);
	if (r->dsn != NULL)
		buf_printf(out, "%s ", r->dsn);
	if (mark == NULL) {
		buf_append_str(out, r->text);
	} else {
		buf_append(out, r->text, (size_t)(mark - r->text));
		buf_append_str(out, arg != NULL ? arg : "");
		buf_append_str(out, mark + 2);
	}
	buf_append(out, "\r\n", 2);
	return r->code;
}

void
smtpd_reply_sanitize(const char *s, size_t len, size_t max, char *out,
		     size_t size)
{
	size_t i, n = 0;

	if (size == 0)
		return;
	for (i = 0; i < len && i < max && n + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (i < len && n + 3 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static int
dsn_part(const char **p, size_t max)
{
	size_t n = 0;

	while (**p >= '0' && **p <= '9') {
		(*p)++;
		n++;
	}
	return n >= 1 && n <= max;
}

int
smtpd_reply_dsn_valid(const char *s)
{
	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	if (s[1] != '.')
		return 0;
	s += 2;
	if (!dsn_part(&s, 3) || *s++ != '.')
		return 0;
	return dsn_part(&s, 3) && *s == '\0';
}
