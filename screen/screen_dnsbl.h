/*
 * screen_dnsbl: the screen's DNS blocklist test, in postscreen's terms.
 * postscreen_dnsbl_sites lists sites as common/dnsbl.h writes them,
 * domain[=filter][*weight].  A client whose score reaches
 * postscreen_dnsbl_threshold fails the test; the reply names the list of
 * greatest weight that listed it, with that list's TXT text.  The
 * parser, the matching and the reply text are common/dnsbl.c's (pure,
 * fuzzed by fuzz/fuzz_dnsbl.c); the lookups (screen_dnsbl.c) go through
 * common/dns.h's asynchronous queries.  Run by screen.
 */
#ifndef MOAT_SCREEN_DNSBL_H
#define MOAT_SCREEN_DNSBL_H

#include <stddef.h>

#include "buf.h"
#include "dnsbl.h"

#define SCREEN_DNSBL_SITES_MAX 32 /* entries of postscreen_dnsbl_sites */

/* screen_dnsbl.c: the lookups of one client. */
struct screen_conn;
struct screen_dnsbl_run;
/* Before the chroot, when sites are listed: the DNS context. */
int screen_dnsbl_open(struct buf *err);
/* Ask every listed domain about c's address; c->dnsbl holds the run. */
void screen_dnsbl_start(struct screen_conn *c);
/* Queries of c still unanswered. */
unsigned screen_dnsbl_pending(const struct screen_conn *c);
/* The list that listed c with most weight, and its text ("" if none). */
const char *screen_dnsbl_listed_by(const struct screen_conn *c,
				   const char **text);
/* Cancel what is in flight; what was answered stays. */
void screen_dnsbl_cancel(struct screen_conn *c);
/* Cancel what is in flight and free the run. */
void screen_dnsbl_end(struct screen_conn *c);

#endif
