/*
 * smtpd_reply: the one table of smtpd's SMTP replies, each with its code,
 * its enhanced status code (RFC 3463; none only where RFC 2034 says so:
 * the greeting, HELO/EHLO and the 354 go-ahead) and its text.  A text may
 * hold one "%s", filled with an argument that the caller has made safe
 * (an address we formatted, our host name).  Pure; run by smtpd.
 */
#ifndef MOAT_SMTPD_REPLY_H
#define MOAT_SMTPD_REPLY_H

#include <stddef.h>

#include "buf.h"

enum smtpd_reply_id {
	SMTPD_R_GREETING,
	SMTPD_R_HELO,
	SMTPD_R_MAIL_OK,
	SMTPD_R_RCPT_OK,
	SMTPD_R_OK,
	SMTPD_R_DATA_GO,
	SMTPD_R_QUEUED,
	SMTPD_R_BYE,
	SMTPD_R_HELP,
	SMTPD_R_VRFY,
	SMTPD_R_EXPN,
	SMTPD_R_ETRN,
	SMTPD_R_UNKNOWN_CMD,
	SMTPD_R_LINE_TOO_LONG,
	SMTPD_R_BAD_SYNTAX,
	SMTPD_R_HELO_SYNTAX,
	SMTPD_R_EHLO_SYNTAX,
	SMTPD_R_MAIL_SYNTAX,
	SMTPD_R_RCPT_SYNTAX,
	SMTPD_R_VRFY_SYNTAX,
	SMTPD_R_NOARG_SYNTAX,
	SMTPD_R_BAD_SENDER,
	SMTPD_R_BAD_RCPT,
	SMTPD_R_SENDER_NOT_FQDN,
	SMTPD_R_RCPT_NOT_FQDN,
	SMTPD_R_BAD_SIZE,
	SMTPD_R_BAD_OPTION,
	SMTPD_R_NEED_HELO,
	SMTPD_R_NESTED_MAIL,
	SMTPD_R_NEED_MAIL,
	SMTPD_R_NEED_RCPT,
	SMTPD_R_SIZE_EXCEEDED,
	SMTPD_R_RELAY_DENIED,
	SMTPD_R_ROUTING_DENIED,
	SMTPD_R_USER_UNKNOWN,
	SMTPD_R_LOOKUP_FAILED,
	SMTPD_R_TOO_MANY_RCPTS,
	SMTPD_R_BARE_EOL,
	SMTPD_R_DATA_LINE_TOO_LONG,
	SMTPD_R_DATA_TOO_BIG,
	/* SMTPUTF8, DSN, CHUNKING */
	SMTPD_R_NEED_SMTPUTF8,
	SMTPD_R_BAD_PARAM,
	SMTPD_R_DUP_PARAM,
	SMTPD_R_BDAT_SYNTAX,
	SMTPD_R_BDAT_OK,
	SMTPD_R_DATA_AFTER_BDAT,
	SMTPD_R_QUEUE_ERROR,
	SMTPD_R_TOO_MANY_ERRORS,
	SMTPD_R_TIMEOUT,
	SMTPD_R_SYNC,
	SMTPD_R_COUNT
};

struct smtpd_reply {
	int code;
	const char *dsn;  /* enhanced status code, or NULL */
	const char *text; /* may hold one "%s" */
};

extern const struct smtpd_reply smtpd_replies[SMTPD_R_COUNT];

/*
 * Append "CODE DSN TEXT\r\n" to out; arg fills the text's "%s" ("" if
 * NULL).  Returns the code.
 */
int smtpd_reply_put(struct buf *out, enum smtpd_reply_id id, const char *arg);
/*
 * A reply line made elsewhere (EHLO's lines, cleanup's answer), its text
 * already safe; more: a continuation line "CODE-...".  dsn may be NULL.
 */
void smtpd_reply_put_custom(struct buf *out, int code, const char *dsn,
			    const char *text, int more);

/*
 * Copy at most max bytes of hostile text into out, each byte outside
 * printable ASCII replaced with '?', and "..." when it was cut.
 */
void smtpd_reply_sanitize(const char *s, size_t len, size_t max, char *out,
			  size_t size);
/* 1 when s is an enhanced status code "C.SSS.DDD" with C in 2, 4, 5. */
int smtpd_reply_dsn_valid(const char *s);

#endif
