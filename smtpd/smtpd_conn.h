/*
 * smtpd_conn: one SMTP connection as smtpd's event-driven files share it:
 * smtpd_io.c (commands, DATA and BDAT, replies, timers), smtpd_io_tls.c
 * (STARTTLS, the handshake, reading and writing through TLS) and
 * smtpd_io_auth.c (the wait for auth(8)).  Private to those files.  Run by
 * smtpd.
 */
#ifndef MOAT_SMTPD_CONN_H
#define MOAT_SMTPD_CONN_H

#include <sys/types.h>

#include "buf.h"
#include "smtp_data.h"
#include "smtpd_bdat.h"
#include "smtpd_cleanup.h"
#include "smtpd_dnsbl.h"
#include "smtpd_io.h"
#include "smtpd_rdns.h"
#include "smtpd_session.h"
#include "smtpd_tls.h"

#define READ_CHUNK 16384
#define OUT_HIGH (64 * 1024)      /* stop taking commands above this */
#define CLOSE_GRACE_MS 10000      /* to deliver the last reply */
#define LINGER_MS 2000            /* then to let the client read it */
#define CLEANUP_HIGH (256 * 1024) /* for cleanup: stop reading above */

enum conn_mode {
	MODE_CMD,
	MODE_DATA,
	MODE_BDAT,
	MODE_WAIT_CLEANUP,
	MODE_WAIT_AUTH
};

struct smtpd_conn {
	struct smtpd_conn *prev, *next; /* every connection of the process */
	int fd;
	const struct smtpd_io_config *cfg;
	char addr[SMTPD_ADDR_TEXT]; /* the client's, numeric */
	int trusted;                /* in mynetworks */
	/* The session starts once the reverse DNS verdict is in. */
	struct smtpd_rdns_lookup *rdns; /* in flight, or NULL */
	int started;                    /* session initialized */
	/* The DNS lists' answers (smtpd_dnsbl.h), from the start too. */
	struct smtpd_dnsbl_set *dnsbl; /* NULL: no list named */
	int dnsbl_waiting;             /* a RCPT waits for an answer */
	struct smtpd_session session;
	struct smtp_data data;
	struct smtpd_chunk chunk; /* MODE_BDAT: the chunk being taken */
	struct smtpd_cleanup cleanup;
	unsigned cleanup_events;     /* watched on cleanup.fd */
	unsigned long cleanup_timer; /* to connect again */
	long long cleanup_until;     /* event_now_ms: give up connecting */
	struct buf in, out, held, content;
	enum conn_mode mode;
	int discarding;    /* skipping an over-long line to its LF */
	int paused;        /* held replies wait for the delay timer */
	int closing;       /* close once out is sent */
	int shut;          /* our side shut down; draining input */
	int anvil_counted; /* anvil (or this process) counts this session */
	int anvil_waiting; /* for anvil's answer: not greeted, not read */
	unsigned long timer, delay_timer;
	/*
	 * Early talking after the greeting (conn_greet): bytes read before
	 * greet_us + early_us (microseconds, CLOCK_MONOTONIC) were sent
	 * before the greeting could have reached the client.  0: no check.
	 */
	long long greet_us, early_us;
	/* TLS (smtpd_io_tls.c) */
	struct smtpd_tls_conn *tls; /* NULL: clear text */
	int tls_starting;           /* STARTTLS said: the 220 goes out */
	int handshaking;
	int tls_read_wants_write;    /* the last read waits for writability */
	int tls_write_wants_read;    /* the last write waits for readability */
	unsigned long pending_timer; /* bytes decrypted, not yet taken */
	/* AUTH (smtpd_io_auth.c) */
	int auth_fd;              /* -1: not asking auth(8) */
	unsigned long auth_retry; /* timer: connect again (listener full) */
	struct buf auth_out;      /* the question, wiped once sent */
	struct buf auth_in;
};

/* smtpd_io.c */
void conn_drain_log(struct smtpd_conn *c);
void conn_close(struct smtpd_conn *c);
void conn_lost(struct smtpd_conn *c);
void conn_arm_timer(struct smtpd_conn *c);
void conn_emit(struct smtpd_conn *c, enum smtpd_action act);
void conn_after(struct smtpd_conn *c);
void conn_on_client(int fd, unsigned events, void *ctx);
/* The greeting at once, with the checks for early talkers. */
void conn_greet(struct smtpd_conn *c);
/* 1 while commands may be read (no handshake or verdict awaited). */
int conn_reading(const struct smtpd_conn *c);

/* The message is done (queued, refused or failed): reply, back to commands. */
void conn_finish_data(struct smtpd_conn *c, struct smtpd_data_result *r);

/* smtpd_io_cleanup.c */
/* Queue the envelope and connect (or soon); 0, or -1: no cleanup. */
int conn_cleanup_open(struct smtpd_conn *c);
/* Write what cleanup takes now; -1 when it failed (finished if waiting). */
int conn_cleanup_send(struct smtpd_conn *c);
/* 1 while more than CLEANUP_HIGH bytes wait for cleanup: read nothing. */
int conn_cleanup_full(const struct smtpd_conn *c);
/* Watch cleanup's socket for writing (queued frames) and the reply. */
void conn_cleanup_watch(struct smtpd_conn *c);
/* End the conversation (before op=end: nothing is queued). */
void conn_cleanup_close(struct smtpd_conn *c);

/* smtpd_io_tls.c */
/* SMTPD_ACT_STARTTLS: drop what was pipelined, send 220, then TLS. */
void conn_starttls(struct smtpd_conn *c);
/* Start the handshake (after the 220, or at once on a wrapper port). */
void conn_tls_begin(struct smtpd_conn *c);
void conn_tls_handshake(struct smtpd_conn *c);
void conn_tls_timeout(struct smtpd_conn *c);
/*
 * Watch the socket for what TLS needs (conn_after's last step); want_write
 * is 0 while replies wait for the rest of a pipelined batch.
 */
void conn_tls_watch(struct smtpd_conn *c, int want_read, int want_write);
int conn_tls_flush(struct smtpd_conn *c);
ssize_t conn_tls_recv(struct smtpd_conn *c, char *buf, size_t len);

/* smtpd_io_auth.c */
/* SMTPD_ACT_AUTH: the rate limit, then the question to auth(8). */
void conn_auth_start(struct smtpd_conn *c);
void conn_auth_end(struct smtpd_conn *c);
void conn_auth_timeout(struct smtpd_conn *c);

#endif
