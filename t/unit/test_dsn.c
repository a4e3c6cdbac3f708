/*
 * test_dsn: the RFC 3461 pieces of common/: the xtext decoder and the
 * checks of NOTIFY, RET, ENVID and ORCPT values.
 */
#include <string.h>

#include "dsn.h"
#include "tap.h"
#include "xtext.h"

/* The decoded text, or "(error)". */
static const char *
decode(const char *s, struct buf *out)
{
	buf_reset(out);
	if (xtext_decode(s, strlen(s), out) != 0)
		return "(error)";
	return buf_cstr(out);
}

static void
test_xtext(void)
{
	struct buf b = BUF_INIT;

	is_str(decode("abc", &b), "abc", "plain xchars");
	is_str(decode("a+2Bb+3D", &b), "a+b=", "+XX for '+' and '='");
	is_str(decode("+2b+3d", &b), "+=", "lower-case hex taken");
	is_str(decode("", &b), "", "empty");
	is_str(decode("a=b", &b), "a=b", "a raw '=' is taken as itself");
	is_str(decode("a+2", &b), "(error)", "truncated +X");
	is_str(decode("a+", &b), "(error)", "a '+' at the end");
	is_str(decode("a+G0", &b), "(error)", "not hex");
	is_str(decode("a b", &b), "(error)", "a space is no xchar");
	is_str(decode("a\x7f", &b), "(error)", "DEL is no xchar");
	is_str(decode("caf\xc3\xa9", &b), "(error)", "raw 8-bit is no xchar");
	buf_reset(&b);
	ok(xtext_decode("a+00b", 5, &b) == 0 && b.len == 3 && b.data[1] == 0,
	   "+00 decodes to a NUL (the caller checks the value)");
	buf_free(&b);
}

static unsigned
notify(const char *s)
{
	unsigned bits = 0xff;

	return dsn_notify_parse(s, strlen(s), &bits) == 0 ? bits : 0xff;
}

static void
test_notify(void)
{
	char text[DSN_NOTIFY_TEXT_MAX];

	is_int(notify("NEVER"), DSN_NOTIFY_NEVER, "NEVER");
	is_int(notify("success,Delay"), DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY,
	       "a list, any case");
	is_int(notify("FAILURE,SUCCESS,DELAY"),
	       DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY,
	       "all three");
	is_int(notify("NEVER,SUCCESS"), 0xff, "NEVER with another refused");
	is_int(notify("SUCCESS,SUCCESS"), 0xff, "a word twice refused");
	is_int(notify("SUCCESS,"), 0xff, "an empty item refused");
	is_int(notify(""), 0xff, "empty refused");
	is_int(notify("SUCCESS, DELAY"), 0xff, "blanks refused");
	is_int(notify("ALWAYS"), 0xff, "unknown word refused");
	dsn_notify_format(DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS, text);
	is_str(text, "SUCCESS,DELAY", "canonical order");
	dsn_notify_format(DSN_NOTIFY_NEVER, text);
	is_str(text, "NEVER", "NEVER formats");
	ok(dsn_notify_wants(0, DSN_NOTIFY_FAILURE) &&
	       dsn_notify_wants(0, DSN_NOTIFY_DELAY) &&
	       !dsn_notify_wants(0, DSN_NOTIFY_SUCCESS),
	   "no NOTIFY: failures and delays, no success");
	ok(!dsn_notify_wants(DSN_NOTIFY_NEVER, DSN_NOTIFY_FAILURE),
	   "NEVER: no failure notice");
	ok(!dsn_notify_wants(DSN_NOTIFY_SUCCESS, DSN_NOTIFY_FAILURE) &&
	       dsn_notify_wants(DSN_NOTIFY_SUCCESS, DSN_NOTIFY_SUCCESS),
	   "SUCCESS alone: success only");
}

static void
test_values(void)
{
	is_int(dsn_ret_parse("hdrs", 4), DSN_RET_HDRS, "RET=hdrs");
	is_int(dsn_ret_parse("FULL", 4), DSN_RET_FULL, "RET=FULL");
	is_int(dsn_ret_parse("FULLY", 5), DSN_RET_NONE, "RET=FULLY refused");
	is_str(dsn_ret_name(DSN_RET_HDRS), "HDRS", "HDRS name");
	ok(dsn_envid_ok("QQ314159 x", 10), "an ENVID with a space");
	ok(!dsn_envid_ok("", 0), "empty ENVID refused");
	ok(!dsn_envid_ok("a\x01", 2), "control in ENVID refused");
	ok(!dsn_envid_ok("caf\xc3\xa9", 5), "8-bit ENVID refused");
	ok(dsn_orcpt_ok("rfc822;a@b.example", 18), "rfc822 ORCPT");
	ok(dsn_orcpt_ok("utf-8;j\xc3\xb6@b.example", 19), "utf-8 ORCPT");
	ok(!dsn_orcpt_ok("rfc822a@b", 9), "no ';' refused");
	ok(!dsn_orcpt_ok(";a@b", 4), "no type refused");
	ok(!dsn_orcpt_ok("rfc822;", 7), "no address refused");
	ok(!dsn_orcpt_ok("rfc822;a\nb", 10), "LF refused");
	ok(!dsn_orcpt_ok("rfc 822;a", 9), "blank in the type refused");
}

int
main(void)
{
	test_xtext();
	test_notify();
	test_values();
	return done_testing();
}
