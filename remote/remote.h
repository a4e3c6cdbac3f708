/*
 * remote.h: what the files of the SMTP client delivery agent share.
 * Nothing outside remote/ includes it (unit tests and fuzz targets link
 * remote's modules).  Limits are declared here once.
 *
 * The pieces, from the wire up:
 *   remote_reply.c    the reply parser (pure): bytes to smtp_reply
 *   remote_content.c  dot-stuffing, CRLF and the content scan (pure)
 *   remote_engine.c   the SMTP session as a state machine (pure): replies
 *                     in, commands and per-recipient results out
 *   remote_nexthop.c  the seam where a destination becomes addresses
 *   remote_io.c       sockets: connect, write, read replies, with timeouts
 *   remote_session.c  runs the engine over connections: address fallback,
 *                     the cached session, STARTTLS, the content transfer
 *   remote_tls*.c, remote_dane.c, remote_mta_sts*.c, remote_sasl.c
 *                     TLS, DANE, MTA-STS and AUTH (remote_tls.h)
 *   remote_request.c  qmgr's request and the answers to it
 *   remote.c          main, the stance, the loop over qmgr's requests
 *
 * Hostile input handled through these interfaces: every byte a remote
 * SMTP server sends (replies), qmgr's requests (validated though trusted
 * more), and the message content (only copied).
 */
#ifndef MOAT_REMOTE_H
#define MOAT_REMOTE_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"

#define REMOTE_REPLY_LINE_MAX 2048 /* one reply line with its CRLF */
#define REMOTE_REPLY_LINES_MAX 100 /* lines in one reply */
#define REMOTE_REPLY_TEXT_MAX 2048 /* reply text kept (the rest is cut) */
#define REMOTE_TEXT_MAX 2560       /* a result's text: reply + context */
#define REMOTE_HOST_MAX 256        /* a host name or address literal */
#define REMOTE_PEER_MAX 320        /* "host[address]:port" */
#define REMOTE_ADDR_MAX 32         /* addresses tried for one request */
#define REMOTE_RCPT_MAX 1000       /* recipients in one request */
#define REMOTE_PARAM_MAX 512       /* an ESMTP parameter value */
#define REMOTE_CHUNK (64 * 1024)   /* content bytes read at a time */
#define REMOTE_SMTP_PORT 25

/* --- remote_reply.c: the reply parser -------------------------------- */

struct smtp_reply {
	int code;     /* 200..559 */
	char dsn[16]; /* enhanced status code of the first line, or "" */
	size_t lines; /* lines in the reply */
	size_t len;   /* bytes of text */
	char text[REMOTE_REPLY_TEXT_MAX]; /* the lines, each "250-..." or
					     "250 ...", joined by '\n',
					     control bytes as '?', cut */
};

/*
 * Pure: take one whole reply from the front of in (its bytes are
 * consumed).  1: a reply in r; 0: more bytes are needed; -1: the bytes
 * can never be a valid reply (*why says why): a line over
 * REMOTE_REPLY_LINE_MAX, more than REMOTE_REPLY_LINES_MAX lines, a line
 * without a valid code, a NUL, a code that changes within the reply.
 * Lines end in CRLF; a bare LF is taken as a line end too.
 */
int smtp_reply_take(struct buf *in, struct smtp_reply *r, const char **why);
/* The reply on one line, lines separated by a space, into out (size). */
void smtp_reply_oneline(const struct smtp_reply *r, char *out, size_t size);

/* --- remote_content.c: the message on the wire ----------------------- */

/*
 * Canonical content (LF line ends, not dot-stuffed) to the DATA stream:
 * LF becomes CRLF (an LF that already follows a CR is left alone), a '.'
 * at the start of a line is doubled.  Pure and incremental: the state
 * carries over between chunks.
 */
struct smtp_stuff {
	int bol;     /* at the beginning of a line */
	int last_cr; /* the last byte was CR */
	int any;     /* any byte seen */
};

void smtp_stuff_init(struct smtp_stuff *s);
void smtp_stuff(struct smtp_stuff *s, const char *in, size_t len,
		struct buf *out);
/* End the data: a CRLF when the last line had none, then ".\r\n". */
void smtp_stuff_end(struct smtp_stuff *s, struct buf *out);

/* What the session must know about the content before MAIL FROM. */
struct smtp_content_info {
	unsigned long long bytes; /* canonical bytes */
	unsigned long long lines; /* LF bytes: each becomes CRLF */
	int eightbit;             /* a byte >= 0x80 */
	int eightbit_headers;     /* one in the header block (RFC 6532) */
	int body;                 /* the scan is past the header block */
	int last_lf;              /* the last byte scanned was LF */
};

void smtp_content_scan(struct smtp_content_info *ci, const char *p, size_t len);
/* RFC 1870's message size: octets with CRLF line ends, no stuffing. */
unsigned long long smtp_content_wire_size(const struct smtp_content_info *ci);

/* RFC 3461 xtext of s into out ('+' and bytes outside 33..126 as +XX). */
void smtp_xtext(const char *s, struct buf *out);

/* --- remote_engine.c: the session state machine ---------------------- */

/* What a reply answers, and so which timeout applies while waiting. */
enum smtp_stage {
	SMTP_STAGE_CONNECT,
	SMTP_STAGE_GREETING,
	SMTP_STAGE_EHLO,
	SMTP_STAGE_HELO,
	SMTP_STAGE_STARTTLS,
	SMTP_STAGE_AUTH,
	SMTP_STAGE_RSET,
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA,
	SMTP_STAGE_CONTENT,
	SMTP_STAGE_DOT,
	SMTP_STAGE_QUIT,
	SMTP_STAGE_COUNT
};

enum smtp_state {
	SMTP_S_GREETING, /* connected, waiting for 220 */
	SMTP_S_EHLO,     /* EHLO sent */
	SMTP_S_HELO,     /* HELO sent after EHLO was refused with 5xx */
	SMTP_S_STARTTLS, /* STARTTLS sent; then the handshake */
	SMTP_S_AUTH,     /* AUTH sent (RFC 4954), only over TLS */
	SMTP_S_READY,    /* between transactions; usable */
	SMTP_S_RSET,     /* RSET sent before reusing the session */
	SMTP_S_TXN,      /* MAIL, RCPT, DATA replies pending */
	SMTP_S_CONTENT,  /* the driver sends the content and the dot */
	SMTP_S_DOT,      /* waiting for the reply to the dot */
	SMTP_S_QUIT,     /* QUIT sent */
	SMTP_S_BROKEN,   /* unusable: close it */
};

/* What the driver does next. */
enum smtp_want {
	SMTP_WANT_REPLY,   /* write out, then read one reply */
	SMTP_WANT_CONTENT, /* write out, then the content and the dot */
	SMTP_WANT_READY,   /* idle and usable: a transaction, RSET or QUIT */
	SMTP_WANT_BROKEN,  /* close the connection */
	SMTP_WANT_TLS,     /* the TLS handshake, then smtp_engine_tls_done */
};

/* What the session must do about STARTTLS (RFC 3207). */
enum smtp_tls_need {
	SMTP_TLS_NONE, /* never */
	SMTP_TLS_MAY,  /* when offered; go on in clear text when it is not */
	SMTP_TLS_MUST, /* or give the session up (4.7.4) */
};

enum smtp_rcpt_state {
	SMTP_RCPT_PENDING,  /* no answer yet */
	SMTP_RCPT_ACCEPTED, /* RCPT got 2xx; the end of DATA decides */
	SMTP_RCPT_SENT,
	SMTP_RCPT_DEFER,
	SMTP_RCPT_BOUNCE,
};

struct smtp_rcpt {
	const char *addr;
	const char *notify; /* DSN NOTIFY= value, NULL when none */
	const char *orcpt;  /* DSN ORCPT address (rfc822), NULL when none */
	enum smtp_rcpt_state state;
	char dsn[16];                     /* enhanced status code */
	char text[REMOTE_TEXT_MAX];       /* for the log and the DSN */
	char diag[REMOTE_REPLY_TEXT_MAX]; /* the remote reply, "" when none */
};

struct smtp_txn {
	const char *sender;
	struct smtp_rcpt *rcpt;
	size_t rcpt_count;
	unsigned long long size; /* smtp_content_wire_size */
	int eightbit;            /* the content has 8-bit bytes */
	int smtputf8;            /* the envelope needs SMTPUTF8 */
	int require_8bitmime;    /* bounce 8-bit content without 8BITMIME */
	const char *ret;         /* DSN RET=, NULL when none */
	const char *envid;       /* DSN ENVID=, NULL when none */
};

struct smtp_caps {
	int esmtp;
	int pipelining;
	int size;                    /* SIZE offered */
	unsigned long long size_max; /* its fixed limit, 0: none given */
	int eightbitmime;
	int smtputf8;
	int dsn;
	int starttls;
	int auth;       /* AUTH offered */
	int auth_plain; /* with the PLAIN mechanism */
	int auth_login; /* with LOGIN */
};

/* One expected reply of a pipelined group. */
enum smtp_expect { SMTP_EXP_MAIL, SMTP_EXP_RCPT, SMTP_EXP_DATA, SMTP_EXP_DOT };

struct smtp_engine {
	enum smtp_state state;
	enum smtp_want want;
	enum smtp_stage stage; /* the timeout of the reply awaited */
	struct buf out;        /* commands the driver writes next */
	char helo_name[REMOTE_HOST_MAX];
	char peer[REMOTE_PEER_MAX]; /* "host[address]" in texts */
	struct smtp_caps caps;
	/* Set when the session is BROKEN before a transaction took it. */
	char fail_text[REMOTE_TEXT_MAX];
	char fail_dsn[16];
	/* The transaction in progress. */
	struct smtp_txn *txn;
	enum smtp_expect *exp; /* pending replies, in order */
	size_t *exp_rcpt;      /* their recipient, for SMTP_EXP_RCPT */
	size_t exp_head, exp_tail, exp_cap;
	size_t next_rcpt; /* without pipelining: the next RCPT to send */
	size_t accepted;  /* recipients with 2xx to RCPT */
	int mail_failed;  /* MAIL got an error: it decided every rcpt */
	int closing;      /* the server said 421: no further use */
	unsigned txns;    /* transactions made on this session */
	/* STARTTLS and AUTH: set by the driver before the greeting. */
	enum smtp_tls_need tls_need;
	int tls_active; /* the handshake succeeded */
	int tls_tried;  /* STARTTLS was sent (or refused) once */
	int tls_failed; /* BROKEN by a failed handshake */
	const char *auth_user, *auth_pass; /* NULL: no AUTH */
	int auth_login;                    /* AUTH LOGIN in progress */
	int auth_step; /* LOGIN: 0 user next, 1 password next, 2 sent */
};

void smtp_engine_init(struct smtp_engine *e, const char *helo_name,
		      const char *peer);
void smtp_engine_free(struct smtp_engine *e);
/* A reply arrived for the current stage. */
void smtp_engine_reply(struct smtp_engine *e, const struct smtp_reply *r);
/*
 * The handshake after STARTTLS (SMTP_WANT_TLS) is over: ok, or failed with
 * dsn and text.  On success the engine forgets what the server said
 * before and sends EHLO again (RFC 3207 4.2).
 */
void smtp_engine_tls_done(struct smtp_engine *e, int ok, const char *dsn,
			  const char *text);
/*
 * The connection failed while a reply or a write was pending: timeout
 * (1) or a lost connection (0).  Pending recipients are deferred; a
 * session that was being set up fails with a text naming the stage.
 */
void smtp_engine_io_error(struct smtp_engine *e, int timeout,
			  const char *detail);
/* Give up the session (a local error): pending recipients deferred. */
void smtp_engine_abort(struct smtp_engine *e, const char *text);
/*
 * Start a transaction on a READY session.  Recipients that the session
 * can decide at once (SIZE over the server's limit, SMTPUTF8 or 8BITMIME
 * needed and not offered) get their results without a command sent.
 */
void smtp_engine_begin(struct smtp_engine *e, struct smtp_txn *txn);
/* The content and the dot were written: wait for the final reply. */
void smtp_engine_content_sent(struct smtp_engine *e);
/* Before reusing a session: RSET. */
void smtp_engine_rset(struct smtp_engine *e);
/* End the session politely. */
void smtp_engine_quit(struct smtp_engine *e);
/* Pure: parse the capabilities of an EHLO reply. */
void smtp_caps_parse(const struct smtp_reply *r, struct smtp_caps *caps);
/* The words Postfix uses for a stage ("RCPT TO", "end of DATA"). */
const char *smtp_stage_name(enum smtp_stage stage);

/* --- remote_nexthop.c: where a destination leads --------------------- */

/* One address to try. */
struct remote_addr {
	char host[REMOTE_HOST_MAX];  /* the name for logs and Remote-MTA */
	char canon[REMOTE_HOST_MAX]; /* host after CNAMEs ("" for literals) */
	char ip[INET6_ADDRSTRLEN];
	int port;
	struct sockaddr_storage sa;
	socklen_t salen;
	char nexthop[REMOTE_HOST_MAX + 16]; /* where it came from */
	int via_mx;         /* found through an MX lookup of the next hop */
	int literal;        /* the next hop was an address literal */
	unsigned dns_flags; /* DNS_TARGET_* of dns_mx.h */
};

struct remote_addr_list {
	struct remote_addr addr[REMOTE_ADDR_MAX];
	size_t count;
};

/* A parsed next hop: "domain", "host:port", "[host]", "[addr]:port". */
struct remote_nexthop {
	char host[REMOTE_HOST_MAX]; /* without brackets */
	int port;
	int mx;      /* no brackets: MX lookup of host */
	int literal; /* host is a numeric IPv4 or IPv6 address */
};

/* Pure: parse a next hop; -1 with *why when it is malformed. */
int remote_nexthop_parse(const char *s, struct remote_nexthop *nh,
			 const char **why);

/* Why a destination gives no address to try. */
struct remote_resolve_error {
	int permanent; /* 1: bounce, 0: defer */
	char dsn[16];
	char text[REMOTE_TEXT_MAX];
};

/*
 * The one seam where a destination (a recipient domain, or a next hop
 * from transport_maps or relayhost) becomes the ordered list of
 * addresses to try, at most limit of them (smtp_mx_address_limit, 0: no
 * limit), then the fallback relays.  0 with at least one address, or -1
 * with err.  Names need remote_nexthop_dns_open() first (else: 4.4.3).
 */
/*
 * Open libunbound (as root, before the chroot: resolv.conf or
 * smtp_dns_resolver_address, the trust anchor) for names; -1 with err.
 */
int remote_nexthop_dns_open(struct buf *err);
/* That context (DANE and MTA-STS lookups), or NULL. */
struct dns_ctx *remote_nexthop_dns_ctx(void);
int remote_nexthop_resolve(const char *nexthop, size_t limit,
			   const char *const *fallback, size_t nfallback,
			   struct remote_addr_list *out,
			   struct remote_resolve_error *err);

/* --- remote_io.c: the socket ------------------------------------------ */

struct ssl_st;

struct remote_conn {
	int fd;             /* -1: none */
	struct ssl_st *tls; /* after STARTTLS; NULL: clear text */
	int tls_cut;        /* TLS ended without close_notify */
	struct buf in;
	struct remote_addr addr;
	char nexthop[REMOTE_HOST_MAX + 16]; /* the destination it serves */
	char peer[REMOTE_PEER_MAX];         /* "host[address]" */
	long long opened_ms;                /* connected (monotonic) */
};

void remote_conn_init(struct remote_conn *c);
/* Connect within timeout seconds; -1 with why ("Connection refused"). */
int remote_conn_open(struct remote_conn *c, const struct remote_addr *a,
		     int timeout, struct buf *why);
void remote_conn_close(struct remote_conn *c);
/* Write all of n bytes within timeout seconds; -1 with errno. */
int remote_conn_write(struct remote_conn *c, const char *p, size_t n,
		      int timeout);
/*
 * Read what is there (up to n bytes), waiting until deadline (ipc.h's
 * milliseconds): > 0 bytes, 0 at the end, -1 with errno (ETIMEDOUT).
 */
ssize_t remote_conn_read(struct remote_conn *c, char *p, size_t n,
			 long long deadline);
/*
 * Read one reply within timeout seconds: 1, or -1 with errno
 * (ETIMEDOUT, EPROTO for a malformed reply, ECONNRESET for end of file)
 * and *why.
 */
int remote_conn_reply(struct remote_conn *c, struct smtp_reply *r, int timeout,
		      const char **why);

/* --- remote_session.c: deliveries over connections ------------------- */

/* The message as qmgr handed it over. */
struct remote_msg {
	const char *queue_id; /* for the log lines of the session */
	int fd;               /* read-only queue file */
	int client_fd;        /* qmgr's connection, or -1 */
	off_t offset, length;
	struct smtp_content_info info;
};

struct remote_tls_plan;
struct sasl_creds;

/* The SMTP session kept between requests of one qmgr connection. */
struct remote_cache {
	struct remote_conn conn;
	struct smtp_engine engine;
	int open;      /* conn and engine hold a usable session */
	unsigned uses; /* transactions made on it */
	struct remote_tls_plan *plan; /* TLS of the connection being made */
	struct sasl_creds *creds;     /* AUTH of it; cleared once ready */
	const char *queue_id;         /* of the request making it (logs) */
};

/* How one request went, for the log lines. */
struct remote_outcome {
	char relay[REMOTE_PEER_MAX + 8]; /* "host[address]:port" or "none" */
	char mta[REMOTE_HOST_MAX];       /* Remote-MTA, "" when none */
	unsigned conn_use;               /* 1: a new session */
	int dsn;                         /* the server offered DSN */
	long long ready_ms; /* wall clock: session ready (or gave up) */
	long long done_ms;  /* wall clock: the transaction ended */
};

void remote_cache_init(struct remote_cache *rc);
/* QUIT and close the cached session, if any. */
void remote_cache_close(struct remote_cache *rc);
/*
 * Deliver txn for nexthop: reuse the cached session when it serves the
 * same destination, else connect to each address in turn.  Every
 * recipient of txn has a final state afterwards.
 */
void remote_session_deliver(struct remote_cache *rc, const char *nexthop,
			    const struct remote_msg *m, struct smtp_txn *txn,
			    struct remote_outcome *out);
/* Read the content once to fill m->info; -1 with why. */
int remote_msg_scan(struct remote_msg *m, struct buf *why);

/* --- remote_request.c: qmgr's request and the answers ----------------- */

struct ipc_frame;

struct remote_req {
	const char *queue_id; /* these point into the request frame */
	const char *nexthop;
	const char **orig;      /* orig_rcpt of each recipient, or NULL */
	struct smtp_rcpt *rcpt; /* REMOTE_RCPT_MAX of them */
	struct smtp_txn txn;
	struct remote_msg msg;
	long long t_arrival, t_active, t_handoff; /* wall-clock ms */
};

/* Fill q from f (which must outlive q); NULL, or why it is malformed. */
const char *remote_request_parse(struct remote_req *q,
				 const struct ipc_frame *f);
void remote_request_free(struct remote_req *q);
/* The log line of recipient i, in Postfix's shape. */
void remote_request_log(const struct remote_req *q, size_t i,
			const struct remote_outcome *o);
/* The result frame of recipient i; 0 or -1 (errno). */
int remote_request_answer(int sock, const struct remote_req *q, size_t i,
			  const struct remote_outcome *o, int close_after,
			  int timeout);

#endif
