/* test_resolve: local domains from mydestination, and local part bases. */
#include <string.h>

#include "params.h"
#include "resolve.h"
#include "tap.h"

int
main(void)
{
	struct buf err = BUF_INIT;
	char out[64], small[4];

	ok(params_set("myhostname", "mx.example.org", &err) == 0,
	   "set myhostname");
	ok(resolve_domain_is_local(""), "empty domain is local");
	ok(resolve_domain_is_local("mx.example.org"), "myhostname is local");
	ok(resolve_domain_is_local("MX.Example.ORG"), "case-insensitive");
	ok(resolve_domain_is_local("localhost.example.org"),
	   "localhost.$mydomain is local");
	ok(resolve_domain_is_local("localhost"), "localhost is local");
	ok(!resolve_domain_is_local("example.org"), "parent domain is not");
	ok(!resolve_domain_is_local("evil.mx.example.org"), "subdomain is not");
	ok(!resolve_domain_is_local("mx.example.org.evil"), "suffix is not");
	ok(params_set("mydestination", "a.test,b.test c.test", &err) == 0,
	   "set mydestination");
	ok(resolve_domain_is_local("c.test") &&
	       !resolve_domain_is_local("mx."
					"example."
					"org"),
	   "mydestination replaced");

	is_int(resolve_local_base("user+ext", out, sizeof(out)), 0,
	       "no delimiter: copy");
	is_str(out, "user+ext", "no delimiter: whole local part");
	ok(params_set("recipient_delimiter", "+-", &err) == 0,
	   "set recipient_delimiter");
	resolve_local_base("user+ext", out, sizeof(out));
	is_str(out, "user", "split at +");
	resolve_local_base("user-ext+x", out, sizeof(out));
	is_str(out, "user", "split at the first of several delimiters");
	resolve_local_base("+user", out, sizeof(out));
	is_str(out, "+user", "a leading delimiter does not split");
	resolve_local_base("plain", out, sizeof(out));
	is_str(out, "plain", "nothing to split");
	is_int(resolve_local_base("longer", small, sizeof(small)), -1,
	       "too long for the output");
	is_int(resolve_local_base("abc+x", small, sizeof(small)), 0,
	       "base fits exactly");
	is_str(small, "abc", "base in a small buffer");

	ok(resolve_login_ok("alice") && resolve_login_ok("a.b-c_d9"),
	   "login names of [a-z0-9._-] are taken");
	ok(!resolve_login_ok("Alice"), "a capital is not (local looks up the "
				       "lower-cased name)");
	ok(!resolve_login_ok("") && !resolve_login_ok("-x") &&
	       !resolve_login_ok(".x") && !resolve_login_ok("a+b") &&
	       !resolve_login_ok("a b") && !resolve_login_ok("a@b"),
	   "empty, a leading - or ., and other bytes are not");
	ok(resolve_login_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaaaaaaaaaaaa") &&
	       !resolve_login_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				 "aaaaaaaaaaaaaaaaaaaaaaa"),
	   "64 bytes are taken, 65 are not");
	buf_free(&err);
	return done_testing();
}
