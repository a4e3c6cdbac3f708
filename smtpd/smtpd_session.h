/*
 * smtpd_session: the SMTP conversation as an explicit state machine, pure:
 * it takes one command line at a time (hostile client bytes, without the
 * CR LF) and answers with the reply to send and what the caller must do
 * next.  It never reads a socket, a file or a parameter: limits come in a
 * struct smtpd_config, and recipient checks go through the callbacks of a
 * struct smtpd_lookup (the daemon's real ones, or a unit test's fakes).
 * Log lines are collected in a buffer for the caller to write.  Run by
 * smtpd, its unit tests and fuzz target.
 */
#ifndef MOAT_SMTPD_SESSION_H
#define MOAT_SMTPD_SESSION_H

#include <stddef.h>

#include "address.h"
#include "buf.h"
#include "smtpd_esmtp.h"

#define SMTPD_HELO_MAX 255  /* longest HELO/EHLO argument kept */
#define SMTPD_ADDR_TEXT 64  /* client address text, with brackets */
#define SMTPD_NAME_TEXT 256 /* client host name */
#define SMTPD_TLS_INFO 128  /* "TLSv1.3 TLS_AES_256_GCM_SHA384 256 256" */
#define SMTPD_AUTH_USER_MAX 255
#define SMTPD_AUTH_PASS_MAX 1024

/* What a session knows of its TLS and AUTH (smtpd_cmd_tls.c, _auth.c). */
struct smtpd_sec_state {
	int tls;                       /* TLS is active */
	char tls_info[SMTPD_TLS_INFO]; /* version cipher bits alg_bits */
	int auth_step;                 /* the next line answers a 334 */
	int auth_mech;                 /* enum smtpd_sasl_mech */
	int authenticated;
	unsigned auth_failures;
	char auth_user[SMTPD_AUTH_USER_MAX + 1];
	char auth_pass[SMTPD_AUTH_PASS_MAX + 1]; /* wiped once used */
};

enum smtpd_state {
	SMTPD_ST_GREETED, /* 220 sent, no HELO/EHLO yet */
	SMTPD_ST_READY,   /* after HELO/EHLO, no transaction */
	SMTPD_ST_MAIL,    /* after MAIL */
	SMTPD_ST_RCPT,    /* after at least one accepted RCPT */
	SMTPD_ST_DATA,    /* reading the message */
	SMTPD_ST_QUIT,    /* closing */
};

/* What the caller does after sending session->reply. */
enum smtpd_action {
	SMTPD_ACT_REPLY,    /* send the reply, read the next command */
	SMTPD_ACT_DATA,     /* open the queue transaction, then call
			       smtpd_session_data_started() */
	SMTPD_ACT_CLOSE,    /* send the reply, then close */
	SMTPD_ACT_BDAT,     /* take the BDAT chunk's bytes (smtpd_bdat.h) */
	SMTPD_ACT_STARTTLS, /* send the reply, then the TLS handshake and
			       smtpd_session_tls_started() */
	SMTPD_ACT_AUTH,     /* ask auth(8) about s->sec.auth_user and
			       auth_pass, then smtpd_session_auth_done() */
	SMTPD_ACT_WAIT,     /* nothing said: the command needs a DNS list
			       answer still in flight (s->dnsbl); give the
			       same line again once one is in */
};

struct smtpd_security;
struct smtpd_dnsbl_set;

/*
 * What the reverse DNS of the client said (smtpd_io looks it up before
 * the greeting: a PTR name whose own addresses include the client's).
 */
enum smtpd_rdns {
	SMTPD_RDNS_NONE, /* not looked up (yet) */
	SMTPD_RDNS_OK,   /* client_name is the verified name */
	SMTPD_RDNS_TEMP, /* a lookup failed for now (SERVFAIL, timeout) */
	SMTPD_RDNS_FAIL, /* no PTR, or no name that maps back */
};

struct smtpd_config {
	const char *myhostname;
	const char *banner; /* after "220 " */
	size_t message_size_limit;
	unsigned recipient_limit;
	unsigned soft_error_limit;
	unsigned hard_error_limit;
	unsigned stress_error_limit; /* hard_error_limit in stress mode */
	/* TLS and AUTH (smtpd_security.h); NULL: neither is offered. */
	const struct smtpd_security *sec;
};

/* Answers: 1 yes, 0 no, -1 temporary failure. */
struct smtpd_lookup {
	void *ctx;
	int (*domain_is_local)(void *ctx, const char *domain);
	/* local: the local part as given (the callback folds case). */
	int (*local_user_exists)(void *ctx, const char *local);
};

/* The commands counted for the "disconnect" log line, in its order. */
enum smtpd_cmd_id {
	SMTPD_CMD_EHLO,
	SMTPD_CMD_HELO,
	SMTPD_CMD_STARTTLS,
	SMTPD_CMD_AUTH,
	SMTPD_CMD_MAIL,
	SMTPD_CMD_RCPT,
	SMTPD_CMD_DATA,
	SMTPD_CMD_BDAT,
	SMTPD_CMD_RSET,
	SMTPD_CMD_NOOP,
	SMTPD_CMD_VRFY,
	SMTPD_CMD_EXPN,
	SMTPD_CMD_ETRN,
	SMTPD_CMD_HELP,
	SMTPD_CMD_QUIT,
	SMTPD_CMD_UNKNOWN,
	SMTPD_CMD_COUNT
};

struct smtpd_session {
	const struct smtpd_config *cfg;
	const struct smtpd_lookup *lookup;
	enum smtpd_state state;
	int trusted; /* client in mynetworks */
	int esmtp;   /* EHLO rather than HELO */
	char client_addr[SMTPD_ADDR_TEXT];
	char client_name[SMTPD_NAME_TEXT]; /* "unknown" unless rdns is OK */
	enum smtpd_rdns rdns;
	/* The DNS lists' answers (smtpd_dnsbl.h); NULL: no list named. */
	const struct smtpd_dnsbl_set *dnsbl;
	char helo[SMTPD_HELO_MAX + 1]; /* "" until HELO/EHLO */
	/* The transaction. */
	int have_sender;
	char sender[ADDR_TEXT_MAX];
	char **rcpt;
	size_t rcpt_count, rcpt_cap;
	struct smtpd_esmtp ext; /* SMTPUTF8, DSN, BDAT (smtpd_esmtp.h) */
	struct smtpd_sec_state sec;
	/* Accounting. */
	unsigned errors;
	int stress;           /* set by smtpd_io: stress_error_limit applies */
	const char *last_cmd; /* for "timeout after X" */
	unsigned cmd_ok[SMTPD_CMD_COUNT];
	unsigned cmd_total[SMTPD_CMD_COUNT];
	/* Output of the last call. */
	struct buf reply;     /* reply lines with CR LF; caller drains */
	struct buf log;       /* log lines, each ending in '\n' */
	int delay;            /* hold this reply this many times
				 smtpd_error_sleep_time (0: not at all) */
	int last_code;        /* code of the last reply */
	unsigned rcpt_excess; /* RCPTs refused for the recipient limit */
};

/*
 * Start a session: client_addr is the numeric address, client_name the
 * verified host name or "unknown"; trusted: the client is in mynetworks.
 * Logs "connect from"; then the caller sends smtpd_session_greeting()'s
 * 220 or, for a client that talked first, smtpd_session_pregreet()'s 554.
 */
void smtpd_session_init(struct smtpd_session *s, const struct smtpd_config *cfg,
			const struct smtpd_lookup *lookup,
			const char *client_addr, const char *client_name,
			int trusted);
void smtpd_session_free(struct smtpd_session *s);

void smtpd_session_greeting(struct smtpd_session *s);

/* One command line, without its line end; may contain any byte. */
enum smtpd_action smtpd_session_input_line(struct smtpd_session *s,
					   const char *line, size_t len);
/* A command line longer than smtpd_command_line_limit was discarded. */
enum smtpd_action smtpd_session_line_too_long(struct smtpd_session *s);

/*
 * After SMTPD_ACT_DATA: ok 1 when the queue transaction is open (reply
 * 354, state DATA), 0 when it could not be opened (451, transaction
 * kept so the client may retry DATA).
 */
enum smtpd_action smtpd_session_data_started(struct smtpd_session *s, int ok);

/* How a message ended. */
struct smtpd_data_result {
	int reject_id; /* an enum smtpd_reply_id of smtpd's own
			  (bare LF, size, queue error), or -1 */
	int code;      /* else cleanup's reply: code, dsn, text */
	const char *dsn;
	const char *text;
	const char *queue_id; /* with a 250 */
	size_t size;          /* bytes received (for the log) */
};

/* The end of DATA: reply with the outcome and end the transaction. */
enum smtpd_action smtpd_session_data_done(struct smtpd_session *s,
					  const struct smtpd_data_result *r);

/* The client was silent too long: 421 and close. */
enum smtpd_action smtpd_session_timeout(struct smtpd_session *s);
/* The client talked before the greeting: 554 and close. */
enum smtpd_action smtpd_session_pregreet(struct smtpd_session *s);
/* Put the "disconnect from ..." line in log. */
void smtpd_session_disconnect(struct smtpd_session *s);

/*
 * After SMTPD_ACT_STARTTLS (or, in wrapper mode, before the greeting):
 * the handshake is done.  Everything said before it is forgotten (the
 * client says EHLO again) and the TLS details go to the log line and to
 * cleanup for the Received header.
 */
void smtpd_session_tls_started(struct smtpd_session *s, const char *version,
			       const char *cipher, int bits, int alg_bits);

/* auth(8)'s answer, or why it was not asked. */
enum smtpd_auth_result {
	SMTPD_AUTH_OK,
	SMTPD_AUTH_FAIL, /* wrong user or password */
	SMTPD_AUTH_TEMP, /* auth(8) or its backend is not available */
	SMTPD_AUTH_RATE, /* over smtpd_client_auth_rate_limit */
};
/* After SMTPD_ACT_AUTH: reply 235, 535 (delayed, growing), 454 or 450. */
enum smtpd_action smtpd_session_auth_done(struct smtpd_session *s,
					  enum smtpd_auth_result r);
/* Wipe the password once it has been passed on. */
void smtpd_session_auth_forget(struct smtpd_session *s);

/* RFC 3848's word for Received: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA. */
const char *smtpd_session_protocol(const struct smtpd_session *s);

/* "name[addr]" as in every log line about this client. */
const char *smtpd_session_client(const struct smtpd_session *s, char *out,
				 size_t size);

#endif
