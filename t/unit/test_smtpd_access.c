/*
 * test_smtpd_access: mynetworks parsing and matching, IPv4 and IPv6, with
 * and without brackets and prefixes, IPv4-mapped clients, and the items
 * that must be refused.
 */
#include <string.h>

#include "smtpd_access.h"
#include "tap.h"

static int
parses(const char *item)
{
	struct smtpd_net n;

	return smtpd_access_parse_net(item, strlen(item), &n) == 0;
}

/* Does client match the single network item? */
static int
in_net(const char *item, const char *client)
{
	struct smtpd_net n, a;

	if (smtpd_access_parse_net(item, strlen(item), &n) != 0 ||
	    smtpd_access_parse_addr(client, &a) != 0)
		return -1;
	return smtpd_access_match(&n, 1, &a);
}

static void
parsing(void)
{
	static const char *const good[] = {
	    "127.0.0.0/8",
	    "[::1]/128",
	    "::1/128",
	    "[::1]",
	    "::1",
	    "192.0.2.7",
	    "[192.0.2.7]",
	    "10.0.0.0/0",
	    "2001:db8::/32",
	    "[2001:db8::]/32",
	    "::ffff:10.0.0.0/104",
	    "0.0.0.0/32",
	};
	static const char *const bad[] = {
	    "",
	    "/8",
	    "127.0.0.0/",
	    "127.0.0.0/33",
	    "::1/129",
	    "[::1/128",
	    "localhost",
	    "127.0.0.0/8x",
	    "127.0.0.0/-1",
	    "127.0.0.0/0008",
	    "[]",
	    "1.2.3",
	    "/etc/hosts",
	    "127.0.0.0//8",
	    "::1]",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(parses(good[i]), "\"%s\" is a network", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!parses(bad[i]), "\"%s\" is refused", bad[i]);
	{
		struct smtpd_net n;
		ok(smtpd_access_parse_net("127.0.0.1\0/8", 12, &n) != 0,
		   "a NUL inside an item is refused");
	}
}

static void
matching(void)
{
	is_int(in_net("127.0.0.0/8", "127.0.0.1"), 1, "127.0.0.1 in /8");
	is_int(in_net("127.0.0.0/8", "127.255.255.255"), 1, "edge of /8");
	is_int(in_net("127.0.0.0/8", "128.0.0.1"), 0, "128.0.0.1 not in 127/8");
	is_int(in_net("192.0.2.0/25", "192.0.2.127"), 1, "/25 lower half");
	is_int(in_net("192.0.2.0/25", "192.0.2.128"), 0, "/25 upper half out");
	is_int(in_net("192.0.2.7", "192.0.2.7"), 1, "bare address matches");
	is_int(in_net("192.0.2.7", "192.0.2.8"), 0, "bare address is /32");
	is_int(in_net("10.0.0.0/0", "203.0.113.9"), 1, "/0 matches all v4");
	is_int(in_net("10.0.0.0/0", "::1"), 0, "a v4 /0 never matches v6");
	is_int(in_net("[::1]/128", "::1"), 1, "[::1]/128 matches ::1");
	is_int(in_net("[::1]/128", "::2"), 0, "[::1]/128 not ::2");
	is_int(in_net("[::1]", "::1"), 1, "[::1] without prefix");
	is_int(in_net("2001:db8::/32", "2001:db8:ffff::1"), 1, "v6 /32");
	is_int(in_net("2001:db8::/32", "2001:db9::1"), 0, "v6 /32 outside");
	is_int(in_net("2001:db8::/33", "2001:db8:8000::1"), 0, "v6 /33 bit");
	is_int(in_net("127.0.0.0/8", "::ffff:127.0.0.1"), 1,
	       "an IPv4-mapped client matches a v4 network");
	is_int(in_net("::ffff:10.0.0.0/104", "10.1.2.3"), 1,
	       "a mapped network matches a v4 client");
	is_int(in_net("127.0.0.0/8", "::127.0.0.1"), 0,
	       "a v4-compatible v6 address is not v4");
	is_int(in_net("127.0.0.0/8", "localhost"), -1,
	       "a client name is not an address");
}

static void
lists(void)
{
	static const char *const items[] = {"127.0.0.0/8", "[::1]/128",
					    "198.51.100.0/24"};
	struct smtpd_net nets[3], a;
	size_t i;

	for (i = 0; i < 3; i++)
		smtpd_access_parse_net(items[i], strlen(items[i]), &nets[i]);
	smtpd_access_parse_addr("198.51.100.200", &a);
	is_int(smtpd_access_match(nets, 3, &a), 1, "third item matches");
	smtpd_access_parse_addr("198.51.101.1", &a);
	is_int(smtpd_access_match(nets, 3, &a), 0, "no item matches");
	is_int(smtpd_access_match(nets, 0, &a), 0,
	       "an empty list matches none");
}

int
main(void)
{
	parsing();
	matching();
	lists();
	return done_testing();
}
