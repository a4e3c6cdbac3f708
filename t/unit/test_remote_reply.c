/*
 * test_remote_reply: the SMTP reply parser: single and multi-line
 * replies, enhanced status codes, pipelined replies in one buffer,
 * partial input, bare LF, and every malformed reply it must refuse.
 */
#include <string.h>

#include "remote.h"
#include "tap.h"

static int
take(const char *s, struct smtp_reply *r, const char **why)
{
	struct buf in = BUF_INIT;
	int got;

	buf_append_str(&in, s);
	got = smtp_reply_take(&in, r, why);
	buf_free(&in);
	return got;
}

static void
test_good(void)
{
	struct smtp_reply r;
	const char *why = NULL;
	struct buf in = BUF_INIT;

	is_int(take("250 2.0.0 Ok: queued as 4B2\r\n", &r, &why), 1,
	       "a one-line reply");
	is_int(r.code, 250, "its code");
	is_str(r.dsn, "2.0.0", "its enhanced status code");
	is_str(r.text, "250 2.0.0 Ok: queued as 4B2", "its text");
	is_int(take("250-mx.example.net\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
		    &r, &why),
	       1, "a multi-line reply");
	is_int(r.lines, 3, "three lines");
	is_str(r.text, "250-mx.example.net\n250-PIPELINING\n250 SIZE 1000",
	       "lines joined by newlines");
	is_int(take("550 5.1.1\r\n", &r, &why), 1, "a code with no text");
	is_str(r.dsn, "5.1.1", "an enhanced code alone is one");
	is_int(take("250\r\n", &r, &why), 1, "a bare code is a reply");
	is_int(take("451 4.7.1x greylisted\r\n", &r, &why), 1,
	       "text that only looks like a code");
	is_str(r.dsn, "", "is not an enhanced status code");
	is_int(take("451 5.7.1 mixed\r\n", &r, &why), 1, "a 4xx with a 5.x.x");
	is_str(r.dsn, "", "keeps no code of the wrong class");
	is_int(take("220 hi\n", &r, &why), 1, "a bare LF ends a line too");
	is_int(take("220 a\tb\x01\r\n", &r, &why), 1, "control bytes");
	is_str(r.text, "220 a?b?", "are kept as '?'");
	buf_append_str(&in, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go");
	is_int(smtp_reply_take(&in, &r, &why), 1, "pipelined: the first");
	is_str(r.dsn, "2.1.0", "the MAIL reply");
	is_int(smtp_reply_take(&in, &r, &why), 1, "pipelined: the second");
	is_str(r.dsn, "2.1.5", "the RCPT reply");
	is_int(smtp_reply_take(&in, &r, &why), 0, "a partial line waits");
	buf_append_str(&in, "\r\n");
	is_int(smtp_reply_take(&in, &r, &why), 1, "and is taken when whole");
	is_int(r.code, 354, "the DATA reply");
	is_int((long long)in.len, 0, "every byte consumed");
	buf_append_str(&in, "250-first\r\n");
	is_int(smtp_reply_take(&in, &r, &why), 0,
	       "a reply without its last line waits");
	is_int((long long)in.len, 11, "and consumes nothing");
	buf_free(&in);
}

static void
bad(const char *s, const char *name)
{
	struct smtp_reply r;
	const char *why = NULL;

	ok(take(s, &r, &why) == -1 && why != NULL, "refused: %s (%s)", name,
	   why ? why : "accepted");
}

static void
test_bad(void)
{
	char big[REMOTE_REPLY_LINE_MAX + 16];
	struct buf many = BUF_INIT;
	struct smtp_reply r;
	const char *why;
	int i;

	bad("25 short\r\n", "a code of two digits");
	bad("abc ok\r\n", "letters for a code");
	bad("150 preliminary\r\n", "a 1xx code");
	bad("650 six\r\n", "a 6xx code");
	bad("260 second digit\r\n", "a second digit over 5");
	bad("250-a\r\n251 b\r\n", "a code that changes within the reply");
	bad("250_x\r\n", "no separator after the code");
	buf_append(&many, "250 a\0b\r\n", 9);
	why = NULL;
	ok(smtp_reply_take(&many, &r, &why) == -1, "refused: a NUL byte");
	buf_reset(&many);
	memset(big, 'x', sizeof(big));
	memcpy(big, "250 ", 4);
	big[sizeof(big) - 1] = '\0';
	bad(big, "a line over the limit, even without its end");
	for (i = 0; i <= REMOTE_REPLY_LINES_MAX; i++)
		buf_append_str(&many, "250-x\r\n");
	buf_append_str(&many, "250 x\r\n");
	why = NULL;
	ok(smtp_reply_take(&many, &r, &why) == -1,
	   "refused: more lines than REMOTE_REPLY_LINES_MAX");
	buf_free(&many);
}

static void
test_oneline(void)
{
	struct smtp_reply r;
	const char *why;
	char out[64];

	take("550-5.1.1 No such user\r\n550 5.1.1 Try again\r\n", &r, &why);
	smtp_reply_oneline(&r, out, sizeof(out));
	is_str(out, "550-5.1.1 No such user 550 5.1.1 Try again",
	       "a multi-line reply on one line, as Postfix logs it");
	smtp_reply_oneline(&r, out, 8);
	is_str(out, "550-5.1", "cut to the buffer");
}

int
main(void)
{
	test_good();
	test_bad();
	test_oneline();
	return done_testing();
}
