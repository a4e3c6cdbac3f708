/*
 * qmgr.h: the queue manager's internal interfaces, shared by the files of
 * qmgr/ only.  The queue registry (qmgr_queue.c) knows every message ID in
 * memory or waiting to be loaded; a message (qmgr_message.c) holds the
 * parsed envelope and each recipient's state in this pass; deliveries
 * are jobs queued per destination (qmgr_dest.c: limits and scheduling)
 * and run over connections to the agents (qmgr_agent.c: requests,
 * replies, connection reuse); DSNs go to cleanup
 * (qmgr_bounce_send.c); log lines in Postfix's shapes (qmgr_log.c).
 * Queue administration on the same socket: who may do what
 * (qmgr_auth.c), the connection (qmgr_admin.c, qmgr_admin.h), the
 * requests (qmgr_admin_ops.c) and the listing with the last deferral
 * reasons (qmgr_list.c).
 */
#ifndef MOAT_QMGR_H
#define MOAT_QMGR_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "ipc.h"
#include "qmgr_bounce.h"
#include "qmgr_transport.h"
#include "queue_file.h"

#define QMGR_ACTIVE_MAX 10000      /* messages in memory or waiting to load */
#define QMGR_RCPT_MAX 100000       /* recipients in memory (soft limit) */
#define QMGR_LOAD_BATCH 200        /* messages loaded per loop turn */
#define QMGR_INCOMING_MAX_AGE 3600 /* older partial files are leftovers */
#define QMGR_REASON_MAX 512        /* a delivery agent's text, cut */
#define QMGR_UNRECORDED_MAX 10000
#define QMGR_ADMIN_CLIENTS 8   /* root and admin_group connections */
#define QMGR_USER_CLIENTS 8    /* connections of other local users */
#define QMGR_LIST_MAX 100000   /* messages in one listing */
#define QMGR_REASON_SLOTS 4096 /* deferral reasons remembered */
#define QMGR_BATCH_SCAN 1000   /* queued jobs looked at for a batch */

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
	char *diag;   /* the remote server's reply, for Diagnostic-Code */
	char *mta;    /* the remote server's name, for Remote-MTA */
	/* A success notice (NOTIFY=SUCCESS, RFC 3461) for SENT says: */
	int relayed;   /* remote gave it to a server without DSN */
	int no_notice; /* that server has DSN and notifies by itself */
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
	int unsynced;         /* status bytes written since the last sync */
	int hold;             /* to hold/ at the end of this pass */
	uid_t hold_uid;       /* who asked for that */
};

/* qmgr_queue.c: the registry, the loader and the directory scans. */
void qmgr_queue_init(void);
void qmgr_queue_start(void);          /* once the event loop runs */
void qmgr_queue_want(const char *id); /* load active/ID soon */
/*
 * dir/name as a leftover of an interrupted submission: 1 when it is a
 * regular file (a partial one, QUEUE_MODE_PARTIAL, when partial_only),
 * removed (and logged) once QMGR_INCOMING_MAX_AGE old; 0 when it is not
 * such a file.
 */
int qmgr_queue_leftover(const char *dir, const char *name, int partial_only);
/*
 * path (active/ID) is partial, but no writer holds it (flock) and it is
 * sealed (queue_file.h): the message was whole when its writer stopped, a
 * crash took its mode.  1 when it was given QUEUE_MODE (logged), else 0
 * (errno as it was).
 */
int qmgr_queue_recover_sealed(const char *path);
void qmgr_queue_forget(const char *id, size_t rcpt_count);
void qmgr_queue_note_due(long long when);
void qmgr_queue_flush(void); /* every deferred message, now */
void qmgr_queue_scan_startup(void);
/* Where qmgr has a message: not at all, waiting to load, or loaded. */
enum qmgr_known { QMGR_UNKNOWN, QMGR_WAITING, QMGR_LOADED };
enum qmgr_known qmgr_queue_lookup(const char *id, struct qmgr_message **msg);

/* qmgr_message.c: loading, the pass over recipients, results. */
struct qmgr_message *qmgr_message_load(const char *id);
void qmgr_message_start(struct qmgr_message *msg);
void qmgr_message_free(struct qmgr_message *msg);
/* Open the read-only and the status fds (counted); 0 or -1 with why. */
int qmgr_message_hold_fds(struct qmgr_message *msg, struct buf *why);
void qmgr_message_release_fds(struct qmgr_message *msg);
/*
 * Record a final status; remembered in memory if that fails.  The byte is
 * written at once and made durable by qmgr_message_sync, which the end of
 * each delivery (qmgr_message_release_fds) calls: one fdatasync for all
 * the statuses of a job.
 */
void qmgr_message_set_status(struct qmgr_message *msg, size_t rcpt,
			     char status);
void qmgr_message_sync(struct qmgr_message *msg);
/*
 * A recipient delivered in this pass whose status was not written, because
 * the message was removed at once (the unlink records it): write them now,
 * when the removal failed.
 */
void qmgr_message_write_sent(struct qmgr_message *msg);
enum qmgr_result { QMGR_SENT, QMGR_DEFER, QMGR_BOUNCE };
/*
 * A recipient's result.  held: the caller holds the fds (a delivery) and
 * this call releases that hold.  logged: the delivery agent wrote the
 * recipient's "to=<...>, status=" line itself (as Postfix's agents do), so
 * qmgr does not write a second one; qmgr logs the results it makes itself
 * (no transport, agent failure, bad address).  The message may be finished
 * and freed before this returns.
 */
void qmgr_message_result(struct qmgr_message *msg, size_t rcpt,
			 enum qmgr_result result, int held, int logged,
			 const char *relay, const char *dsn, const char *reason,
			 const struct qmgr_times *t);

/* qmgr_finish.c: the end of a pass: DSNs, expiry, removal or deferral. */
void qmgr_message_finish(struct qmgr_message *msg);
/* Statuses written to memory only (a failed write): never redeliver. */
char qmgr_unrecorded_find(const char *id, off_t offset);
void qmgr_unrecorded_add(const char *id, off_t offset, char status);
void qmgr_unrecorded_clear(const char *id);

/* Keep a remote server's reply and name for the recipient's DSN. */
void qmgr_message_keep_remote(struct qmgr_message *msg, size_t rcpt,
			      const char *diag, const char *mta);

/* qmgr_dest.c: destinations, their queues and limits. */
struct qmgr_dest;
struct qmgr_agent;

/*
 * One delivery request: recipients of one message for one destination.
 * A local batch is several jobs (one message each) chained on next once
 * they left the destination's queue; the agent holds the first.
 */
struct qmgr_job {
	struct qmgr_message *msg;
	struct qmgr_dest *dest;
	size_t *rcpt;            /* indexes into msg->env.rcpt */
	unsigned char *answered; /* per recipient of the job */
	size_t count, left;      /* recipients; those not yet answered */
	struct qmgr_times t;
	int held; /* holds the message's fds */
	struct qmgr_job *next;
};

/* Read the process limits (master.conf) and open transport_maps. */
void qmgr_dest_init(void);
/* Queue a job of count recipients (rcpt copied) for tp and nexthop. */
void qmgr_dest_enqueue(struct qmgr_message *msg, enum qmgr_transport_id tp,
		       const char *nexthop, const size_t *rcpt, size_t count);
/* 1 while any delivery is in flight (the skeleton's busy hook). */
int qmgr_deliver_running(void);
/* The route of one recipient (transport_maps through the open map). */
void qmgr_dest_route(const char *addr, struct qmgr_route *r);
/* 1 when the service has an agent in master.conf. */
int qmgr_service_present(enum qmgr_service_id svc);
/*
 * Agent code tells: a finished its job (reusable: it may take another
 * for the same destination), or an idle agent went away.
 */
void qmgr_dest_agent_done(struct qmgr_agent *a, int reusable);
void qmgr_dest_idle_gone(struct qmgr_agent *a);
/* The transport of a destination. */
enum qmgr_transport_id qmgr_dest_transport(const struct qmgr_dest *d);
const char *qmgr_dest_nexthop(const struct qmgr_dest *d);

/* qmgr_agent.c: connections to delivery agents. */
struct qmgr_agent {
	int sock;
	struct buf in;
	unsigned long timer;
	struct qmgr_dest *dest;
	struct qmgr_job *job; /* NULL while idle; a batch's first */
	int close_after;      /* the agent said close=1 */
	struct qmgr_agent *idle_next, *idle_prev; /* its service's idle list */
};

struct qmgr_agent *qmgr_agent_open(struct qmgr_dest *d, struct buf *why);
/* Send job over a; on failure the job's recipients are deferred. */
void qmgr_agent_start(struct qmgr_agent *a, struct qmgr_job *job);
/* Park an agent without a job for reuse, until idle_ms pass. */
void qmgr_agent_idle(struct qmgr_agent *a, long long idle_ms);
void qmgr_agent_close(struct qmgr_agent *a);
/* End a job whose agent cannot run it: every recipient deferred. */
void qmgr_job_fail(struct qmgr_job *job, const char *what);
void qmgr_job_free(struct qmgr_job *job);

/*
 * qmgr_bounce_send.c: submit a DSN of the given kind through cleanup;
 * 0 with its ID.
 */
int qmgr_bounce_send(const struct qmgr_message *msg, enum qmgr_dsn_kind kind,
		     const struct qmgr_bounce_rcpt *rcpt, size_t count,
		     char new_id[QUEUE_ID_SIZE], struct buf *why);

/*
 * qmgr_notify.c, at the end of a pass: a success notice for recipients
 * delivered in it that asked (NOTIFY=SUCCESS), unless a DSN-capable
 * server took their NOTIFY; a delay warning, once per message, for
 * recipients still deferred delay_warning_time after the arrival.
 */
void qmgr_notify_success(struct qmgr_message *msg);
void qmgr_notify_delay(struct qmgr_message *msg, long long now);

/* qmgr_log.c */
long long qmgr_now_ms(void);
void qmgr_log_rcpt(const struct qmgr_message *msg, size_t rcpt,
		   const char *relay, const struct qmgr_times *t,
		   const char *dsn, const char *status, const char *reason);

/* qmgr_auth.c: the caller of a connection and what it may do. */
enum qmgr_pool { QMGR_POOL_CLEANUP, QMGR_POOL_ADMIN, QMGR_POOL_USER };
#define QMGR_POOL_COUNT 3
struct qmgr_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int cleanup; /* runs as a cleanup service's user */
	int admin;   /* root, or a member of admin_group */
	enum qmgr_pool pool;
};
enum qmgr_perm {
	QMGR_PERM_WAKE,   /* op=wake */
	QMGR_PERM_SEE,    /* the listing */
	QMGR_PERM_READ,   /* a message's envelope and content */
	QMGR_PERM_RUN,    /* flush */
	QMGR_PERM_CHANGE, /* hold, release, requeue, delete */
};
void qmgr_auth_init(void); /* pre_drop: cleanup users, admin_group */
int qmgr_auth_peer(int fd, struct qmgr_peer *p);
/* Count a connection in its pool; -1 when the pool is full. */
int qmgr_auth_admit(const struct qmgr_peer *p);
void qmgr_auth_leave(const struct qmgr_peer *p);
int qmgr_auth_allowed(const struct qmgr_peer *p, enum qmgr_perm perm);
const char *qmgr_auth_denial(enum qmgr_perm perm);

/* qmgr_admin.c: one administration request per connection. */
int qmgr_admin_is_request(const char *op);
/* Take over fd (already counted by qmgr_auth_admit) to answer f. */
void qmgr_admin_start(int fd, const struct qmgr_peer *p,
		      const struct ipc_frame *f);
/* Append f, framed, to out. */
void qmgr_admin_put_frame(struct buf *out, const struct ipc_frame *f);

/* qmgr_list.c: the listing, produced a chunk at a time. */
struct qmgr_list;
struct qmgr_list *qmgr_list_new(void);
/* Append entries to out; 1 once the final status frame is in it. */
int qmgr_list_more(struct qmgr_list *l, struct buf *out);
void qmgr_list_free(struct qmgr_list *l);
/* The last temporary failure of each message, while remembered. */
void qmgr_reason_note(const char *id, const char *text);
void qmgr_reason_forget(const char *id);
const char *qmgr_reason_find(const char *id);

#endif
