/*
 * remote_tls.h: what remote's files for outbound security share: TLS
 * levels and the policy table (common/tls_policy.h), DANE (remote_dane.c),
 * MTA-STS (remote_mta_sts.c, remote_mta_sts_fetch.c), SASL credentials
 * (remote_sasl.c), OpenSSL (remote_tls.c) and the decision per
 * connection (remote_tls_plan.c).  Nothing outside remote/ includes it.
 *
 * The pure parts (policy values, TLSA decisions, MTA-STS records,
 * policies, HTTP responses and cache files, SASL map values) take bytes
 * and return a result and a reason; unit tests and fuzz targets call
 * them.  Hostile input through these interfaces: TLSA and TXT records,
 * the HTTPS server of a recipient domain (its TLS handshake, HTTP
 * response and policy text), the cache files read back, and every TLS
 * handshake with a mail server.
 */
#ifndef MOAT_REMOTE_TLS_H
#define MOAT_REMOTE_TLS_H

#include <stdint.h>
#include <time.h>

#include "dns.h"
#include "remote.h"
#include "spool.h"
#include "tls_policy.h"

#define TLS_MATCH_MAX 8            /* names in one match= attribute */
#define TLS_NAMES_MAX 12           /* reference names of one connection */
#define DANE_DATA_MAX 8192         /* bytes of one TLSA association */
#define MTA_STS_ID_MAX 32          /* RFC 8461 3.1: 1 to 32 characters */
#define MTA_STS_MX_MAX 64          /* mx lines in one policy */
#define MTA_STS_POLICY_MAX 65536   /* bytes of a policy (RFC 8461 3.3) */
#define MTA_STS_HEADERS_MAX 16384  /* bytes of the HTTP response header */
#define MTA_STS_MAX_AGE 31557600UL /* RFC 8461 3.2: at most one year */
#define MTA_STS_DIR SPOOL_MTA_STS  /* the cache, in the spool (chroot) */
#define SASL_FIELD_MAX 256         /* a user name or a password */

/* The levels and the policy table's values: common/tls_policy.h. */

/* --- remote_dane.c: TLSA records and what they allow (RFC 7672) ------- */

struct dane_rec {
	uint8_t usage, selector, mtype;
	unsigned char *data;
	size_t len;
};

struct dane_set {
	char base[DNS_NAME_MAX]; /* the TLSA base domain (and SNI) */
	size_t count;
	struct dane_rec rec[DNS_RR_MAX];
};

enum dane_status {
	DANE_NONE,     /* no DANE: insecure, or no TLSA records */
	DANE_USABLE,   /* usable records in the set */
	DANE_UNUSABLE, /* secure records, none usable: TLS without auth */
	DANE_TEMPFAIL, /* the lookup failed or was bogus: skip the host */
};

/*
 * Pure: may a target be authenticated by DANE?  Its addresses must be
 * DNSSEC-validated, and so must its MX RRset (or the denial of one) when
 * it came from an MX lookup.
 */
int dane_eligible(unsigned dns_flags, int via_mx);
/* Pure: 1 when a TLSA record may be used (DANE-TA or DANE-EE, known
 * selector and matching type, a digest of the right length). */
int dane_rec_usable(uint8_t usage, uint8_t selector, uint8_t mtype, size_t len);
/*
 * Pure: the decision from one TLSA answer; usable records copied into out
 * (zeroed before its first use; its earlier records are freed).
 */
enum dane_status dane_from_tlsa(const struct dns_result *r,
				struct dane_set *out, char *why, size_t size);
void dane_set_free(struct dane_set *s);
/*
 * The TLSA records of host (and of canon, its name after CNAMEs, first)
 * on port, looked up through the validating resolver.
 */
enum dane_status remote_dane_lookup(const char *host, const char *canon,
				    int port, struct dane_set *out, char *why,
				    size_t size);

/* --- remote_mta_sts.c: RFC 8461 records and policies (pure) ----------- */

enum mta_sts_mode { MTA_STS_NONE, MTA_STS_TESTING, MTA_STS_ENFORCE };

struct mta_sts_policy {
	enum mta_sts_mode mode;
	unsigned long max_age;
	size_t nmx;
	char mx[MTA_STS_MX_MAX][DNS_NAME_MAX]; /* "mx.example.com" or
						  "*.example.com", lower */
};

/*
 * The TXT record at _mta-sts.DOMAIN: 1 with the id when it is an STSv1
 * record, 0 when it is some other TXT record (not "v=STSv1"), -1 with
 * *why when it says v=STSv1 but is malformed.
 */
int mta_sts_txt_parse(const char *txt, size_t len, char id[MTA_STS_ID_MAX + 1],
		      const char **why);
/* A policy file (RFC 8461 3.2), strictly: 0, or -1 with *why. */
int mta_sts_policy_parse(const char *text, size_t len, struct mta_sts_policy *p,
			 const char **why);
/* 1 when host (an MX name) matches one of the policy's mx patterns. */
int mta_sts_mx_match(const struct mta_sts_policy *p, const char *host);
const char *mta_sts_mode_name(enum mta_sts_mode mode);
/*
 * An HTTP response to the policy request, whole: 0 with the body's place
 * when it is "200" with a text/plain body within MTA_STS_POLICY_MAX (a
 * Content-Length, when given, must hold; with need_length it must be
 * given: the connection's end may have been forged), else -1 with *why
 * (a redirect, another status, another media type, chunked encoding...).
 */
int mta_sts_http_parse(const char *resp, size_t len, int need_length,
		       size_t *body_off, size_t *body_len, const char **why);

/* A cached policy: what the cache file holds. */
struct mta_sts_cached {
	char domain[DNS_NAME_MAX];
	char id[MTA_STS_ID_MAX + 1];
	long long fetched; /* time(2) of the fetch */
	long long expires; /* fetched + max_age */
	struct mta_sts_policy policy;
	struct buf text; /* the policy as fetched */
};

/* The cache file of c: a header line, then the policy text. */
void mta_sts_cache_format(const struct mta_sts_cached *c, struct buf *out);
/*
 * A cache file read back for domain: 0 with c filled (c->text holds the
 * policy; free it with buf_free), or -1 with *why when anything in it is
 * not what mta_sts_cache_format writes.
 */
int mta_sts_cache_parse(const char *data, size_t len, const char *domain,
			struct mta_sts_cached *c, const char **why);

/* --- remote_mta_sts_fetch.c: the policy of a domain ------------------- */

/*
 * The MTA-STS policy that applies to mail for domain now: the TXT
 * record, the cache in MTA_STS_DIR, and an HTTPS fetch when the cache
 * holds no current policy with the record's id.  1 with *p (a policy in
 * mode none counts: it clears), 0 when none applies.  Logs what it did
 * with queue_id in front.
 */
int remote_mta_sts_policy(const char *domain, const char *queue_id,
			  struct mta_sts_policy *p);

/* --- remote_sasl.c: credentials for AUTH (RFC 4954) ------------------- */

struct sasl_creds {
	char user[SASL_FIELD_MAX];
	char pass[SASL_FIELD_MAX];
};

/* Pure: a map value "user:password" (the first ':' splits); 0 or -1. */
int sasl_creds_parse(const char *value, size_t len, struct sasl_creds *c,
		     const char **why);
/* Open smtp_sasl_password_maps as root; -1 with err (fatal). */
int remote_sasl_open(struct buf *err);
/*
 * The credentials for a server: looked up by its host name, then by the
 * next hop as written ("[smtp.example.net]:587").  1 found, 0 none, -1
 * a bad entry (why).
 */
int remote_sasl_lookup(const char *host, const char *nexthop,
		       struct sasl_creds *c, const char **why);
/* 1 when the map was rebuilt since it was opened (exit for a fresh one). */
int remote_sasl_changed(void);
void remote_sasl_clear(struct sasl_creds *c);

/* --- remote_tls.c: OpenSSL ----------------------------------------------- */

enum tls_auth {
	TLS_AUTH_NONE, /* report Trusted or Untrusted, accept either */
	TLS_AUTH_PKIX, /* the CA store and the names, or fail */
	TLS_AUTH_DANE, /* the TLSA records, or fail */
};

/* What one connection must do about TLS (remote_tls_plan.c decides). */
struct remote_tls_plan {
	enum tls_level level; /* the effective level, for the texts */
	enum smtp_tls_need need;
	enum tls_auth auth;
	char sni[REMOTE_HOST_MAX]; /* "" for an address literal */
	size_t nnames;             /* PKIX (and DANE-TA) reference names */
	char names[TLS_NAMES_MAX][REMOTE_HOST_MAX];
	struct dane_set dane;  /* TLS_AUTH_DANE */
	const char *why_level; /* "MTA-STS", "DANE"...: for the log, or NULL */
};

enum tls_trust { TLS_UNTRUSTED, TLS_TRUSTED, TLS_VERIFIED };

/* What a handshake gave, for the log line. */
struct remote_tls_info {
	enum tls_trust trust;
	char protocol[32];
	char cipher[96];
	int bits, alg_bits;
};

/*
 * Before the chroot, as root: OpenSSL's configuration, a client context
 * (TLS 1.2 or newer, DANE enabled) and the CA certificates
 * (smtp_tls_cafile, else OpenSSL's default file, the system's store).
 * -1 with err when smtp_tls_cafile cannot be loaded; a missing system
 * store is only logged (verify, secure and MTA-STS then fail).
 */
int remote_tls_init(struct buf *err);
/*
 * Handshake on c's socket within timeout seconds, then check the
 * certificate as plan says.  0: c now talks TLS, info filled; -1: the
 * handshake failed; -2: it worked but the certificate does not satisfy
 * the plan (the connection is unusable either way).  why says what.
 */
int remote_tls_start(struct remote_conn *c, const struct remote_tls_plan *p,
		     int timeout, struct remote_tls_info *info,
		     struct buf *why);
const char *remote_tls_trust_name(enum tls_trust t);
/* I/O on a TLS connection: as recv and send on a non-blocking socket
 * (-1 with errno EAGAIN and *events to wait for). */
ssize_t remote_tls_read(struct remote_conn *c, char *p, size_t n,
			short *events);
ssize_t remote_tls_write(struct remote_conn *c, const char *p, size_t n,
			 short *events);
/* Send close_notify (without waiting) and free the TLS state. */
void remote_tls_close(struct remote_conn *c);

/* --- remote_tls_plan.c: the decision per destination and address ------ */

/* What applies to a delivery: found once per new connection. */
struct remote_dest_tls {
	char nexthop[REMOTE_HOST_MAX + 16];
	char domain[REMOTE_HOST_MAX]; /* the next hop's host, no [] or port */
	int mx;                       /* the next hop is looked up by MX */
	struct tls_policy policy;     /* from the table, or the default */
	int from_table;
	int sts; /* an MTA-STS policy applies */
	struct mta_sts_policy sts_policy;
};

/* Open smtp_tls_policy_maps (as root) and check the default level. */
int remote_tls_plan_open(struct buf *err);
/*
 * The policy for nexthop: the table, else smtp_tls_security_level; then
 * MTA-STS for a domain.  0, or -1 with dsn and why (a bad table entry).
 */
int remote_tls_dest(const char *nexthop, const char *queue_id,
		    struct remote_dest_tls *d, char dsn[16], struct buf *why);
/*
 * The plan for one address of the destination (DANE lookups happen
 * here).  0, or -1 when the address must not be used (a TLSA lookup
 * failure, an MX host outside an enforced MTA-STS policy) with dsn and
 * why.  Free the plan with remote_tls_plan_free.
 */
int remote_tls_addr_plan(const struct remote_dest_tls *d,
			 const struct remote_addr *a, const char *queue_id,
			 struct remote_tls_plan *p, char dsn[16],
			 struct buf *why);
void remote_tls_plan_free(struct remote_tls_plan *p);
/* 1 when smtp_tls_policy_maps was rebuilt since it was opened. */
int remote_tls_plan_changed(void);

#endif
