/*
 * remote_reply: the parser of SMTP replies (RFC 5321 4.2, enhanced
 * status codes of RFC 3463 / 2034).  Every byte comes from a remote
 * server and is hostile: lines, line counts and the text kept are
 * bounded, the code must be valid and the same on every line, a NUL ends
 * the conversation, control bytes are kept as '?'.  Pure: no I/O, no
 * globals; the input is a buffer that may hold a partial reply or
 * several pipelined ones.  Runs in remote; fuzzed by fuzz_remote_reply.
 */
#include <string.h>

#include "remote.h"

/* 3 digits: 2-5, 0-5, 0-9.  The code, or -1. */
static int
reply_code(const char *p, size_t len)
{
	if (len < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' ||
	    p[2] < '0' || p[2] > '9')
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* 1 to 3 digits at p (up to end); their count, or 0. */
static size_t
reply_digits(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && n < 4 && p[n] >= '0' && p[n] <= '9')
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

/*
 * The enhanced status code at the start of a line's text, when it is
 * "C.S.D" with C the class of the reply code and followed by a space or
 * the end of the line.
 */
static void
reply_dsn(const char *p, const char *end, int code, char *dsn, size_t size)
{
	const char *s = p;
	size_t n;

	dsn[0] = '\0';
	if (end - p < 5 || p[0] != '0' + code / 100 || p[1] != '.')
		return;
	s = p + 2;
	if ((n = reply_digits(s, end)) == 0 || s + n >= end || s[n] != '.')
		return;
	s += n + 1;
	if ((n = reply_digits(s, end)) == 0 || (s + n < end && s[n] != ' '))
		return;
	s += n;
	if ((size_t)(s - p) >= size)
		return;
	memcpy(dsn, p, (size_t)(s - p));
	dsn[s - p] = '\0';
}

/* Append one line (without its line end) to the reply's text. */
static void
reply_keep(struct smtp_reply *r, const char *p, size_t len)
{
	size_t i;

	if (r->len > 0 && r->len + 1 < sizeof(r->text))
		r->text[r->len++] = '\n';
	for (i = 0; i < len && r->len + 1 < sizeof(r->text); i++) {
		unsigned char c = (unsigned char)p[i];
		r->text[r->len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	r->text[r->len] = '\0';
}

/*
 * Check one line (len bytes without CR LF): 1 when it is the last line of
 * the reply, 0 when more follow, -1 when it is malformed.
 */
static int
reply_line(struct smtp_reply *r, const char *p, size_t len, const char **why)
{
	int code = reply_code(p, len);

	if (code < 0) {
		*why = "a reply line without a valid reply code";
		return -1;
	}
	if (memchr(p, '\0', len) != NULL) {
		*why = "a NUL byte in a reply";
		return -1;
	}
	if (r->lines == 0) {
		r->code = code;
		reply_dsn(p + 4 < p + len ? p + 4 : p + len, p + len, code,
			  r->dsn, sizeof(r->dsn));
	} else if (code != r->code) {
		*why = "the reply code changes within a reply";
		return -1;
	}
	if (++r->lines > REMOTE_REPLY_LINES_MAX) {
		*why = "a reply of too many lines";
		return -1;
	}
	if (len > 3 && p[3] != '-' && p[3] != ' ') {
		*why = "a reply line without a separator after its code";
		return -1;
	}
	reply_keep(r, p, len);
	return len == 3 || p[3] == ' ';
}

int
smtp_reply_take(struct buf *in, struct smtp_reply *r, const char **why)
{
	size_t pos = 0, len;
	const char *p, *lf;
	int last;

	memset(r, 0, sizeof(*r));
	while (pos < in->len) {
		p = in->data + pos;
		lf = memchr(p, '\n', in->len - pos);
		if (lf == NULL) {
			if (in->len - pos >= REMOTE_REPLY_LINE_MAX) {
				*why = "a reply line too long";
				return -1;
			}
			return 0;
		}
		len = (size_t)(lf - p);
		if (len + 1 > REMOTE_REPLY_LINE_MAX) {
			*why = "a reply line too long";
			return -1;
		}
		pos += len + 1;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if ((last = reply_line(r, p, len, why)) < 0)
			return -1;
		if (last) {
			buf_consume(in, pos);
			return 1;
		}
	}
	return 0;
}

void
smtp_reply_oneline(const struct smtp_reply *r, char *out, size_t size)
{
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i < r->len && i + 1 < size; i++)
		out[i] = r->text[i] == '\n' ? ' ' : r->text[i];
	out[i] = '\0';
}
