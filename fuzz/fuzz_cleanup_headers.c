/*
 * fuzz_cleanup_headers: cleanup's header block processor on hostile
 * message content.  The content is fed twice, whole and in chunks whose
 * sizes come from the first input byte; both runs must agree, and every
 * byte must be accounted for (block + held-back prefix + body = input, one
 * LF more when finish completed a last header line).  Small limits make the
 * rejection paths reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cleanup_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cleanup_trace trace = {
    .queue_id = "0123456789ABCDEF0",
    .myhostname = "mx.example.org",
    .protocol = "ESMTP",
    .helo = "client.example.net",
    .client_name = "mail.example.net",
    .client_addr = "192.0.2.1",
    .rcpt = "bob@example.net",
    .uid = -1,
    .date = "Sun, 22 Nov 2026 22:58:01 +0000",
    .from = "alice@example.org",
};

/* Run the processor; the queued content (or nothing) goes to out. */
static int
run(const char *in, size_t len, size_t chunk, struct buf *out)
{
	struct cleanup_headers h;
	struct buf body = BUF_INIT;
	const char *prefix;
	size_t off, n, took, prefix_len, total;
	int state;

	cleanup_headers_init(&h, 1024, 20, 5);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		took = cleanup_headers_feed(&h, in + off, n);
		if (took > n)
			abort();
		if (h.state == HDR_STATE_HEADERS && took != n)
			abort();
		if (h.state == HDR_STATE_BODY)
			buf_append(&body, in + off + took, n - took);
	}
	cleanup_headers_finish(&h);
	state = h.state;
	if (h.state == HDR_STATE_HEADERS)
		abort();
	if (h.state == HDR_STATE_BODY) {
		if (h.block.len > 1024 || h.lines > 20 || h.received > 5)
			abort();
		cleanup_headers_prefix(&h, &prefix, &prefix_len);
		total = h.block.len + prefix_len + body.len;
		if (total != len && total != len + 1)
			abort();
		cleanup_headers_emit(&h, &trace, out);
		buf_append(out, prefix, prefix_len);
		buf_append(out, body.data, body.len);
	}
	buf_free(&body);
	cleanup_headers_free(&h);
	return state;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 16 + 1;
	if (run((const char *)data + 1, size - 1, size, &a) !=
	    run((const char *)data + 1, size - 1, chunk, &b))
		abort();
	if (!buf_equal(&a, &b))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
