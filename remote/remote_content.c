/*
 * remote_content: the message on the wire.  The queue holds the content
 * in canonical form (LF line ends, not dot-stuffed); DATA needs CRLF line
 * ends, a '.' doubled at the start of a line, and "." alone to end.  The
 * scan finds what MAIL FROM must say (SIZE=, BODY=8BITMIME) and whether
 * the header block holds 8-bit bytes (UTF-8 headers need SMTPUTF8).  xtext
 * encodes DSN parameters.  The content is hostile but only copied; every
 * function is pure and incremental where it takes chunks.  Runs in remote.
 */
#include "remote.h"

void
smtp_stuff_init(struct smtp_stuff *s)
{
	s->bol = 1;
	s->last_cr = 0;
	s->any = 0;
}

void
smtp_stuff(struct smtp_stuff *s, const char *in, size_t len, struct buf *out)
{
	size_t i, from = 0;

	buf_reserve(out, len + len / 16 + 8);
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (s->bol && c == '.') {
			buf_append(out, in + from, i - from);
			buf_append_char(out, '.');
			from = i;
		} else if (c == '\n' && !s->last_cr) {
			buf_append(out, in + from, i - from);
			buf_append_char(out, '\r');
			from = i;
		}
		s->bol = c == '\n';
		s->last_cr = c == '\r';
	}
	buf_append(out, in + from, len - from);
	if (len > 0)
		s->any = 1;
}

void
smtp_stuff_end(struct smtp_stuff *s, struct buf *out)
{
	if (s->any && !s->bol)
		buf_append_str(out, "\r\n");
	buf_append_str(out, ".\r\n");
	s->bol = 1;
	s->last_cr = 0;
}

void
smtp_content_scan(struct smtp_content_info *ci, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n') {
			ci->lines++;
			/* An empty line ends the header block. */
			if (ci->last_lf || ci->bytes + i == 0)
				ci->body = 1;
		} else if (c >= 0x80) {
			ci->eightbit = 1;
			if (!ci->body)
				ci->eightbit_headers = 1;
		}
		ci->last_lf = c == '\n';
	}
	ci->bytes += len;
}

unsigned long long
smtp_content_wire_size(const struct smtp_content_info *ci)
{
	return ci->bytes + ci->lines;
}

void
smtp_xtext(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 33 || c > 126 || c == '+' || c == '=') {
			buf_append_char(out, '+');
			buf_append_char(out, hex[c >> 4]);
			buf_append_char(out, hex[c & 15]);
		} else {
			buf_append_char(out, (char)c);
		}
	}
}
