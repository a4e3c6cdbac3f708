/*
 * test_smtp_data: the DATA reader against golden files
 * (t/unit/golden/smtp_data/NAME.in raw bytes after the DATA command,
 * NAME.out the expected report: end seen, bytes used, error, canonical
 * content), each fed whole, a byte at a time and in odd chunks, which must
 * all agree; plus the SMTP smuggling sequences one by one.
 */
#include <string.h>

#include "smtp_data.h"
#include "golden.h"
#include "tap.h"

#define GOLDEN_DIR "t/unit/golden/smtp_data"
#define LINE_LIMIT 1000
#define SIZE_LIMIT 4096

static const char *const error_names[] = {"none", "bare_eol", "line_too_long",
					  "too_big"};

/* Feed in pieces of chunk bytes (0: all at once); write the report. */
static void
run(const struct buf *in, size_t chunk, struct buf *report)
{
	struct smtp_data d;
	struct buf content = BUF_INIT;
	size_t off = 0, used = 0, n;
	int end = 0;

	smtp_data_init(&d, LINE_LIMIT, SIZE_LIMIT);
	while (off < in->len && !end) {
		n = chunk == 0 || in->len - off < chunk ? in->len - off : chunk;
		end = smtp_data_input(&d, in->data + off, n, &content, &used);
		off += used;
	}
	buf_reset(report);
	buf_printf(report, "end: %s\nused: %zu of %zu\nerror: %s\ncontent:\n",
		   end ? "yes" : "no", off, in->len, error_names[d.error]);
	/* After a rejection the caller aborts: what came before is moot. */
	if (d.error == SMTP_DATA_OK)
		buf_append(report, content.data, content.len);
	buf_free(&content);
}

/*
 * The golden function: the report of feeding the input whole; feeding it
 * in other piece sizes must give the same report, else a line saying which
 * size differed makes the comparison fail.
 */
static void
golden_data(const char *in, size_t len, struct buf *out)
{
	static const size_t chunks[] = {1, 2, 3, 7, 64};
	struct buf input = BUF_INIT, other = BUF_INIT;
	size_t i;

	buf_append(&input, in, len);
	run(&input, 0, out);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run(&input, chunks[i], &other);
		if (other.len != out->len ||
		    memcmp(other.data, out->data, out->len) != 0)
			buf_printf(out, "\nfed in pieces of %zu: different\n",
				   chunks[i]);
	}
	buf_free(&input);
	buf_free(&other);
}

/* A sequence that must not end DATA, then a real end. */
static void
smuggling(const char *label, const char *seq)
{
	struct smtp_data d;
	struct buf out = BUF_INIT;
	size_t used = 0, before;
	int end;

	smtp_data_init(&d, LINE_LIMIT, SIZE_LIMIT);
	end = smtp_data_input(&d, "x", 1, &out, &used);
	end = smtp_data_input(&d, seq, strlen(seq), &out, &used);
	before = out.len;
	is_int(end, 0, label);
	is_int(d.error, SMTP_DATA_BARE_EOL,
	       "the message is rejected as bare CR/LF");
	end = smtp_data_input(&d, "MAIL FROM:<a@b>\r\n.\r\nNOOP\r\n", 27, &out,
			      &used);
	is_int(end, 1, "the real CRLF.CRLF ends it");
	is_int(used, 20, "bytes after the end are left for commands");
	is_int(out.len, before, "nothing is output after the rejection");
	buf_free(&out);
}

static void
limits(void)
{
	struct smtp_data d;
	struct buf out = BUF_INIT;
	size_t used = 0;
	int end;

	smtp_data_init(&d, LINE_LIMIT, SIZE_LIMIT);
	end = smtp_data_input(&d, "abc\r\n.\r", 7, &out, &used);
	is_int(end, 0, "\".\\r\" alone does not end DATA");
	end = smtp_data_input(&d, "\n", 1, &out, &used);
	is_int(end, 1, "the LF after it does");
	is_str(buf_cstr(&out), "abc\n", "content is canonical");
	end = smtp_data_input(&d, "more", 4, &out, &used);
	ok(end == 1 && used == 0, "a finished reader takes nothing more");
	buf_free(&out);
}

int
main(void)
{
	ok(golden_run(GOLDEN_DIR, golden_data) >= 15,
	   "the golden cases are there");
	smuggling("\\n.\\n does not end DATA", "\n.\n");
	smuggling("\\n.\\r\\n does not end DATA", "\n.\r\n");
	smuggling("\\r\\n.\\n does not end DATA", "\r\n.\n");
	smuggling("\\r.\\r does not end DATA", "\r.\r");
	smuggling("\\r.\\r\\n does not end DATA", "\r.\r\n");
	limits();
	return done_testing();
}
