/*
 * pickup: declarations shared by pickup's files.  pickup_scan.c decides
 * what to do with a maildrop entry from what fstat and the parser say
 * (pure); pickup_users.c is the uid-to-name table read before the chroot;
 * pickup_submit.c hands one message to cleanup; pickup_file.c treats one
 * maildrop entry from lstat to unlink; pickup.c is the daemon's main.
 * Everything in maildrop/ is hostile.
 */
#ifndef MOAT_PICKUP_H
#define MOAT_PICKUP_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "queue_file.h"

/* A file still being written after this long is given up (seconds). */
#define PICKUP_INCOMPLETE_MAX 3600
/* Longest login name passed to cleanup; longer ones are "unknown". */
#define PICKUP_USER_MAX 64
/*
 * A process younger than this never restarts for an unknown owner: the
 * fresh process names it "unknown" rather than restart again (a clock
 * stepped back would otherwise make every file look newer than the table).
 */
#define PICKUP_REFRESH_AGE_MS 2000
/* Largest uid cleanup accepts as submit_uid. */
#define PICKUP_UID_MAX 0x7fffffffLL

/* What to do with one maildrop entry. */
enum pickup_action {
	PICKUP_READ,    /* complete: read, parse and submit it */
	PICKUP_WAIT,    /* still being written: look again later */
	PICKUP_CORRUPT, /* move it to corrupt/ */
	PICKUP_REMOVE,  /* not a file (a symlink, a fifo): unlink the entry */
	PICKUP_IGNORE,  /* a directory: leave it alone, say so once */
};

struct pickup_limits {
	unsigned long long size_max; /* message_size_limit + envelope */
	long long incomplete_max;    /* seconds; PICKUP_INCOMPLETE_MAX */
};

/*
 * Decide from what lstat or fstat said (st) and the time now.  *why is
 * set for every action but PICKUP_READ and PICKUP_WAIT.  Pure.
 */
enum pickup_action pickup_classify(const struct stat *st, time_t now,
				   const struct pickup_limits *lim,
				   struct buf *why);

/*
 * The parsed file against what pickup will submit: every recipient new,
 * the content within message_size_limit.  0, or -1 with *why.  Pure.
 */
int pickup_check_env(const struct queue_env *env, size_t message_size_limit,
		     struct buf *why);

/* cleanup's verdict. */
enum pickup_verdict {
	PICKUP_QUEUED,  /* "ok": remove the maildrop file */
	PICKUP_DEFER,   /* "defer" or no answer: try again later */
	PICKUP_REFUSED, /* "reject": it can never be accepted */
};

/* The verdict for a reply's status attribute (NULL: none).  Pure. */
enum pickup_verdict pickup_verdict_of(const char *status);

/* 1 when s may go to cleanup as submit_user: 1..64 of [!-~].  Pure. */
int pickup_user_name_ok(const char *s);

/* --- the users table (pickup_users.c) --- */

struct pickup_user {
	uid_t uid;
	size_t seq; /* order in the passwd file: the first entry wins */
	char *name;
};

struct pickup_users {
	struct pickup_user *user;
	size_t count, cap;
	int sorted;
};

void pickup_users_init(struct pickup_users *t);
void pickup_users_free(struct pickup_users *t);
/* Add one passwd entry; a name that is not pickup_user_name_ok is left out. */
void pickup_users_add(struct pickup_users *t, uid_t uid, const char *name);
/* The name of uid (the first entry with it), or NULL. */
const char *pickup_users_find(struct pickup_users *t, uid_t uid);
/* Fill t from the passwd database (getpwent); as root, before chroot. */
void pickup_users_load(struct pickup_users *t);

/* --- submission to cleanup (pickup_submit.c) --- */

struct pickup_message {
	const char *sender;
	const struct queue_env *env;
	const char *content; /* env->content_length bytes */
	uid_t uid;
	const char *user; /* login name, or "unknown" */
	int timeout;      /* ipc_timeout */
};

struct pickup_reply {
	enum pickup_verdict verdict;
	char queue_id[QUEUE_ID_SIZE]; /* with PICKUP_QUEUED */
	char text[256];               /* cleanup's text, or what failed */
};

/* One conversation with cleanup over private/cleanup, to its reply. */
void pickup_submit(const struct pickup_message *m, struct pickup_reply *r);

/* --- one maildrop entry (pickup_file.c) --- */

struct pickup_config {
	int maildrop_fd; /* maildrop/, O_DIRECTORY */
	int corrupt_fd;  /* corrupt/, O_PATH (mode 0730: no read) */
	struct pickup_limits limits;
	size_t message_size_limit;
	int timeout;
	struct pickup_users *users;
	struct timespec users_loaded; /* when the table was read */
	long long started_ms;         /* event_now_ms() at start */
};

enum pickup_outcome {
	PICKUP_DONE,      /* nothing more to do with this entry now */
	PICKUP_STOP,      /* cleanup deferred: end this scan, back off */
	PICKUP_REFRESH,   /* an owner newer than the users table: restart */
	PICKUP_SUBMITTED, /* a message went to cleanup */
};

enum pickup_outcome pickup_file(const struct pickup_config *cfg,
				const char *name);

#endif
