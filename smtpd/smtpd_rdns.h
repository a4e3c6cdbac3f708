/*
 * smtpd_rdns: the reverse DNS name of a client, looked up before the
 * greeting without blocking the event loop (common/dns.h's asynchronous
 * queries): the PTR of the client's address, then the first PTR name's
 * A (IPv4 client) or AAAA (IPv6) records, which must include the client's
 * address (forward-confirmed).  Answers are hostile: names come decoded
 * and checked by dns_rdata.c.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_RDNS_H
#define MOAT_SMTPD_RDNS_H

#include "dns.h"
#include "smtpd_session.h"

/*
 * The verdict: SMTPD_RDNS_OK with the confirmed name (lower case),
 * SMTPD_RDNS_FAIL (no PTR, or no PTR name that maps back) or
 * SMTPD_RDNS_TEMP (a lookup failed for now, or the deadline passed);
 * name is "unknown" unless OK.  Called from the event loop, never from
 * inside smtpd_rdns_start, exactly once unless cancelled.
 */
typedef void (*smtpd_rdns_fn)(void *ctx, enum smtpd_rdns verdict,
			      const char *name);

struct smtpd_rdns_lookup;

/*
 * The resolver (smtpd.c opens it before the drop with dns_open_tcp:
 * smtp_dns_resolver_address, the trust anchor), shared with the DNS
 * lists; deadline_ms: smtpd_rdns_timeout.
 */
void smtpd_rdns_open(struct dns_ctx *ctx, long long deadline_ms);
/* Look addr up; NULL when it cannot be (not an address, no resolver). */
struct smtpd_rdns_lookup *smtpd_rdns_start(const char *addr, smtpd_rdns_fn fn,
					   void *ctx);
/*
 * Pure: 1 for the loopback address (127.0.0.1, ::1), whose name is
 * localhost without a lookup (RFC 6761, as the hosts file says).
 */
int smtpd_rdns_is_loopback(const char *addr);
/* The session is gone: no callback, the lookup is freed. */
void smtpd_rdns_cancel(struct smtpd_rdns_lookup *l);

#endif
