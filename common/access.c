/*
 * access: the actions and the key order of access tables (see access.h).
 * The values are the administrator's, the keys come from client text
 * that the address parser or the kernel already bounded; both are
 * treated as bytes of any value and copied with bounds.  Pure.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "access.h"
#include "smtpd_access.h"

static void
add_key(struct access_keys *k, const char *s, size_t len)
{
	if (k->n >= ACCESS_KEYS_MAX || len == 0 || len >= ACCESS_KEY_MAX)
		return;
	memcpy(k->key[k->n], s, len);
	k->key[k->n][len] = '\0';
	k->n++;
}

/* Append name and each parent domain. */
static void
add_domain(struct access_keys *k, const char *name)
{
	const char *p = name;

	if (name[0] == '[') { /* an address literal has no parents */
		add_key(k, name, strlen(name));
		return;
	}
	while (p != NULL && *p != '\0') {
		add_key(k, p, strlen(p));
		if ((p = strchr(p, '.')) != NULL)
			p++;
	}
}

void
access_keys_domain(const char *name, struct access_keys *k)
{
	add_domain(k, name);
}

void
access_keys_address(const char *addr, struct access_keys *k)
{
	const char *at = strrchr(addr, '@');

	if (addr[0] == '\0') {
		add_key(k, "<>", 2);
		return;
	}
	add_key(k, addr, strlen(addr));
	if (at == NULL)
		return;
	add_domain(k, at + 1);
	add_key(k, addr, (size_t)(at - addr) + 1);
}

/* 1.2.3.4, then 1.2.3, 1.2, 1. */
static void
keys_v4(const unsigned char *a, struct access_keys *k)
{
	char text[INET_ADDRSTRLEN];
	char *dot;

	if (inet_ntop(AF_INET, a, text, sizeof(text)) == NULL)
		return;
	add_key(k, text, strlen(text));
	while ((dot = strrchr(text, '.')) != NULL) {
		*dot = '\0';
		add_key(k, text, strlen(text));
	}
}

/* The compressed form, then 8 to 1 groups without "::". */
static void
keys_v6(const unsigned char *a, struct access_keys *k)
{
	char text[INET6_ADDRSTRLEN], full[8 * 5];
	size_t g, len = 0;
	static const char hex[] = "0123456789abcdef";

	if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
		return;
	add_key(k, text, strlen(text));
	for (g = 0; g < 8; g++) {
		unsigned v = (unsigned)a[2 * g] << 8 | a[2 * g + 1];
		int shift, started = 0;

		if (g > 0)
			full[len++] = ':';
		for (shift = 12; shift >= 0; shift -= 4) {
			unsigned d = (v >> shift) & 0xf;
			if (d != 0 || started || shift == 0) {
				full[len++] = hex[d];
				started = 1;
			}
		}
	}
	full[len] = '\0';
	if (strcmp(full, text) != 0)
		add_key(k, full, len);
	while (len > 0) {
		char *colon = strrchr(full, ':');
		if (colon == NULL)
			break;
		*colon = '\0';
		len = (size_t)(colon - full);
		add_key(k, full, len);
	}
}

void
access_keys_client_addr(const char *addr, struct access_keys *k)
{
	struct smtpd_net n;

	if (smtpd_access_parse_addr(addr, &n) != 0)
		return;
	if (n.family == AF_INET)
		keys_v4(n.addr, k);
	else
		keys_v6(n.addr, k);
}

/* Copy printable ASCII text, blanks squeezed at the ends. */
static void
copy_text(const char *s, size_t len, char *out, size_t size)
{
	size_t i, n = 0;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	for (i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

/* A leading "X.Y.Z " in text whose class is code's: moved to dsn. */
static void
split_dsn(struct access_action *a)
{
	size_t n = strcspn(a->text, " ");
	char dsn[sizeof(a->dsn)];
	size_t i, dots = 0;

	if (n < 5 || n >= sizeof(dsn) || a->text[0] != '0' + a->code / 100)
		return;
	for (i = 0; i < n; i++) {
		if (a->text[i] == '.')
			dots++;
		else if (a->text[i] < '0' || a->text[i] > '9')
			return;
	}
	if (dots != 2 || a->text[1] != '.')
		return;
	memcpy(dsn, a->text, n);
	dsn[n] = '\0';
	strlcpy(a->dsn, dsn, sizeof(a->dsn));
	n += strspn(a->text + n, " ");
	memmove(a->text, a->text + n, strlen(a->text + n) + 1);
}

static int
word_is(const char *w, size_t wlen, const char *name)
{
	return wlen == strlen(name) && strncasecmp(w, name, wlen) == 0;
}

enum access_verdict
access_action_parse(const char *value, size_t len, struct access_action *out)
{
	size_t w = 0, wlen, i;
	int digits = 1;

	memset(out, 0, sizeof(*out));
	while (w < len && (value[w] == ' ' || value[w] == '\t'))
		w++;
	for (wlen = 0; w + wlen < len && value[w + wlen] != ' ' &&
		       value[w + wlen] != '\t';
	     wlen++)
		if (value[w + wlen] < '0' || value[w + wlen] > '9')
			digits = 0;
	copy_text(value + w + wlen, len - w - wlen, out->text,
		  sizeof(out->text));
	if (wlen == 0)
		return out->verdict = ACCESS_BAD;
	if (word_is(value + w, wlen, "ok") ||
	    word_is(value + w, wlen, "permit"))
		return out->verdict = ACCESS_OK;
	if (word_is(value + w, wlen, "dunno"))
		return out->verdict = ACCESS_DUNNO;
	if (word_is(value + w, wlen, "reject"))
		return out->verdict = ACCESS_REJECT;
	if (word_is(value + w, wlen, "defer"))
		return out->verdict = ACCESS_DEFER;
	if (!digits)
		return out->verdict = ACCESS_BAD;
	if (wlen != 3 || (value[w] != '4' && value[w] != '5')) {
		out->text[0] = '\0';
		return out->verdict = ACCESS_OK; /* all-numerical: OK */
	}
	for (i = 0; i < 3; i++)
		out->code = out->code * 10 + (value[w + i] - '0');
	split_dsn(out);
	return out->verdict = out->code < 500 ? ACCESS_DEFER : ACCESS_REJECT;
}
