/*
 * test_sendmail_headers: what sendmail -t reads in a header block.  Golden
 * files t/unit/golden/sendmail_headers/NAME.in hold the start of a
 * message; NAME.out the report: where the header block ends, the
 * recipients found (bare names qualified with example.net), the error if
 * any, whether a From: is there, and the header block as it goes out
 * (Bcc left out).  Then address lists one by one, the sender, the From:
 * that sendmail adds and the full name from a GECOS field.
 */
#include <string.h>

#include "golden.h"
#include "sendmail.h"
#include "tap.h"

#define GOLDEN_DIR "t/unit/golden/sendmail_headers"
#define ORIGIN "example.net"

static void
golden_headers(const char *in, size_t len, struct buf *out)
{
	struct sendmail_rcpts r = {NULL, 0};
	struct buf head = BUF_INIT, err = BUF_INIT;
	struct sendmail_head h;
	int has_from = 0, rc;
	size_t i;

	if (!sendmail_head_scan(in, len, 1, &h)) {
		buf_append_str(out, "head: undecided at end of input\n");
		return;
	}
	buf_printf(out, "head: skip=%zu len=%zu body=%zu\n", h.skip, h.head_len,
		   len - h.skip - h.head_len);
	rc = sendmail_headers_rewrite(in + h.skip, h.head_len, 1, ORIGIN, &r,
				      &head, &has_from, &err);
	buf_append_str(out, "recipients:\n");
	for (i = 0; i < r.count; i++)
		buf_printf(out, "  %s\n", r.addr[i]);
	buf_printf(out, "error: %s\n", rc == 0 ? "none" : buf_cstr(&err));
	if (rc == 0) {
		buf_printf(out, "from: %s\nheaders:\n",
			   has_from ? "yes" : "no");
		buf_append(out, head.data, head.len);
	}
	sendmail_rcpts_free(&r);
	buf_free(&head);
	buf_free(&err);
}

/* One address list: the recipients joined with " ", or "ERROR: why". */
static void
list(const char *text, const char *want, const char *name)
{
	struct sendmail_rcpts r = {NULL, 0};
	struct buf got = BUF_INIT, err = BUF_INIT;
	size_t i;

	if (sendmail_addr_list_parse(text, strlen(text), ORIGIN, &r, &err) !=
	    0) {
		buf_printf(&got, "ERROR: %s", buf_cstr(&err));
	} else {
		for (i = 0; i < r.count; i++)
			buf_printf(&got, "%s%s", i ? " " : "", r.addr[i]);
	}
	is_str(buf_cstr(&got), want, name);
	sendmail_rcpts_free(&r);
	buf_free(&got);
	buf_free(&err);
}

static void
lists(void)
{
	list("", "", "an empty list has no recipients");
	list("a@example.org", "a@example.org", "one address");
	list("A <a@example.org>", "a@example.org", "display name");
	list("\"Last, First\" <a@example.org>", "a@example.org",
	     "a comma inside quotes does not split");
	list("Last, First <a@example.org>", "Last@example.net a@example.org",
	     "an unquoted comma does split (and Last is a local name)");
	list("a@example.org (A (nested) comment)", "a@example.org",
	     "nested comments are skipped");
	list("g: a@example.org, b@example.org;, c@example.org",
	     "a@example.org b@example.org c@example.org", "a group");
	list("undisclosed-recipients:;", "", "an empty group");
	list("undisclosed-recipients:", "", "an empty group without ';'");
	list("a@example.org\r\n\tb@example.org",
	     "ERROR: bad address \"a@example.org b@example.org\": a name "
	     "without an <address>",
	     "folded addresses without a comma are refused");
	list("<a@example.org>, <b@example.org>", "a@example.org b@example.org",
	     "angle addresses");
	list("root", "root@example.net", "a bare name is qualified");
	list("\"john doe\"@example.org", "\"john doe\"@example.org",
	     "a quoted local part stays quoted");
	list("<@r.example:u@example.org>", "u@example.org",
	     "a source route is dropped");
	list("a@example.org, a@example.org", "a@example.org",
	     "duplicates are listed once");
	list("<a@example.org",
	     "ERROR: bad address \"<a@example.org\": missing >",
	     "a missing > is an error");
	list("a@example.org>",
	     "ERROR: bad address \"a@example.org>\": > "
	     "without <",
	     "a > without < is an error");
	list("(open", "ERROR: unbalanced parenthesis",
	     "an unbalanced comment is an error");
	list("\"open", "ERROR: unterminated quoted string",
	     "an unterminated quoted string is an error");
	list("x: y: a@example.org;", "ERROR: unexpected ':'",
	     "nested groups are an error");
	list("a\nb@example.org",
	     "ERROR: bad address \"a b@example.org\": a name without an "
	     "<address>",
	     "white space is not part of an address");
	list("A <a b@example.org>",
	     "ERROR: bad address \"A <a b\": white space inside <address>",
	     "two words inside <> are refused, not joined");
	list("< a . b @ example.org >", "a.b@example.org",
	     "white space around the dots and @ inside <> is fine");
	list("<a@example.org> junk",
	     "ERROR: bad address \"<a@example.org> "
	     "junk\": text after >",
	     "words after the angle address are an error");
	list("a@example.org\x7f",
	     "ERROR: bad address \"a@example.org\x7f\": "
	     "8-bit or control character in the address",
	     "DEL is refused by the address parser");
}

/* A NUL inside a header value is counted, never a terminator. */
static void
nul_bytes(void)
{
	static const char text[] = "a@example.org, b\0c@example.org";
	struct sendmail_rcpts r = {NULL, 0};
	struct buf err = BUF_INIT;

	is_int(
	    sendmail_addr_list_parse(text, sizeof(text) - 1, ORIGIN, &r, &err),
	    -1, "a NUL in an address is refused");
	is_int(r.count, 1, "the address before it was read");
	sendmail_rcpts_free(&r);
	buf_free(&err);
}

static void
sender(void)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	is_int(sendmail_sender_parse("", ORIGIN, &out, &err), 0, "-f ''");
	is_str(buf_cstr(&out), "", "is the null sender");
	is_int(sendmail_sender_parse("<>", ORIGIN, &out, &err), 0, "-f '<>'");
	is_str(buf_cstr(&out), "", "is the null sender too");
	is_int(sendmail_sender_parse("alice", ORIGIN, &out, &err), 0,
	       "-f alice");
	is_str(buf_cstr(&out), "alice@example.net", "qualified with origin");
	is_int(sendmail_sender_parse("<Bob@Example.ORG>", ORIGIN, &out, &err),
	       0, "-f <Bob@Example.ORG>");
	is_str(buf_cstr(&out), "Bob@example.org", "domain lower-cased");
	is_int(sendmail_sender_parse("a b", ORIGIN, &out, &err), -1,
	       "-f 'a b' is refused");
	is_str(buf_cstr(&err), "bad sender address \"a b\": bad address syntax",
	       "with a reason");
	buf_free(&out);
	buf_free(&err);
}

static void
from_header(void)
{
	struct buf out = BUF_INIT;

	sendmail_from_header("Alice Example", "a@example.org", &out);
	is_str(buf_cstr(&out), "From: Alice Example <a@example.org>\n",
	       "a plain name stays plain");
	buf_reset(&out);
	sendmail_from_header("J. \"Q\" Public\\", "a@example.org", &out);
	is_str(buf_cstr(&out),
	       "From: \"J. \\\"Q\\\" Public\\\\\" <a@example.org>\n",
	       "specials are quoted and escaped");
	buf_reset(&out);
	sendmail_from_header("Evil\nBcc: victim@example.org", "a@example.org",
			     &out);
	is_str(buf_cstr(&out),
	       "From: \"Evil Bcc: victim@example.org\" <a@example.org>\n",
	       "a newline in the name cannot start a header");
	buf_reset(&out);
	sendmail_from_header("  ", "a@example.org", &out);
	is_str(buf_cstr(&out), "From: a@example.org\n",
	       "no name: the address alone");
	buf_reset(&out);
	sendmail_from_header(NULL, "a@example.org", &out);
	is_str(buf_cstr(&out), "From: a@example.org\n", "NULL name");
	buf_free(&out);
}

static void
gecos(void)
{
	struct buf out = BUF_INIT;

	sendmail_gecos_name("Alice Example,Room 1,555,", "alice", &out);
	is_str(buf_cstr(&out), "Alice Example", "first GECOS field");
	sendmail_gecos_name("& Smith", "bob", &out);
	is_str(buf_cstr(&out), "Bob Smith", "& is the capitalised login");
	sendmail_gecos_name("", "bob", &out);
	is_str(buf_cstr(&out), "", "empty GECOS");
	buf_free(&out);
}

/* A name longer than a line may be is no field, whole or not. */
static void
long_names(void)
{
	struct buf m = BUF_INIT;
	struct sendmail_head h;
	size_t i;

	for (i = 0; i < 999; i++)
		buf_append_char(&m, 'a');
	is_int(sendmail_head_scan(m.data, m.len, 0, &h), 1,
	       "999 name characters without ':' decide: not a field");
	is_int(h.head_len, 0, "so the header block is empty");
	buf_append_str(&m, ": x\n\n");
	sendmail_head_scan(m.data, m.len, 1, &h);
	is_int(h.head_len, 0, "and with its ':' it is still no field");
	buf_reset(&m);
	buf_append_str(&m, "To");
	for (i = 0; i < 2000; i++)
		buf_append_char(&m, ' ');
	is_int(sendmail_head_scan(m.data, m.len, 0, &h), 0,
	       "a name and much white space may still become a field");
	buf_append_str(&m, ": a@b\n\n");
	sendmail_head_scan(m.data, m.len, 1, &h);
	is_int(h.head_len, m.len - 1, "and it does");
	buf_free(&m);
}

static void
head_scan_pieces(void)
{
	struct sendmail_head h;
	const char *m = "Subject: x\nTo: a@b\n\nbody\n";

	is_int(sendmail_head_scan(m, 5, 0, &h), 0,
	       "a partial field line needs more bytes");
	is_int(sendmail_head_scan(m, 19, 0, &h), 0,
	       "after the last field, the next line decides");
	is_int(sendmail_head_scan(m, 20, 0, &h), 1, "the blank line decides");
	is_int(h.head_len, 19, "the header block is the two fields");
	is_int(sendmail_head_scan("Subject: x\nbody text", 20, 0, &h), 1,
	       "a line that cannot be a field decides before its end");
	is_int(h.head_len, 11, "and is not part of the header block");
	is_int(sendmail_head_scan("From ", 5, 0, &h), 0,
	       "a From_ line must be whole before it is skipped");
	long_names();
}

int
main(void)
{
	ok(golden_run(GOLDEN_DIR, golden_headers) >= 30,
	   "the golden cases are there");
	lists();
	nul_bytes();
	sender();
	from_header();
	gecos();
	head_scan_pieces();
	return done_testing();
}
