/*
 * address: the one RFC 5321 address parser.  Every byte is hostile: the
 * input is length-counted (NULs included), never copied before its length
 * is known to fit, and anything outside printable ASCII is refused, but
 * for well-formed UTF-8 (no overlong form, surrogate, C0 or C1 control)
 * when the caller allows it (SMTPUTF8, RFC 6531: UTF-8 in local parts,
 * quoted strings and domain labels).  Strict by default; the relaying
 * tricks are reported as flags for the caller to judge.  Pure: no I/O, no
 * logging, no globals.  Runs in smtpd, cleanup, local, pickup and the moat
 * command (aliases, .forward, envelopes).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "utf8.h"

/*
 * RFC 5322 atext: letters, digits and these; with utf8 (RFC 6531) any
 * byte of a UTF-8 sequence too, once addr_bytes_ok has checked them.
 */
static int
addr_atext(unsigned char c, int utf8)
{
	return (utf8 && c >= 0x80) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
addr_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static unsigned char
addr_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/*
 * NUL, controls and DEL are never part of an address; 8-bit bytes only
 * as well-formed UTF-8 without C1 controls, and only with utf8.
 */
static int
addr_bytes_ok(const char *s, size_t len, int utf8)
{
	if (utf8)
		return utf8_text_ok(s, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			return 0;
	}
	return 1;
}

/* A dot-atom: atoms of atext separated by single dots. */
static int
addr_dot_atom(const char *s, size_t n, int utf8)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.'
				: !addr_atext((unsigned char)s[i], utf8))
			return 0;
	}
	return 1;
}

static void
addr_local_flags(struct address *out, int quoted)
{
	if (strchr(out->local, '%') != NULL)
		out->flags |= ADDR_F_PERCENT;
	if (strchr(out->local, '!') != NULL)
		out->flags |= ADDR_F_BANG;
	if (quoted && strchr(out->local, '@') != NULL)
		out->flags |= ADDR_F_QUOTED_AT;
	if (quoted)
		out->flags |= ADDR_F_QUOTED;
}

/* A quoted-string at s[0] == '"'; *end is the index just past it. */
static enum addr_error
addr_quoted(const char *s, size_t len, size_t *end, struct address *out)
{
	size_t i = 1, n = 0;

	for (;;) {
		if (i >= len)
			return ADDR_ERR_SYNTAX;
		if (s[i] == '"')
			break;
		if (s[i] == '\\' && ++i >= len)
			return ADDR_ERR_SYNTAX;
		if (n + 1 >= sizeof(out->local) || i + 1 > ADDR_LOCAL_MAX)
			return ADDR_ERR_TOO_LONG;
		out->local[n++] = s[i++];
	}
	out->local[n] = '\0';
	*end = i + 1;
	if (*end > ADDR_LOCAL_MAX)
		return ADDR_ERR_TOO_LONG;
	return n == 0 ? ADDR_ERR_SYNTAX : ADDR_OK;
}

static enum addr_error
addr_local(const char *s, size_t len, size_t *end, struct address *out,
	   int utf8)
{
	enum addr_error e;
	size_t n;

	if (len > 0 && s[0] == '"') {
		if ((e = addr_quoted(s, len, end, out)) != ADDR_OK)
			return e;
		addr_local_flags(out, 1);
		return ADDR_OK;
	}
	for (n = 0; n < len && s[n] != '@'; n++)
		if (s[n] != '.' && !addr_atext((unsigned char)s[n], utf8))
			return ADDR_ERR_SYNTAX;
	if (!addr_dot_atom(s, n, utf8))
		return ADDR_ERR_SYNTAX;
	if (n > ADDR_LOCAL_MAX)
		return ADDR_ERR_TOO_LONG;
	memcpy(out->local, s, n);
	out->local[n] = '\0';
	*end = n;
	addr_local_flags(out, 0);
	return ADDR_OK;
}

/*
 * Labels of letters, digits and inner hyphens, 1..63 bytes each; with
 * utf8, UTF-8 letters too (U-labels, not checked against IDNA2008).
 */
static enum addr_error
addr_labels(const char *s, size_t len, int utf8)
{
	size_t start = 0;

	if (len > ADDR_DOMAIN_MAX)
		return ADDR_ERR_TOO_LONG;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!addr_let_dig((unsigned char)s[i]) && s[i] != '-' &&
			    !(utf8 && (unsigned char)s[i] >= 0x80))
				return ADDR_ERR_SYNTAX;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return ADDR_ERR_SYNTAX;
		if (i - start > 63)
			return ADDR_ERR_TOO_LONG;
		start = i + 1;
	}
	return ADDR_OK;
}

/* [1.2.3.4] or [IPv6:...]; lower-cased into out. */
static enum addr_error
addr_literal(const char *s, size_t len, char *out)
{
	char text[64];
	unsigned char bin[16];
	size_t n;
	int v6;

	if (len < 3 || s[len - 1] != ']')
		return ADDR_ERR_SYNTAX;
	s++;
	len -= 2;
	v6 = len > 5 && strncasecmp(s, "IPv6:", 5) == 0;
	if (v6) {
		s += 5;
		len -= 5;
	}
	if (len >= sizeof(text))
		return ADDR_ERR_SYNTAX;
	for (n = 0; n < len; n++)
		text[n] = (char)addr_lower((unsigned char)s[n]);
	text[n] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, text, bin) != 1)
		return ADDR_ERR_SYNTAX;
	/* fits: text is under 64 bytes, out holds ADDR_DOMAIN_MAX + 1 */
	memcpy(out, v6 ? "[ipv6:" : "[", v6 ? 6 : 1);
	out += v6 ? 6 : 1;
	memcpy(out, text, n);
	memcpy(out + n, "]", 2);
	return ADDR_OK;
}

static enum addr_error
addr_domain(const char *s, size_t len, int allow_literal, int utf8,
	    struct address *out)
{
	enum addr_error e;

	if (len > 0 && s[0] == '[' && allow_literal) {
		if (len > ADDR_DOMAIN_MAX)
			return ADDR_ERR_TOO_LONG;
		if ((e = addr_literal(s, len, out->domain)) == ADDR_OK)
			out->flags |= ADDR_F_LITERAL;
		return e;
	}
	if ((e = addr_labels(s, len, utf8)) != ADDR_OK)
		return e;
	for (size_t i = 0; i < len; i++)
		out->domain[i] = (char)addr_lower((unsigned char)s[i]);
	out->domain[len] = '\0';
	return ADDR_OK;
}

enum addr_error
address_parse(const char *s, size_t len, unsigned opts, struct address *out)
{
	int utf8 = (opts & ADDR_ALLOW_UTF8) != 0;
	enum addr_error e;
	size_t end = 0;

	memset(out, 0, sizeof(*out));
	if (!addr_bytes_ok(s, len, utf8))
		return ADDR_ERR_8BIT;
	if (len == 0)
		return ADDR_ERR_SYNTAX;
	if (len > ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX)
		return ADDR_ERR_TOO_LONG;
	if (utf8 && utf8_has_8bit(s, len))
		out->flags |= ADDR_F_UTF8;
	if ((e = addr_local(s, len, &end, out, utf8)) != ADDR_OK)
		goto fail;
	if (end == len) {
		if (opts & ADDR_ALLOW_NO_DOMAIN)
			return ADDR_OK;
		e = ADDR_ERR_NO_DOMAIN;
		goto fail;
	}
	e = ADDR_ERR_SYNTAX;
	if (s[end] != '@' || end + 1 == len)
		goto fail;
	end++;
	if (memchr(s + end, '@', len - end) != NULL) {
		e = ADDR_ERR_MULTI_AT;
		goto fail;
	}
	if ((e = addr_domain(s + end, len - end, 1, utf8, out)) == ADDR_OK)
		return ADDR_OK;
fail:
	memset(out, 0, sizeof(*out));
	return e;
}

/* "@a,@b:" before the mailbox; *end is the index past the ':'. */
static enum addr_error
addr_route(const char *s, size_t len, size_t *end)
{
	struct address scratch;
	const char *colon = memchr(s, ':', len);
	size_t stop = colon ? (size_t)(colon - s) : 0, i = 0;
	enum addr_error e;

	if (colon == NULL)
		return ADDR_ERR_SYNTAX;
	while (i < stop) {
		const char *comma = memchr(s + i, ',', stop - i);
		size_t next = comma ? (size_t)(comma - s) : stop;

		if (s[i] != '@')
			return ADDR_ERR_SYNTAX;
		memset(&scratch, 0, sizeof(scratch));
		e = addr_domain(s + i + 1, next - i - 1, 0, 0, &scratch);
		if (e != ADDR_OK)
			return e;
		i = next + 1;
		if (comma != NULL && i >= stop)
			return ADDR_ERR_SYNTAX;
	}
	*end = stop + 1;
	return ADDR_OK;
}

enum addr_error
address_parse_path(const char *s, size_t len, unsigned opts,
		   struct address *out)
{
	enum addr_error e;
	size_t start = 0;

	memset(out, 0, sizeof(*out));
	if (!addr_bytes_ok(s, len, (opts & ADDR_ALLOW_UTF8) != 0))
		return ADDR_ERR_8BIT;
	if (len > ADDR_PATH_MAX)
		return ADDR_ERR_TOO_LONG;
	if (len < 2 || s[0] != '<' || s[len - 1] != '>')
		return ADDR_ERR_SYNTAX;
	s++;
	len -= 2;
	if (len == 0) {
		if (!(opts & ADDR_ALLOW_NULL))
			return ADDR_ERR_NULL;
		out->is_null = 1;
		return ADDR_OK;
	}
	if (s[0] == '@' && (e = addr_route(s, len, &start)) != ADDR_OK)
		return e;
	if ((e = address_parse(s + start, len - start, opts, out)) != ADDR_OK)
		return e;
	if (start > 0)
		out->flags |= ADDR_F_ROUTE;
	return ADDR_OK;
}

size_t
address_path_end(const char *s, size_t len)
{
	int quoted = 0;

	if (len == 0 || s[0] != '<')
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (quoted && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '>')
			return i + 1;
	}
	return 0;
}

int
address_format(const struct address *a, char *out, size_t size)
{
	char text[ADDR_TEXT_MAX];
	size_t n = 0, llen = strnlen(a->local, sizeof(a->local));
	/* 8-bit bytes are in a local part only as checked UTF-8. */
	int quote = !addr_dot_atom(a->local, llen, 1);

	if (size == 0)
		return -1;
	if (a->is_null) {
		out[0] = '\0';
		return 0;
	}
	if (quote)
		text[n++] = '"';
	for (size_t i = 0; i < llen; i++) {
		if (n + 2 >= sizeof(text))
			return -1;
		if (quote && (a->local[i] == '"' || a->local[i] == '\\'))
			text[n++] = '\\';
		text[n++] = a->local[i];
	}
	if (quote)
		text[n++] = '"';
	if (a->domain[0] != '\0') {
		size_t dlen = strnlen(a->domain, sizeof(a->domain));
		if (n + 1 + dlen >= sizeof(text))
			return -1;
		text[n++] = '@';
		memcpy(text + n, a->domain, dlen);
		n += dlen;
	}
	if (n >= size)
		return -1;
	memcpy(out, text, n);
	out[n] = '\0';
	return (int)n;
}

const char *
address_strerror(enum addr_error e)
{
	switch (e) {
	case ADDR_OK:
		return "valid address";
	case ADDR_ERR_SYNTAX:
		return "bad address syntax";
	case ADDR_ERR_TOO_LONG:
		return "address too long";
	case ADDR_ERR_NO_DOMAIN:
		return "address without a domain";
	case ADDR_ERR_MULTI_AT:
		return "more than one @ in the address";
	case ADDR_ERR_8BIT:
		return "8-bit or control character in the address";
	case ADDR_ERR_NULL:
		return "the null address is not allowed here";
	}
	return "unknown address error";
}

int
address_text_ok(const char *s, unsigned opts)
{
	struct address a;
	size_t n;

	if (s == NULL)
		return 0;
	if (s[0] == '\0')
		return (opts & ADDR_ALLOW_NULL) != 0;
	n = strlen(s);
	return n < ADDR_TEXT_MAX &&
	       address_parse(s, n, opts & ~ADDR_ALLOW_NULL, &a) == ADDR_OK;
}
