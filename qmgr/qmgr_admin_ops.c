/*
 * qmgr_admin_ops: what each queue administration request does to the
 * queue (qmgr_admin.c has checked the caller and the queue ID already):
 * list, show, flush, hold, release, requeue and delete.  Files move
 * between active/, deferred/ and hold/ by rename, so a message is always
 * in exactly one of them; a message qmgr has in memory is never removed or
 * moved under its deliveries (delete answers "busy, try again", hold
 * waits for the end of the attempt).  Input: a valid queue ID, and the
 * queue directories.  Runs in qmgr, chrooted in the spool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc_proto.h"
#include "log.h"
#include "qmgr.h"
#include "qmgr_admin.h"
#include "spool.h"

static int
qmgr_admin_path(const char *dir, const char *id, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", dir, id);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Move dir/id to to/id; 0, or -1 with errno (ENOENT: not there). */
static int
qmgr_admin_move(const char *dir, const char *to, const char *id)
{
	char from[64], dest[64];

	if (qmgr_admin_path(dir, id, from, sizeof(from)) != 0 ||
	    qmgr_admin_path(to, id, dest, sizeof(dest)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return rename(from, dest);
}

static int
qmgr_admin_exists(const char *dir, const char *id)
{
	char path[64];
	struct stat st;

	return qmgr_admin_path(dir, id, path, sizeof(path)) == 0 &&
	       lstat(path, &st) == 0;
}

/* The reply to a failed move: no such message, or the system's reason. */
static void
qmgr_admin_move_failed(struct qmgr_admin *a, const char *id, int err)
{
	struct buf text = BUF_INIT;

	if (err == ENOENT) {
		qmgr_admin_reply(a, IPC_STATUS_ERROR, "no such message");
		return;
	}
	log_warn("%s: op=%s: %s", id, a->op, strerror(err));
	buf_printf(&text, "cannot move the queue file: %s", strerror(err));
	qmgr_admin_reply(a, IPC_STATUS_ERROR, buf_cstr(&text));
	buf_free(&text);
}

void
qmgr_admin_list(struct qmgr_admin *a, const char *id)
{
	(void)id;
	a->list = qmgr_list_new();
}

void
qmgr_admin_show(struct qmgr_admin *a, const char *id)
{
	static const char *const dirs[] = {SPOOL_ACTIVE, SPOOL_DEFERRED,
					   SPOOL_HOLD};
	struct ipc_frame f;
	struct stat st;
	char path[64];
	size_t i;
	int fd = -1;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && fd < 0; i++)
		if (qmgr_admin_path(dirs[i], id, path, sizeof(path)) == 0)
			fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					    O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		qmgr_admin_reply(a, IPC_STATUS_ERROR, "no such message");
		return;
	}
	log_info("%s: shown to uid %lu", id, (unsigned long)a->peer.uid);
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_STATUS, IPC_STATUS_OK);
	ipc_put_str(&f, IPC_QUEUE, dirs[i - 1]);
	qmgr_admin_put_frame(&a->out, &f);
	ipc_frame_free(&f);
	a->pass_fd = fd;
}

void
qmgr_admin_flush(struct qmgr_admin *a, const char *id)
{
	(void)id;
	log_info("queue flush (by uid %lu)", (unsigned long)a->peer.uid);
	qmgr_queue_flush();
	qmgr_admin_reply(a, IPC_STATUS_OK, "queue flush started");
}

void
qmgr_admin_hold(struct qmgr_admin *a, const char *id)
{
	struct qmgr_message *msg;
	unsigned long uid = (unsigned long)a->peer.uid;
	int err;

	if (qmgr_queue_lookup(id, &msg) == QMGR_LOADED) {
		msg->hold = 1;
		msg->hold_uid = a->peer.uid;
		log_info("%s: to be placed on hold after this delivery "
			 "attempt (by uid %lu)",
			 id, uid);
		qmgr_admin_reply(a, IPC_STATUS_OK,
				 "being delivered: placed on hold when this "
				 "delivery attempt ends");
		return;
	}
	/* A message waiting to load is simply gone when its turn comes. */
	if (qmgr_admin_move(SPOOL_ACTIVE, SPOOL_HOLD, id) != 0 &&
	    (errno != ENOENT ||
	     qmgr_admin_move(SPOOL_DEFERRED, SPOOL_HOLD, id) != 0)) {
		err = errno;
		if (err == ENOENT && qmgr_admin_exists(SPOOL_HOLD, id))
			qmgr_admin_reply(a, IPC_STATUS_OK, "already on hold");
		else
			qmgr_admin_move_failed(a, id, err);
		return;
	}
	log_info("%s: placed on hold (by uid %lu)", id, uid);
	qmgr_admin_reply(a, IPC_STATUS_OK, "placed on hold");
}

void
qmgr_admin_release(struct qmgr_admin *a, const char *id)
{
	struct qmgr_message *msg;
	struct timespec ts[2];
	char path[64];
	long long now = time(NULL);

	if (qmgr_queue_lookup(id, &msg) == QMGR_LOADED && msg->hold) {
		msg->hold = 0;
		log_info("%s: released from hold (by uid %lu)", id,
			 (unsigned long)a->peer.uid);
		qmgr_admin_reply(a, IPC_STATUS_OK, "released from hold");
		return;
	}
	/* The mtime of a deferred file is its next try: now. */
	ts[0].tv_sec = ts[1].tv_sec = (time_t)now;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (qmgr_admin_path(SPOOL_HOLD, id, path, sizeof(path)) == 0)
		(void)utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
	if (qmgr_admin_move(SPOOL_HOLD, SPOOL_DEFERRED, id) != 0) {
		if (errno == ENOENT)
			qmgr_admin_reply(a, IPC_STATUS_ERROR,
					 "no such message on hold");
		else
			qmgr_admin_move_failed(a, id, errno);
		return;
	}
	log_info("%s: released from hold (by uid %lu)", id,
		 (unsigned long)a->peer.uid);
	qmgr_queue_note_due(now);
	qmgr_admin_reply(a, IPC_STATUS_OK, "released from hold");
}

void
qmgr_admin_requeue(struct qmgr_admin *a, const char *id)
{
	struct qmgr_message *msg;
	enum qmgr_known known;
	int err;

	known = qmgr_queue_lookup(id, &msg);
	/* Waiting to load but held meanwhile: moved back, it loads. */
	if (known == QMGR_LOADED ||
	    (known == QMGR_WAITING && qmgr_admin_exists(SPOOL_ACTIVE, id))) {
		qmgr_admin_reply(a, IPC_STATUS_OK, "already active");
		return;
	}
	if (qmgr_admin_move(SPOOL_DEFERRED, SPOOL_ACTIVE, id) != 0 &&
	    (errno != ENOENT ||
	     qmgr_admin_move(SPOOL_HOLD, SPOOL_ACTIVE, id) != 0)) {
		err = errno;
		if (err == ENOENT && qmgr_admin_exists(SPOOL_ACTIVE, id)) {
			qmgr_queue_want(id);
			qmgr_admin_reply(a, IPC_STATUS_OK, "already active");
		} else {
			qmgr_admin_move_failed(a, id, err);
		}
		return;
	}
	log_info("%s: requeued (by uid %lu)", id, (unsigned long)a->peer.uid);
	qmgr_queue_want(id);
	qmgr_admin_reply(a, IPC_STATUS_OK, "requeued");
}

void
qmgr_admin_delete(struct qmgr_admin *a, const char *id)
{
	static const char *const dirs[] = {SPOOL_ACTIVE, SPOOL_DEFERRED,
					   SPOOL_HOLD};
	struct qmgr_message *msg;
	char path[64];
	size_t i;
	int r = -1;

	if (qmgr_queue_lookup(id, &msg) == QMGR_LOADED) {
		qmgr_admin_reply(a, IPC_STATUS_ERROR,
				 "busy, try again: a delivery attempt is in "
				 "progress");
		return;
	}
	errno = ENOENT;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && r != 0; i++)
		if (qmgr_admin_path(dirs[i], id, path, sizeof(path)) == 0 &&
		    (r = unlink(path)) != 0 && errno != ENOENT)
			break;
	if (r != 0) {
		qmgr_admin_move_failed(a, id, errno);
		return;
	}
	qmgr_unrecorded_clear(id);
	qmgr_reason_forget(id);
	log_info("%s: removed (deleted by uid %lu)", id,
		 (unsigned long)a->peer.uid);
	qmgr_admin_reply(a, IPC_STATUS_OK, "deleted");
}
