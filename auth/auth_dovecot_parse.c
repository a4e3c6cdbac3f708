/*
 * auth_dovecot_parse: what Dovecot's auth server says to a client, read
 * strictly (see auth.h).  Handshake: VERSION (major 1), MECH lines, SPID,
 * CUID, COOKIE, DONE; other words of capitals are ignored, as the
 * protocol asks of clients.  Then the answer to our one request: OK,
 * FAIL (with "temp": try later) or CONT, each naming our id.  A line
 * longer than DOVECOT_LINE_MAX, a NUL or CR, a bad escape, a second
 * VERSION or an answer for another id is an error.  Input: hostile bytes
 * from a socket.  Pure; run by auth, its unit test and fuzz target.
 */
#include <string.h>

#include "auth.h"

#define FIELDS_MAX 32

void
dovecot_client_init(struct dovecot_client *d, unsigned long id)
{
	memset(d, 0, sizeof(*d));
	d->state = DOVECOT_HANDSHAKE;
	d->id = id;
	d->verdict = AUTH_TEMP;
}

struct fields {
	const char *p[FIELDS_MAX];
	size_t len[FIELDS_MAX];
	size_t n;
};

/* Split at tabs; -1 for too many fields. */
static int
split(const char *line, size_t len, struct fields *f)
{
	size_t start = 0, i;

	f->n = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (f->n == FIELDS_MAX)
			return -1;
		f->p[f->n] = line + start;
		f->len[f->n++] = i - start;
		start = i + 1;
	}
	return 0;
}

static int
is(const struct fields *f, size_t i, const char *word)
{
	return i < f->n && f->len[i] == strlen(word) &&
	       memcmp(f->p[i], word, f->len[i]) == 0;
}

/* A decimal number of 1 to 10 digits. */
static int
number(const char *s, size_t len, unsigned long *out)
{
	size_t i;

	*out = 0;
	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (unsigned long)(s[i] - '0');
	}
	return 0;
}

/* Dovecot's escapes: \001 then '1', 't', 'r' or 'n'. */
static int
unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t i, n = 0;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '\001') {
			if (++i == len)
				return -1;
			c = s[i] == '1'   ? '\001'
			    : s[i] == 't' ? '\t'
			    : s[i] == 'r' ? '\r'
			    : s[i] == 'n' ? '\n'
					  : 0;
			if (c == 0)
				return -1;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static int
handshake_line(struct dovecot_client *d, const struct fields *f,
	       const char **why)
{
	unsigned long major, num;

	if (is(f, 0, "VERSION")) {
		if (d->version_ok || f->n < 3 ||
		    number(f->p[1], f->len[1], &major) != 0 ||
		    number(f->p[2], f->len[2], &num) != 0 || major != 1) {
			*why = "bad VERSION";
			return -1;
		}
		d->version_ok = 1;
		return 0;
	}
	if (!d->version_ok) {
		*why = "no VERSION first";
		return -1;
	}
	if (is(f, 0, "MECH")) {
		if (f->n < 2 || f->len[1] == 0) {
			*why = "bad MECH";
			return -1;
		}
		if (is(f, 1, "PLAIN"))
			d->plain = 1;
		return 0;
	}
	if (is(f, 0, "SPID") || is(f, 0, "CUID")) {
		if (f->n != 2 || number(f->p[1], f->len[1], &num) != 0) {
			*why = "bad SPID or CUID";
			return -1;
		}
		return 0;
	}
	if (is(f, 0, "DONE")) {
		d->state = DOVECOT_READY;
		return 0;
	}
	return 0; /* COOKIE and words of newer servers */
}

/* OK, FAIL or CONT for our id; the user= and temp parameters. */
static int
answer_line(struct dovecot_client *d, const struct fields *f, const char **why)
{
	unsigned long id;
	size_t i;
	int ok = is(f, 0, "OK"), fail = is(f, 0, "FAIL");

	if (!ok && !fail && !is(f, 0, "CONT"))
		return 0; /* not an answer: ignored */
	if (f->n < 2 || number(f->p[1], f->len[1], &id) != 0 || id != d->id) {
		*why = "an answer for another request";
		return -1;
	}
	/* CONT: PLAIN with its initial response needs none: a refusal. */
	d->verdict = ok ? AUTH_OK : AUTH_FAIL;
	for (i = 2; i < f->n && (ok || fail); i++) {
		if (f->len[i] > 5 && memcmp(f->p[i], "user=", 5) == 0 &&
		    unescape(f->p[i] + 5, f->len[i] - 5, d->user,
			     sizeof(d->user)) != 0) {
			*why = "bad user=";
			return -1;
		}
		if (fail && is(f, i, "temp"))
			d->verdict = AUTH_TEMP;
	}
	d->state = DOVECOT_ANSWERED;
	return 0;
}

static int
client_line(struct dovecot_client *d, const char *line, size_t len,
	    const char **why)
{
	struct fields f;
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] == '\0' || line[i] == '\r') {
			*why = "NUL or CR in a line";
			return -1;
		}
	if (split(line, len, &f) != 0) {
		*why = "too many fields";
		return -1;
	}
	if (d->state == DOVECOT_HANDSHAKE)
		return handshake_line(d, &f, why);
	if (d->state == DOVECOT_READY)
		return answer_line(d, &f, why);
	*why = "a line after the answer";
	return -1;
}

int
dovecot_client_feed(struct dovecot_client *d, struct buf *in, const char **why)
{
	enum dovecot_state before = d->state;
	size_t off = 0, len;
	const char *nl;

	while (off < in->len && d->state == before) {
		nl = memchr(in->data + off, '\n', in->len - off);
		len =
		    nl != NULL ? (size_t)(nl - in->data) - off : in->len - off;
		if (len > DOVECOT_LINE_MAX) {
			*why = "line too long";
			return -1;
		}
		if (nl == NULL)
			break;
		if (client_line(d, in->data + off, len, why) != 0)
			return -1;
		off += len + 1;
	}
	buf_consume(in, off);
	return d->state != before ? 1 : 0;
}
