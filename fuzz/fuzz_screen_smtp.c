/*
 * fuzz_screen_smtp: hostile bytes into the screen's SMTP engine (what a
 * client that failed a test sends).  The first byte chooses the piece
 * size the rest is fed in; the replies and the log lines must not depend
 * on it (checked against feeding it whole), every reply line must end in
 * CRLF, and a log line must be one line of printable text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "screen_smtp.h"

static enum screen_smtp_result
run(const char *p, size_t size, size_t piece, struct buf *out, struct buf *log)
{
	struct screen_smtp s;
	enum screen_smtp_result r = SCREEN_SMTP_MORE;
	size_t off, n;

	screen_smtp_init(&s);
	s.myhostname = "mx.example";
	s.client = "[192.0.2.1]:4321";
	s.reject = "550 5.5.1 Protocol error";
	s.command_limit = 20;
	for (off = 0; off < size && r == SCREEN_SMTP_MORE; off += n) {
		n = size - off < piece ? size - off : piece;
		r = screen_smtp_input(&s, p + off, n, out, log);
	}
	return r;
}

static void
check_text(const struct buf *b, const char *eol)
{
	size_t i;

	if (b->len > 0 && b->data[b->len - 1] != '\n')
		abort();
	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c == '\n' &&
		    (eol[0] == '\r' && (i == 0 || b->data[i - 1] != '\r')))
			abort();
		if (c != '\n' && c != '\r' && (c < 0x20 || c > 0x7e))
			abort();
		if (c == '\r' && eol[0] != '\r')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf oa = BUF_INIT, la = BUF_INIT, ob = BUF_INIT, lb = BUF_INIT;
	enum screen_smtp_result ra, rb;

	if (size == 0)
		return 0;
	ra = run((const char *)data + 1, size - 1, size, &oa, &la);
	rb = run((const char *)data + 1, size - 1, 1 + data[0] % 32, &ob, &lb);
	if (ra != rb || !buf_equal(&oa, &ob) || !buf_equal(&la, &lb))
		abort();
	check_text(&oa, "\r\n");
	check_text(&la, "\n");
	buf_free(&oa);
	buf_free(&la);
	buf_free(&ob);
	buf_free(&lb);
	return 0;
}
