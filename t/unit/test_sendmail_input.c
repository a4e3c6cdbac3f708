/*
 * test_sendmail_input: the "." end of input without -i, fed whole and in
 * every piece size (the result must not depend on how reads split the
 * input), and the start of a message as sendmail hands it to postdrop
 * (From: added when missing, a blank line before a body that had no
 * header block).
 */
#include <string.h>

#include "sendmail.h"
#include "tap.h"

/* Feed in pieces of chunk bytes (0: whole); "output|used|end". */
static void
feed(const char *in, size_t len, size_t chunk, struct buf *report)
{
	struct sendmail_dot d;
	struct buf out = BUF_INIT;
	size_t off = 0, used, n;
	int end = 0;

	sendmail_dot_init(&d);
	while (off < len && !end) {
		n = chunk == 0 || len - off < chunk ? len - off : chunk;
		end = sendmail_dot_input(&d, in + off, n, &out, &used);
		off += used;
	}
	if (!end)
		sendmail_dot_flush(&d, &out);
	buf_reset(report);
	buf_append(report, out.data, out.len);
	buf_printf(report, "|%zu|%s", off, end ? "end" : "eof");
	buf_free(&out);
}

static void
dot(const char *in, const char *want, const char *name)
{
	struct buf got = BUF_INIT;
	size_t chunk, len = strlen(in);
	int same = 1;

	feed(in, len, 0, &got);
	is_str(buf_cstr(&got), want, name);
	for (chunk = 1; chunk <= len; chunk++) {
		feed(in, len, chunk, &got);
		if (strcmp(buf_cstr(&got), want) != 0)
			same = 0;
	}
	ok(same, "%s: the same in pieces of every size", name);
	buf_free(&got);
}

static void
dots(void)
{
	dot("a\n.\nb\n", "a\n|4|end", "a lone . line ends the input");
	dot("a\r\n.\r\nb", "a\r\n|6|end", "a lone . line with CR LF too");
	dot(".\n", "|2|end", "a . first line ends at once");
	dot("a\n..\nb\n", "a\n..\nb\n|7|eof", "a .. line passes unchanged");
	dot("a\n.x\n", "a\n.x\n|5|eof", "a line starting with . passes");
	dot("a.\n", "a.\n|3|eof", "a . at the end of a line passes");
	dot("a\n.\r\r\n", "a\n.\r\r\n|6|eof", ". CR CR LF is not the end");
	dot("a\n.", "a\n.|3|eof", "a . at end of file is kept");
	dot("a\n.\r", "a\n.\r|4|eof", "and . CR too");
	dot("\n.\n", "\n|3|end", "after an empty line");
	dot("", "|0|eof", "empty input");
}

static void
start(const char *msg, const char *full, const char *sender, const char *want,
      const char *name)
{
	struct sendmail_ctx c;
	struct sendmail_rcpts r = {NULL, 0};
	struct sendmail_head h;
	struct buf out = BUF_INIT;
	size_t len = strlen(msg);

	memset(&c, 0, sizeof(c));
	c.origin = "example.net";
	c.login = "alice";
	c.gecos_name = "Alice Example";
	sendmail_head_scan(msg, len, 1, &h);
	is_int(
	    sendmail_message_start(&c, full, sender, 0, msg, len, &h, &r, &out),
	    0, name);
	is_str(buf_cstr(&out), want, name);
	sendmail_rcpts_free(&r);
	buf_free(&out);
}

static void
starts(void)
{
	start("Subject: x\n\nbody\n", NULL, "alice@example.net",
	      "Subject: x\nFrom: Alice Example <alice@example.net>\n\nbody\n",
	      "From: added after the header block, GECOS name");
	start("Subject: x\n\nbody\n", "Boss", "b@example.org",
	      "Subject: x\nFrom: Boss <b@example.org>\n\nbody\n",
	      "-F and -f give the From:");
	start("From: me@example.org\nSubject: x\n\nbody\n", NULL, "x@y.org",
	      "From: me@example.org\nSubject: x\n\nbody\n",
	      "an existing From: is kept and none added");
	start("just a body\n", NULL, "alice@example.net",
	      "From: Alice Example <alice@example.net>\n\njust a body\n",
	      "a body without header block gets From: and a blank line");
	start("\nbody after a blank line\n", NULL, "alice@example.net",
	      "From: Alice Example <alice@example.net>\n\nbody after a blank "
	      "line\n",
	      "no second blank line when the body already starts with one");
	start("", NULL, "", "From: Alice Example <alice@example.net>\n",
	      "empty message, null sender: From: is the user");
	start("From alice Sun Nov 22 10:00:00 2026\nSubject: x\n\nb\n", NULL,
	      "alice@example.net",
	      "Subject: x\nFrom: Alice Example <alice@example.net>\n\nb\n",
	      "a leading mbox From_ line is dropped");
}

int
main(void)
{
	dots();
	starts();
	return done_testing();
}
