/*
 * cleanup: declarations shared by cleanup's files.  cleanup_envelope.c
 * checks the envelope frames of a submission (pure); cleanup_submit.c runs
 * one submission conversation and writes the queue file; cleanup.c is the
 * daemon's main.  Everything a peer sends is hostile.
 */
#ifndef MOAT_CLEANUP_H
#define MOAT_CLEANUP_H

#include <stddef.h>
#include <sys/types.h>

#include "address.h"
#include "dsn.h"
#include "group_sync.h"
#include "ipc.h"
#include "queue_file.h"

/* Bounds on the optional attributes of op=begin (bytes, without NUL). */
#define CLEANUP_PROTOCOL_MAX 32
#define CLEANUP_CLIENT_ADDR_MAX 64
#define CLEANUP_CLIENT_NAME_MAX 255
#define CLEANUP_HELO_MAX 1024
#define CLEANUP_AUTH_USER_MAX 512
#define CLEANUP_TLS_MAX 128 /* "TLSv1.3 with cipher ... (256/256 bits)" */
#define CLEANUP_SUBMIT_USER_MAX 64
#define CLEANUP_ORIG_MAX 1024
/* Recipients in one submission, whatever smtpd_recipient_limit says. */
#define CLEANUP_RCPT_MAX 100000
/* The page the cleanups share their fsyncs of active/ in, in incoming/
 * (a dot file: qmgr's sweep of incoming/ leaves it alone). */
#define CLEANUP_ACTIVE_SYNC ".active-sync"

/* The envelope of op=begin, checked. */
/*
 * Where a submission comes from, known from the peer's uid (SO_PEERCRED)
 * and master.conf (or, for local, the local_resolver_user parameter),
 * never from a field of the frame.  It decides what the submission may
 * claim: a local submission (addresses without a domain get myorigin, a
 * From: is added, the submitting uid is recorded) only from pickup, a
 * bounce from qmgr, forwarding from local's resolver; smtpd names one of
 * the SMTP protocols and nothing else.  In order of trust: when one uid
 * runs two peers, the first (least trusted) wins.
 */
enum cleanup_origin {
	CLEANUP_FROM_SMTPD,
	CLEANUP_FROM_QMGR,
	CLEANUP_FROM_LOCAL, /* local_resolver_user: forwarded mail */
	CLEANUP_FROM_PICKUP,
	CLEANUP_FROM_UNKNOWN, /* not a peer service's user */
};

struct cleanup_envelope {
	char sender[ADDR_TEXT_MAX]; /* canonical; "" for the null sender */
	char protocol[CLEANUP_PROTOCOL_MAX + 1]; /* "" when none */
	char client_addr[CLEANUP_CLIENT_ADDR_MAX + 1];
	char client_name[CLEANUP_CLIENT_NAME_MAX + 1];
	char helo[CLEANUP_HELO_MAX + 1];
	char auth_user[CLEANUP_AUTH_USER_MAX + 1];
	/* smtpd's TLS, as the Received header says it; "" when none */
	char tls[CLEANUP_TLS_MAX + 1];
	int auth_header;      /* the Received header names auth_user */
	long long submit_uid; /* from pickup only, else -1 */
	int is_local;         /* from pickup or local: protocol "local" */
	/* The submitter's login name (with submit_uid), "" when absent. */
	char submit_user[CLEANUP_SUBMIT_USER_MAX + 1];
	/* SMTPUTF8 (RFC 6531): UTF-8 addresses are accepted only with it. */
	int smtputf8;
	enum dsn_ret dsn_ret;              /* RFC 3461 RET */
	char dsn_envid[DSN_ENVID_MAX + 1]; /* ENVID, "" when none */
};

/* One op=rcpt, checked. */
struct cleanup_rcpt {
	char addr[ADDR_TEXT_MAX];
	char orig[CLEANUP_ORIG_MAX + 1];   /* "" when none */
	unsigned dsn_notify;               /* DSN_NOTIFY_* bits, 0: none */
	char dsn_orcpt[DSN_ORCPT_MAX + 1]; /* "type;address", "" when none */
};

enum cleanup_frame_result {
	CLEANUP_FRAME_OK = 0,
	CLEANUP_FRAME_MALFORMED,   /* protocol violation: abort, no reply */
	CLEANUP_FRAME_BAD_ADDRESS, /* reply with a rejection */
};

/*
 * Check op=begin from a peer of the given origin.  The protocol is the
 * origin's ("local" from pickup and local, "bounce" from qmgr) whatever
 * the frame says; from smtpd it must be one of the SMTP protocol names.
 * submit_uid and submit_user count from pickup only.  A sender without a
 * domain is completed with myorigin for a local submission and refused
 * otherwise.  smtputf8, dsn_ret and dsn_envid count from every origin
 * (qmgr's bounces to a UTF-8 sender need the first).  *why says what was
 * wrong.  Pure.
 */
enum cleanup_frame_result cleanup_begin_parse(const struct ipc_frame *f,
					      enum cleanup_origin origin,
					      const char *myorigin,
					      struct cleanup_envelope *env,
					      const char **why);
/*
 * Check op=rcpt the same way, for the envelope env (a local submission
 * qualifies bare names, SMTPUTF8 allows UTF-8); with dsn_notify and
 * dsn_orcpt checked by dsn.c's rules.
 */
enum cleanup_frame_result cleanup_rcpt_parse(const struct ipc_frame *f,
					     const struct cleanup_envelope *env,
					     const char *myorigin,
					     struct cleanup_rcpt *rcpt,
					     const char **why);

/* What one submission needs from the daemon; set up at start. */
struct cleanup_config {
	int incoming_fd; /* incoming/, O_DIRECTORY */
	int active_fd;   /* active/, O_DIRECTORY */
	/* fsyncs of active/ shared with the other cleanups (group_sync.h) */
	struct group_sync *active_sync;
	const char *myhostname;
	const char *myorigin;
	/* The uids of the peer services and the origin each one means. */
	uid_t origin_uid[CLEANUP_FROM_UNKNOWN];
	int origin_known[CLEANUP_FROM_UNKNOWN];
	int timeout; /* ipc_timeout, seconds */
	/*
	 * A whole submission may take time_limit seconds, plus one second
	 * for each min_rate bytes of content received: a peer trickling its
	 * message cannot hold a cleanup process for long.
	 */
	long long time_limit;
	unsigned long long min_rate;
	size_t message_size_limit;
	size_t header_size_limit;
	size_t header_count_limit;
	size_t hopcount_limit;
};

/* Serve one submission on a connected peer socket, to the end. */
void cleanup_submit(int sock, const struct cleanup_config *cfg);

/*
 * The submission's queue file (cleanup_file.c): a partial file in active/,
 * the spare made ahead when there is one (*synced = 1: its directory
 * entry is on disk already), else a new one (*synced = 0); adopted by w.
 * -1 with errno when none could be made.
 */
int cleanup_file_take(const struct cleanup_config *cfg, struct queue_writer *w,
		      char id[QUEUE_ID_SIZE], int *synced);
/* Queue files made ahead at once, when the last one is taken. */
#define CLEANUP_SPARES 4
/* With none left, make CLEANUP_SPARES files now, and sync active/ for them. */
void cleanup_file_make_spare(const struct cleanup_config *cfg);
/* Remove the spares (at exit; async-signal-safe, for SIGTERM). */
void cleanup_file_drop_spare(void);
/* The origin of a peer uid under cfg (CLEANUP_FROM_UNKNOWN: none). */
enum cleanup_origin cleanup_origin_of(const struct cleanup_config *cfg,
				      uid_t uid);
const char *cleanup_origin_name(enum cleanup_origin origin);

#endif
