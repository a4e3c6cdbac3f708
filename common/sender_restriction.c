/*
 * sender_restriction: the names of smtpd_sender_restrictions (see
 * sender_restriction.h), as Postfix spells them.  Pure.
 */
#include <string.h>

#include "sender_restriction.h"

static const struct {
	const char *name;
	enum sender_restriction r;
} sender_restriction_names[] = {
    {"permit_mynetworks", SENDER_PERMIT_MYNETWORKS},
    {"permit_sasl_authenticated", SENDER_PERMIT_SASL_AUTHENTICATED},
    {"reject", SENDER_REJECT},
    {"reject_sender_login_mismatch", SENDER_REJECT_LOGIN_MISMATCH},
    {"reject_authenticated_sender_login_mismatch",
     SENDER_REJECT_AUTH_LOGIN_MISMATCH},
    {"reject_unauthenticated_sender_login_mismatch",
     SENDER_REJECT_UNAUTH_LOGIN_MISMATCH},
};

int
sender_restriction_parse(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(sender_restriction_names) /
			    sizeof(sender_restriction_names[0]);
	     i++)
		if (strcmp(word, sender_restriction_names[i].name) == 0)
			return (int)sender_restriction_names[i].r;
	return -1;
}

int
sender_restriction_uses_map(enum sender_restriction r)
{
	return r == SENDER_REJECT_LOGIN_MISMATCH ||
	       r == SENDER_REJECT_AUTH_LOGIN_MISMATCH ||
	       r == SENDER_REJECT_UNAUTH_LOGIN_MISMATCH;
}
