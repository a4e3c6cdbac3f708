/*
 * dns: DNS lookups for remote delivery (MX, A, AAAA, TLSA, TXT) and for
 * smtpd's screening (PTR, DNSBL TXT and A), over libunbound, which sends
 * the queries, parses the answers, follows CNAMEs and validates DNSSEC.
 * Moat never parses a DNS message itself: it only decodes the RDATA of the
 * few record types it uses (dns_rdata.c: pure, fuzzed), from the records
 * libunbound returns.  Everything that comes back is hostile input.
 *
 * A context is opened as root before the chroot (dns_open): it reads
 * /etc/resolv.conf or smtp_dns_resolver_address, and the DNSSEC trust
 * anchor file, and finalizes libunbound there, so after the chroot and the
 * privilege drop it needs nothing but its UDP and TCP sockets.  Lookups run
 * in a resolver thread libunbound starts at the first query; this process
 * waits on one descriptor (dns_fd), either blocking with a deadline
 * (dns_lookup: the remote daemon, one delivery at a time) or from an event
 * loop (dns_query_start: smtpd, which must never block).  Every lookup is
 * bounded by smtp_dns_timeout (libunbound has no per-query time limit: the
 * deadline is ours, and an expired query is cancelled).
 *
 * Names are exchanged in presentation form without the trailing dot, in
 * lower case ("mx1.example.org"); the root is ".".
 */
#ifndef MOAT_DNS_H
#define MOAT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DNS_NAME_MAX 256 /* presentation name + NUL (253 chars at most) */
#define DNS_RR_MAX 64    /* records kept from one answer */
#define DNS_TXT_MAX 4096 /* bytes kept of one TXT record */

/* Record types Moat asks for. */
#define DNS_T_A 1
#define DNS_T_CNAME 5
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28
#define DNS_T_TLSA 52

/* What a lookup found. */
enum dns_status {
	DNS_FOUND,    /* one or more records of the type asked for */
	DNS_NODATA,   /* the name exists, without records of that type */
	DNS_NXDOMAIN, /* the name does not exist (RCODE 3) */
	DNS_TEMPFAIL, /* SERVFAIL, REFUSED, timeout, network, bogus, bad data */
	DNS_BADNAME,  /* the name asked for is not a valid host name */
};

/* The DNSSEC state of an answer (found or not). */
enum dns_dnssec {
	DNS_INSECURE, /* not validated: no trust anchor covers it, or none */
	DNS_SECURE,   /* validated from the trust anchor */
	DNS_BOGUS,    /* validation failed; status is DNS_TEMPFAIL */
};

struct dns_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
};

/* One decoded record; which fields mean something depends on type. */
struct dns_rr {
	int type;
	unsigned pref;                  /* MX preference */
	char name[DNS_NAME_MAX];        /* MX exchange, PTR or CNAME target */
	struct dns_addr addr;           /* A, AAAA */
	uint8_t usage, selector, mtype; /* TLSA */
	unsigned char *data;            /* TLSA association data; TXT text */
	size_t len; /* (the TXT strings joined, as RFC 7208) */
};

struct dns_result {
	enum dns_status status;
	enum dns_dnssec dnssec;
	int type;
	int rcode;                    /* of the answer; 2 after a timeout */
	unsigned ttl;                 /* of the answer (FOUND) */
	char qname[DNS_NAME_MAX];     /* the name asked for */
	char canonname[DNS_NAME_MAX]; /* after CNAMEs; qname when none */
	char why[256];                /* a reason for TEMPFAIL (log text) */
	size_t count;                 /* records in rr (FOUND: >= 1) */
	struct dns_rr *rr;
};

struct dns_ctx;

/*
 * Open a context from the parameters (smtp_dns_resolver_address,
 * smtp_dns_trust_anchor_file, smtp_dns_timeout), as root before the
 * chroot.  Reads every file libunbound will need now.  A missing trust
 * anchor file is logged once and means no validation (every answer is
 * DNS_INSECURE).  NULL with a reason in err on a bad setting or a
 * libunbound failure.  One context per process; do not fork while it is
 * open (its thread would not follow), and look nothing up before the
 * privilege drop (the thread starts at the first lookup).
 */
struct dns_ctx *dns_open(struct buf *err);
/*
 * dns_open, but every query goes to the resolvers over TCP (libunbound's
 * tcp-upstream): a resolver that is not there refuses the connection and
 * the lookup fails at once, instead of after UDP's retries.  For lookups
 * that hold a client (smtpd's reverse DNS), where the resolver is local.
 */
struct dns_ctx *dns_open_tcp(struct buf *err);
/*
 * The ports of the resolvers dns_open asks (smtp_dns_resolver_address,
 * else 53 for /etc/resolv.conf's), at most max of them: how many.
 */
size_t dns_resolver_ports(unsigned short *ports, size_t max);
void dns_close(struct dns_ctx *ctx);
/* 1 when answers can be validated (a trust anchor was loaded). */
int dns_validating(const struct dns_ctx *ctx);
/* The addresses of this host's interfaces, read at dns_open. */
size_t dns_own_addrs(const struct dns_ctx *ctx, const struct dns_addr **out);

/*
 * Blocking lookup, bounded by smtp_dns_timeout.  Always fills out (free it
 * with dns_result_free): the outcome is out->status.  Returns 0, or -1
 * only for a context failure (out->status is then DNS_TEMPFAIL too).  Use
 * it only where nothing else waits on the context's queries.
 */
int dns_lookup(struct dns_ctx *ctx, const char *name, int type,
	       struct dns_result *out);
void dns_result_free(struct dns_result *r);

/*
 * Asynchronous lookups for event loops (common/event.h).  The first call
 * registers the context's descriptor with the event loop.  cb runs later,
 * from the loop (never from inside dns_query_start), exactly once per
 * query unless it was cancelled; r is valid during the call only (copy
 * what you keep).  A query not answered within smtp_dns_timeout completes
 * as DNS_TEMPFAIL "timeout".  Returns a query id > 0 (0: cb was NULL).
 * A callback may start and cancel queries.
 */
typedef void (*dns_query_fn)(struct dns_result *r, void *arg);
unsigned long dns_query_start(struct dns_ctx *ctx, const char *name, int type,
			      dns_query_fn cb, void *arg);
/* Cancel a started query: its callback will not run.  Unknown ids: ignored. */
void dns_query_cancel(struct dns_ctx *ctx, unsigned long id);
/* Queries started and not yet completed or cancelled. */
size_t dns_query_pending(const struct dns_ctx *ctx);

/* --- pure helpers (dns_rdata.c): no I/O, no globals -------------------- */

enum dns_rdata_status { DNS_RDATA_OK, DNS_RDATA_BAD };

/*
 * Decode the RDATA of one record of type into rr (rr->type is set; TLSA and
 * TXT data is malloc'd: dns_rr_clear frees it).  DNS_RDATA_BAD for a
 * truncated or over-long RDATA, trailing bytes, or a name that is not a
 * host name (letters, digits, '-', '_' in labels of 1..63 bytes).
 */
enum dns_rdata_status dns_rdata_decode(int type, const unsigned char *rdata,
				       size_t len, struct dns_rr *rr);
void dns_rr_clear(struct dns_rr *rr);
/*
 * A wire-format name at data[0..len) (no compression) to presentation form,
 * lower case, no trailing dot; "." for the root.  Returns the bytes the
 * name took in the input, or -1.
 */
int dns_name_decode(const unsigned char *data, size_t len, char *out,
		    size_t outsize);
/* 1 when text is a host name Moat will look up (trailing dot allowed). */
int dns_name_valid(const char *text);
/* "127.0.0.1" or "2001:db8::1" in out; -1 when it does not fit. */
int dns_addr_text(const struct dns_addr *a, char *out, size_t outsize);
/* Parse an IPv4 or IPv6 address (no brackets); -1 when it is not one. */
int dns_addr_parse(const char *text, struct dns_addr *a);
int dns_addr_equal(const struct dns_addr *a, const struct dns_addr *b);
/*
 * The reversed form of an address under suffix: "1.0.0.127.in-addr.arpa"
 * (suffix NULL: in-addr.arpa or ip6.arpa, for PTR), or
 * "2.0.0.127.zen.example" for a DNSBL zone.  -1 when it does not fit.
 */
int dns_reverse_name(const struct dns_addr *a, const char *suffix, char *out,
		     size_t outsize);
/* "_25._tcp.mx.example.org": the TLSA name of a host's port. */
int dns_tlsa_name(const char *host, unsigned port, char *out, size_t outsize);
const char *dns_type_name(int type); /* "MX", "TYPE99" for unknown */
const char *dns_status_name(enum dns_status s);
const char *dns_dnssec_name(enum dns_dnssec d);

#endif
