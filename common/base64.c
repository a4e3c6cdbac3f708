/*
 * base64: RFC 4648 base64 (see base64.h).  Hostile input, counted.  Pure.
 */
#include <string.h>

#include "base64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* One group of four characters, the last one perhaps padded. */
static int
b64_group(const unsigned char *in, int last, unsigned char *out, size_t *n)
{
	int v[4], i, pad = 0;

	for (i = 0; i < 4; i++) {
		if (in[i] == '=' && last && i >= 2) {
			pad++;
			v[i] = 0;
			continue;
		}
		if (pad > 0 || (v[i] = b64_value(in[i])) < 0)
			return -1;
	}
	/* Padding must cover whole characters with zero bits. */
	if ((pad == 1 && (v[2] & 3) != 0) || (pad == 2 && (v[1] & 15) != 0))
		return -1;
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
	out[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	*n = (size_t)(3 - pad);
	return 0;
}

int
base64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
	      size_t *outlen)
{
	unsigned char group[3];
	size_t i, n;

	*outlen = 0;
	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		if (b64_group((const unsigned char *)in + i, i + 4 == len,
			      group, &n) != 0)
			return -1;
		if (*outlen + n > cap)
			return -2;
		memcpy(out + *outlen, group, n);
		*outlen += n;
	}
	return 0;
}

void
base64_encode(const unsigned char *in, size_t len, struct buf *out)
{
	char quad[4];
	size_t i;
	unsigned v;

	for (i = 0; i < len; i += 3) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		quad[0] = b64_alphabet[v >> 18 & 63];
		quad[1] = b64_alphabet[v >> 12 & 63];
		quad[2] = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		quad[3] = i + 2 < len ? b64_alphabet[v & 63] : '=';
		buf_append(out, quad, 4);
	}
}
