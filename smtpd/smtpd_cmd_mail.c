/*
 * smtpd_cmd_mail: MAIL FROM and RCPT TO, the two commands that carry an
 * address (hostile client text, parsed by the one address parser).  At
 * RCPT TO the restriction lists decide (smtpd_restrict.c): by default a
 * recipient is accepted when its domain is local and the user exists, or
 * when the client is trusted or authenticated.  UTF-8 addresses (RFC 6531) are
 * parsed always, and refused with 553 5.6.7 unless MAIL FROM said SMTPUTF8. The
 * ESMTP parameters go through smtpd_esmtp.c.  Pure; lookups go through the
 * session's callbacks; run by smtpd.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtpd_cmd.h"
#include "smtpd_security.h"

#define OPTION_ECHO_MAX 64 /* bytes of an unknown option echoed back */

/*
 * Skip "FROM:" or "TO:" (any case) and the blanks some clients put after
 * the colon.  Returns the offset of the path, or 0 when the keyword is
 * missing.
 */
static size_t
skip_keyword(const char *arg, size_t len, const char *kw)
{
	size_t k = strlen(kw);

	if (len < k || strncasecmp(arg, kw, k) != 0)
		return 0;
	while (k < len && arg[k] == ' ')
		k++;
	return k;
}

/* The parameters after a path: 0, or -1 with the reply made. */
static int
params(struct smtpd_session *s, const char *p, size_t len, int mail,
       struct smtpd_params *out, enum smtpd_action *act)
{
	struct smtpd_param_fault f;
	char text[OPTION_ECHO_MAX + 4];

	switch (smtpd_params_parse(p, len, mail, out, &f)) {
	case SMTPD_PARAM_OK:
		if (!mail || !(out->seen & SMTPD_P_SIZE) ||
		    out->size <= s->cfg->message_size_limit)
			return 0;
		*act = smtpd_session_reject(s, "MAIL", SMTPD_R_SIZE_EXCEEDED,
					    NULL, NULL);
		return -1;
	case SMTPD_PARAM_SYNTAX:
		*act = smtpd_session_reply(
		    s, mail ? SMTPD_R_MAIL_SYNTAX : SMTPD_R_RCPT_SYNTAX, NULL);
		return -1;
	case SMTPD_PARAM_BAD_SIZE:
		*act = smtpd_session_reply(s, SMTPD_R_BAD_SIZE, NULL);
		return -1;
	case SMTPD_PARAM_BAD_VALUE:
		*act = smtpd_session_reply(s, SMTPD_R_BAD_PARAM, f.keyword);
		return -1;
	case SMTPD_PARAM_DUPLICATE:
		*act = smtpd_session_reply(s, SMTPD_R_DUP_PARAM, f.keyword);
		return -1;
	case SMTPD_PARAM_UNKNOWN:
		break;
	}
	smtpd_reply_sanitize(f.param, f.param_len, OPTION_ECHO_MAX, text,
			     sizeof(text));
	*act = smtpd_session_reply(s, SMTPD_R_BAD_OPTION, text);
	return -1;
}

/* A UTF-8 address in a transaction without SMTPUTF8 (RFC 6531 3.4). */
static enum smtpd_action
need_smtputf8(struct smtpd_session *s, const char *cmd)
{
	return smtpd_session_reject(s, cmd, SMTPD_R_NEED_SMTPUTF8, NULL, NULL);
}

/* The unqualified address as text, for the "need fully-qualified" reply. */
static void
bare_text(const char *path, size_t len, char *out, size_t size)
{
	struct address a;

	if (address_parse_path(path, len,
			       ADDR_ALLOW_NO_DOMAIN | ADDR_ALLOW_UTF8,
			       &a) != ADDR_OK ||
	    address_format(&a, out, size) < 0)
		snprintf(out, size, "%s", "");
}

enum smtpd_action
smtpd_cmd_mail(struct smtpd_session *s, const char *arg, size_t len)
{
	struct smtpd_params p;
	struct address a;
	enum smtpd_action act;
	enum addr_error e;
	char text[ADDR_TEXT_MAX];
	size_t off, end;

	if (s->state == SMTPD_ST_GREETED)
		return smtpd_session_reply(s, SMTPD_R_NEED_HELO, NULL);
	if (s->have_sender)
		return smtpd_session_reply(s, SMTPD_R_NESTED_MAIL, NULL);
	off = skip_keyword(arg, len, "FROM:");
	if (off == 0)
		return smtpd_session_reply(s, SMTPD_R_MAIL_SYNTAX, NULL);
	end = address_path_end(arg + off, len - off);
	if (end == 0)
		return smtpd_session_reply(s, SMTPD_R_BAD_SENDER, NULL);
	e = address_parse_path(arg + off, end,
			       ADDR_ALLOW_NULL | ADDR_ALLOW_UTF8, &a);
	if (e == ADDR_ERR_NO_DOMAIN) {
		bare_text(arg + off, end, text, sizeof(text));
		return smtpd_session_reply(s, SMTPD_R_SENDER_NOT_FQDN, text);
	}
	if (e != ADDR_OK || address_format(&a, text, sizeof(text)) < 0)
		return smtpd_session_reply(s, SMTPD_R_BAD_SENDER, NULL);
	if (params(s, arg + off + end, len - off - end, 1, &p, &act) != 0)
		return act;
	if ((a.flags & ADDR_F_UTF8) && !(p.seen & SMTPD_P_SMTPUTF8))
		return need_smtputf8(s, "MAIL");
	smtpd_esmtp_mail(&s->ext, &p);
	strlcpy(s->sender, text, sizeof(s->sender));
	s->have_sender = 1;
	s->state = SMTPD_ST_MAIL;
	return smtpd_session_reply(s, SMTPD_R_MAIL_OK, NULL);
}

/*
 * Parse the path of RCPT TO.  A bare "<postmaster>" (any case) is the
 * local postmaster, as RFC 5321 requires; any other address needs a
 * domain.  0, or -1 with the reply made.
 */
static int
rcpt_path(struct smtpd_session *s, const char *p, size_t len, struct address *a,
	  enum smtpd_action *act)
{
	enum addr_error e;

	e = address_parse_path(p, len, ADDR_ALLOW_NO_DOMAIN | ADDR_ALLOW_UTF8,
			       a);
	if (e != ADDR_OK) {
		*act = smtpd_session_reply(s, SMTPD_R_BAD_RCPT, NULL);
		return -1;
	}
	if (a->domain[0] == '\0' && (strcasecmp(a->local, "postmaster") != 0 ||
				     (a->flags & ADDR_F_RELAY_HACKS))) {
		char text[ADDR_TEXT_MAX];

		if (address_format(a, text, sizeof(text)) < 0)
			text[0] = '\0';
		*act = smtpd_session_reply(s, SMTPD_R_RCPT_NOT_FQDN, text);
		return -1;
	}
	return 0;
}

static enum smtpd_action
too_many(struct smtpd_session *s)
{
	/* Excess recipients count as errors only past twice the limit. */
	if (++s->rcpt_excess <= s->cfg->recipient_limit) {
		s->last_code =
		    smtpd_reply_put(&s->reply, SMTPD_R_TOO_MANY_RCPTS, NULL);
		return SMTPD_ACT_REPLY;
	}
	return smtpd_session_reply(s, SMTPD_R_TOO_MANY_RCPTS, NULL);
}

enum smtpd_action
smtpd_cmd_rcpt(struct smtpd_session *s, const char *arg, size_t len)
{
	struct smtpd_params p;
	struct address a;
	enum smtpd_action act;
	char text[ADDR_TEXT_MAX];
	size_t off, end;
	int bare;

	if (!s->have_sender)
		return smtpd_session_reply(s, SMTPD_R_NEED_MAIL, NULL);
	off = skip_keyword(arg, len, "TO:");
	if (off == 0)
		return smtpd_session_reply(s, SMTPD_R_RCPT_SYNTAX, NULL);
	end = address_path_end(arg + off, len - off);
	if (end == 0)
		return smtpd_session_reply(s, SMTPD_R_BAD_RCPT, NULL);
	if (rcpt_path(s, arg + off, end, &a, &act) != 0)
		return act;
	if ((a.flags & ADDR_F_UTF8) && !s->ext.smtputf8)
		return need_smtputf8(s, "RCPT");
	if (params(s, arg + off + end, len - off - end, 0, &p, &act) != 0)
		return act;
	if (s->rcpt_count >= s->cfg->recipient_limit)
		return too_many(s);
	/*
	 * The bare postmaster (RFC 5321 4.5.1) is always taken, whatever
	 * mydestination, the recipient tables and the recipient
	 * restrictions hold: a sender must be able to reach the person in
	 * charge of this host.  A client, HELO or sender refusal still
	 * applies (the administrator named that client or sender).
	 */
	bare = a.domain[0] == '\0';
	if (bare)
		strlcpy(a.domain, s->cfg->myhostname, sizeof(a.domain));
	if (address_format(&a, text, sizeof(text)) < 0)
		return smtpd_session_reply(s, SMTPD_R_BAD_RCPT, NULL);
	switch (smtpd_restrict_rcpt(s, &a, text, bare, &act)) {
	case 0:
		break;
	case 1:
		return SMTPD_ACT_WAIT;
	default:
		return act;
	}
	smtpd_session_add_rcpt(s, text);
	smtpd_esmtp_rcpt(&s->ext, &p);
	s->state = SMTPD_ST_RCPT;
	return smtpd_session_reply(s, SMTPD_R_RCPT_OK, NULL);
}
