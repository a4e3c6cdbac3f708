/*
 * smtpd_security: what the session knows of a service's TLS and AUTH
 * policy (struct smtpd_security, filled by smtpd.c from the parameters,
 * -o overrides included) and the commands and checks built on it:
 * STARTTLS and its EHLO line (smtpd_cmd_tls.c), AUTH PLAIN and LOGIN
 * with their 334 exchanges, and the sender restrictions at MAIL FROM
 * (smtpd_cmd_auth.c).  Arguments are hostile client text.  Pure: the
 * handshake and the password check are the caller's (smtpd_io.c), asked
 * for with SMTPD_ACT_STARTTLS and SMTPD_ACT_AUTH.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_SECURITY_H
#define MOAT_SMTPD_SECURITY_H

#include <stddef.h>

#include "buf.h"
#include "sender_restriction.h"
#include "smtpd_session.h"
#include "tls_policy.h"

#define SMTPD_RESTRICTIONS_MAX 16

struct smtpd_security {
	int tls_level;   /* TLS_LEV_NONE, _MAY or _ENCRYPT (tls_policy.h) */
	int tls_ready;   /* a certificate is loaded: STARTTLS can work */
	int sasl_enable; /* offer AUTH inside TLS */
	int auth_header; /* smtpd_sasl_authenticated_header */
	enum sender_restriction restriction[SMTPD_RESTRICTIONS_MAX];
	size_t nrestrictions;
	/*
	 * smtpd_sender_login_maps: the logins that own key (an address or
	 * "@domain", lower case) into logins, separated by commas or blanks:
	 * 1 found, 0 not found, -1 cannot look now.  NULL: no map.
	 */
	int (*sender_logins)(void *ctx, const char *key, struct buf *logins);
	void *ctx;
};

/* The commands (smtpd_session.c's table). */
enum smtpd_action smtpd_cmd_starttls(struct smtpd_session *s, const char *arg,
				     size_t len);
enum smtpd_action smtpd_cmd_auth(struct smtpd_session *s, const char *arg,
				 size_t len);
/* EHLO's STARTTLS and AUTH lines, when they are offered now. */
void smtpd_security_ehlo(struct smtpd_session *s);
/*
 * Before a command runs: 1 when this service refuses it now (MAIL before
 * STARTTLS under smtpd_tls_security_level = encrypt), the reply made and
 * the action in *act; 0 to go on.
 */
int smtpd_security_gate(struct smtpd_session *s, enum smtpd_cmd_id id,
			enum smtpd_action *act);
/* A line that answers AUTH's 334 (s->sec.auth_step is set). */
enum smtpd_action smtpd_auth_continue(struct smtpd_session *s, const char *line,
				      size_t len);
/*
 * MAIL FROM:<sender> against smtpd_sender_restrictions: 1 when refused
 * (reply made, action in *act), 0 when the sender may go on.
 */
int smtpd_sender_restricted(struct smtpd_session *s, const char *sender,
			    enum smtpd_action *act);
/* ", sasl_method=PLAIN, sasl_username=alice" for the client= line. */
void smtpd_security_log_auth(const struct smtpd_session *s, struct buf *out);

#endif
