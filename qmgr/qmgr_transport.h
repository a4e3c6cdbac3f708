/*
 * qmgr_transport: the transport table and the choice of a transport and
 * next hop for each recipient, the seam where delivery agents plug in.
 *
 *   local   domains in mydestination (and addresses without a domain):
 *           local(8) on private/local, one recipient per request
 *   smtp    every other domain: remote(8) on private/remote, next hop the
 *           domain, or relayhost when it is set
 *   relay   the same agent under another name, so that a transport_maps
 *           entry can give its destinations their own concurrency limit
 *
 * transport_maps (Postfix's syntax, transport(5)) may override both: the
 * address, then the domain, then ".parent" entries for subdomains from
 * the nearest up, then "*".  A result is "transport:nexthop": an empty
 * transport keeps the default one, an empty next hop with a transport
 * means the recipient domain, both empty change nothing; "error:text"
 * bounces the recipient with text (which may start with a status code).
 * Used by qmgr and t/unit/test_qmgr_transport.c.
 */
#ifndef MOAT_QMGR_TRANSPORT_H
#define MOAT_QMGR_TRANSPORT_H

#include <stddef.h>

#include "buf.h"

#define QMGR_NEXTHOP_MAX 300 /* a next hop: domain or [host]:port */
#define QMGR_ROUTE_TEXT_MAX 256

enum qmgr_service_id { QMGR_SERVICE_LOCAL, QMGR_SERVICE_REMOTE };
#define QMGR_SERVICE_COUNT 2

struct qmgr_transport {
	const char *name;              /* relay=NAME, transport_maps */
	enum qmgr_service_id service;  /* the agent that serves it */
	const char *concurrency_param; /* deliveries per destination */
	int multi_rcpt;                /* many recipients per request */
	int reuse;                     /* connections reused per next hop */
};

enum qmgr_transport_id {
	QMGR_TRANSPORT_LOCAL,
	QMGR_TRANSPORT_SMTP,
	QMGR_TRANSPORT_RELAY,
	QMGR_TRANSPORT_COUNT
};

extern const struct qmgr_transport qmgr_transport_table[QMGR_TRANSPORT_COUNT];
/* The socket of each service. */
extern const char *const qmgr_service_socket[QMGR_SERVICE_COUNT];

/* Pure: a transport by name, or -1. */
int qmgr_transport_find(const char *name);

enum qmgr_route_kind {
	QMGR_ROUTE_DELIVER, /* to tp, next hop nexthop */
	QMGR_ROUTE_BOUNCE,  /* error: transport, or a bad address */
	QMGR_ROUTE_DEFER,   /* unknown transport, map failure */
};

struct qmgr_route {
	enum qmgr_route_kind kind;
	enum qmgr_transport_id tp;
	char nexthop[QMGR_NEXTHOP_MAX]; /* local: the recipient itself */
	char dsn[16];                   /* BOUNCE and DEFER */
	char text[QMGR_ROUTE_TEXT_MAX];
};

/* The default route of a domain: local, or smtp to relayhost or it. */
void qmgr_route_default(const char *domain, int domain_is_local,
			const char *relayhost, struct qmgr_route *r);
/*
 * Pure: apply a transport_maps result to a default route (r).  domain:
 * the recipient's, the next hop of "transport:" alone.
 */
void qmgr_route_apply(const char *value, const char *domain,
		      struct qmgr_route *r);

/* A lookup in transport_maps: 1 found (value), 0 not found, -1 error. */
typedef int (*qmgr_lookup_fn)(void *ctx, const char *key, struct buf *value);
/*
 * The keys of a recipient in lookup order (address, address without its
 * extension, domain, .parents, "*"), each given to fn until one is
 * found.  1 with value, 0 when none matched, -1 when a lookup failed.
 */
int qmgr_transport_lookup(qmgr_lookup_fn fn, void *ctx, const char *addr,
			  const char *local, const char *domain,
			  struct buf *value);

/*
 * The route of a recipient address (as stored in the queue file): parsed
 * with the one address parser, mydestination and relayhost from the
 * parameters, transport_maps through fn (NULL: no map).  Never fails: a
 * bad address is a BOUNCE route, a failed lookup a DEFER route.
 */
void qmgr_transport_route(const char *addr, qmgr_lookup_fn fn, void *ctx,
			  struct qmgr_route *r);

/*
 * Pure: group the recipients to deliver (idx[0..n-1], with their routes
 * routes[idx[i]]) into requests: same transport and next hop, at most
 * limit recipients each (one for transports without multi_rcpt), in
 * queue-file order within a group.  order gets the indexes grouped; the
 * k-th group is order[start[k]] .. order[start[k+1] - 1].  Returns the
 * number of groups; start must hold n + 1 entries.
 */
size_t qmgr_transport_group(const struct qmgr_route *routes, const size_t *idx,
			    size_t n, size_t limit, size_t *order,
			    size_t *start);

#endif
