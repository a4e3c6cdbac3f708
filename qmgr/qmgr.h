/*
 * qmgr.h: the queue manager's internal interfaces, shared by the files of
 * qmgr/ only.  The queue registry (qmgr_queue.c) knows every message ID in
 * memory or waiting to be loaded; a message (qmgr_message.c) holds the
 * parsed envelope and each recipient's state in this pass; deliveries
 * (qmgr_deliver.c) are jobs queued per transport; DSNs go to cleanup
 * (qmgr_bounce_send.c); log lines in Postfix's shapes (qmgr_log.c).
 */
#ifndef MOAT_QMGR_H
#define MOAT_QMGR_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "qmgr_bounce.h"
#include "qmgr_transport.h"
#include "queue_file.h"

#define QMGR_ACTIVE_MAX 10000      /* messages in memory or waiting to load */
#define QMGR_RCPT_MAX 100000       /* recipients in memory (soft limit) */
#define QMGR_LOAD_BATCH 200        /* messages loaded per loop turn */
#define QMGR_INCOMING_MAX_AGE 3600 /* older incoming/ files are leftovers */
#define QMGR_REASON_MAX 512        /* a delivery agent's text, cut */
#define QMGR_UNRECORDED_MAX 10000

/* A recipient's state in the current pass. */
enum qmgr_rcpt_state {
	QMGR_RCPT_FINAL,    /* done or bounced before this pass */
	QMGR_RCPT_WAITING,  /* queued for its transport */
	QMGR_RCPT_BUSY,     /* a delivery is in flight */
	QMGR_RCPT_SENT,     /* delivered in this pass */
	QMGR_RCPT_FAILED,   /* failed for good; needs a DSN */
	QMGR_RCPT_DEFERRED, /* try again later */
};

struct qmgr_rcpt_result {
	enum qmgr_rcpt_state state;
	char dsn[16];
	char *reason; /* last failure or deferral reason */
};

/* Wall-clock milliseconds of a delivery's steps, for delay= and delays=. */
struct qmgr_times {
	long long start_ms; /* the job left its transport's queue */
	long long conn_ms;  /* connected to the agent, request sent */
	long long done_ms;  /* the reply came (or the attempt ended) */
};

struct qmgr_message {
	char id[QUEUE_ID_SIZE];
	struct queue_env env;
	struct qmgr_rcpt_result *res; /* env.rcpt_count of them */
	dev_t dev;
	ino_t ino;
	long long arrival_ms; /* wall clock */
	long long active_ms;  /* entered the active set */
	size_t unfinished;    /* recipients WAITING or BUSY */
	int fd_ro;            /* passed to agents, -1 when closed */
	int fd_rw;            /* status updates, -1 when closed */
	unsigned fd_users;    /* deliveries holding the fds */
};

/* qmgr_queue.c: the registry, the loader and the directory scans. */
void qmgr_queue_init(void);
void qmgr_queue_start(void);          /* once the event loop runs */
void qmgr_queue_want(const char *id); /* load active/ID soon */
void qmgr_queue_forget(const char *id, size_t rcpt_count);
void qmgr_queue_note_due(long long when);
void qmgr_queue_flush(void); /* every deferred message, now */
void qmgr_queue_scan_startup(void);

/* qmgr_message.c: loading, the pass over recipients, results. */
struct qmgr_message *qmgr_message_load(const char *id);
void qmgr_message_start(struct qmgr_message *msg);
void qmgr_message_free(struct qmgr_message *msg);
/* Open the read-only and the status fds (counted); 0 or -1 with why. */
int qmgr_message_hold_fds(struct qmgr_message *msg, struct buf *why);
void qmgr_message_release_fds(struct qmgr_message *msg);
/* Record a final status (fsync'd); remembered in memory if that fails. */
void qmgr_message_set_status(struct qmgr_message *msg, size_t rcpt,
			     char status);
enum qmgr_result { QMGR_SENT, QMGR_DEFER, QMGR_BOUNCE };
/*
 * A recipient's result.  held: the caller holds the fds (a delivery) and
 * this call releases that hold.  The message may be finished and freed
 * before this returns.
 */
void qmgr_message_result(struct qmgr_message *msg, size_t rcpt,
			 enum qmgr_result result, int held, const char *relay,
			 const char *dsn, const char *reason,
			 const struct qmgr_times *t);

/* qmgr_finish.c: the end of a pass: DSNs, expiry, removal or deferral. */
void qmgr_message_finish(struct qmgr_message *msg);
/* Statuses written to memory only (a failed write): never redeliver. */
char qmgr_unrecorded_find(const char *id, off_t offset);
void qmgr_unrecorded_add(const char *id, off_t offset, char status);
void qmgr_unrecorded_clear(const char *id);

/* qmgr_deliver.c */
/* 1 while any delivery is in flight (the skeleton's busy hook). */
int qmgr_deliver_running(void);
void qmgr_deliver_enqueue(struct qmgr_message *msg, size_t rcpt,
			  enum qmgr_transport_id tp);

/* qmgr_bounce_send.c: submit a DSN through cleanup; 0 with its ID. */
int qmgr_bounce_send(const struct qmgr_message *msg,
		     const struct qmgr_bounce_rcpt *rcpt, size_t count,
		     char new_id[QUEUE_ID_SIZE], struct buf *why);

/* qmgr_log.c */
long long qmgr_now_ms(void);
void qmgr_log_rcpt(const struct qmgr_message *msg, size_t rcpt,
		   const char *relay, const struct qmgr_times *t,
		   const char *dsn, const char *status, const char *reason);

#endif
