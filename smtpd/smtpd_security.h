/*
 * smtpd_security: what the session knows of a service's TLS and AUTH
 * policy (struct smtpd_security, filled by smtpd.c from the parameters,
 * -o overrides included) and the commands and checks built on it:
 * STARTTLS and its EHLO line (smtpd_cmd_tls.c), AUTH PLAIN and LOGIN
 * with their 334 exchanges (smtpd_cmd_auth.c), and the restriction lists
 * applied at RCPT TO (smtpd_restrict.c, smtpd_sender.c).  Arguments are hostile
 * client text.  Pure: the handshake and the password check are the caller's
 * (smtpd_io.c), asked for with SMTPD_ACT_STARTTLS and SMTPD_ACT_AUTH.  Run by
 * smtpd.
 */
#ifndef MOAT_SMTPD_SECURITY_H
#define MOAT_SMTPD_SECURITY_H

#include <stddef.h>

#include "buf.h"
#include "restriction.h"
#include "smtpd_session.h"
#include "tls_policy.h"

/* The restriction lists, in the order they are applied. */
enum smtpd_stage {
	SMTPD_STAGE_CLIENT, /* smtpd_client_restrictions */
	SMTPD_STAGE_HELO,   /* smtpd_helo_restrictions */
	SMTPD_STAGE_SENDER, /* smtpd_sender_restrictions */
	SMTPD_STAGE_RCPT,   /* smtpd_recipient_restrictions */
	SMTPD_STAGES
};

struct smtpd_restriction_list {
	const struct restriction *item;
	size_t n;
};

struct smtpd_security {
	int tls_level;   /* TLS_LEV_NONE, _MAY or _ENCRYPT (tls_policy.h) */
	int tls_ready;   /* a certificate is loaded: STARTTLS can work */
	int sasl_enable; /* offer AUTH inside TLS */
	int auth_header; /* smtpd_sasl_authenticated_header */
	/*
	 * The lists; an empty recipient list is the default one
	 * (permit_mynetworks, permit_sasl_authenticated,
	 * reject_unauth_destination, reject_unlisted_recipient).
	 */
	struct smtpd_restriction_list list[SMTPD_STAGES];
	int accept_unlisted;     /* smtpd_reject_unlisted_recipient = no */
	int unknown_client_code; /* unknown_client_reject_code; 0: 450 */
	int rbl_reject_code;     /* maps_rbl_reject_code; 0: 554 */
	/*
	 * The table of r (check_*_access): its value for key into value
	 * (an access(5) action): 1 found, 0 not, -1 cannot look now.  For a
	 * CIDR table the key is the client address.  NULL: no tables.
	 */
	int (*access)(void *ctx, const struct restriction *r, const char *key,
		      struct buf *value);
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
 * RCPT TO: the client, HELO, sender and recipient lists (Postfix's
 * smtpd_delay_reject = yes: all four are applied here, so a refusal is
 * logged with the whole envelope).  rcpt is the parsed recipient, text
 * its formatted form; bare: the domainless postmaster, which only the
 * recipient list cannot refuse.  0 when the recipient is taken, -1 with
 * the reply made and the action in *act, or 1 when a DNS list that must
 * be consulted has not answered yet (s->dnsbl; nothing said: ask again).
 */
int smtpd_restrict_rcpt(struct smtpd_session *s, const struct address *rcpt,
			const char *text, int bare, enum smtpd_action *act);
/*
 * reject_*sender_login_mismatch (kind k) for sender: -1 nothing to say,
 * else the reply id to refuse with (smtpd_sender.c).
 */
int smtpd_sender_login_mismatch(const struct smtpd_session *s,
				enum restriction_kind k, const char *sender);
/* ", sasl_method=PLAIN, sasl_username=alice" for the client= line. */
void smtpd_security_log_auth(const struct smtpd_session *s, struct buf *out);

#endif
