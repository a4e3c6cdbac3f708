/*
 * test_qmgr_transport: the transport table, the route of each recipient
 * (mydestination, relayhost, transport_maps in Postfix's lookup order
 * and result syntax, over a real LMDB map built from a source file) and
 * the grouping of recipients into delivery requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "maps.h"
#include "params.h"
#include "qmgr_transport.h"
#include "tap.h"

static struct map *test_map;

static int
test_lookup(void *ctx, const char *key, struct buf *value)
{
	(void)ctx;
	return map_lookup(test_map, key, value);
}

static void
route_is(const char *addr, const char *want, const char *name)
{
	struct qmgr_route r;
	char got[512];

	qmgr_transport_route(addr, test_map ? test_lookup : NULL, NULL, &r);
	if (r.kind == QMGR_ROUTE_DELIVER)
		snprintf(got, sizeof(got), "%s:%s",
			 qmgr_transport_table[r.tp].name, r.nexthop);
	else
		snprintf(got, sizeof(got), "%s %s %s",
			 r.kind == QMGR_ROUTE_BOUNCE ? "bounce" : "defer",
			 r.dsn, r.text);
	is_str(got, want, name);
}

static void
test_table(void)
{
	is_str(qmgr_transport_table[QMGR_TRANSPORT_LOCAL].name, "local",
	       "entry 0 is local");
	is_str(qmgr_transport_table[QMGR_TRANSPORT_SMTP].name, "smtp",
	       "entry 1 is smtp");
	is_str(qmgr_transport_table[QMGR_TRANSPORT_RELAY].name, "relay",
	       "entry 2 is relay");
	for (int i = 0; i < QMGR_TRANSPORT_COUNT; i++)
		ok(param_find(qmgr_transport_table[i].concurrency_param) !=
		       NULL,
		   "%s's concurrency limit is a declared parameter",
		   qmgr_transport_table[i].name);
	is_str(qmgr_service_socket[QMGR_SERVICE_REMOTE], "private/remote",
	       "smtp and relay are served by private/remote");
	ok(qmgr_transport_table[QMGR_TRANSPORT_SMTP].reuse &&
	       !qmgr_transport_table[QMGR_TRANSPORT_LOCAL].reuse,
	   "remote connections are reused, local ones are not");
	is_int(qmgr_transport_find("relay"), QMGR_TRANSPORT_RELAY,
	       "find relay by name");
	is_int(qmgr_transport_find("remote"), -1,
	       "an unknown name is not found");
}

static void
test_defaults(void)
{
	struct buf err = BUF_INIT;

	ok(params_set("myhostname", "mx.example.org", &err) == 0 &&
	       params_set("mydestination",
			  "$myhostname, localhost, example.org", &err) == 0,
	   "set mydestination (%s)", buf_cstr(&err));
	route_is("alice@example.org", "local:alice@example.org",
		 "a listed domain is local; the recipient is its own next hop");
	route_is("alice@EXAMPLE.ORG", "local:alice@EXAMPLE.ORG",
		 "domains compare without case");
	route_is("postmaster", "local:postmaster",
		 "an address without a domain is local");
	route_is("\"a@b\"@example.org", "local:\"a@b\"@example.org",
		 "an @ inside a quoted local part does not pick the domain");
	route_is("carol@example.net", "smtp:example.net",
		 "another domain goes to smtp, next hop the domain");
	route_is("carol@sub.example.org", "smtp:sub.example.org",
		 "a subdomain of a local domain is not local");
	route_is("dan@[192.0.2.7]", "smtp:[192.0.2.7]",
		 "an address literal is its own next hop");
	route_is("dave@example.org@evil.example",
		 "bounce 5.1.3 bad address syntax: more than one @ in the "
		 "address",
		 "a second @ does not parse: bounced as bad syntax");
	ok(params_set("relayhost", "[192.0.2.1]:2525", &err) == 0,
	   "set relayhost");
	route_is("carol@example.net", "smtp:[192.0.2.1]:2525",
		 "relayhost is the next hop of other domains");
	route_is("alice@example.org", "local:alice@example.org",
		 "but not of local ones");
	buf_free(&err);
}

static int
write_map(const char *path, const char *text)
{
	struct buf err = BUF_INIT;
	FILE *fp = fopen(path, "w");
	int r;

	if (fp == NULL)
		return -1;
	fputs(text, fp);
	fclose(fp);
	r = map_build(path, MAP_TABLE, &err);
	if (r != 0)
		printf("# map_build: %s\n", buf_cstr(&err));
	buf_free(&err);
	return r;
}

static void
test_maps(void)
{
	char dir[] = "/tmp/test_qmgr_transport.XXXXXX", path[128];
	struct buf err = BUF_INIT;

	ok(mkdtemp(dir) != NULL, "a temporary directory");
	snprintf(path, sizeof(path), "%s/transport", dir);
	ok(write_map(path, "example.com  smtp:[mx.example.net]:587\n"
			   ".example.com relay:[192.0.2.9]\n"
			   "vip@example.com relay:\n"
			   "b.example.com  :\n"
			   "lists.example  relay\n"
			   "tp-only.example smtp:\n"
			   "inside.example local:\n"
			   "example.org    smtp:[192.0.2.3]\n"
			   "gone.example   error:5.1.2 this domain is gone\n"
			   "later.example  error:4.7.1 not today\n"
			   "plain.example  error:no reason\n"
			   "bogus.example  teleport:[192.0.2.1]\n"
			   "hop.example    :[192.0.2.4]\n"
			   "*              smtp:[192.0.2.250]\n") == 0,
	   "build a transport map");
	test_map = map_open(path, &err);
	ok(test_map != NULL, "open it (%s)", buf_cstr(&err));
	if (test_map == NULL)
		return;
	route_is("a@example.com", "smtp:[mx.example.net]:587",
		 "a domain entry gives transport and next hop");
	route_is("vip@example.com", "relay:example.com",
		 "an address entry comes first; a transport alone means the "
		 "domain");
	route_is("a@x.y.example.com", "relay:[192.0.2.9]",
		 ".domain matches subdomains, the nearest parent first");
	route_is("a@b.example.com", "smtp:[192.0.2.1]:2525",
		 "\":\" keeps the default transport and next hop (relayhost)");
	route_is("a@lists.example", "relay:lists.example",
		 "a value without a colon is a transport");
	route_is("a@tp-only.example", "smtp:tp-only.example",
		 "\"smtp:\" means the recipient domain, not relayhost");
	route_is("a@inside.example", "local:a@inside.example",
		 "local: forces local delivery");
	route_is("alice@example.org", "smtp:[192.0.2.3]",
		 "the map overrides mydestination too, as in Postfix");
	route_is("a@gone.example", "bounce 5.1.2 this domain is gone",
		 "error: bounces with the status code and text given");
	route_is("a@later.example", "defer 4.7.1 not today",
		 "error: with a 4.x.x code defers");
	route_is("a@plain.example", "bounce 5.0.0 no reason",
		 "error: without a code bounces with 5.0.0");
	route_is("a@bogus.example",
		 "defer 4.3.5 unknown mail transport in transport_maps: "
		 "teleport",
		 "an unknown transport defers");
	route_is("a@hop.example", "smtp:[192.0.2.4]",
		 "\":nexthop\" keeps the transport, changes the next hop");
	route_is("a@elsewhere.test", "smtp:[192.0.2.250]",
		 "* catches every other domain");
	route_is("postmaster", "local:postmaster",
		 "an address without a domain stays local");
	map_close(test_map);
	test_map = NULL;
	unlink(path);
	snprintf(path, sizeof(path), "%s/transport.lmdb", dir);
	unlink(path);
	rmdir(dir);
	buf_free(&err);
}

static void
test_group(void)
{
	struct qmgr_route routes[8];
	size_t idx[] = {0, 1, 2, 3, 4, 5, 6}, order[8], start[9], g;
	const char *hops[] = {"b.example", "a.example", "b.example", "",
			      "b.example", "",          "b.example"};
	enum qmgr_transport_id tps[] = {
	    QMGR_TRANSPORT_SMTP,  QMGR_TRANSPORT_SMTP,  QMGR_TRANSPORT_SMTP,
	    QMGR_TRANSPORT_LOCAL, QMGR_TRANSPORT_RELAY, QMGR_TRANSPORT_LOCAL,
	    QMGR_TRANSPORT_SMTP};
	char got[128];
	size_t i, k, n = 0;

	for (i = 0; i < 7; i++) {
		memset(&routes[i], 0, sizeof(routes[i]));
		routes[i].tp = tps[i];
		snprintf(routes[i].nexthop, sizeof(routes[i].nexthop), "%s",
			 hops[i]);
	}
	g = qmgr_transport_group(routes, idx, 7, 2, order, start);
	for (k = 0; k < g; k++) {
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s[",
				      k ? " " : "");
		for (i = start[k]; i < start[k + 1]; i++)
			n +=
			    (size_t)snprintf(got + n, sizeof(got) - n, "%s%zu",
					     i > start[k] ? "," : "", order[i]);
		n += (size_t)snprintf(got + n, sizeof(got) - n, "]");
	}
	is_str(got, "[3] [5] [1] [0,2] [6] [4]",
	       "grouped by transport and next hop, local one each, at most 2 "
	       "per request, in queue order");
	g = qmgr_transport_group(routes, idx, 0, 2, order, start);
	is_int(g, 0, "no recipients, no groups");
}

int
main(void)
{
	test_table();
	test_defaults();
	test_maps();
	test_group();
	return done_testing();
}
