/*
 * dnsbl: the pure half of DNS blocklists, shared by the screen
 * (postscreen_dnsbl_sites) and smtpd (reject_rbl_client,
 * reject_rhsbl_sender).  A site is written
 *
 *   domain[=filter][*weight]
 *
 * domain: the list's zone; filter: the A records that count, an IPv4
 * pattern whose octets are a number or a set "[n;m..k]" (127.0.0.[2..11]),
 * all of them when absent; weight: what a listing adds to a client's
 * score (the screen's; default 1, negative for allowlists).  A name is
 * listed when the list answers A records for it (the address reversed,
 * or a domain, under the zone) and one passes the filter.  The entries
 * are root's parameters, parsed with bounds all the same; the A records
 * and the TXT text are hostile (any DNS server's).  No I/O, no globals;
 * fuzzed by fuzz/fuzz_dnsbl.c.  Run by screen and smtpd.
 */
#ifndef MOAT_DNSBL_H
#define MOAT_DNSBL_H

#include <stddef.h>

#include "dns.h"

#define DNSBL_WEIGHT_MAX 1000
#define DNSBL_TEXT_MAX 200 /* bytes of a list's text in a reply */

struct dnsbl_site {
	char domain[DNS_NAME_MAX]; /* lower case, no trailing dot */
	int weight;
	int filtered;               /* 0: any A record counts */
	unsigned char octet[4][32]; /* per octet, a set of 256 bits */
};

/* One entry; 0 with *out, or -1 with a reason in *why. */
int dnsbl_site_parse(const char *spec, size_t len, struct dnsbl_site *out,
		     const char **why);
/* 1 when the A record addr (4 bytes) passes the site's filter. */
int dnsbl_site_match(const struct dnsbl_site *s, const unsigned char *addr);
/* 1 when one of the naddrs A records at addrs (4 bytes each) passes. */
int dnsbl_listed(const struct dnsbl_site *s, const unsigned char *addrs,
		 size_t naddrs);
/*
 * The score an answer for domain adds: the weight of every site of that
 * domain with a record in addrs (naddrs records of 4 bytes) that passes
 * its filter.  *top: the matching site of greatest positive weight, or
 * left as it was.
 */
int dnsbl_score(const struct dnsbl_site *sites, size_t n, const char *domain,
		const unsigned char *addrs, size_t naddrs,
		const struct dnsbl_site **top);
/*
 * A list's TXT text made fit for a reply line: printable ASCII, runs of
 * white space as one space, at most DNSBL_TEXT_MAX bytes, into out
 * (NUL-terminated; "" when nothing printable is left).
 */
void dnsbl_text(const unsigned char *txt, size_t len, char *out, size_t size);

#endif
