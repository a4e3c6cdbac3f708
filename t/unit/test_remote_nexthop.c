/*
 * test_remote_nexthop: next hops in Postfix's forms, and the one seam
 * that turns them into addresses: numeric ones resolve, names defer with
 * 4.4.3 until the DNS layer is there, fallback relays follow.
 */
#include <stdio.h>
#include <string.h>

#include "remote.h"
#include "tap.h"

static void
parse_is(const char *s, const char *want, const char *name)
{
	struct remote_nexthop nh;
	const char *why = NULL;
	char got[512];

	if (remote_nexthop_parse(s, &nh, &why) != 0)
		snprintf(got, sizeof(got), "error: %s", why);
	else
		snprintf(got, sizeof(got), "%s port %d%s%s", nh.host, nh.port,
			 nh.mx ? " mx" : "", nh.literal ? " literal" : "");
	is_str(got, want, name);
}

static void
test_parse(void)
{
	parse_is("example.com", "example.com port 25 mx",
		 "a domain: MX lookup");
	parse_is("example.com:587", "example.com port 587 mx",
		 "a domain and a port");
	parse_is("[mx.example.com]", "mx.example.com port 25",
		 "a bracketed name: no MX lookup");
	parse_is("[192.0.2.1]:2525", "192.0.2.1 port 2525 literal",
		 "an IPv4 literal and a port");
	parse_is("[::1]:2525", "::1 port 2525 literal", "an IPv6 literal");
	parse_is("[IPv6:2001:db8::1]", "2001:db8::1 port 25 literal",
		 "RFC 5321's IPv6 literal form");
	parse_is("192.0.2.9", "192.0.2.9 port 25 literal",
		 "a bare IPv4 address is taken as a literal");
	parse_is("[mx.example.com]:submission", "mx.example.com port 587",
		 "a service name");
	parse_is("[x]:0", "error: not a port number or service", "port 0");
	parse_is("[x]:65536", "error: not a port number or service",
		 "port 65536");
	parse_is("[x", "error: no ] after [", "no ]");
	parse_is("[x]y", "error: text after ]", "text after ]");
	parse_is("2001:db8::1", "error: an IPv6 address must be in []",
		 "bare IPv6");
	parse_is("[not:v6]", "error: not an IPv6 address",
		 "a bad IPv6 literal");
	parse_is("bad host", "error: not a host name or address", "a blank");
	parse_is("", "error: not a host name or address", "empty");
}

static void
test_resolve(void)
{
	const char *fb[] = {"[192.0.2.8]:26", "[relay.example]"};
	struct remote_resolve_error err;
	struct remote_addr_list l;

	is_int(remote_nexthop_resolve("[192.0.2.1]:2525", 5, NULL, 0, &l, &err),
	       0, "a literal resolves");
	ok(l.count == 1 && strcmp(l.addr[0].ip, "192.0.2.1") == 0 &&
	       l.addr[0].port == 2525 &&
	       strcmp(l.addr[0].host, "192.0.2.1") == 0,
	   "to itself, its port, and its text as the host name");
	is_int(remote_nexthop_resolve("example.com", 5, NULL, 0, &l, &err), -1,
	       "a domain needs DNS");
	ok(!err.permanent && strcmp(err.dsn, "4.4.3") == 0 &&
	       strstr(err.text, "DNS lookup not available") != NULL,
	   "and defers with 4.4.3 (%s)", err.text);
	is_int(remote_nexthop_resolve("example.com", 5, fb, 2, &l, &err), 0,
	       "with fallback relays the literal ones are tried");
	ok(l.count == 1 && l.addr[0].port == 26,
	   "the fallback relay's address");
	is_int(remote_nexthop_resolve("[::1]", 5, fb, 2, &l, &err), 0,
	       "IPv6 first, fallbacks after");
	ok(l.count == 2 && strcmp(l.addr[0].ip, "::1") == 0 &&
	       l.addr[0].sa.ss_family == AF_INET6,
	   "in order, with the right address family");
	is_int(remote_nexthop_resolve("[x]:99999", 5, NULL, 0, &l, &err), -1,
	       "a bad next hop");
	is_str(err.dsn, "4.3.5", "is a configuration error (4.3.5)");
}

int
main(void)
{
	test_parse();
	test_resolve();
	return done_testing();
}
