/*
 * smtpd_cmd_mail: MAIL FROM and RCPT TO, the two commands that carry an
 * address (hostile client text, parsed by the one address parser) and the
 * ones that decide relaying: a recipient is accepted when its domain is
 * local and the user exists, or when the client is trusted.  Old routing
 * tricks (source routes, %, !, quoted @) are refused from untrusted
 * clients.  Pure; lookups go through the session's callbacks; run by smtpd.
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

static enum smtpd_action
bad_option(struct smtpd_session *s, const char *opt, size_t len)
{
	char text[OPTION_ECHO_MAX + 4];

	smtpd_reply_sanitize(opt, len, OPTION_ECHO_MAX, text, sizeof(text));
	return smtpd_session_reply(s, SMTPD_R_BAD_OPTION, text);
}

/* A SIZE= value; -1 when it is not a plain decimal number. */
static int
parse_size(const char *v, size_t len, size_t *out)
{
	size_t i, n = 0;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (n > (SIZE_MAX - 9) / 10)
			n = SIZE_MAX; /* saturate: "too big" is the answer */
		else
			n = n * 10 + (size_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

/* One MAIL parameter: 0 when fine, else -1 with the reply made. */
static int
mail_option(struct smtpd_session *s, const char *p, size_t n,
	    enum smtpd_action *act)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n, vlen = eq ? n - klen - 1 : 0;
	size_t size;

	if (klen == 4 && strncasecmp(p, "SIZE", 4) == 0 && eq) {
		if (parse_size(eq + 1, vlen, &size) != 0) {
			*act = smtpd_session_reply(s, SMTPD_R_BAD_SIZE, NULL);
			return -1;
		}
		if (size > s->cfg->message_size_limit) {
			*act = smtpd_session_reject(
			    s, "MAIL", SMTPD_R_SIZE_EXCEEDED, NULL, NULL);
			return -1;
		}
		return 0;
	}
	if (klen == 4 && strncasecmp(p, "BODY", 4) == 0 && eq &&
	    ((vlen == 4 && strncasecmp(eq + 1, "7BIT", 4) == 0) ||
	     (vlen == 8 && strncasecmp(eq + 1, "8BITMIME", 8) == 0)))
		return 0;
	*act = bad_option(s, p, n);
	return -1;
}

/*
 * The ESMTP parameters after a path: nothing, or blank-separated words.
 * mail: MAIL's SIZE and BODY are known; RCPT knows none.  0: all fine.
 */
static int
check_options(struct smtpd_session *s, const char *p, size_t len, int mail,
	      enum smtpd_action *act)
{
	size_t i = 0, start;

	if (len > 0 && p[0] != ' ') {
		*act = smtpd_session_reply(
		    s, mail ? SMTPD_R_MAIL_SYNTAX : SMTPD_R_RCPT_SYNTAX, NULL);
		return -1;
	}
	while (i < len) {
		while (i < len && p[i] == ' ')
			i++;
		start = i;
		while (i < len && p[i] != ' ')
			i++;
		if (i == start)
			break;
		if (!mail) {
			*act = bad_option(s, p + start, i - start);
			return -1;
		}
		if (mail_option(s, p + start, i - start, act) != 0)
			return -1;
	}
	return 0;
}

/* The unqualified address as text, for the "need fully-qualified" reply. */
static void
bare_text(const char *path, size_t len, char *out, size_t size)
{
	struct address a;

	if (address_parse_path(path, len, ADDR_ALLOW_NO_DOMAIN, &a) !=
		ADDR_OK ||
	    address_format(&a, out, size) < 0)
		snprintf(out, size, "%s", "");
}

enum smtpd_action
smtpd_cmd_mail(struct smtpd_session *s, const char *arg, size_t len)
{
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
	e = address_parse_path(arg + off, end, ADDR_ALLOW_NULL, &a);
	if (e == ADDR_ERR_NO_DOMAIN) {
		bare_text(arg + off, end, text, sizeof(text));
		return smtpd_session_reply(s, SMTPD_R_SENDER_NOT_FQDN, text);
	}
	if (e != ADDR_OK || address_format(&a, text, sizeof(text)) < 0)
		return smtpd_session_reply(s, SMTPD_R_BAD_SENDER, NULL);
	if (check_options(s, arg + off + end, len - off - end, 1, &act) != 0)
		return act;
	if (smtpd_sender_restricted(s, text, &act))
		return act;
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

	e = address_parse_path(p, len, ADDR_ALLOW_NO_DOMAIN, a);
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

/* Is this recipient ours to take?  0 yes, else -1 with the reply made. */
static int
rcpt_allowed(struct smtpd_session *s, const struct address *a, const char *text,
	     enum smtpd_action *act)
{
	const struct smtpd_lookup *l = s->lookup;
	/* mynetworks, or an authenticated client: relaying is theirs. */
	int relay = s->trusted || s->sec.authenticated;
	int r;

	if ((a->flags & ADDR_F_RELAY_HACKS) && !relay) {
		*act = smtpd_session_reject(s, "RCPT", SMTPD_R_ROUTING_DENIED,
					    text, text);
		return -1;
	}
	r = a->domain[0] == '\0' ? 1 : l->domain_is_local(l->ctx, a->domain);
	if (r == 1)
		r = l->local_user_exists(l->ctx, a->local);
	else if (r == 0 && !relay) {
		*act = smtpd_session_reject(s, "RCPT", SMTPD_R_RELAY_DENIED,
					    text, text);
		return -1;
	} else if (r == 0) {
		r = 1; /* a trusted or authenticated client relays */
	}
	if (r == 1)
		return 0;
	*act = smtpd_session_reject(
	    s, "RCPT", r == 0 ? SMTPD_R_USER_UNKNOWN : SMTPD_R_LOOKUP_FAILED,
	    text, text);
	return -1;
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
	struct address a;
	enum smtpd_action act;
	char text[ADDR_TEXT_MAX];
	size_t off, end;

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
	if (check_options(s, arg + off + end, len - off - end, 0, &act) != 0)
		return act;
	if (s->rcpt_count >= s->cfg->recipient_limit)
		return too_many(s);
	if (a.domain[0] == '\0') /* the bare postmaster */
		strlcpy(a.domain, s->cfg->myhostname, sizeof(a.domain));
	if (address_format(&a, text, sizeof(text)) < 0)
		return smtpd_session_reply(s, SMTPD_R_BAD_RCPT, NULL);
	if (rcpt_allowed(s, &a, text, &act) != 0)
		return act;
	smtpd_session_add_rcpt(s, text);
	s->state = SMTPD_ST_RCPT;
	return smtpd_session_reply(s, SMTPD_R_RCPT_OK, NULL);
}
