/*
 * access: the values and the lookup keys of access tables, in the words
 * of Postfix's access(5).  A value is an action: OK (or PERMIT, or a
 * number alone), DUNNO, REJECT [text], DEFER [text], or a 4xx/5xx code
 * with text (which may start with an enhanced status code).  The keys of
 * an address are tried in this order: the whole address, its domain, each
 * parent domain, then "localpart@"; a host name: itself, then each parent
 * domain; a client address: itself, then its shorter network prefixes
 * (1.2.3, 1.2, 1; for IPv6 8 to 1 groups of the uncompressed form).
 * Input: the administrator's map values and client text already parsed.
 * Pure; run by smtpd (and unit tests, fuzz targets).
 */
#ifndef MOAT_ACCESS_H
#define MOAT_ACCESS_H

#include <stddef.h>

#define ACCESS_TEXT_MAX 200 /* reply text kept from a table's value */
#define ACCESS_KEYS_MAX 130 /* address, domain, 127 parents, local@ */
#define ACCESS_KEY_MAX 400  /* an address (ADDR_TEXT_MAX) fits */

enum access_verdict {
	ACCESS_DUNNO,  /* no decision: the next restriction */
	ACCESS_OK,     /* this list permits */
	ACCESS_REJECT, /* code 0: the default (554) */
	ACCESS_DEFER,  /* code 0: the default (450) */
	ACCESS_BAD,    /* a value that is no action: a configuration error */
};

struct access_action {
	enum access_verdict verdict;
	int code;                   /* 4xx/5xx given in the value, or 0 */
	char dsn[16];               /* enhanced status code given, or "" */
	char text[ACCESS_TEXT_MAX]; /* text given (printable ASCII), or "" */
};

/* Parse a table's value (len bytes, any bytes). */
enum access_verdict access_action_parse(const char *value, size_t len,
					struct access_action *out);

struct access_keys {
	size_t n;
	char key[ACCESS_KEYS_MAX][ACCESS_KEY_MAX];
};

/* Each appends to k (start with k->n = 0); keys that do not fit are left out.
 */
/* The keys of an address ("" is the null sender: key "<>"). */
void access_keys_address(const char *addr, struct access_keys *k);
/* The keys of a host name (HELO, the client's verified name). */
void access_keys_domain(const char *name, struct access_keys *k);
/* The keys of a numeric client address; none when it is not one. */
void access_keys_client_addr(const char *addr, struct access_keys *k);

#endif
