/*
 * qmgr_transport: the transport table, the seam where delivery agents plug
 * in.  A recipient's domain picks a transport: a domain in mydestination
 * (or none) goes to "local"; any other to "remote".  A transport whose
 * socket is NULL does not exist yet: its recipients are deferred with its
 * "unavailable" reason.  Adding the SMTP client later is one table entry.
 * Used by qmgr and t/unit/test_qmgr_transport.c.
 */
#ifndef MOAT_QMGR_TRANSPORT_H
#define MOAT_QMGR_TRANSPORT_H

#include <stddef.h>

struct qmgr_transport {
	const char *name;              /* relay=NAME in log lines */
	const char *socket;            /* the agent's socket, NULL: none yet */
	const char *concurrency_param; /* its parallel delivery limit */
	const char *unavailable;       /* defer reason when socket is NULL */
	const char *unavailable_dsn;   /* its enhanced status code */
};

enum qmgr_transport_id {
	QMGR_TRANSPORT_LOCAL,
	QMGR_TRANSPORT_REMOTE,
	QMGR_TRANSPORT_COUNT
};

extern const struct qmgr_transport qmgr_transport_table[QMGR_TRANSPORT_COUNT];

/* Pure: the transport of a domain, given whether the domain is ours. */
enum qmgr_transport_id qmgr_transport_select(int domain_is_local);
/* Pure: a transport by name, or -1. */
int qmgr_transport_find(const char *name);
/*
 * The transport of a recipient address (as stored in the queue file):
 * parsed with the one address parser, domain checked with resolve.h
 * (mydestination).  Returns 0, or -1 when the address does not parse
 * (why: the parser's reason).
 */
int qmgr_transport_route(const char *addr, enum qmgr_transport_id *id,
			 const char **why);

#endif
