/*
 * resolve: is a domain ours, and what is the base of a local part.  The
 * domain and local part come from hostile envelopes but have been through
 * the address parser; here they are only compared and copied with bounds.
 * Reads parameters (mydestination, recipient_delimiter) through params.h.
 * Runs in smtpd, cleanup, qmgr, local and rcptmap.
 */
#include <string.h>
#include <strings.h>

#include "params.h"
#include "resolve.h"

int
resolve_domain_is_local(const char *domain)
{
	const char *const *items;
	size_t n;

	if (domain[0] == '\0')
		return 1;
	n = param_list("mydestination", &items);
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(items[i], domain) == 0)
			return 1;
	return 0;
}

int
resolve_local_base(const char *local, char *out, size_t size)
{
	const char *delim = param_str("recipient_delimiter");
	size_t n = strlen(local);

	/*
	 * Each byte of recipient_delimiter is a delimiter (as in Postfix).
	 * A delimiter in the first byte does not split: "+foo" stays whole.
	 */
	if (delim[0] != '\0' && n > 1) {
		size_t k = 1 + strcspn(local + 1, delim);
		if (k < n)
			n = k;
	}
	if (n >= size)
		return -1;
	memcpy(out, local, n);
	out[n] = '\0';
	return 0;
}

int
resolve_login_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= RESOLVE_LOGIN_MAX && name[0] != '-' &&
	       name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}
