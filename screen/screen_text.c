/*
 * screen_text: how the screen shows what it saw in its log lines, in
 * postscreen's style: a client's early bytes with C escapes ("EHLO
 * x\r\n"), never raw, and delays in seconds with at most two decimals.
 * Input: client bytes, hostile, bounded by the caller's size.  Pure.  Run
 * by screen.
 */
#include <stdio.h>

#include "screen.h"

void
screen_escape(const char *data, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	char esc[5];
	size_t n, k;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];
		n = 0;
		if (ch == '\r' || ch == '\n' || ch == '\t' || ch == '\\') {
			esc[n++] = '\\';
			esc[n++] = ch == '\r'   ? 'r'
				   : ch == '\n' ? 'n'
				   : ch == '\t' ? 't'
						: '\\';
		} else if (ch < 0x20 || ch > 0x7e) {
			esc[n++] = '\\';
			esc[n++] = 'x';
			esc[n++] = hex[ch >> 4];
			esc[n++] = hex[ch & 0xf];
		} else {
			esc[n++] = (char)ch;
		}
		if (o + n >= size)
			break;
		for (k = 0; k < n; k++)
			out[o++] = esc[k];
	}
	if (size > 0)
		out[o] = '\0';
}

/*
 * Seconds with two significant digits and at most six decimals, no
 * trailing zeros: "0.2", "0.015", "1.5", "12", "0".
 */
void
screen_delay_text(long long us, char *out, size_t size)
{
	long long unit = 1, q, first = 100000;
	int decimals = 2, n, i;

	if (us <= 0) {
		snprintf(out, size, "0");
		return;
	}
	if (us >= 10000000) {
		snprintf(out, size, "%lld", (us + 500000) / 1000000);
		return;
	}
	if (us >= 1000000) {
		q = (us + 50000) / 100000; /* tenths */
		snprintf(out, size, q % 10 ? "%lld.%lld" : "%lld", q / 10,
			 q % 10);
		return;
	}
	while (decimals < 6 && us < first) { /* the first digit's place */
		first /= 10;
		decimals++;
	}
	for (i = decimals; i < 6; i++)
		unit *= 10;
	q = (us + unit / 2) / unit;
	if (q * unit >= 1000000) {
		snprintf(out, size, "1");
		return;
	}
	n = snprintf(out, size, "0.%0*lld", decimals, q);
	while (n > 2 && (size_t)n < size && out[n - 1] == '0')
		out[--n] = '\0';
}
