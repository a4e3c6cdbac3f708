/*
 * tls_policy: the SMTP client's TLS security levels and the values of
 * smtp_tls_policy_maps, in Postfix's syntax ("secure match=.example.com",
 * "[mx.example.net]:587 encrypt" as key and value), and the keys a next
 * hop is looked up with.  Pure.  Used by remote (remote_tls_plan.c) and
 * by `moat map build`, which refuses a table with a value that does not
 * parse, naming the file and line.
 */
#ifndef MOAT_TLS_POLICY_H
#define MOAT_TLS_POLICY_H

#include <stddef.h>

#define TLS_MATCH_MAX 8         /* names in one match= attribute */
#define TLS_POLICY_NAME_MAX 256 /* one of them, with its NUL */

enum tls_level {
	TLS_LEV_NONE,      /* no TLS */
	TLS_LEV_MAY,       /* STARTTLS when offered, no authentication */
	TLS_LEV_ENCRYPT,   /* TLS required, no authentication */
	TLS_LEV_DANE,      /* DANE when usable, else may */
	TLS_LEV_DANE_ONLY, /* DANE required */
	TLS_LEV_VERIFY,    /* TLS, CA chain and the MX host name */
	TLS_LEV_SECURE,    /* TLS, CA chain and the next hop's names */
};

/* One entry of smtp_tls_policy_maps: "secure match=.example.com". */
struct tls_policy {
	enum tls_level level;
	size_t nmatch; /* 0: the level's default names */
	char match[TLS_MATCH_MAX][TLS_POLICY_NAME_MAX];
};

/* "may" to TLS_LEV_MAY (any case); -1 for an unknown name. */
int tls_level_parse(const char *name, enum tls_level *out);
const char *tls_level_name(enum tls_level level);
/*
 * A policy table value: a level, then attributes.  Only match=NAME:NAME
 * (verify and secure; names are hostname, nexthop, dot-nexthop, a host
 * name, or .domain for its subdomains) is known; anything else is an
 * error.  0, or -1 with *why.
 */
int tls_policy_parse(const char *text, struct tls_policy *p, const char **why);
/*
 * The i-th key to look the next hop up with (i from 0): the next hop as
 * it is ("[mx.example.net]:587", "example.com"), then for a bare domain
 * its parents with a leading dot (".example.com", ".com").  1 with the
 * key in out, 0 when there is no i-th key.
 */
int tls_policy_key(const char *nexthop, size_t i, char *out, size_t size);

#endif
