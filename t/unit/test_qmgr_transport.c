/*
 * test_qmgr_transport: the transport table and the choice of a transport
 * per recipient: domains in mydestination and addresses without a domain
 * go to local, every other domain to remote (which has no agent yet, so
 * its recipients are deferred with a reason), and an address that does not
 * parse has no transport at all.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "params.h"
#include "qmgr_transport.h"
#include "tap.h"

static void
route_is(const char *addr, int want, const char *name)
{
	enum qmgr_transport_id id = QMGR_TRANSPORT_COUNT;
	const char *why = NULL;
	int got;

	got = qmgr_transport_route(addr, &id, &why) == 0 ? (int)id : -1;
	ok(got == want, "%s: %s", addr, name);
	if (got != want)
		printf("#   expected transport %d, got %d (%s)\n", want, got,
		       why ? why : "parsed");
}

static void
test_table(void)
{
	const struct qmgr_transport *local =
	    &qmgr_transport_table[QMGR_TRANSPORT_LOCAL];
	const struct qmgr_transport *remote =
	    &qmgr_transport_table[QMGR_TRANSPORT_REMOTE];

	is_str(local->name, "local", "entry 0 is local");
	is_str(local->socket, "private/local", "local has its socket");
	ok(param_find(local->concurrency_param) != NULL,
	   "local's concurrency limit is a declared parameter");
	ok(local->unavailable == NULL, "local is available");
	is_str(remote->name, "remote", "entry 1 is remote");
	ok(remote->socket == NULL, "remote has no agent yet");
	is_str(remote->unavailable, "remote delivery is not available yet",
	       "remote's recipients are deferred with this reason");
	ok(remote->unavailable_dsn != NULL && remote->unavailable_dsn[0] == '4',
	   "the unavailable reason is a temporary (4.x.x) status");
	is_int(qmgr_transport_find("local"), QMGR_TRANSPORT_LOCAL,
	       "find local by name");
	is_int(qmgr_transport_find("remote"), QMGR_TRANSPORT_REMOTE,
	       "find remote by name");
	is_int(qmgr_transport_find("smtp"), -1, "an unknown name is not found");
	is_int(qmgr_transport_select(1), QMGR_TRANSPORT_LOCAL,
	       "a local domain selects local");
	is_int(qmgr_transport_select(0), QMGR_TRANSPORT_REMOTE,
	       "any other domain selects remote");
}

static void
test_route(void)
{
	struct buf err = BUF_INIT;

	ok(params_set("myhostname", "mx.example.org", &err) == 0 &&
	       params_set("mydestination",
			  "$myhostname, localhost, example.org", &err) == 0,
	   "set mydestination (%s)", buf_cstr(&err));
	route_is("alice@example.org", QMGR_TRANSPORT_LOCAL,
		 "a listed domain is local");
	route_is("alice@EXAMPLE.ORG", QMGR_TRANSPORT_LOCAL,
		 "domains compare without case");
	route_is("bob@mx.example.org", QMGR_TRANSPORT_LOCAL,
		 "$myhostname in mydestination is expanded");
	route_is("root@localhost", QMGR_TRANSPORT_LOCAL, "localhost is local");
	route_is("postmaster", QMGR_TRANSPORT_LOCAL,
		 "an address without a domain is local");
	route_is("\"a@b\"@example.org", QMGR_TRANSPORT_LOCAL,
		 "an @ inside a quoted local part does not pick the domain");
	route_is("carol@example.net", QMGR_TRANSPORT_REMOTE,
		 "an unlisted domain is remote");
	route_is("carol@sub.example.org", QMGR_TRANSPORT_REMOTE,
		 "a subdomain of a local domain is not local");
	route_is("dave@example.org@evil.example", -1,
		 "a second @ does not parse: no transport");
	route_is("", -1, "an empty address has no transport");
	buf_free(&err);
}

int
main(void)
{
	test_table();
	test_route();
	return done_testing();
}
