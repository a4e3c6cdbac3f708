/*
 * smtpd_sender: the sender login checks of the restriction lists
 * (smtpd_restrict.c applies them).  With smtpd_sender_login_maps,
 * reject_sender_login_mismatch keeps an
 * authenticated user to the addresses its login owns, and keeps clients
 * that did not authenticate away from addresses that anyone owns.  The
 * sender is the parsed, formatted address (from the one address parser);
 * the map's values (the logins) are the administrator's.  Pure; lookups
 * go through the policy's callback.  Run by smtpd.
 */
#include <string.h>
#include <strings.h>

#include "smtpd_cmd.h"
#include "smtpd_security.h"

#define LOGIN_KEY_MAX 1024

/* The logins owning sender: its own entry, else its domain's "@domain". */
static int
sender_owners(const struct smtpd_security *sec, const char *sender,
	      struct buf *logins)
{
	char key[LOGIN_KEY_MAX];
	const char *at = strrchr(sender, '@');
	size_t i;
	int r;

	if (sec->sender_logins == NULL)
		return 0;
	if (strlcpy(key, sender, sizeof(key)) >= sizeof(key))
		return 0;
	for (i = 0; key[i] != '\0'; i++)
		if (key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
	r = sec->sender_logins(sec->ctx, key, logins);
	if (r != 0 || at == NULL)
		return r;
	buf_reset(logins);
	return sec->sender_logins(sec->ctx, key + (at - sender), logins);
}

/* 1 when user is one of the comma- or blank-separated logins. */
static int
login_listed(const struct buf *logins, const char *user)
{
	const char *p = buf_cstr(logins), *end;
	size_t ulen = strlen(user), n;

	while (*p != '\0') {
		p += strspn(p, ", \t");
		end = p + strcspn(p, ", \t");
		n = (size_t)(end - p);
		if (n > 0 && n == ulen && strncasecmp(p, user, n) == 0)
			return 1;
		p = end;
	}
	return 0;
}

int
smtpd_sender_login_mismatch(const struct smtpd_session *s,
			    enum restriction_kind r, const char *sender)
{
	const struct smtpd_security *sec = s->cfg->sec;
	struct buf logins = BUF_INIT;
	int found, id = -1;
	int authed = s->sec.authenticated;

	if (sender[0] == '\0' ||
	    (r == RESTRICT_REJECT_AUTH_SENDER_LOGIN_MISMATCH && !authed) ||
	    (r == RESTRICT_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH && authed))
		return -1;
	found = sender_owners(sec, sender, &logins);
	if (found < 0)
		id = SMTPD_R_LOOKUP_FAILED;
	else if (authed &&
		 (found == 0 || !login_listed(&logins, s->sec.auth_user)))
		id = SMTPD_R_SENDER_NOT_OWNED;
	else if (!authed && found == 1)
		id = SMTPD_R_SENDER_NOT_LOGGED_IN;
	buf_free(&logins);
	return id;
}
