/*
 * restriction: the restriction words, as Postfix spells them, and the
 * parser of a list (see restriction.h).  Pure.
 */
#include <string.h>
#include <strings.h>

#include "dnsbl.h"
#include "restriction.h"

static const struct {
	const char *name;
	enum restriction_kind kind;
} restriction_names[] = {
    {"permit", RESTRICT_PERMIT},
    {"reject", RESTRICT_REJECT},
    {"defer", RESTRICT_DEFER},
    {"permit_mynetworks", RESTRICT_PERMIT_MYNETWORKS},
    {"permit_sasl_authenticated", RESTRICT_PERMIT_SASL_AUTHENTICATED},
    {"reject_unauth_destination", RESTRICT_REJECT_UNAUTH_DESTINATION},
    {"reject_unlisted_recipient", RESTRICT_REJECT_UNLISTED_RECIPIENT},
    {"reject_non_fqdn_helo_hostname", RESTRICT_REJECT_NON_FQDN_HELO_HOSTNAME},
    {"reject_invalid_helo_hostname", RESTRICT_REJECT_INVALID_HELO_HOSTNAME},
    {"reject_non_fqdn_sender", RESTRICT_REJECT_NON_FQDN_SENDER},
    {"reject_non_fqdn_recipient", RESTRICT_REJECT_NON_FQDN_RECIPIENT},
    {"reject_unknown_reverse_client_hostname",
     RESTRICT_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME},
    {"reject_sender_login_mismatch", RESTRICT_REJECT_SENDER_LOGIN_MISMATCH},
    {"reject_authenticated_sender_login_mismatch",
     RESTRICT_REJECT_AUTH_SENDER_LOGIN_MISMATCH},
    {"reject_unauthenticated_sender_login_mismatch",
     RESTRICT_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH},
    {"check_client_access", RESTRICT_CHECK_CLIENT_ACCESS},
    {"check_helo_access", RESTRICT_CHECK_HELO_ACCESS},
    {"check_sender_access", RESTRICT_CHECK_SENDER_ACCESS},
    {"check_recipient_access", RESTRICT_CHECK_RECIPIENT_ACCESS},
    {"reject_rbl_client", RESTRICT_REJECT_RBL_CLIENT},
    {"reject_rhsbl_sender", RESTRICT_REJECT_RHSBL_SENDER},
};
#define NNAMES (sizeof(restriction_names) / sizeof(restriction_names[0]))

const char *
restriction_name(enum restriction_kind k)
{
	size_t i;

	for (i = 0; i < NNAMES; i++)
		if (restriction_names[i].kind == k)
			return restriction_names[i].name;
	return "?";
}

int
restriction_uses_login_map(enum restriction_kind k)
{
	return k == RESTRICT_REJECT_SENDER_LOGIN_MISMATCH ||
	       k == RESTRICT_REJECT_AUTH_SENDER_LOGIN_MISMATCH ||
	       k == RESTRICT_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH;
}

int
restriction_has_table(enum restriction_kind k)
{
	return k == RESTRICT_CHECK_CLIENT_ACCESS ||
	       k == RESTRICT_CHECK_HELO_ACCESS ||
	       k == RESTRICT_CHECK_SENDER_ACCESS ||
	       k == RESTRICT_CHECK_RECIPIENT_ACCESS;
}

static int
is_dns_list(enum restriction_kind k)
{
	return k == RESTRICT_REJECT_RBL_CLIENT ||
	       k == RESTRICT_REJECT_RHSBL_SENDER;
}

static int
find_kind(const char *word)
{
	size_t i;

	for (i = 0; i < NNAMES; i++)
		if (strcasecmp(word, restriction_names[i].name) == 0)
			return (int)restriction_names[i].kind;
	return -1;
}

/* "lmdb:/p", "hash:/p", "/p" (a compiled map) or "cidr:/p". */
static int
parse_table(const char *word, struct restriction *r, struct buf *err)
{
	const char *colon = strchr(word, ':');
	const char *path = colon ? colon + 1 : word;
	size_t tlen = colon ? (size_t)(colon - word) : 0;

	if (colon == NULL || (tlen == 4 && strncasecmp(word, "lmdb", 4) == 0) ||
	    (tlen == 4 && strncasecmp(word, "hash", 4) == 0)) {
		r->table = TABLE_LMDB;
	} else if (tlen == 4 && strncasecmp(word, "cidr", 4) == 0) {
		r->table = TABLE_CIDR;
	} else {
		buf_printf(err,
			   "%s: table type %.*s is not supported (lmdb:, "
			   "hash: or cidr:)",
			   restriction_name(r->kind), (int)tlen, word);
		return -1;
	}
	if (path[0] != '/') {
		buf_printf(err, "%s: %s: the table needs an absolute path",
			   restriction_name(r->kind), word);
		return -1;
	}
	if (strlcpy(r->arg, path, sizeof(r->arg)) >= sizeof(r->arg)) {
		buf_printf(err, "%s: table path too long",
			   restriction_name(r->kind));
		return -1;
	}
	return 0;
}

/* "domain" or "domain=filter": a site as dnsbl.h parses it, no weight. */
static int
parse_dns_list(const char *word, struct restriction *r, struct buf *err)
{
	const char *eq = strchr(word, '='), *why = "a weight has no place here";
	size_t len = strlen(word);

	if (memchr(word, '*', len) == NULL &&
	    dnsbl_site_parse(word, len, &r->dnsbl, &why) == 0) {
		why = "filter too long";
		if (strlcpy(r->filter, eq ? eq + 1 : "", sizeof(r->filter)) <
		    sizeof(r->filter)) {
			strlcpy(r->arg, r->dnsbl.domain, sizeof(r->arg));
			return 0;
		}
	}
	buf_printf(err, "%s: \"%s\" is not a DNS list domain[=filter]: %s",
		   restriction_name(r->kind), word, why);
	return -1;
}

int
restriction_list_parse(const char *const *words, size_t n,
		       struct restriction *out, size_t max, size_t *count,
		       struct buf *err)
{
	struct restriction *r;
	size_t i;
	int k;

	*count = 0;
	for (i = 0; i < n; i++) {
		if ((k = find_kind(words[i])) < 0) {
			buf_printf(err, "unknown restriction %s", words[i]);
			return -1;
		}
		if (*count >= max) {
			buf_printf(err, "more than %zu restrictions", max);
			return -1;
		}
		r = &out[(*count)++];
		memset(r, 0, sizeof(*r));
		r->kind = (enum restriction_kind)k;
		r->index = -1;
		if (!restriction_has_table(r->kind) && !is_dns_list(r->kind))
			continue;
		if (++i >= n) {
			buf_printf(err, "%s needs %s", words[i - 1],
				   is_dns_list(r->kind) ? "a DNS list domain"
							: "a table");
			return -1;
		}
		if (restriction_has_table(r->kind)
			? parse_table(words[i], r, err) != 0
			: parse_dns_list(words[i], r, err) != 0)
			return -1;
	}
	return 0;
}
