/*
 * test_utf8: the UTF-8 checks of common/utf8.c on the sequences that
 * decide: shortest forms at each length, overlong forms, surrogates, the
 * end of Unicode, truncation, C0 and C1 controls.
 */
#include <string.h>

#include "tap.h"
#include "utf8.h"

static size_t
seq(const char *s)
{
	return utf8_seq_len((const unsigned char *)s, strlen(s));
}

static int
text(const char *s)
{
	return utf8_text_ok(s, strlen(s));
}

int
main(void)
{
	is_int(seq("a"), 1, "ASCII");
	is_int(seq("\xc3\xa9"), 2, "U+00E9");
	is_int(seq("\xe2\x82\xac"), 3, "U+20AC");
	is_int(seq("\xf0\x9f\x98\x80"), 4, "U+1F600");
	is_int(seq("\xf4\x8f\xbf\xbf"), 4, "U+10FFFF, the last code point");
	is_int(seq("\xc0\xaf"), 0, "overlong 2-byte form");
	is_int(seq("\xe0\x80\xaf"), 0, "overlong 3-byte form");
	is_int(seq("\xf0\x80\x80\xaf"), 0, "overlong 4-byte form");
	is_int(seq("\xed\xa0\x80"), 0, "a surrogate");
	is_int(seq("\xf4\x90\x80\x80"), 0, "past U+10FFFF");
	is_int(seq("\xf5\x80\x80\x80"), 0, "lead byte F5");
	is_int(seq("\x80"), 0, "a lone continuation byte");
	is_int(seq("\xe2\x82"), 0, "truncated");
	is_int(seq("\xc3\x28"), 0, "continuation byte missing");
	ok(text("J\xc3\xb6ran \xe2\x82\xac"), "text with UTF-8");
	ok(!text("a\x01"), "C0 control refused");
	ok(!text("a\x7f"), "DEL refused");
	ok(!text("a\xc2\x85"), "C1 control (NEL) refused");
	ok(text("a\xc2\xa0"), "U+00A0 is no control");
	ok(!text("a\xc3"), "truncated text refused");
	ok(!utf8_text_ok("a\0b", 3), "NUL refused");
	ok(utf8_has_8bit("ab\xc3\xa9", 4), "8-bit seen");
	ok(!utf8_has_8bit("abc", 3), "ASCII has none");
	return done_testing();
}
