/*
 * restriction: the words of Postfix-style restriction lists
 * (smtpd_client_restrictions, smtpd_helo_restrictions,
 * smtpd_sender_restrictions, smtpd_recipient_restrictions), parsed into
 * an array that smtpd evaluates (smtpd_restrict.c) and `moat check`
 * verifies.  A word may take the next word as its argument: a table
 * ("lmdb:/path", "hash:/path" or "/path" for a map `moat map build`
 * compiled; "cidr:/path" for a CIDR table) or a DNS list domain.  Input:
 * root-owned parameters, parsed with bounds all the same (fuzzed).  Pure.
 */
#ifndef MOAT_RESTRICTION_H
#define MOAT_RESTRICTION_H

#include <stddef.h>

#include "buf.h"
#include "dnsbl.h"

#define RESTRICTIONS_MAX 64     /* items in one list */
#define RESTRICTION_ARG_MAX 256 /* a table path or a DNS list domain */

enum restriction_kind {
	RESTRICT_PERMIT,
	RESTRICT_REJECT,
	RESTRICT_DEFER,
	RESTRICT_PERMIT_MYNETWORKS,
	RESTRICT_PERMIT_SASL_AUTHENTICATED,
	RESTRICT_REJECT_UNAUTH_DESTINATION,
	RESTRICT_REJECT_UNLISTED_RECIPIENT,
	RESTRICT_REJECT_NON_FQDN_HELO_HOSTNAME,
	RESTRICT_REJECT_INVALID_HELO_HOSTNAME,
	RESTRICT_REJECT_NON_FQDN_SENDER,
	RESTRICT_REJECT_NON_FQDN_RECIPIENT,
	RESTRICT_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME,
	RESTRICT_REJECT_SENDER_LOGIN_MISMATCH, /* both of the next two */
	RESTRICT_REJECT_AUTH_SENDER_LOGIN_MISMATCH,
	RESTRICT_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH,
	/* With a table argument. */
	RESTRICT_CHECK_CLIENT_ACCESS,
	RESTRICT_CHECK_HELO_ACCESS,
	RESTRICT_CHECK_SENDER_ACCESS,
	RESTRICT_CHECK_RECIPIENT_ACCESS,
	/*
	 * With a DNS list argument: "domain" or "domain=127.0.0.2" (a
	 * dnsbl.h site without a weight; arg: the domain, lower case).
	 */
	RESTRICT_REJECT_RBL_CLIENT,
	RESTRICT_REJECT_RHSBL_SENDER,
};

enum restriction_table { TABLE_NONE, TABLE_LMDB, TABLE_CIDR };

struct restriction {
	enum restriction_kind kind;
	enum restriction_table table;     /* check_*_access */
	char arg[RESTRICTION_ARG_MAX];    /* table path, or DNS list domain */
	char filter[RESTRICTION_ARG_MAX]; /* DNS list reply filter, or "" */
	struct dnsbl_site dnsbl;          /* the DNS list, parsed */
	int index; /* the caller's number for the open table (-1: none) */
};

/*
 * Parse the n words of a list (as param_list splits it) into out (at
 * most max items, *count of them): 0, or -1 with err ("unknown
 * restriction X", "X needs a table").
 */
int restriction_list_parse(const char *const *words, size_t n,
			   struct restriction *out, size_t max, size_t *count,
			   struct buf *err);
/* The Postfix name of a kind, for messages. */
const char *restriction_name(enum restriction_kind k);
/* 1 when k looks senders up in smtpd_sender_login_maps. */
int restriction_uses_login_map(enum restriction_kind k);
/* 1 when k takes a table argument (check_*_access). */
int restriction_has_table(enum restriction_kind k);

#endif
