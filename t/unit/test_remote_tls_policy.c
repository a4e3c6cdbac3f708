/*
 * test_remote_tls_policy: the TLS levels, the values of
 * smtp_tls_policy_maps (level and match=, everything else refused) and
 * the keys a next hop is looked up with; the SASL map's values.  Pure
 * functions of common/tls_policy.c and remote/remote_sasl.c.
 */
#include <string.h>

#include "remote_tls.h"
#include "tap.h"

static void
test_levels(void)
{
	static const char *const names[] = {
	    "none", "may", "encrypt", "dane", "dane-only", "verify", "secure"};
	enum tls_level l;
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		all &= tls_level_parse(names[i], &l) == 0 && l == i &&
		       strcmp(tls_level_name(l), names[i]) == 0;
	ok(all, "every level parses and names itself");
	ok(tls_level_parse("VERIFY", &l) == 0 && l == TLS_LEV_VERIFY,
	   "levels are case-insensitive");
	ok(tls_level_parse("fingerprint", &l) != 0 &&
	       tls_level_parse("", &l) != 0 && tls_level_parse("mayx", &l) != 0,
	   "unknown levels are refused");
}

static void
test_values(void)
{
	struct tls_policy p;
	const char *why = NULL;

	ok(tls_policy_parse("  encrypt ", &p, &why) == 0 &&
	       p.level == TLS_LEV_ENCRYPT && p.nmatch == 0,
	   "a bare level, blanks around it");
	ok(tls_policy_parse("secure match=.example.com:Example.COM", &p,
			    &why) == 0 &&
	       p.level == TLS_LEV_SECURE && p.nmatch == 2,
	   "secure with two match names");
	is_str(p.match[0], ".example.com", "a .domain name kept");
	is_str(p.match[1], "example.com", "names are lower-cased");
	ok(tls_policy_parse("verify\tmatch=hostname:nexthop:dot-nexthop", &p,
			    &why) == 0 &&
	       p.nmatch == 3,
	   "verify with the special words");
	ok(tls_policy_parse("encrypt match=example.com", &p, &why) == -1,
	   "match= with encrypt is refused");
	is_str(why, "match= is only for the verify and secure levels",
	       "saying why");
	ok(tls_policy_parse("secure protocols=!SSLv2", &p, &why) == -1,
	   "an attribute Moat does not know is refused");
	ok(tls_policy_parse("secure match=a::b", &p, &why) == -1 &&
	       tls_policy_parse("secure match=", &p, &why) == -1 &&
	       tls_policy_parse("secure match=a..b", &p, &why) == -1 &&
	       tls_policy_parse("secure match=a/b", &p, &why) == -1,
	   "empty or malformed match names are refused");
	ok(tls_policy_parse("secure match=a match=b", &p, &why) == -1,
	   "match= twice is refused");
	ok(tls_policy_parse("secure match=a:b:c:d:e:f:g:h", &p, &why) == 0 &&
	       tls_policy_parse("secure match=a:b:c:d:e:f:g:h:i", &p, &why) ==
		   -1,
	   "at most 8 match names");
	ok(tls_policy_parse("", &p, &why) == -1 &&
	       tls_policy_parse("  ", &p, &why) == -1 &&
	       tls_policy_parse("weak", &p, &why) == -1,
	   "no level, or an unknown one, is refused");
}

static void
test_keys(void)
{
	char k[300];

	ok(tls_policy_key("Mail.Example.COM", 0, k, sizeof(k)) &&
	       strcmp(k, "mail.example.com") == 0,
	   "the first key is the next hop, lower case");
	ok(tls_policy_key("mail.example.com", 1, k, sizeof(k)) &&
	       strcmp(k, ".example.com") == 0,
	   "then its parent domain with a dot");
	ok(tls_policy_key("mail.example.com", 2, k, sizeof(k)) &&
	       strcmp(k, ".com") == 0,
	   "then the next");
	ok(!tls_policy_key("mail.example.com", 3, k, sizeof(k)), "and no more");
	ok(tls_policy_key("[mx.example.net]:587", 0, k, sizeof(k)) &&
	       strcmp(k, "[mx.example.net]:587") == 0 &&
	       !tls_policy_key("[mx.example.net]:587", 1, k, sizeof(k)),
	   "a [host]:port next hop: only itself");
	ok(!tls_policy_key("example.com:2525", 1, k, sizeof(k)),
	   "a domain with a port: no parents");
	ok(!tls_policy_key("localhost", 1, k, sizeof(k)),
	   "a single label: no parents");
}

static void
test_sasl(void)
{
	struct sasl_creds c;
	const char *why = NULL;

	ok(sasl_creds_parse("user@example.net:pass:word", 26, &c, &why) == 0,
	   "user:password");
	is_str(c.user, "user@example.net", "the user ends at the first ':'");
	is_str(c.pass, "pass:word", "the password may hold ':'");
	ok(sasl_creds_parse("nouser", 6, &c, &why) == -1, "no ':' is refused");
	ok(sasl_creds_parse(":pw", 3, &c, &why) == -1 &&
	       sasl_creds_parse("u:", 2, &c, &why) == -1,
	   "an empty user or password is refused");
	ok(sasl_creds_parse("u:p\r\nAUTH", 10, &c, &why) == -1,
	   "control bytes are refused (no command injection)");
	ok(sasl_creds_parse("u:p\0q", 5, &c, &why) == -1, "a NUL is refused");
}

int
main(void)
{
	test_levels();
	test_values();
	test_keys();
	test_sasl();
	return done_testing();
}
