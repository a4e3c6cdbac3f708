/*
 * qmgr_queue: which messages qmgr knows, and when it looks at the queue
 * directories.  The registry holds every queue ID in memory or waiting to
 * be loaded (at most QMGR_ACTIVE_MAX), so no message is ever loaded twice
 * and never two deliveries of one message run at once.  Files beyond the
 * limit wait on disk: active/ is rescanned when room frees up and every
 * queue_run_delay; deferred/ is scanned every queue_run_delay and when
 * the earliest known next-try time (a file's mtime) comes, and due files
 * are renamed back to active/.  Hostile input: none beyond directory
 * entries, which are used only when they are well-formed queue IDs (and
 * regular files).  Runs in qmgr, chrooted in queue_directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "params.h"
#include "qmgr.h"
#include "qmgr_backoff.h"
#include "queue_file.h"
#include "spool.h"

#define QMGR_HASH_SIZE 16384 /* buckets, a power of two */

struct qmgr_entry {
	char id[QUEUE_ID_SIZE];
	int loaded;               /* 0: waiting in the load queue */
	struct qmgr_message *msg; /* when loaded */
	struct qmgr_entry *hash_next;
	struct qmgr_entry *load_next;
};

static struct qmgr_entry **qmgr_hash;
static struct qmgr_entry *qmgr_load_head, *qmgr_load_tail;
static size_t qmgr_entries, qmgr_loaded, qmgr_rcpts;
static int qmgr_started;
static unsigned long qmgr_kick_timer, qmgr_scan_timer;
static long long qmgr_scan_at; /* when qmgr_scan_timer fires (s) */
static long long qmgr_last_scan, qmgr_last_active_scan;
static long long qmgr_earliest_due; /* 0: none known */
static int qmgr_active_rescan;      /* active/ holds unknown files */
static int qmgr_deferred_backlog;   /* due files left in deferred/ */
static int qmgr_flushing;

static void qmgr_queue_schedule_scan(long long when);

void
qmgr_queue_init(void)
{
	qmgr_hash = xcalloc(QMGR_HASH_SIZE, sizeof(*qmgr_hash));
}

static struct qmgr_entry **
qmgr_queue_slot(const char *id)
{
	uint32_t h = 2166136261u;
	struct qmgr_entry **pp;

	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	pp = &qmgr_hash[h & (QMGR_HASH_SIZE - 1)];
	while (*pp != NULL && strcmp((*pp)->id, id) != 0)
		pp = &(*pp)->hash_next;
	return pp;
}

static void qmgr_queue_load_turn(void *ctx);

static void
qmgr_queue_kick(void)
{
	if (qmgr_started && qmgr_kick_timer == 0 && qmgr_load_head != NULL)
		qmgr_kick_timer =
		    event_timer_add(0, qmgr_queue_load_turn, NULL);
}

void
qmgr_queue_want(const char *id)
{
	struct qmgr_entry **pp, *e;

	if (!queue_id_valid(id))
		return;
	pp = qmgr_queue_slot(id);
	if (*pp != NULL)
		return; /* loaded or waiting already */
	if (qmgr_entries >= QMGR_ACTIVE_MAX) {
		qmgr_active_rescan = 1; /* it waits in active/ */
		return;
	}
	e = xcalloc(1, sizeof(*e));
	memcpy(e->id, id, QUEUE_ID_SIZE);
	*pp = e;
	if (qmgr_load_tail != NULL)
		qmgr_load_tail->load_next = e;
	else
		qmgr_load_head = e;
	qmgr_load_tail = e;
	qmgr_entries++;
	qmgr_queue_kick();
}

static void
qmgr_queue_remove(const char *id)
{
	struct qmgr_entry **pp = qmgr_queue_slot(id), *e = *pp;

	if (e == NULL)
		return;
	*pp = e->hash_next;
	free(e);
	qmgr_entries--;
}

enum qmgr_known
qmgr_queue_lookup(const char *id, struct qmgr_message **msg)
{
	struct qmgr_entry *e = *qmgr_queue_slot(id);

	*msg = NULL;
	if (e == NULL)
		return QMGR_UNKNOWN;
	if (!e->loaded)
		return QMGR_WAITING;
	*msg = e->msg;
	return QMGR_LOADED;
}

/* A message left memory (done, deferred, or gone). */
void
qmgr_queue_forget(const char *id, size_t rcpt_count)
{
	struct qmgr_entry *e = *qmgr_queue_slot(id);

	if (e == NULL)
		return;
	if (e->loaded) {
		qmgr_loaded--;
		qmgr_rcpts -= rcpt_count < qmgr_rcpts ? rcpt_count : qmgr_rcpts;
	}
	qmgr_queue_remove(id);
	if (qmgr_started && (qmgr_active_rescan || qmgr_deferred_backlog))
		qmgr_queue_schedule_scan(time(NULL) + 1);
	qmgr_queue_kick();
}

static int
qmgr_queue_has_room(void)
{
	return qmgr_loaded == 0 || qmgr_rcpts < QMGR_RCPT_MAX;
}

/* Load waiting messages, a batch per loop turn so wake-ups stay quick. */
static void
qmgr_queue_load_turn(void *ctx)
{
	struct qmgr_message *msg;
	struct qmgr_entry *e;
	int n;

	(void)ctx;
	qmgr_kick_timer = 0;
	for (n = 0; n < QMGR_LOAD_BATCH && qmgr_load_head != NULL &&
		    qmgr_queue_has_room();
	     n++) {
		e = qmgr_load_head;
		qmgr_load_head = e->load_next;
		if (qmgr_load_head == NULL)
			qmgr_load_tail = NULL;
		e->load_next = NULL;
		msg = qmgr_message_load(e->id);
		if (msg == NULL) {
			qmgr_queue_remove(e->id);
			continue;
		}
		e->loaded = 1;
		e->msg = msg;
		qmgr_loaded++;
		qmgr_rcpts += msg->env.rcpt_count;
		qmgr_message_start(msg); /* may forget it at once */
	}
	if (qmgr_queue_has_room())
		qmgr_queue_kick();
}

/* --- directory scans ------------------------------------------------- */

static DIR *
qmgr_queue_opendir(const char *name)
{
	DIR *d = opendir(name);

	if (d == NULL)
		log_warn("cannot open %s/: %s", name, strerror(errno));
	return d;
}

int
qmgr_queue_leftover(const char *dir, const char *name, int partial_only)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
		(int)sizeof(path) ||
	    lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (partial_only && (st.st_mode & 07777) != QUEUE_MODE_PARTIAL))
		return 0;
	if ((long long)time(NULL) - (long long)st.st_mtime <
	    QMGR_INCOMING_MAX_AGE)
		return 1;
	if (unlink(path) == 0)
		log_warn("%s: removed, left over from an interrupted "
			 "submission",
			 path);
	return 1;
}

int
qmgr_queue_recover_sealed(const char *path)
{
	struct queue_env env;
	struct buf err = BUF_INIT;
	struct stat st;
	char file[QUEUE_FILL];
	ssize_t n;
	int fd, rfd, sealed = 0, saved = errno;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		errno = saved;
		return 0;
	}
	/* Held: cleanup is writing it.  Larger than the zeros: not sealed. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1 || st.st_size > QUEUE_FILL ||
	    fchmod(fd, QUEUE_MODE) != 0) {
		close(fd);
		errno = saved;
		return 0;
	}
	rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	n = rfd >= 0 ? pread(rfd, file, sizeof(file), 0) : -1;
	if (n > 0 && queue_env_parse(file, (size_t)n, &env, &err) == 0) {
		sealed = queue_seal_matches(file, (size_t)n, &env);
		queue_env_free(&env);
	}
	if (rfd >= 0)
		close(rfd);
	if (sealed)
		log_warn("%s: sealed but still partial (its writer stopped "
			 "after the sync that made it whole): queued",
			 path);
	else
		(void)fchmod(fd, QUEUE_MODE_PARTIAL);
	buf_free(&err);
	close(fd); /* and the lock with it */
	errno = saved;
	return sealed;
}

/* incoming/ of older versions: any file an hour old is a leftover. */
static void
qmgr_queue_scan_incoming(void)
{
	DIR *d = qmgr_queue_opendir(SPOOL_INCOMING);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			(void)qmgr_queue_leftover(SPOOL_INCOMING, de->d_name,
						  0);
	closedir(d);
}

static void
qmgr_queue_scan_active(void)
{
	DIR *d = qmgr_queue_opendir(SPOOL_ACTIVE);
	struct dirent *de;

	qmgr_last_active_scan = time(NULL);
	if (d == NULL)
		return;
	qmgr_active_rescan = 0;
	while ((de = readdir(d)) != NULL && !qmgr_active_rescan)
		qmgr_queue_want(de->d_name);
	closedir(d);
}

/* Move one due deferred/ file back to active/. */
static void
qmgr_queue_revive(int dfd, const char *name)
{
	char path[64];

	if (snprintf(path, sizeof(path), "%s/%s", SPOOL_ACTIVE, name) >=
	    (int)sizeof(path))
		return;
	if (renameat(dfd, name, AT_FDCWD, path) != 0) {
		log_warn("%s: cannot move from %s/ to %s/: %s", name,
			 SPOOL_DEFERRED, SPOOL_ACTIVE, strerror(errno));
		return;
	}
	qmgr_queue_want(name);
}

static void
qmgr_queue_scan_deferred(void)
{
	DIR *d = qmgr_queue_opendir(SPOOL_DEFERRED);
	long long now = time(NULL), due;
	struct dirent *de;
	struct stat st;

	qmgr_last_scan = now;
	qmgr_earliest_due = 0;
	qmgr_deferred_backlog = 0;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!queue_id_valid(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
			0 ||
		    !S_ISREG(st.st_mode))
			continue;
		due = (long long)st.st_mtime;
		if (due > now && !qmgr_flushing) {
			if (qmgr_earliest_due == 0 || due < qmgr_earliest_due)
				qmgr_earliest_due = due;
			continue;
		}
		if (qmgr_entries >= QMGR_ACTIVE_MAX) {
			qmgr_deferred_backlog = 1; /* when room frees */
			break;
		}
		qmgr_queue_revive(dirfd(d), de->d_name);
	}
	closedir(d);
	if (!qmgr_deferred_backlog)
		qmgr_flushing = 0;
}

static void
qmgr_queue_scan(void)
{
	long long now = time(NULL);

	if (now - qmgr_last_active_scan >= param_int("queue_run_delay")) {
		qmgr_queue_scan_incoming();
		qmgr_queue_scan_active();
	} else if (qmgr_active_rescan) {
		qmgr_queue_scan_active();
	}
	qmgr_queue_scan_deferred();
}

static void
qmgr_queue_scan_timer(void *ctx)
{
	(void)ctx;
	qmgr_scan_timer = 0;
	qmgr_queue_scan();
	qmgr_queue_schedule_scan(qmgr_next_scan(time(NULL), qmgr_last_scan,
						param_int("queue_run_delay"),
						qmgr_earliest_due));
}

/* Make the next scan happen at when (seconds) unless one comes sooner. */
static void
qmgr_queue_schedule_scan(long long when)
{
	long long now = time(NULL);

	if (!qmgr_started)
		return;
	if (qmgr_scan_timer != 0) {
		if (qmgr_scan_at <= when)
			return;
		event_timer_cancel(qmgr_scan_timer);
	}
	qmgr_scan_at = when;
	qmgr_scan_timer = event_timer_add(when > now ? (when - now) * 1000 : 0,
					  qmgr_queue_scan_timer, NULL);
}

/* A message was deferred until when: scan deferred/ then at the latest. */
void
qmgr_queue_note_due(long long when)
{
	if (qmgr_earliest_due == 0 || when < qmgr_earliest_due)
		qmgr_earliest_due = when;
	qmgr_queue_schedule_scan(when);
}

void
qmgr_queue_flush(void)
{
	qmgr_flushing = 1;
	qmgr_active_rescan = 1;
	qmgr_queue_schedule_scan(time(NULL));
}

/* Before the event loop: leftovers, all of active/, due deferred/ files. */
void
qmgr_queue_scan_startup(void)
{
	qmgr_queue_scan_incoming();
	qmgr_queue_scan_active();
	qmgr_queue_scan_deferred();
}

/* The event loop runs: arm the scan timer and start loading. */
void
qmgr_queue_start(void)
{
	if (qmgr_started)
		return;
	qmgr_started = 1;
	qmgr_queue_schedule_scan(qmgr_next_scan(time(NULL), qmgr_last_scan,
						param_int("queue_run_delay"),
						qmgr_earliest_due));
	qmgr_queue_kick();
}
