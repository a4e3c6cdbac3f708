/*
 * smtpd_dnsbl: the DNS lists of reject_rbl_client and reject_rhsbl_sender,
 * asked without blocking the event loop (common/dns.h's asynchronous
 * queries, on the resolver context reverse DNS uses).  Each session has
 * a set of answers, one per distinct list of the service's restriction
 * lists: the client's address (reversed; IPv6 by nibbles) is asked under
 * every reject_rbl_client list when the connection is accepted, the
 * sender's domain under every reject_rhsbl_sender list after MAIL FROM.
 * A list that answers A records is asked for its TXT text too.  An
 * answer not in by smtpd_dnsbl_timeout, or a failure (SERVFAIL), counts
 * as not listed and is logged.  The restriction lists read the answers
 * (smtpd_restrict.c); a RCPT that needs one still in flight waits for
 * it.  The answers are hostile: only A records of 4 bytes count, the TXT
 * text goes through dnsbl_text.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_DNSBL_H
#define MOAT_SMTPD_DNSBL_H

#include <stddef.h>

#include "dns.h"
#include "dnsbl.h"

#define SMTPD_DNSBL_LISTS_MAX 32 /* distinct lists of one service */
#define SMTPD_DNSBL_ADDRS_MAX 16 /* A records kept of one answer */

enum smtpd_dnsbl_state {
	SMTPD_DNSBL_NONE,    /* not asked: nothing to ask about, or no DNS */
	SMTPD_DNSBL_PENDING, /* asked; no answer yet */
	SMTPD_DNSBL_DONE,    /* answered; failures count as not listed */
};

struct smtpd_dnsbl_set;

/* One list's answer about the client or the sender's domain. */
struct smtpd_dnsbl_answer {
	const char *list;         /* the list's domain */
	int sender;               /* reject_rhsbl_sender's: about the sender */
	char about[DNS_NAME_MAX]; /* the sender's domain asked about */
	enum smtpd_dnsbl_state state;
	size_t naddr; /* A records, 4 bytes each */
	unsigned char addr[SMTPD_DNSBL_ADDRS_MAX * 4];
	char text[DNSBL_TEXT_MAX + 1]; /* its TXT text, or "" */
	/* The lookup in flight (smtpd_dnsbl.c). */
	struct smtpd_dnsbl_set *set;
	char name[DNS_NAME_MAX]; /* the name asked */
	unsigned long query, timer;
};

/* An answer is in; called from the event loop, never from a call here. */
typedef void (*smtpd_dnsbl_fn)(void *ctx);

struct smtpd_dnsbl_set {
	struct smtpd_dnsbl_answer *answer;
	size_t n;
	char client[DNS_NAME_MAX]; /* the client's address, for the log */
	smtpd_dnsbl_fn fn;
	void *ctx;
};

/*
 * Before the drop: gather the distinct lists of the restriction lists
 * (fatal beyond SMTPD_DNSBL_LISTS_MAX); how many there are.
 */
struct smtpd_security;
size_t smtpd_dnsbl_load(const struct smtpd_security *sec);
/* The resolver to ask (NULL: none; every answer is NONE); deadline. */
void smtpd_dnsbl_open(struct dns_ctx *ctx, long long deadline_ms);
/*
 * A new client: its set, with the client lists asked about addr; NULL
 * when no list is named.  fn(ctx) runs each time an answer is in.
 */
struct smtpd_dnsbl_set *smtpd_dnsbl_start(const char *addr, smtpd_dnsbl_fn fn,
					  void *ctx);
/* After a command: ask the sender lists about a new sender's domain. */
void smtpd_dnsbl_sender(struct smtpd_dnsbl_set *set, const char *sender);
/* The session is gone: queries cancelled, no callback, set freed. */
void smtpd_dnsbl_free(struct smtpd_dnsbl_set *set);

/* Pure: the domain of a sender address ("" for <> or a literal). */
const char *smtpd_dnsbl_sender_domain(const char *sender);

#endif
