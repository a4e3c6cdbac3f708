/*
 * tls_policy: the TLS security levels and the values of
 * smtp_tls_policy_maps, in Postfix's syntax:
 *   example.com          secure match=.example.com:example.com
 *   [mx.example.net]:587 encrypt
 *   .example.org         dane
 * A value is a level and attributes; only match= is known, for verify and
 * secure, and anything else is refused (a typo must never weaken a
 * policy).  Keys are the next hop as qmgr hands it over, then, for a bare
 * domain, its parents with a leading dot.  The values come from a map
 * root builds, but are parsed strictly all the same.  Pure: no I/O.
 * Runs in remote; tested by test_remote_tls_policy, fuzzed by
 * fuzz_remote_mta_sts.
 */
#include <string.h>
#include <strings.h>

#include "tls_policy.h"

static const char *const tls_level_names[] = {
    [TLS_LEV_NONE] = "none",           [TLS_LEV_MAY] = "may",
    [TLS_LEV_ENCRYPT] = "encrypt",     [TLS_LEV_DANE] = "dane",
    [TLS_LEV_DANE_ONLY] = "dane-only", [TLS_LEV_VERIFY] = "verify",
    [TLS_LEV_SECURE] = "secure",
};

#define TLS_LEVEL_COUNT (sizeof(tls_level_names) / sizeof(tls_level_names[0]))

int
tls_level_parse(const char *name, enum tls_level *out)
{
	size_t i;

	for (i = 0; i < TLS_LEVEL_COUNT; i++)
		if (strcasecmp(name, tls_level_names[i]) == 0) {
			*out = (enum tls_level)i;
			return 0;
		}
	return -1;
}

const char *
tls_level_name(enum tls_level level)
{
	return (size_t)level < TLS_LEVEL_COUNT ? tls_level_names[level] : "?";
}

/* A host name, or ".domain": labels of letters, digits, '-' and '_'. */
static int
policy_name_ok(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n > 0 && s[0] == '.') {
		s++;
		n--;
	}
	if (n == 0 || n >= TLS_POLICY_NAME_MAX - 1)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* match=a:b:c into p->match. */
static int
policy_match(const char *v, size_t n, struct tls_policy *p, const char **why)
{
	const char *end = v + n, *colon;
	size_t len;

	if (p->nmatch > 0) {
		*why = "match= given twice";
		return -1;
	}
	while (v <= end) {
		colon = memchr(v, ':', (size_t)(end - v));
		len = (size_t)((colon != NULL ? colon : end) - v);
		if (!policy_name_ok(v, len)) {
			*why = "match= needs names separated by ':' (hostname, "
			       "nexthop, dot-nexthop, a host name, .domain)";
			return -1;
		}
		if (p->nmatch == TLS_MATCH_MAX) {
			*why = "too many names in match=";
			return -1;
		}
		memcpy(p->match[p->nmatch], v, len);
		p->match[p->nmatch][len] = '\0';
		for (char *c = p->match[p->nmatch]; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		p->nmatch++;
		if (colon == NULL)
			break;
		v = colon + 1;
	}
	return 0;
}

static int
policy_space(char c)
{
	return c == ' ' || c == '\t';
}

int
tls_policy_parse(const char *text, struct tls_policy *p, const char **why)
{
	const char *s = text, *w;
	char level[16];
	size_t n;

	memset(p, 0, sizeof(*p));
	while (policy_space(*s))
		s++;
	for (w = s; *s != '\0' && !policy_space(*s); s++)
		;
	n = (size_t)(s - w);
	if (n == 0 || n >= sizeof(level)) {
		*why = n == 0 ? "no security level" : "unknown security level";
		return -1;
	}
	memcpy(level, w, n);
	level[n] = '\0';
	if (tls_level_parse(level, &p->level) != 0) {
		*why = "unknown security level (none, may, encrypt, dane, "
		       "dane-only, verify, secure)";
		return -1;
	}
	for (;;) {
		while (policy_space(*s))
			s++;
		if (*s == '\0')
			break;
		for (w = s; *s != '\0' && !policy_space(*s); s++)
			;
		n = (size_t)(s - w);
		if (n < 6 || strncasecmp(w, "match=", 6) != 0) {
			*why = "unknown attribute (only match= is supported)";
			return -1;
		}
		if (p->level != TLS_LEV_VERIFY && p->level != TLS_LEV_SECURE) {
			*why =
			    "match= is only for the verify and secure levels";
			return -1;
		}
		if (policy_match(w + 6, n - 6, p, why) != 0)
			return -1;
	}
	return 0;
}

static int
policy_copy(const char *s, size_t n, char *out, size_t size)
{
	size_t i;

	if (n + 1 > size)
		return 0;
	for (i = 0; i < n; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a')
						    : s[i];
	out[n] = '\0';
	return 1;
}

int
tls_policy_key(const char *nexthop, size_t i, char *out, size_t size)
{
	const char *p = nexthop;

	if (i == 0)
		return policy_copy(nexthop, strlen(nexthop), out, size);
	/* Parents only for a bare domain: no brackets, no port. */
	if (nexthop[0] == '[' || strchr(nexthop, ':') != NULL)
		return 0;
	while (i-- > 0) {
		p = strchr(p, '.');
		if (p == NULL || p[1] == '\0')
			return 0;
		if (i > 0)
			p++;
	}
	return policy_copy(p, strlen(p), out, size);
}
