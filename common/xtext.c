/*
 * xtext: RFC 3461 xtext decoding (see xtext.h).  Each byte of the input
 * is looked at once; the output is never longer than the input.  Pure;
 * hostile input; runs in smtpd.
 */
#include "xtext.h"

static int
xtext_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
xtext_decode(const char *p, size_t len, struct buf *out)
{
	size_t i = 0;
	int hi, lo;
	char c;

	while (i < len) {
		c = p[i];
		if ((unsigned char)c < '!' || (unsigned char)c > '~')
			return -1;
		if (c != '+') {
			buf_append_char(out, c);
			i++;
			continue;
		}
		if (len - i < 3 ||
		    (hi = xtext_hex((unsigned char)p[i + 1])) < 0 ||
		    (lo = xtext_hex((unsigned char)p[i + 2])) < 0)
			return -1;
		buf_append_char(out, (char)(hi * 16 + lo));
		i += 3;
	}
	return 0;
}
