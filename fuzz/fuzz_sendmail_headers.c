/*
 * fuzz_sendmail_headers: hostile message starts into sendmail's header
 * readers.  Checks: a header block decided on a prefix is the one decided
 * on the whole input; the rewritten block is never longer than the input;
 * every recipient found re-parses as a full address; a From: made from
 * any name is one line; and the "." end of input gives the same result
 * fed whole or in pieces of a size chosen by the first byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendmail.h"

#define ORIGIN "example.net"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_head(const char *p, size_t len, size_t step)
{
	struct sendmail_head whole, part;
	size_t k;

	if (!sendmail_head_scan(p, len, 1, &whole))
		abort(); /* at end of input it always decides */
	if (whole.skip + whole.head_len > len)
		abort();
	for (k = 0; k < len; k += step)
		if (sendmail_head_scan(p, k, 0, &part) &&
		    (part.skip != whole.skip ||
		     part.head_len != whole.head_len))
			abort();
}

static void
check_rcpts(const struct sendmail_rcpts *r)
{
	struct address a;
	size_t i;

	for (i = 0; i < r->count; i++)
		if (address_parse(r->addr[i], strlen(r->addr[i]), 0, &a) !=
		    ADDR_OK)
			abort();
}

static void
check_rewrite(const char *p, size_t len)
{
	struct sendmail_rcpts r = {NULL, 0};
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct sendmail_head h;
	int has_from;

	sendmail_head_scan(p, len, 1, &h);
	if (sendmail_headers_rewrite(p + h.skip, h.head_len, 1, ORIGIN, &r,
				     &out, &has_from, &err) == 0 &&
	    out.len > h.head_len)
		abort();
	check_rcpts(&r);
	sendmail_rcpts_free(&r);
	if (sendmail_addr_list_parse(p, len, ORIGIN, &r, &err) == 0)
		check_rcpts(&r);
	sendmail_rcpts_free(&r);
	buf_free(&out);
	buf_free(&err);
}

static void
check_from(const char *p, size_t len)
{
	struct buf name = BUF_INIT, out = BUF_INIT;

	buf_append(&name, p, len);
	sendmail_from_header(buf_cstr(&name), "a@example.org", &out);
	if (out.len == 0 || out.data[out.len - 1] != '\n' ||
	    memchr(out.data, '\n', out.len - 1) != NULL ||
	    memchr(out.data, '\r', out.len) != NULL)
		abort();
	buf_free(&name);
	buf_free(&out);
}

static int
dots(const char *p, size_t len, size_t piece, struct buf *out, size_t *off)
{
	struct sendmail_dot d;
	size_t used, n;
	int end = 0;

	sendmail_dot_init(&d);
	*off = 0;
	while (*off < len && !end) {
		n = len - *off < piece ? len - *off : piece;
		end = sendmail_dot_input(&d, p + *off, n, out, &used);
		if (used > n || (!end && used != n))
			abort();
		*off += used;
	}
	if (!end)
		sendmail_dot_flush(&d, out);
	if (out->len > *off)
		abort();
	return end;
}

static void
check_dots(const char *p, size_t len, size_t piece)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t oa, ob;

	if (dots(p, len, len + 1, &a, &oa) != dots(p, len, piece, &b, &ob) ||
	    oa != ob || !buf_equal(&a, &b))
		abort();
	buf_free(&a);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t len;

	if (size == 0)
		return 0;
	len = size - 1;
	check_head(p, len, 1 + data[0] % 13);
	check_rewrite(p, len);
	check_from(p, len);
	check_dots(p, len, 1 + data[0] % 7);
	return 0;
}
