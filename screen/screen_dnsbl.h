/*
 * screen_dnsbl: the screen's DNS blocklist test, in postscreen's terms.
 * postscreen_dnsbl_sites lists sites as
 *
 *   domain[=filter][*weight]
 *
 * domain: the list's zone; filter: the A records that count, an IPv4
 * pattern whose octets are a number or a set "[n;m..k]" (127.0.0.[2..11]),
 * all of them when absent; weight: what a listing adds to the client's
 * score (default 1; negative for allowlists).  A client whose score
 * reaches postscreen_dnsbl_threshold fails the test; the reply names the
 * list of greatest weight that listed it, with that list's TXT text.
 * The parser, the matching and the reply text are pure (fuzzed by
 * fuzz/fuzz_screen_dnsbl.c); the lookups (screen_dnsbl.c) go through
 * common/dns.h's asynchronous queries.  Run by screen.
 */
#ifndef MOAT_SCREEN_DNSBL_H
#define MOAT_SCREEN_DNSBL_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"

#define SCREEN_DNSBL_SITES_MAX 32 /* entries of postscreen_dnsbl_sites */
#define SCREEN_DNSBL_WEIGHT_MAX 1000
#define SCREEN_DNSBL_TEXT_MAX 200 /* bytes of a list's text in a reply */

struct screen_dnsbl_site {
	char domain[DNS_NAME_MAX]; /* lower case, no trailing dot */
	int weight;
	int filtered;               /* 0: any A record counts */
	unsigned char octet[4][32]; /* per octet, a set of 256 bits */
};

/* One entry; 0 with *out, or -1 with a reason in *why. */
int screen_dnsbl_parse_site(const char *spec, size_t len,
			    struct screen_dnsbl_site *out, const char **why);
/* 1 when the A record addr (4 bytes) passes the site's filter. */
int screen_dnsbl_match(const struct screen_dnsbl_site *s,
		       const unsigned char *addr);
/*
 * The score an answer for domain adds: the weight of every site of that
 * domain with a record in addrs (naddrs records of 4 bytes) that passes
 * its filter.  *top: the matching site of greatest positive weight, or
 * left as it was.
 */
int screen_dnsbl_score(const struct screen_dnsbl_site *sites, size_t n,
		       const char *domain, const unsigned char *addrs,
		       size_t naddrs, const struct screen_dnsbl_site **top);
/*
 * A list's TXT text made fit for a reply line: printable ASCII, runs of
 * white space as one space, at most SCREEN_DNSBL_TEXT_MAX bytes, into out
 * (NUL-terminated; "" when nothing printable is left).
 */
void screen_dnsbl_text(const unsigned char *txt, size_t len, char *out,
		       size_t size);

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
