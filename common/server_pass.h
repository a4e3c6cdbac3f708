/*
 * server_pass: the frames of a pass service (server.h, pass mode), on
 * which one daemon hands another a client it accepted (the screen passes
 * SMTP clients to smtpd).  One client per connection; the conversation is
 * in ipc_proto.h.  The parsers are pure and take what a compromised passer
 * could send: they are fuzzed (fuzz/fuzz_server_pass.c).  Used by the
 * skeleton (server_pass.c) and by the screen, which builds the frames.
 */
#ifndef MOAT_SERVER_PASS_H
#define MOAT_SERVER_PASS_H

#include <netinet/in.h>

#include "ipc.h"

/* What the passer says about the client before it hands it over. */
struct server_pass_offer {
	char addr[INET6_ADDRSTRLEN]; /* canonical text: IPv4 or IPv6 */
	unsigned port;
	int trusted; /* the passer found it in mynetworks: the reserve */
};

/*
 * {op=pass, client_addr, client_port, [trusted=0|1]}: 0 with *o, or -1
 * with *why.  The address must be an IPv4 or IPv6 address; it is stored
 * in canonical form (IPv4-mapped IPv6 as IPv4).
 */
int server_pass_parse_offer(const struct ipc_frame *f,
			    struct server_pass_offer *o, const char **why);
/*
 * The canonical text of an address in network form (family AF_INET or
 * AF_INET6; IPv4-mapped IPv6 as IPv4): 0, or -1 when it does not fit.
 */
int server_pass_addr_text(int family, const void *bytes, char *out,
			  size_t size);

#endif
