/*
 * qmgr_transport: the transport table, routes and grouping (see
 * qmgr_transport.h).  The addresses come from queue files that cleanup
 * wrote after parsing them; they are parsed again here with the one
 * address parser and nothing else is assumed.  transport_maps values are
 * root's configuration, checked for length and control bytes.  Runs in
 * qmgr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "ipc_proto.h"
#include "params.h"
#include "qmgr_transport.h"
#include "resolve.h"

const struct qmgr_transport qmgr_transport_table[QMGR_TRANSPORT_COUNT] = {
    [QMGR_TRANSPORT_LOCAL] = {"local", QMGR_SERVICE_LOCAL,
			      "local_destination_concurrency_limit", 0, 0},
    [QMGR_TRANSPORT_SMTP] = {"smtp", QMGR_SERVICE_REMOTE,
			     "smtp_destination_concurrency_limit", 1, 1},
    [QMGR_TRANSPORT_RELAY] = {"relay", QMGR_SERVICE_REMOTE,
			      "relay_destination_concurrency_limit", 1, 1},
};

const char *const qmgr_service_socket[QMGR_SERVICE_COUNT] = {
    [QMGR_SERVICE_LOCAL] = IPC_SOCK_LOCAL,
    [QMGR_SERVICE_REMOTE] = IPC_SOCK_REMOTE,
};

int
qmgr_transport_find(const char *name)
{
	int i;

	for (i = 0; i < QMGR_TRANSPORT_COUNT; i++)
		if (strcmp(qmgr_transport_table[i].name, name) == 0)
			return i;
	return -1;
}

void
qmgr_route_default(const char *domain, int domain_is_local,
		   const char *relayhost, struct qmgr_route *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = QMGR_ROUTE_DELIVER;
	if (domain_is_local) {
		r->tp = QMGR_TRANSPORT_LOCAL;
		return;
	}
	r->tp = QMGR_TRANSPORT_SMTP;
	snprintf(r->nexthop, sizeof(r->nexthop), "%s",
		 relayhost != NULL && relayhost[0] != '\0' ? relayhost
							   : domain);
}

static void
route_fail(struct qmgr_route *r, enum qmgr_route_kind kind, const char *dsn,
	   const char *text, const char *arg)
{
	r->kind = kind;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	snprintf(r->text, sizeof(r->text), "%s%.200s", text, arg);
}

/* "error:5.1.1 text": the status code when the text starts with one. */
static void
route_error(const char *text, struct qmgr_route *r)
{
	size_t n = strspn(text, "0123456789.");

	if (n >= 5 && n < sizeof(r->dsn) && text[0] >= '4' && text[0] <= '5' &&
	    text[1] == '.' && (text[n] == ' ' || text[n] == '\0')) {
		route_fail(
		    r, text[0] == '4' ? QMGR_ROUTE_DEFER : QMGR_ROUTE_BOUNCE,
		    "", "", "");
		memcpy(r->dsn, text, n);
		r->dsn[n] = '\0';
		text += n + strspn(text + n, " ");
		snprintf(r->text, sizeof(r->text), "%s",
			 text[0] ? text : "delivery refused by transport_maps");
		return;
	}
	route_fail(r, QMGR_ROUTE_BOUNCE, "5.0.0",
		   text[0] ? text : "delivery refused by transport_maps", "");
}

/* A next hop from the map: no blanks or control bytes, bounded. */
static int
route_nexthop_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return i < QMGR_NEXTHOP_MAX;
}

void
qmgr_route_apply(const char *value, const char *domain, struct qmgr_route *r)
{
	const char *colon = strchr(value, ':');
	char name[32];
	size_t n = colon != NULL ? (size_t)(colon - value) : strlen(value);
	const char *nexthop = colon != NULL ? colon + 1 : "";
	int tp;

	if (n == 5 && strncmp(value, "error", 5) == 0) {
		route_error(nexthop, r);
		return;
	}
	if (n >= sizeof(name)) {
		route_fail(r, QMGR_ROUTE_DEFER, "4.3.5",
			   "unknown mail transport in transport_maps", "");
		return;
	}
	memcpy(name, value, n);
	name[n] = '\0';
	if (n > 0 && (tp = qmgr_transport_find(name)) < 0) {
		route_fail(r, QMGR_ROUTE_DEFER, "4.3.5",
			   "unknown mail transport in transport_maps: ", name);
		return;
	}
	if (!route_nexthop_ok(nexthop)) {
		route_fail(r, QMGR_ROUTE_DEFER, "4.3.5",
			   "bad next hop in transport_maps: ", nexthop);
		return;
	}
	if (n > 0) {
		r->tp = (enum qmgr_transport_id)tp;
		/* A transport alone: its next hop is the recipient domain. */
		snprintf(r->nexthop, sizeof(r->nexthop), "%s",
			 nexthop[0] != '\0' ? nexthop : domain);
	} else if (nexthop[0] != '\0') {
		snprintf(r->nexthop, sizeof(r->nexthop), "%s", nexthop);
	}
	if (r->tp == QMGR_TRANSPORT_LOCAL)
		r->nexthop[0] = '\0';
	else if (r->nexthop[0] == '\0')
		route_fail(r, QMGR_ROUTE_DEFER, "4.3.5",
			   "no next hop for an address without a domain", "");
}

static int
transport_try(qmgr_lookup_fn fn, void *ctx, const char *key, struct buf *value)
{
	return key[0] != '\0' && strlen(key) <= ADDR_TEXT_MAX
		   ? fn(ctx, key, value)
		   : 0;
}

int
qmgr_transport_lookup(qmgr_lookup_fn fn, void *ctx, const char *addr,
		      const char *local, const char *domain, struct buf *value)
{
	char key[ADDR_TEXT_MAX + 2], base[ADDR_LOCAL_MAX * 2 + 3];
	const char *d;
	int r = 0;

	if (domain[0] != '\0') {
		r = transport_try(fn, ctx, addr, value);
		if (r == 0 &&
		    resolve_local_base(local, base, sizeof(base)) == 0 &&
		    strcmp(base, local) != 0 &&
		    snprintf(key, sizeof(key), "%s@%s", base, domain) <
			(int)sizeof(key))
			r = transport_try(fn, ctx, key, value);
	}
	if (r == 0)
		r = transport_try(fn, ctx, domain, value);
	for (d = strchr(domain, '.'); r == 0 && d != NULL;
	     d = strchr(d + 1, '.'))
		r = transport_try(fn, ctx, d, value);
	if (r == 0)
		r = fn(ctx, "*", value);
	return r;
}

void
qmgr_transport_route(const char *addr, qmgr_lookup_fn fn, void *ctx,
		     struct qmgr_route *r)
{
	struct buf value = BUF_INIT;
	struct address a;
	enum addr_error e;
	int found = 0;

	/* UTF-8 only came in with SMTPUTF8 (smtpd, cleanup checked it). */
	e = address_parse(addr, strlen(addr),
			  ADDR_ALLOW_NO_DOMAIN | ADDR_ALLOW_UTF8, &a);
	if (e != ADDR_OK) {
		memset(r, 0, sizeof(*r));
		route_fail(r, QMGR_ROUTE_BOUNCE, "5.1.3",
			   "bad address syntax: ", address_strerror(e));
		return;
	}
	qmgr_route_default(a.domain, resolve_domain_is_local(a.domain),
			   param_str("relayhost"), r);
	/* An address without a domain is local, whatever the map says. */
	if (fn != NULL && a.domain[0] != '\0')
		found = qmgr_transport_lookup(fn, ctx, addr, a.local, a.domain,
					      &value);
	if (found < 0)
		route_fail(r, QMGR_ROUTE_DEFER, "4.3.0",
			   "transport_maps lookup failure", "");
	else if (found > 0)
		qmgr_route_apply(buf_cstr(&value), a.domain, r);
	buf_free(&value);
	/*
	 * A local recipient is its own next hop, as with Postfix's
	 * local_destination_recipient_limit = 1: the concurrency limit is
	 * per recipient, and a slow mailbox or command holds up no other
	 * user's mail.  (An address longer than a next hop shares its
	 * destination with those that begin alike: a shared limit.)
	 */
	if (r->kind == QMGR_ROUTE_DELIVER && r->tp == QMGR_TRANSPORT_LOCAL)
		snprintf(r->nexthop, sizeof(r->nexthop), "%s", addr);
}

/* --- grouping ------------------------------------------------------------ */

static const struct qmgr_route *group_routes;

static int
group_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const struct qmgr_route *ra = &group_routes[a], *rb = &group_routes[b];
	int c;

	if (ra->tp != rb->tp)
		return ra->tp < rb->tp ? -1 : 1;
	if ((c = strcmp(ra->nexthop, rb->nexthop)) != 0)
		return c;
	return a < b ? -1 : a > b; /* queue-file order within a group */
}

size_t
qmgr_transport_group(const struct qmgr_route *routes, const size_t *idx,
		     size_t n, size_t limit, size_t *order, size_t *start)
{
	size_t i, groups = 0, in_group = 0, max;

	memcpy(order, idx, n * sizeof(*order));
	group_routes = routes;
	qsort(order, n, sizeof(*order), group_cmp);
	for (i = 0; i < n; i++) {
		const struct qmgr_route *r = &routes[order[i]];
		max = qmgr_transport_table[r->tp].multi_rcpt && limit > 0
			  ? limit
			  : 1;
		if (i == 0 || in_group >= max ||
		    r->tp != routes[order[i - 1]].tp ||
		    strcmp(r->nexthop, routes[order[i - 1]].nexthop) != 0) {
			start[groups++] = i;
			in_group = 0;
		}
		in_group++;
	}
	start[groups] = n;
	return groups;
}
