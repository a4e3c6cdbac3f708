/*
 * dns_ctx: the resolver context shared by the files of the dns module only
 * (dns.c opens it and converts libunbound's answers, dns_query.c runs the
 * queries).  Nothing outside common/dns*.c includes it.
 */
#ifndef MOAT_DNS_CTX_H
#define MOAT_DNS_CTX_H

#include <stdio.h>
#include <unbound.h>

#include "dns.h"

#define DNS_OWN_ADDR_MAX 64

struct dns_query;

struct dns_ctx {
	struct ub_ctx *ub;
	FILE *ub_log; /* libunbound's own messages: /dev/null */
	long long timeout_ms;
	int validating;
	struct dns_addr own[DNS_OWN_ADDR_MAX];
	size_t own_count;
	struct dns_query *queries; /* started, not completed or cancelled */
	struct dns_query *done;    /* completed in this ub_process() */
	unsigned long next_id;
	int in_event_loop; /* ub_fd is registered with event.h */
};

/*
 * Convert libunbound's answer (err: its error code; ub may be NULL) for a
 * query of name and type into out.
 */
void dns_result_convert(const char *name, int type, int err,
			const struct ub_result *ub, struct dns_result *out);
/* A TEMPFAIL result with a reason (timeouts, failures to start). */
void dns_result_tempfail(const char *name, int type, const char *why,
			 struct dns_result *out);

/* Free every query record (after ub_ctx_delete: no callback can come). */
void dns_query_forget_all(struct dns_ctx *ctx);

#endif
