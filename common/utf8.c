/*
 * utf8: UTF-8 validation (see utf8.h).  Every sequence is decoded and
 * its code point checked against the shortest form, so no two byte
 * strings pass for one character.  Pure; runs in every program.
 */
#include <string.h>

#include "utf8.h"

size_t
utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned cp;
	size_t n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0; /* a continuation byte, C0/C1 (overlong) or F5.. */
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0; /* overlong, too large, or a surrogate */
	return n;
}

int
utf8_text_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] < 0x20 || u[i] == 0x7F)
			return 0;
		n = utf8_seq_len(u + i, len - i);
		if (n == 0)
			return 0;
		/* U+0080..U+009F, the C1 controls, are C2 80..C2 9F. */
		if (n == 2 && u[i] == 0xC2 && u[i + 1] < 0xA0)
			return 0;
		i += n;
	}
	return 1;
}

int
utf8_has_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

void
utf8_clean(struct buf *out, const char *s, size_t len, int keep_utf8,
	   const char *also)
{
	size_t i = 0, n;
	unsigned char c;

	while (i < len) {
		c = (unsigned char)s[i];
		n = keep_utf8 && c >= 0x80
			? utf8_seq_len((const unsigned char *)s + i, len - i)
			: 0;
		if (n > 1 && utf8_text_ok(s + i, n)) {
			buf_append(out, s + i, n);
			i += n;
			continue;
		}
		if (c < 0x20 || c >= 0x7f ||
		    (c != 0 && strchr(also, c) != NULL))
			c = '?';
		buf_append_char(out, (char)c);
		i++;
	}
}
