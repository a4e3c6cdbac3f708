/*
 * address: the one parser of mail addresses, used by every place that reads
 * one (SMTP paths, aliases, .forward, headers that name recipients).  There
 * is no shortcut for "a local user without a domain": a bare name parses as
 * a local part with an empty domain, and the caller decides what that means.
 * Pure: no I/O, no globals; input is hostile and length-counted.
 *
 * It recognises the old relaying tricks and reports them as flags, so smtpd
 * can refuse them from untrusted clients: user%domain@host, domain!user@host,
 * "user@domain"@host, and source routes @host:user@domain (which are
 * stripped, as RFC 5321 says, with ADDR_F_ROUTE set).  An unquoted second
 * '@' (user@domain@host) is a syntax error.
 *
 * UTF-8 (RFC 6531) in the local part and the domain is allowed only with
 * ADDR_ALLOW_UTF8 (smtpd: after MAIL FROM's SMTPUTF8; readers of queue
 * files and requests: always, the envelope having been checked when it
 * came in); ADDR_F_UTF8 then says it was used.
 */
#ifndef MOAT_ADDRESS_H
#define MOAT_ADDRESS_H

#include <stddef.h>

#define ADDR_LOCAL_MAX 64   /* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX 255 /* RFC 5321 4.5.3.1.2 */
#define ADDR_PATH_MAX 256   /* RFC 5321 4.5.3.1.3, including <> */
#define ADDR_TEXT_MAX (ADDR_LOCAL_MAX * 2 + 3 + ADDR_DOMAIN_MAX + 1)

/* Flags describing what was seen. */
#define ADDR_F_ROUTE 0x01     /* @a,@b:user@domain (route stripped) */
#define ADDR_F_PERCENT 0x02   /* '%' in the local part */
#define ADDR_F_BANG 0x04      /* '!' in the local part */
#define ADDR_F_QUOTED_AT 0x08 /* '@' inside a quoted local part */
#define ADDR_F_QUOTED 0x10    /* the local part was a quoted string */
#define ADDR_F_LITERAL 0x20   /* the domain is an address literal [...] */
#define ADDR_F_UTF8 0x40      /* non-ASCII (UTF-8) bytes were seen */
#define ADDR_F_RELAY_HACKS                                                     \
	(ADDR_F_ROUTE | ADDR_F_PERCENT | ADDR_F_BANG | ADDR_F_QUOTED_AT)

/* Options for the parser. */
#define ADDR_ALLOW_NULL 0x01      /* "<>" is valid (MAIL FROM) */
#define ADDR_ALLOW_NO_DOMAIN 0x02 /* "user" is valid (aliases, local use) */
#define ADDR_ALLOW_UTF8 0x04      /* well-formed UTF-8 is valid (SMTPUTF8) */

enum addr_error {
	ADDR_OK = 0,
	ADDR_ERR_SYNTAX,    /* not an address */
	ADDR_ERR_TOO_LONG,  /* over one of the limits above */
	ADDR_ERR_NO_DOMAIN, /* "user" without ADDR_ALLOW_NO_DOMAIN */
	ADDR_ERR_MULTI_AT,  /* user@domain@host */
	ADDR_ERR_8BIT,      /* bytes >= 0x80 (no SMTPUTF8), malformed
			       UTF-8, or NUL/controls */
	ADDR_ERR_NULL,      /* "<>" without ADDR_ALLOW_NULL */
};

struct address {
	char local[ADDR_LOCAL_MAX * 2 + 3]; /* unquoted form, as given */
	char domain[ADDR_DOMAIN_MAX + 1];   /* lower-cased; "" if none */
	unsigned flags;
	int is_null; /* "<>" */
};

/*
 * An SMTP path: "<...>" as after MAIL FROM: or RCPT TO:, possibly with a
 * source route.  len covers only the path (the caller splits off the ESMTP
 * parameters with address_path_end).
 */
enum addr_error address_parse_path(const char *s, size_t len, unsigned opts,
				   struct address *out);
/*
 * Where the path that starts at s ends (the index just past '>', minding
 * quotes), or 0 when there is no complete path.
 */
size_t address_path_end(const char *s, size_t len);
/* A bare address: "local@domain", or "local" with ADDR_ALLOW_NO_DOMAIN. */
enum addr_error address_parse(const char *s, size_t len, unsigned opts,
			      struct address *out);
/*
 * The canonical text: local part quoted when it needs it, "@", domain.
 * Returns the length, or -1 if it does not fit (it always fits in
 * ADDR_TEXT_MAX).  The null address formats as "".
 */
int address_format(const struct address *a, char *out, size_t size);
/*
 * 1 when s, an address as stored (queue files, requests between
 * daemons), fits ADDR_TEXT_MAX and parses with opts; "" only with
 * ADDR_ALLOW_NULL.
 */
int address_text_ok(const char *s, unsigned opts);
/* A short English reason for an error, for SMTP replies and logs. */
const char *address_strerror(enum addr_error e);

#endif
