/*
 * fuzz_queue_format: the listing shapes of queue_format.h on hostile
 * strings (a queue file's sender, recipients and a delivery agent's
 * reason).  The input is split at NUL bytes into sender, reason and
 * recipients.  JSON strings must come out as valid UTF-8 with no control
 * byte and no unescaped quote; the text and mailq shapes must hold no
 * control byte but the newlines they end lines with.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue_format.h"

#define FUZZ_RCPT_MAX 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8, written apart from the code under test. */
static int
utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0, len, k;
	unsigned long cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		len = p[i] >= 0xF0   ? 4
		      : p[i] >= 0xE0 ? 3
		      : p[i] >= 0xC0 ? 2
				     : 0;
		if (len == 0 || i + len > n || p[i] > 0xF4)
			return 0;
		cp = p[i] & (0x7F >> len);
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

static void
check_json_string(const char *s)
{
	struct buf b = BUF_INIT;
	size_t i;

	queue_format_json_string(&b, s);
	if (b.len < 2 || b.data[0] != '"' || b.data[b.len - 1] != '"' ||
	    !utf8_ok((const unsigned char *)b.data, b.len))
		abort();
	for (i = 1; i + 1 < b.len; i++) {
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7F)
			abort();
		if (b.data[i] == '\\')
			i++; /* the escaped byte */
		else if (b.data[i] == '"')
			abort();
	}
	buf_free(&b);
}

static void
check_printable(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (((unsigned char)b->data[i] < 0x20 && b->data[i] != '\n') ||
		    b->data[i] == 0x7F)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *part[2 + FUZZ_RCPT_MAX];
	struct queue_listing e;
	struct buf b = BUF_INIT;
	char *copy = malloc(size + 1);
	size_t n = 0, off = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (n < 2 + FUZZ_RCPT_MAX && off <= size) {
		part[n++] = copy + off;
		off += strlen(copy + off) + 1;
	}
	while (n < 2)
		part[n++] = "";
	check_json_string(part[0]);
	memset(&e, 0, sizeof(e));
	e.queue_id = "0000000000ABCDEF0000123";
	e.queue = size > 0 && data[0] & 1 ? "hold" : "deferred";
	e.arrival = size > 1 ? (long long)data[1] << 24 : 0;
	e.size = (long long)size;
	e.sender = part[0];
	e.reason = part[1][0] != '\0' ? part[1] : NULL;
	e.rcpt = part + 2;
	e.rcpt_count = n - 2;
	queue_format_text(&b, &e);
	queue_format_mailq(&b, &e);
	check_printable(&b);
	buf_reset(&b);
	queue_format_json(&b, &e);
	if (!utf8_ok((const unsigned char *)b.data, b.len))
		abort();
	buf_free(&b);
	free(copy);
	return 0;
}
