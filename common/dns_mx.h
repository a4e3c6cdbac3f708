/*
 * dns_mx: where to send mail for a domain, by RFC 5321 section 5.1: the
 * MX records sorted by preference with equal preferences shuffled, the
 * domain's own addresses when it has no MX (implicit MX), RFC 7505's null
 * MX refused at once, and the records at or below this host's own
 * preference dropped (a loop when this host is the best MX).  The result
 * is the ordered list of addresses the SMTP client tries, or an error with
 * an enhanced status code and Postfix's text.
 *
 * dns_mx_plan() is a pure function of the answers its lookup callback
 * gives and of the numbers its random callback draws, so unit tests inject
 * both; the remote daemon passes dns_lookup() and a real random source
 * (dns_mx_policy_init).  Runs in the remote daemon.
 */
#ifndef MOAT_DNS_MX_H
#define MOAT_DNS_MX_H

#include "dns.h"

#define DNS_MX_TARGET_MAX 100 /* addresses in a plan, whatever the limit */

enum dns_addr_pref {
	DNS_PREF_ANY,  /* both families interleaved, IPv6 first */
	DNS_PREF_IPV6, /* every IPv6 address of a host before its IPv4 */
	DNS_PREF_IPV4, /* every IPv4 address of a host before its IPv6 */
};

/* Answers a lookup; fills out (the plan frees it).  0, or -1 on failure. */
typedef int (*dns_lookup_cb)(void *arg, const char *name, int type,
			     struct dns_result *out);
/* A uniformly random number (the shuffle of equal preferences). */
typedef uint32_t (*dns_random_cb)(void *arg);

struct dns_mx_policy {
	const char *const *own_names; /* myhostname and its like */
	size_t own_names_count;
	const struct dns_addr *own_addrs; /* this host's addresses */
	size_t own_addrs_count;
	enum dns_addr_pref pref;
	size_t addr_limit; /* smtp_mx_address_limit; 0: no limit */
	dns_lookup_cb lookup;
	void *lookup_arg;
	dns_random_cb random;
	void *random_arg;
};

/* Flags of a target. */
#define DNS_TARGET_MX_SECURE 0x1   /* the MX RRset was DNSSEC-validated */
#define DNS_TARGET_ADDR_SECURE 0x2 /* the host's address RRset was */
#define DNS_TARGET_IMPLICIT 0x4    /* no MX: the domain itself */

struct dns_target {
	char host[DNS_NAME_MAX];  /* the MX exchange (or the domain) */
	char canon[DNS_NAME_MAX]; /* host after CNAMEs (DANE's TLSA base) */
	struct dns_addr addr;
	unsigned pref;
	unsigned flags;
};

enum dns_plan_status {
	DNS_PLAN_OK,     /* try targets in order */
	DNS_PLAN_DEFER,  /* temporary: try later (dsn 4.x.x) */
	DNS_PLAN_BOUNCE, /* permanent (dsn 5.x.x) */
};

struct dns_plan {
	enum dns_plan_status status;
	char dsn[8];    /* "5.1.10"; empty when OK */
	char text[512]; /* "Domain x does not accept mail (nullMX)" */
	size_t count;
	struct dns_target target[DNS_MX_TARGET_MAX];
};

/*
 * The plan for domain.  no_mx: the domain is a host name to use as it is
 * (a [host] next hop), without an MX lookup.  Always fills out.
 */
void dns_mx_plan(const char *domain, int no_mx, const struct dns_mx_policy *pol,
		 struct dns_plan *out);

/*
 * A policy from the parameters (myhostname, smtp_address_preference,
 * smtp_mx_address_limit) with ctx's lookups, its own addresses and a
 * random source.  -1 with err for a bad smtp_address_preference.  The
 * policy refers to param_str's value and ctx: valid until a reload.
 */
int dns_mx_policy_init(struct dns_mx_policy *pol, struct dns_ctx *ctx,
		       struct buf *err);
/* Parse "any", "ipv4" or "ipv6"; -1 otherwise. */
int dns_addr_pref_parse(const char *text, enum dns_addr_pref *out);

#endif
