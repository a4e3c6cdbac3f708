/*
 * smtpd_cmd: one function per SMTP command, called by the dispatcher in
 * smtpd_session.c with the argument text that follows the verb (hostile,
 * length-counted, NUL-free, leading and trailing blanks removed), and the
 * session helpers they share.  Pure; run by smtpd.
 */
#ifndef MOAT_SMTPD_CMD_H
#define MOAT_SMTPD_CMD_H

#include <stddef.h>

#include "smtpd_reply.h"
#include "smtpd_session.h"

typedef enum smtpd_action (*smtpd_cmd_fn)(struct smtpd_session *s,
					  const char *arg, size_t len);

enum smtpd_action smtpd_cmd_ehlo(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_helo(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_mail(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_rcpt(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_data(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_bdat(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_rset(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_noop(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_vrfy(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_expn(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_etrn(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_help(struct smtpd_session *s, const char *arg,
				 size_t len);
enum smtpd_action smtpd_cmd_quit(struct smtpd_session *s, const char *arg,
				 size_t len);

/*
 * Put a reply from the table; a 4xx/5xx counts as an error, and at the
 * hard error limit a 421 follows and the action is SMTPD_ACT_CLOSE.
 */
enum smtpd_action smtpd_session_reply(struct smtpd_session *s,
				      enum smtpd_reply_id id, const char *arg);
/* Account for a reply already put (its code), as smtpd_session_reply. */
enum smtpd_action smtpd_session_account(struct smtpd_session *s, int code);
/* Log "NOQUEUE: reject: CMD from ...: REPLY; from=<> to=<> ...". */
void smtpd_session_log_reject(struct smtpd_session *s, const char *cmd,
			      const struct buf *reply, const char *to);
/* smtpd_session_reply, and log the rejection. */
enum smtpd_action smtpd_session_reject(struct smtpd_session *s, const char *cmd,
				       enum smtpd_reply_id id, const char *arg,
				       const char *to);
void smtpd_session_log(struct smtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forget the sender and recipients (RSET, HELO, end of DATA). */
void smtpd_session_reset(struct smtpd_session *s);
/* Keep a copy of an accepted recipient. */
void smtpd_session_add_rcpt(struct smtpd_session *s, const char *addr);

#endif
