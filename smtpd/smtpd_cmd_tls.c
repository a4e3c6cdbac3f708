/*
 * smtpd_cmd_tls: STARTTLS (RFC 3207) in the state machine, the EHLO lines
 * that offer it and AUTH, the gate that keeps MAIL waiting for TLS under
 * smtpd_tls_security_level = encrypt, and the reset after the handshake:
 * nothing the client said in clear text survives it (RFC 3207 4.2), so
 * it says EHLO again.  The bytes it pipelined after STARTTLS are the
 * caller's to drop (smtpd_io.c).  Arguments are hostile client text.
 * Pure; run by smtpd.
 */
#include <stdio.h>
#include <string.h>

#include "smtpd_cmd.h"
#include "smtpd_sasl.h"
#include "smtpd_security.h"
#include "tls_files.h"

/* STARTTLS is offered: a certificate, a level that wants it, no TLS yet. */
static int
starttls_offered(const struct smtpd_session *s)
{
	const struct smtpd_security *sec = s->cfg->sec;

	return sec != NULL && sec->tls_ready &&
	       sec->tls_level != TLS_LEV_NONE && !s->sec.tls;
}

enum smtpd_action
smtpd_cmd_starttls(struct smtpd_session *s, const char *arg, size_t len)
{
	const struct smtpd_security *sec = s->cfg->sec;

	if (s->sec.tls)
		return smtpd_session_reply(s, SMTPD_R_TLS_ACTIVE, NULL);
	if (sec != NULL && sec->tls_level == TLS_LEV_ENCRYPT &&
	    !sec->tls_ready)
		return smtpd_session_reply(s, SMTPD_R_TLS_UNAVAILABLE, NULL);
	if (!starttls_offered(s))
		return smtpd_session_reply(s, SMTPD_R_NOT_IMPLEMENTED, NULL);
	if (len > 0)
		return smtpd_session_reply(s, SMTPD_R_TLS_SYNTAX, NULL);
	if (s->have_sender)
		return smtpd_session_reply(s, SMTPD_R_IN_TRANSACTION, NULL);
	smtpd_session_reply(s, SMTPD_R_TLS_GO, NULL);
	return SMTPD_ACT_STARTTLS;
}

void
smtpd_security_ehlo(struct smtpd_session *s)
{
	const struct smtpd_security *sec = s->cfg->sec;

	if (starttls_offered(s))
		smtpd_reply_put_custom(&s->reply, 250, NULL, "STARTTLS", 1);
	if (sec != NULL && sec->sasl_enable && s->sec.tls)
		smtpd_reply_put_custom(&s->reply, 250, NULL, "AUTH PLAIN LOGIN",
				       1);
}

int
smtpd_security_gate(struct smtpd_session *s, enum smtpd_cmd_id id,
		    enum smtpd_action *act)
{
	const struct smtpd_security *sec = s->cfg->sec;

	if (id != SMTPD_CMD_MAIL || sec == NULL ||
	    sec->tls_level != TLS_LEV_ENCRYPT || s->sec.tls)
		return 0;
	*act = smtpd_session_reply(s, SMTPD_R_NEED_STARTTLS, NULL);
	return 1;
}

/* A word of [A-Za-z0-9._-] for the Received header, else "unknown". */
static const char *
tls_word(const char *w)
{
	size_t i;

	for (i = 0; w != NULL && w[i] != '\0' && i < 48; i++)
		if (!((w[i] >= 'A' && w[i] <= 'Z') ||
		      (w[i] >= 'a' && w[i] <= 'z') ||
		      (w[i] >= '0' && w[i] <= '9') || w[i] == '.' ||
		      w[i] == '_' || w[i] == '-'))
			return "unknown";
	return i > 0 && w[i] == '\0' ? w : "unknown";
}

void
smtpd_session_tls_started(struct smtpd_session *s, const char *version,
			  const char *cipher, int bits, int alg_bits)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	smtpd_session_reset(s);
	s->helo[0] = '\0';
	s->esmtp = 0;
	s->state = SMTPD_ST_GREETED;
	s->sec.tls = 1;
	s->sec.auth_step = 0;
	version = tls_word(version);
	cipher = tls_word(cipher);
	snprintf(s->sec.tls_info, sizeof(s->sec.tls_info), "%s %s %d %d",
		 version, cipher, bits, alg_bits);
	smtpd_session_log(s,
			  "TLS connection established from %s: %s with cipher "
			  "%s (%d/%d bits)",
			  smtpd_session_client(s, client, sizeof(client)),
			  version, cipher, bits, alg_bits);
}

/* RFC 3848's names, with Postfix's UTF8SMTP for an SMTPUTF8 transaction. */
const char *
smtpd_session_protocol(const struct smtpd_session *s)
{
	static const char *const esmtp[] = {"ESMTP", "ESMTPS", "ESMTPA",
					    "ESMTPSA"};
	static const char *const utf8[] = {"UTF8SMTP", "UTF8SMTPS",
					   "UTF8SMTPA", "UTF8SMTPSA"};
	int i = (s->sec.tls ? 1 : 0) + (s->sec.authenticated ? 2 : 0);

	if (!s->esmtp)
		return "SMTP";
	return s->ext.smtputf8 ? utf8[i] : esmtp[i];
}
