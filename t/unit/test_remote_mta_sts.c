/*
 * test_remote_mta_sts: the parsers of RFC 8461 in remote_mta_sts.c: the
 * TXT record, the policy (strict), the MX patterns, the HTTP response
 * that carries a policy, and the cache file (written, then read back,
 * and refused when anything in it was changed).  Pure: no sockets.
 */
#include <string.h>

#include "remote_tls.h"
#include "tap.h"

#define STR(s) (s), strlen(s)

static void
test_txt(void)
{
	char id[MTA_STS_ID_MAX + 1];
	const char *why = NULL;

	ok(mta_sts_txt_parse(STR("v=STSv1; id=20160831085700Z;"), id, &why) ==
	       1,
	   "the RFC's example record");
	is_str(id, "20160831085700Z", "its id");
	ok(mta_sts_txt_parse(STR("v=STSv1;id=abc"), id, &why) == 1 &&
	       strcmp(id, "abc") == 0,
	   "no blanks, no final ';'");
	ok(mta_sts_txt_parse(STR("v=STSv1; ext=x_y; id=1 ;  "), id, &why) == 1,
	   "an extension field is skipped");
	ok(mta_sts_txt_parse(STR("v=spf1 -all"), id, &why) == 0 &&
	       mta_sts_txt_parse(STR("v=STSv12; id=1"), id, &why) == 0,
	   "other TXT records are not MTA-STS records");
	ok(mta_sts_txt_parse(STR("v=STSv1;"), id, &why) == -1,
	   "a record without id is malformed");
	ok(mta_sts_txt_parse(STR("v=STSv1; id=a-b"), id, &why) == -1 &&
	       mta_sts_txt_parse(
		   STR("v=STSv1; id=123456789012345678901234567890123"), id,
		   &why) == -1,
	   "an id of other characters, or of 33, is malformed");
	ok(mta_sts_txt_parse(STR("v=STSv1; id=1; id=2"), id, &why) == -1,
	   "two ids are malformed");
	ok(mta_sts_txt_parse(STR("v=STSv1 id=1"), id, &why) == -1,
	   "fields need ';' between them");
}

#define GOOD                                                                   \
	"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"          \
	"mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n"

static void
test_policy(void)
{
	struct mta_sts_policy p;
	const char *why = NULL;

	ok(mta_sts_policy_parse(STR(GOOD), &p, &why) == 0,
	   "the RFC's example policy");
	ok(p.mode == MTA_STS_ENFORCE && p.max_age == 604800 && p.nmx == 3,
	   "mode, max_age and three mx patterns");
	is_str(p.mx[1], "*.example.net", "a wildcard pattern kept");
	ok(mta_sts_policy_parse(
	       STR("mx: A.Example.com\nmax_age:86400\nmode:  testing  \n"
		   "version: STSv1\nextension: anything goes\n"),
	       &p, &why) == 0 &&
	       p.mode == MTA_STS_TESTING &&
	       strcmp(p.mx[0], "a.example.com") == 0,
	   "LF line ends, any order, blanks, an extension, lower-cased mx");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: none\nmax_age: 1\n"),
				&p, &why) == 0 &&
	       p.mode == MTA_STS_NONE,
	   "mode none needs no mx");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
				    "max_age: 99999999999\nmx: a.b\n"),
				&p, &why) == -1,
	   "max_age of 11 digits is refused");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
				    "max_age: 9999999999\nmx: a.b\n"),
				&p, &why) == 0 &&
	       p.max_age == MTA_STS_MAX_AGE,
	   "a max_age over a year is cut to a year");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
				    "max_age: 1\n"),
				&p, &why) == -1,
	   "enforce without mx is refused");
	is_str(why, "the policy has no mx line", "saying why");
	ok(mta_sts_policy_parse(STR("version: STSv2\nmode: enforce\n"
				    "max_age: 1\nmx: a.b\n"),
				&p, &why) == -1,
	   "another version is refused");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: Enforce\n"
				    "max_age: 1\nmx: a.b\n"),
				&p, &why) == -1,
	   "an unknown mode is refused (values are case-sensitive)");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
				    "mode: none\nmax_age: 1\nmx: a.b\n"),
				&p, &why) == -1,
	   "a field given twice is refused");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
				    "max_age: 1\nmx: a.*.b\n"),
				&p, &why) == -1 &&
	       mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
					"max_age: 1\nmx: *\n"),
				    &p, &why) == -1 &&
	       mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
					"max_age: 1\nmx: a..b\n"),
				    &p, &why) == -1,
	   "mx patterns that are no host names are refused");
	ok(mta_sts_policy_parse(STR("version: STSv1\nmode: enforce\n"
				    "max_age: 1\nmx: a.b\nno colon\n"),
				&p, &why) == -1,
	   "a line without ':' is refused");
	ok(mta_sts_policy_parse(STR("mode: enforce\nmax_age: 1\nmx: a.b\n"), &p,
				&why) == -1,
	   "no version is refused");
}

static void
test_match(void)
{
	struct mta_sts_policy p;
	const char *why;

	mta_sts_policy_parse(STR(GOOD), &p, &why);
	ok(mta_sts_mx_match(&p, "mail.example.com") &&
	       mta_sts_mx_match(&p, "MAIL.example.COM.") &&
	       mta_sts_mx_match(&p, "mx1.example.net"),
	   "exact names and one label for '*' (any case, a final dot)");
	ok(!mta_sts_mx_match(&p, "example.net") &&
	       !mta_sts_mx_match(&p, "a.b.example.net") &&
	       !mta_sts_mx_match(&p, ".example.net") &&
	       !mta_sts_mx_match(&p, "evil-mail.example.com") &&
	       !mta_sts_mx_match(&p, "mail.example.com.evil"),
	   "'*' stands for exactly one label; nothing else matches");
}

static void
test_http(void)
{
	const char *why = NULL;
	size_t off, len;
	const char *r1 = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
			 "charset=utf-8\r\nContent-Length: 5\r\n\r\nhello";

	ok(mta_sts_http_parse(STR(r1), 1, &off, &len, &why) == 0 && len == 5 &&
	       memcmp(r1 + off, "hello", 5) == 0,
	   "200, text/plain with a parameter, Content-Length: the body");
	ok(mta_sts_http_parse(STR("HTTP/1.0 200 OK\nContent-Type: text/plain"
				  "\n\nbody"),
			      0, &off, &len, &why) == 0 &&
	       len == 4,
	   "HTTP/1.0, LF, no length, closed properly");
	ok(mta_sts_http_parse(STR("HTTP/1.0 200 OK\nContent-Type: text/plain"
				  "\n\nbody"),
			      1, &off, &len, &why) == -1,
	   "no length after an end without close_notify: refused");
	ok(mta_sts_http_parse(STR("HTTP/1.1 301 Moved\r\nLocation: https://"
				  "evil/\r\n\r\n"),
			      0, &off, &len, &why) == -1,
	   "a redirect is not followed");
	is_str(why, "a redirect (not followed: RFC 8461 3.3)", "saying so");
	ok(mta_sts_http_parse(STR("HTTP/1.1 404 Not Found\r\nContent-Type: "
				  "text/plain\r\n\r\n"),
			      0, &off, &len, &why) == -1,
	   "404 is no policy");
	ok(mta_sts_http_parse(STR("HTTP/1.1 200 OK\r\nContent-Type: text/html"
				  "\r\n\r\nx"),
			      0, &off, &len, &why) == -1 &&
	       mta_sts_http_parse(STR("HTTP/1.1 200 OK\r\n\r\nx"), 0, &off,
				  &len, &why) == -1 &&
	       mta_sts_http_parse(STR("HTTP/1.1 200 OK\r\nContent-Type: "
				      "text/plainx\r\n\r\nx"),
				  0, &off, &len, &why) == -1,
	   "only text/plain is a policy");
	ok(mta_sts_http_parse(STR("HTTP/1.1 200 OK\r\nContent-Type: text/plain"
				  "\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n"
				  "x\r\n0\r\n\r\n"),
			      0, &off, &len, &why) == -1,
	   "chunked encoding (not for an HTTP/1.0 request) is refused");
	ok(mta_sts_http_parse(STR("HTTP/1.1 200 OK\r\nContent-Type: text/plain"
				  "\r\nContent-Length: 9\r\n\r\nshort"),
			      0, &off, &len, &why) == -1,
	   "a body shorter than its Content-Length is refused");
	ok(mta_sts_http_parse(STR("HTTP/1.1 200 OK\r\nContent-Type: text/plain"
				  "\r\nContent-Length: 1\r\nContent-Length: 1"
				  "\r\n\r\nx"),
			      0, &off, &len, &why) == -1,
	   "two Content-Length headers are refused");
	ok(mta_sts_http_parse(STR("HTTP/1.1 200 OK\r\nContent-Type: text/plain"
				  "\r\n folded\r\n\r\nx"),
			      0, &off, &len, &why) == -1,
	   "a folded header line is refused");
	ok(mta_sts_http_parse(
	       STR("HTTP/1.1 200 OK\r\nContent-Type: text/plain"), 0, &off,
	       &len, &why) == -1,
	   "no end of the header: refused");
	ok(mta_sts_http_parse(STR("SSH-2.0-OpenSSH\r\n\r\n"), 0, &off, &len,
			      &why) == -1,
	   "not HTTP: refused");
}

static void
test_cache(void)
{
	struct mta_sts_cached c, back;
	struct buf file = BUF_INIT;
	const char *why = NULL;
	char *p;

	memset(&c, 0, sizeof(c));
	strlcpy(c.domain, "example.com", sizeof(c.domain));
	strlcpy(c.id, "id1", sizeof(c.id));
	buf_append_str(&c.text, GOOD);
	ok(mta_sts_policy_parse(c.text.data, c.text.len, &c.policy, &why) == 0,
	   "a policy to keep");
	c.fetched = 1700000000;
	c.expires = c.fetched + 604800;
	mta_sts_cache_format(&c, &file);
	ok(mta_sts_cache_parse(file.data, file.len, "example.com", &back,
			       &why) == 0,
	   "a cache file reads back");
	ok(back.fetched == c.fetched && back.expires == c.expires &&
	       strcmp(back.id, "id1") == 0 && back.policy.nmx == 3 &&
	       buf_equal(&back.text, &c.text),
	   "with everything that was written");
	buf_free(&back.text);
	ok(mta_sts_cache_parse(file.data, file.len, "example.org", &back,
			       &why) == -1,
	   "a file of another domain is refused");
	ok(mta_sts_cache_parse(file.data, file.len - 1, "example.com", &back,
			       &why) == -1,
	   "a truncated file is refused");
	p = strstr(file.data, "1700604800");
	p[0] = '2';
	ok(mta_sts_cache_parse(file.data, file.len, "example.com", &back,
			       &why) == -1,
	   "an expiry that is not fetched + max_age is refused");
	is_str(why, "the cache file's expiry does not match its max_age",
	       "saying why");
	p[0] = '1';
	p = strstr(file.data, "mode: enforce");
	memcpy(p, "mode: Xnforce", 13);
	ok(mta_sts_cache_parse(file.data, file.len, "example.com", &back,
			       &why) == -1,
	   "a policy that no longer parses is refused");
	ok(mta_sts_cache_parse(STR("moat-mta-sts 1 example.com id1 1 2 0\n"),
			       "example.com", &back, &why) == -1 &&
	       mta_sts_cache_parse(STR("moat-mta-sts 2 x"), "x", &back, &why) ==
		   -1 &&
	       mta_sts_cache_parse(STR(""), "x", &back, &why) == -1,
	   "empty and foreign files are refused");
	buf_free(&file);
	buf_free(&c.text);
}

int
main(void)
{
	test_txt();
	test_policy();
	test_match();
	test_http();
	test_cache();
	return done_testing();
}
