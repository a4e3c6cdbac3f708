/*
 * test_queue_format: the shapes `moat queue list` prints: the mailq layout
 * column by column, the one-line text form, JSON escaping of quotes,
 * control bytes and bytes that are not UTF-8, and control bytes shown as
 * '?' where people read them.  Times in TZ=UTC.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue_format.h"
#include "tap.h"

#define ARRIVAL 1606039200LL /* Sun Nov 22 10:00:00 2020 UTC */
#define ID "0000000000ABCDEF0000123"

static const char *
json(const char *s, struct buf *b)
{
	buf_reset(b);
	queue_format_json_string(b, s);
	return buf_cstr(b);
}

static void
test_json_strings(void)
{
	struct buf b = BUF_INIT;

	is_str(json("a@b.example", &b), "\"a@b.example\"", "plain string");
	is_str(json("say \"hi\" \\ now", &b), "\"say \\\"hi\\\" \\\\ now\"",
	       "quotes and backslashes are escaped");
	is_str(json("a\tb\nc\x1b[2Jd\x7f", &b),
	       "\"a\\tb\\nc\\u001b[2Jd\\u007f\"",
	       "tab, newline, ESC and DEL are escaped");
	is_str(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", &b),
	       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"",
	       "valid UTF-8 passes unchanged");
	/* No hex digit follows an escape here (\x would swallow it). */
	is_str(
	    json("x\xffy\xc0\xafz\xed\xa0\x80w\xe2\x82", &b),
	    "\"x\\ufffdy\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffdw\\ufffd\\ufffd\"",
	    "invalid, overlong, surrogate and cut sequences become U+FFFD");
	is_str(json("", &b), "\"\"", "empty string");
	buf_free(&b);
}

static void
test_mailq(void)
{
	static const char *const rcpt[] = {"rcpt@example.com",
					   "two@example.net"};
	struct queue_listing e = {.queue_id = ID,
				  .queue = "active",
				  .arrival = ARRIVAL,
				  .size = 1234,
				  .sender = "sender@example.org",
				  .rcpt = rcpt,
				  .rcpt_count = 2};
	struct buf b = BUF_INIT;

	queue_format_mailq_header(&b);
	is_str(buf_cstr(&b),
	       "-Queue ID-              --Size-- ----Arrival Time---- "
	       "-Sender/Recipient-------\n",
	       "mailq header");
	buf_reset(&b);
	queue_format_mailq(&b, &e);
	is_str(buf_cstr(&b),
	       ID "*    1234 Sun Nov 22 10:00:00  sender@example.org\n"
		  "                                                      "
		  "rcpt@example.com\n"
		  "                                                      "
		  "two@example.net\n"
		  "\n",
	       "an active message: '*', size, arrival, sender, recipients");
	buf_reset(&b);
	e.queue = "deferred";
	e.reason = "remote delivery is not available yet";
	e.rcpt_count = 1;
	e.sender = "";
	queue_format_mailq(&b, &e);
	is_str(buf_cstr(&b),
	       ID "     1234 Sun Nov 22 10:00:00  MAILER-DAEMON\n"
		  "                                                      "
		  "(remote delivery is not available yet)\n"
		  "                                                      "
		  "rcpt@example.com\n"
		  "\n",
	       "deferred: no flag, the reason in parentheses, null sender "
	       "as MAILER-DAEMON");
	buf_reset(&b);
	e.queue = "hold";
	e.reason = NULL;
	e.rcpt_more = 5;
	e.sender = "evil\x1b]0;x\x07@example.org";
	queue_format_mailq(&b, &e);
	ok(strncmp(buf_cstr(&b), ID "!", strlen(ID) + 1) == 0,
	   "a held message is flagged '!'");
	ok(strstr(buf_cstr(&b), "evil?]0;x?@example.org\n") != NULL,
	   "control bytes in the sender are shown as '?'");
	ok(strstr(buf_cstr(&b), "(5 more recipients)\n") != NULL,
	   "left-out recipients are counted");
	buf_reset(&b);
	queue_format_mailq_summary(&b, 0, 0);
	is_str(buf_cstr(&b), "Mail queue is empty\n", "empty queue");
	buf_reset(&b);
	queue_format_mailq_summary(&b, 1234, 1);
	is_str(buf_cstr(&b), "-- 2 Kbytes in 1 Request.\n",
	       "summary: kbytes rounded up, one request");
	buf_reset(&b);
	queue_format_mailq_summary(&b, 2048, 3);
	is_str(buf_cstr(&b), "-- 2 Kbytes in 3 Requests.\n", "summary: plural");
	buf_free(&b);
}

static void
test_text_and_json(void)
{
	static const char *const rcpt[] = {"a@example.com", "b\"@example.com"};
	struct queue_listing e = {ID,
				  "deferred",
				  ARRIVAL,
				  99,
				  "s@example.org",
				  rcpt,
				  2,
				  0,
				  "remote delivery is not available yet"};
	struct buf b = BUF_INIT;

	queue_format_text(&b, &e);
	is_str(buf_cstr(&b),
	       ID " deferred       99 2020-11-22 10:00:00 <s@example.org> -> "
		  "<a@example.com>, <b\"@example.com> (remote delivery is "
		  "not available yet)\n",
	       "text: one line with queue, size, arrival, sender, "
	       "recipients, reason");
	buf_reset(&b);
	queue_format_json(&b, &e);
	is_str(buf_cstr(&b),
	       "{\"queue_id\": \"" ID "\", \"queue\": \"deferred\", "
	       "\"arrival\": \"2020-11-22T10:00:00Z\", \"size\": 99, "
	       "\"sender\": \"s@example.org\", \"recipients\": "
	       "[\"a@example.com\", \"b\\\"@example.com\"], \"reason\": "
	       "\"remote delivery is not available yet\"}",
	       "JSON object with escaped recipient and ISO 8601 arrival");
	buf_reset(&b);
	e.reason = NULL;
	e.rcpt_count = 0;
	e.rcpt_more = 7;
	queue_format_json(&b, &e);
	ok(strstr(buf_cstr(&b),
		  "\"recipients\": [], \"recipients_omitted\": 7, "
		  "\"reason\": null}") != NULL,
	   "JSON: omitted recipients counted, unknown reason is null");
	buf_free(&b);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_json_strings();
	test_mailq();
	test_text_and_json();
	return done_testing();
}
