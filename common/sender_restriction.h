/*
 * sender_restriction: the words of smtpd_sender_restrictions, which smtpd
 * applies at MAIL FROM (in order; the first that permits or rejects
 * decides) and `moat check` verifies.  Input: the root-owned parameter.
 * Pure.
 */
#ifndef MOAT_SENDER_RESTRICTION_H
#define MOAT_SENDER_RESTRICTION_H

enum sender_restriction {
	SENDER_PERMIT_MYNETWORKS,
	SENDER_PERMIT_SASL_AUTHENTICATED,
	SENDER_REJECT,
	SENDER_REJECT_LOGIN_MISMATCH, /* both of the next two */
	SENDER_REJECT_AUTH_LOGIN_MISMATCH,
	SENDER_REJECT_UNAUTH_LOGIN_MISMATCH,
};

/* The restriction a word names, or -1. */
int sender_restriction_parse(const char *word);
/* 1 when r looks senders up in smtpd_sender_login_maps. */
int sender_restriction_uses_map(enum sender_restriction r);

#endif
