/*
 * qmgr_transport: the transport table and the choice of a transport for a
 * recipient (see qmgr_transport.h).  The addresses come from queue files
 * that cleanup wrote after parsing them; they are parsed again here with
 * the one address parser and nothing else is assumed.  Runs in qmgr.
 */
#include <string.h>

#include "address.h"
#include "ipc_proto.h"
#include "qmgr_transport.h"
#include "resolve.h"

const struct qmgr_transport qmgr_transport_table[QMGR_TRANSPORT_COUNT] = {
    [QMGR_TRANSPORT_LOCAL] = {"local", IPC_SOCK_LOCAL,
			      "local_destination_concurrency_limit", NULL,
			      NULL},
    /* XXX no SMTP client yet: remote mail waits in deferred/. */
    [QMGR_TRANSPORT_REMOTE] = {"remote", NULL, NULL,
			       "remote delivery is not available yet", "4.3.0"},
};

enum qmgr_transport_id
qmgr_transport_select(int domain_is_local)
{
	return domain_is_local ? QMGR_TRANSPORT_LOCAL : QMGR_TRANSPORT_REMOTE;
}

int
qmgr_transport_find(const char *name)
{
	int i;

	for (i = 0; i < QMGR_TRANSPORT_COUNT; i++)
		if (strcmp(qmgr_transport_table[i].name, name) == 0)
			return i;
	return -1;
}

int
qmgr_transport_route(const char *addr, enum qmgr_transport_id *id,
		     const char **why)
{
	struct address a;
	enum addr_error e;

	e = address_parse(addr, strlen(addr), ADDR_ALLOW_NO_DOMAIN, &a);
	if (e != ADDR_OK) {
		*why = address_strerror(e);
		return -1;
	}
	*id = qmgr_transport_select(resolve_domain_is_local(a.domain));
	return 0;
}
