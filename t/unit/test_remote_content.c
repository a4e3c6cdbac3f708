/*
 * test_remote_content: the message on the wire: LF to CRLF, dot-stuffing
 * (also across chunk boundaries: every split of the input gives the same
 * bytes), the end of data, the content scan behind SIZE= and
 * BODY=8BITMIME, and xtext for DSN parameters.
 */
#include <string.h>

#include "remote.h"
#include "tap.h"

static void
stuff_whole(const char *in, size_t len, struct buf *out)
{
	struct smtp_stuff s;

	smtp_stuff_init(&s);
	smtp_stuff(&s, in, len, out);
	smtp_stuff_end(&s, out);
}

static void
stuff_is(const char *in, const char *want, const char *name)
{
	struct buf out = BUF_INIT, split = BUF_INIT;
	struct smtp_stuff s;
	size_t len = strlen(in), cut, i;
	int same = 1;

	stuff_whole(in, len, &out);
	is_str(buf_cstr(&out), want, name);
	/* Every split into two chunks, and byte by byte, agree. */
	for (cut = 0; cut <= len; cut++) {
		buf_reset(&split);
		smtp_stuff_init(&s);
		smtp_stuff(&s, in, cut, &split);
		smtp_stuff(&s, in + cut, len - cut, &split);
		smtp_stuff_end(&s, &split);
		same &= buf_equal(&out, &split);
	}
	buf_reset(&split);
	smtp_stuff_init(&s);
	for (i = 0; i < len; i++)
		smtp_stuff(&s, in + i, 1, &split);
	smtp_stuff_end(&s, &split);
	same &= buf_equal(&out, &split);
	ok(same, "%s: the same in any chunks", name);
	buf_free(&out);
	buf_free(&split);
}

static void
test_stuff(void)
{
	stuff_is("Subject: x\n\nbody\n", "Subject: x\r\n\r\nbody\r\n.\r\n",
		 "LF becomes CRLF, then the dot");
	stuff_is(".\n..\n.x\nx.\n", "..\r\n...\r\n..x\r\nx.\r\n.\r\n",
		 "a dot that starts a line is doubled, no other");
	stuff_is("no newline at the end", "no newline at the end\r\n.\r\n",
		 "an unterminated last line gets its CRLF");
	stuff_is("", ".\r\n", "an empty message is the dot alone");
	stuff_is("a\r\nb\n", "a\r\nb\r\n.\r\n",
		 "an LF after a CR is left alone");
	stuff_is("caf\xc3\xa9\n", "caf\xc3\xa9\r\n.\r\n",
		 "8-bit bytes pass as they are");
}

static void
test_scan(void)
{
	struct smtp_content_info ci;

	memset(&ci, 0, sizeof(ci));
	smtp_content_scan(&ci, "ab\ncd\n", 6);
	smtp_content_scan(&ci, "e", 1);
	is_int((long long)ci.bytes, 7, "bytes counted over chunks");
	is_int((long long)ci.lines, 2, "line ends counted");
	ok(!ci.eightbit, "7-bit content");
	is_int((long long)smtp_content_wire_size(&ci), 9,
	       "RFC 1870 size: one more byte per line (CRLF)");
	smtp_content_scan(&ci, "\xe9", 1);
	ok(ci.eightbit, "a byte over 127 makes it 8-bit");
	ok(ci.eightbit_headers, "  in the header block (no empty line yet)");
	memset(&ci, 0, sizeof(ci));
	smtp_content_scan(&ci, "Subject: x\n", 11);
	smtp_content_scan(&ci, "\nbody caf\xc3\xa9\n", 12);
	ok(ci.eightbit && !ci.eightbit_headers,
	   "8-bit in the body only, with the empty line in its own chunk");
	memset(&ci, 0, sizeof(ci));
	smtp_content_scan(&ci, "\nSubject: caf\xc3\xa9\n", 16);
	ok(ci.eightbit && !ci.eightbit_headers,
	   "an empty first line: no header block at all");
}

static void
test_xtext(void)
{
	struct buf out = BUF_INIT;

	smtp_xtext("plain", &out);
	is_str(buf_cstr(&out), "plain", "xtext: printable stays");
	buf_reset(&out);
	smtp_xtext("a+b=c d\xe9", &out);
	is_str(buf_cstr(&out), "a+2Bb+3Dc+20d+E9",
	       "xtext: +, =, space and 8-bit as +XX");
	buf_free(&out);
}

int
main(void)
{
	test_stuff();
	test_scan();
	test_xtext();
	return done_testing();
}
