/*
 * fuzz_remote_reply: hostile server bytes into the SMTP reply parser and
 * then into the client session engine.  The first byte chooses the piece
 * size the input is fed in; the replies taken must not depend on it
 * (compared with feeding it whole).  Every reply taken also drives an
 * engine through greeting, EHLO and transactions: it must never crash,
 * and a transaction that ends leaves no recipient without a result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

struct run {
	struct buf replies; /* every reply taken, serialized */
	int error;
};

static void
engine_step(struct smtp_engine *e, struct smtp_txn *t, struct smtp_rcpt *r,
	    const struct smtp_reply *reply)
{
	size_t i;

	if (e->want == SMTP_WANT_READY) {
		for (i = 0; e->txn != NULL && i < t->rcpt_count; i++)
			if (r[i].state == SMTP_RCPT_PENDING ||
			    r[i].state == SMTP_RCPT_ACCEPTED)
				abort();
		memset(r, 0, 2 * sizeof(*r));
		r[0].addr = "a@example.net";
		r[1].addr = "b@example.net";
		smtp_engine_begin(e, t);
	}
	if (e->want == SMTP_WANT_CONTENT)
		smtp_engine_content_sent(e);
	buf_reset(&e->out);
	if (e->want == SMTP_WANT_REPLY)
		smtp_engine_reply(e, reply);
}

static void
run(const char *p, size_t size, size_t piece, struct run *out, int drive)
{
	struct buf in = BUF_INIT;
	struct smtp_reply r;
	struct smtp_engine e;
	struct smtp_rcpt rc[2];
	struct smtp_txn t;
	const char *why;
	size_t off = 0, n;
	int got = 0;

	memset(&t, 0, sizeof(t));
	memset(rc, 0, sizeof(rc));
	t.sender = "s@example.org";
	t.rcpt = rc;
	t.rcpt_count = 2;
	t.size = 100;
	smtp_engine_init(&e, "client.example", "peer[192.0.2.1]");
	while (off < size && got >= 0) {
		n = size - off < piece ? size - off : piece;
		buf_append(&in, p + off, n);
		off += n;
		while ((got = smtp_reply_take(&in, &r, &why)) == 1) {
			if (r.len >= sizeof(r.text) || r.code < 200 ||
			    r.code > 559)
				abort();
			buf_printf(&out->replies, "%d|%s|%zu|", r.code, r.dsn,
				   r.lines);
			buf_append(&out->replies, r.text, r.len);
			buf_append_char(&out->replies, '\n');
			if (drive)
				engine_step(&e, &t, rc, &r);
		}
	}
	out->error = got < 0;
	smtp_engine_free(&e);
	buf_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a = {BUF_INIT, 0}, b = {BUF_INIT, 0};

	if (size == 0)
		return 0;
	run((const char *)data + 1, size - 1, size, &a, 1);
	run((const char *)data + 1, size - 1, 1 + data[0] % 32, &b, 0);
	/* Chunks may end before a malformed line is complete: compare only
	 * what both took, and the error when both saw all of it. */
	if (!a.error && !b.error && !buf_equal(&a.replies, &b.replies))
		abort();
	if (a.error != b.error)
		abort();
	buf_free(&a.replies);
	buf_free(&b.replies);
	return 0;
}
