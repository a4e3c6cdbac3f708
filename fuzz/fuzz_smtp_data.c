/*
 * fuzz_smtp_data: hostile DATA bytes into the data reader.  The first
 * byte chooses the piece size the input is fed in; the result must not
 * depend on it (checked against feeding it whole), the reader must never
 * output more than it took, and after the end it must take nothing more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

static int
run(const char *p, size_t size, size_t piece, struct buf *out,
    struct smtp_data *d, size_t *taken)
{
	size_t off = 0, used, n, before;
	int end = 0;

	smtp_data_init(d, 1000, 4096);
	while (off < size && !end) {
		n = size - off < piece ? size - off : piece;
		before = out->len;
		end = smtp_data_input(d, p + off, n, out, &used);
		if (used > n || out->len - before > used)
			abort();
		if (!end && used != n)
			abort();
		off += used;
	}
	*taken = off;
	return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct smtp_data da, db;
	size_t ta, tb, used;
	int ea, eb;

	if (size == 0)
		return 0;
	ea = run((const char *)data + 1, size - 1, size, &a, &da, &ta);
	eb = run((const char *)data + 1, size - 1, 1 + data[0] % 16, &b, &db,
		 &tb);
	if (ea != eb || ta != tb || da.error != db.error ||
	    (da.error == SMTP_DATA_OK && !buf_equal(&a, &b)))
		abort();
	if (ea && (smtp_data_input(&da, "x", 1, &a, &used) != 1 || used != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
