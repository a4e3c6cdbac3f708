/*
 * test_address: the address parser against golden files (one input per
 * line of t/unit/golden/address/NAME.in, the result per line in NAME.out;
 * lenient.in is parsed with ADDR_ALLOW_NULL | ADDR_ALLOW_NO_DOMAIN,
 * utf8.in with ADDR_ALLOW_UTF8, the others strictly), plus what a text file
 * cannot hold: NUL and control bytes, path splitting, formatting and round
 * trips.  Set MOAT_GOLDEN_UPDATE=1 to rewrite the .out files after a reviewed
 * change.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "tap.h"

#define GOLDEN_DIR "t/unit/golden/address"

static const char *
error_name(enum addr_error e)
{
	static const char *const names[] = {"ok",        "syntax",   "too_long",
					    "no_domain", "multi_at", "8bit",
					    "null"};
	return (size_t)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

static void
flag_names(unsigned flags, struct buf *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} f[] = {{ADDR_F_ROUTE, "route"},   {ADDR_F_PERCENT, "percent"},
		 {ADDR_F_BANG, "bang"},     {ADDR_F_QUOTED_AT, "quoted_at"},
		 {ADDR_F_QUOTED, "quoted"}, {ADDR_F_LITERAL, "literal"},
		 {ADDR_F_UTF8, "utf8"}};
	size_t start = out->len;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (flags & f[i].bit)
			buf_printf(out, "%s%s", out->len > start ? "," : "",
				   f[i].name);
	if (out->len == start)
		buf_append_char(out, '-');
}

/* One golden result line for one input line. */
static void
golden_line(const char *s, size_t len, unsigned opts, struct buf *out)
{
	struct address a;
	char text[ADDR_TEXT_MAX];
	enum addr_error e = len > 0 && s[0] == '<'
				? address_parse_path(s, len, opts, &a)
				: address_parse(s, len, opts, &a);

	if (e != ADDR_OK) {
		buf_printf(out, "error %s\n", error_name(e));
		return;
	}
	if (a.is_null) {
		buf_printf(out, "ok null\n");
		return;
	}
	buf_printf(out, "ok local=%s domain=%s flags=", a.local, a.domain);
	flag_names(a.flags, out);
	if (address_format(&a, text, sizeof(text)) < 0)
		buf_printf(out, " text=(does not fit)\n");
	else
		buf_printf(out, " text=%s\n", text);
}

static int
read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t n;

	buf_reset(out);
	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	return 0;
}

static void
golden_file(const char *name)
{
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	char path[512];
	unsigned opts = strcmp(name, "lenient") == 0
			    ? ADDR_ALLOW_NULL | ADDR_ALLOW_NO_DOMAIN
			: strcmp(name, "utf8") == 0 ? ADDR_ALLOW_UTF8
						    : 0;
	size_t pos = 0;

	snprintf(path, sizeof(path), "%s/%s.in", GOLDEN_DIR, name);
	if (read_file(path, &in) != 0) {
		ok(0, "read %s", path);
		return;
	}
	while (pos < in.len) {
		const char *nl = memchr(in.data + pos, '\n', in.len - pos);
		size_t n = nl ? (size_t)(nl - in.data) - pos : in.len - pos;
		golden_line(in.data + pos, n, opts, &got);
		pos += n + 1;
	}
	snprintf(path, sizeof(path), "%s/%s.out", GOLDEN_DIR, name);
	if (getenv("MOAT_GOLDEN_UPDATE") != NULL) {
		FILE *f = fopen(path, "w");
		fwrite(got.data, 1, got.len, f);
		fclose(f);
	}
	read_file(path, &want);
	ok(want.len == got.len && memcmp(want.data, got.data, got.len) == 0,
	   "golden %s", name);
	if (want.len != got.len || memcmp(want.data, got.data, got.len) != 0)
		printf("# expected:\n%s# got:\n%s", buf_cstr(&want),
		       buf_cstr(&got));
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
}

static void
test_golden(void)
{
	DIR *d = opendir(GOLDEN_DIR);
	struct dirent *de;
	int files = 0;

	if (d == NULL) {
		ok(0, "open %s (run from the repository top)", GOLDEN_DIR);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char name[256];
		if (n > 3 && strcmp(de->d_name + n - 3, ".in") == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)(n - 3),
				 de->d_name);
			golden_file(name);
			files++;
		}
	}
	closedir(d);
	ok(files >= 5, "found %d golden files", files);
}

static enum addr_error
path(const char *s, size_t len, unsigned opts)
{
	struct address a;

	return address_parse_path(s, len, opts, &a);
}

static void
test_bytes(void)
{
	struct address a;

	is_int(path("<a\0b@c.d>", 9, 0), ADDR_ERR_8BIT, "NUL in a path");
	is_int(path("<a@c.d\0>", 8, 0), ADDR_ERR_8BIT, "NUL in the domain");
	is_int(path("<\"a\0\"@c.d>", 10, 0), ADDR_ERR_8BIT,
	       "NUL in a quoted string");
	is_int(path("<a\r\n@c.d>", 9, 0), ADDR_ERR_8BIT, "CRLF in a path");
	is_int(path("<a\x7f@c.d>", 8, 0), ADDR_ERR_8BIT, "DEL in a path");
	is_int(address_parse("a\nb@c", 5, 0, &a), ADDR_ERR_8BIT,
	       "LF in a bare address");
	is_int(address_parse("", 0, ADDR_ALLOW_NO_DOMAIN, &a), ADDR_ERR_SYNTAX,
	       "empty bare address");
	is_int(path("<>", 2, 0), ADDR_ERR_NULL, "<> refused by default");
	is_int(path("<>", 2, ADDR_ALLOW_NULL), ADDR_OK, "<> with ALLOW_NULL");
	is_int(path("<x>", 3, 0), ADDR_ERR_NO_DOMAIN, "bare local refused");
	is_int(path("<x>", 3, ADDR_ALLOW_NO_DOMAIN), ADDR_OK,
	       "bare local with ALLOW_NO_DOMAIN");
	is_int(address_parse("a@b", 2, 0, &a), ADDR_ERR_SYNTAX,
	       "length is respected (a@ of a@b)");
}

static void
test_path_end(void)
{
	const char *cmd = "<a@b> SIZE=1";
	const char *q = "<\"x> y\"@b> SIZE=1";
	const char *esc = "<\"x\\\"> y\"@b> BODY=8BITMIME";

	is_int(address_path_end(cmd, strlen(cmd)), 5, "path then parameter");
	is_int(address_path_end(q, strlen(q)), 10, "'>' inside quotes skipped");
	is_int(address_path_end(esc, strlen(esc)), 12,
	       "escaped quote inside quotes");
	is_int(address_path_end("<a@b", 4), 0, "no closing '>'");
	is_int(address_path_end("a@b>", 4), 0, "no opening '<'");
	is_int(address_path_end("<>", 2), 2, "null path");
	is_int(address_path_end("<\"a>", 4), 0, "unclosed quote");
	is_int(address_path_end("", 0), 0, "empty");
}

static void
test_format(void)
{
	struct address a;
	char out[ADDR_TEXT_MAX], tiny[4];

	memset(&a, 0, sizeof(a));
	a.is_null = 1;
	is_int(address_format(&a, out, sizeof(out)), 0, "null formats empty");
	is_str(out, "", "null text");
	address_parse("\"a b\\\"c\"@X.org", 14, 0, &a);
	is_int(address_format(&a, out, sizeof(out)), 14, "quoted length");
	is_str(out, "\"a b\\\"c\"@x.org", "quotes and escapes kept minimal");
	is_int(address_format(&a, tiny, sizeof(tiny)), -1, "does not fit");
	address_parse("\"plain\"@x", 9, 0, &a);
	address_format(&a, out, sizeof(out));
	is_str(out, "plain@x", "needless quotes dropped");
	address_parse("user", 4, ADDR_ALLOW_NO_DOMAIN, &a);
	address_format(&a, out, sizeof(out));
	is_str(out, "user", "no domain, no @");
	ok(strcmp(address_strerror(ADDR_ERR_MULTI_AT),
		  address_strerror(ADDR_ERR_SYNTAX)) != 0,
	   "distinct error texts");
}

/* SMTPUTF8: the flag, round trips, and nothing 8-bit without it. */
static void
test_utf8(void)
{
	const char *path8 = "<J\xc3\xb6ran@b\xc3\xbc"
			    "cher.example>";
	struct address a;
	char out[ADDR_TEXT_MAX];

	is_int(path(path8, strlen(path8), 0), ADDR_ERR_8BIT,
	       "UTF-8 refused without ADDR_ALLOW_UTF8");
	is_int(address_parse_path(path8, strlen(path8), ADDR_ALLOW_UTF8, &a),
	       ADDR_OK, "UTF-8 accepted with ADDR_ALLOW_UTF8");
	ok(a.flags & ADDR_F_UTF8, "ADDR_F_UTF8 set");
	address_format(&a, out, sizeof(out));
	is_str(out,
	       "J\xc3\xb6ran@b\xc3\xbc"
	       "cher.example",
	       "the UTF-8 local part needs no quotes");
	ok(address_text_ok(out, ADDR_ALLOW_UTF8), "the text parses again");
	ok(!address_text_ok(out, 0), "but not as ASCII");
	is_int(address_parse("a@b.c", 5, ADDR_ALLOW_UTF8, &a), ADDR_OK,
	       "ASCII with ADDR_ALLOW_UTF8");
	ok(!(a.flags & ADDR_F_UTF8), "no ADDR_F_UTF8 for ASCII");
	is_int(
	    address_parse("A\xc3\x84@X\xc3\x84.org", 11, ADDR_ALLOW_UTF8, &a),
	    ADDR_OK, "mixed case");
	is_str(a.domain, "x\xc3\x84.org", "only ASCII letters are lower-cased");
}

int
main(void)
{
	test_golden();
	test_bytes();
	test_path_end();
	test_format();
	test_utf8();
	return done_testing();
}
