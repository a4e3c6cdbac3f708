/*
 * qmgr_message: one message in memory.  Loading opens active/ID without
 * following links (a partial file, which cleanup is still writing, cannot
 * be opened: it is skipped, and removed once an hour old), checks that it
 * is a regular file of ours with one link,
 * and trusts nothing until queue_file_read has validated every record; a
 * file that fails is moved to corrupt/ and never delivered.  The pass
 * sends each recipient still to do to its transport; results are written
 * into the file's status bytes, all those of one delivery made durable by
 * one fdatasync when it ends.  The last recipient of a message that is
 * then done writes no status at all: the message is removed at once, and
 * the unlink is the record (written only if the unlink fails).  The
 * descriptors are open only while deliveries run: a read-only one for the
 * agents, a read-write one for the statuses.  Runs in qmgr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsn.h"
#include "log.h"
#include "params.h"
#include "qmgr.h"
#include "spool.h"

static int
qmgr_message_path(const char *dir, const char *id, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", dir, id);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void
qmgr_message_corrupt(const char *id, const char *why)
{
	char from[64], to[64];

	if (qmgr_message_path(SPOOL_ACTIVE, id, from, sizeof(from)) != 0 ||
	    qmgr_message_path(SPOOL_CORRUPT, id, to, sizeof(to)) != 0)
		return;
	if (rename(from, to) != 0) {
		log_error("%s: corrupt queue file (%s); cannot move it to "
			  "%s/: %s",
			  id, why, SPOOL_CORRUPT, strerror(errno));
		return;
	}
	log_warn("%s: corrupt queue file (%s); moved to %s/", id, why,
		 SPOOL_CORRUPT);
}

/* Open active/ID and check what it is; -1 (logged when it matters). */
static int
qmgr_message_open(const char *id, struct stat *st)
{
	char path[64];
	int fd;

	if (qmgr_message_path(SPOOL_ACTIVE, id, path, sizeof(path)) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == EACCES && qmgr_queue_recover_sealed(path))
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int err = errno;

		/* Partial: cleanup is writing it (or was killed meanwhile). */
		if (err == EACCES && qmgr_queue_leftover(SPOOL_ACTIVE, id, 1))
			return -1;
		if (err == ELOOP)
			qmgr_message_corrupt(id, "a symbolic link");
		else if (err != ENOENT)
			log_warn("%s: cannot open %s: %s", id, path,
				 strerror(err));
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
	    st->st_uid != geteuid() || st->st_nlink != 1) {
		close(fd);
		qmgr_message_corrupt(id, "not a regular file of the queue "
					 "owner with one link");
		return -1;
	}
	return fd;
}

struct qmgr_message *
qmgr_message_load(const char *id)
{
	struct buf err = BUF_INIT;
	struct qmgr_message *msg;
	struct stat st;
	int fd;

	if ((fd = qmgr_message_open(id, &st)) < 0)
		return NULL;
	msg = xcalloc(1, sizeof(*msg));
	if (queue_file_read(fd, &msg->env, &err) != 0) {
		if (errno == EINVAL)
			qmgr_message_corrupt(id, buf_cstr(&err));
		else
			log_warn("%s: cannot read queue file: %s", id,
				 buf_cstr(&err));
		close(fd);
		buf_free(&err);
		free(msg);
		return NULL;
	}
	close(fd);
	buf_free(&err);
	memcpy(msg->id, id, QUEUE_ID_SIZE);
	msg->res = xcalloc(msg->env.rcpt_count, sizeof(*msg->res));
	msg->dev = st.st_dev;
	msg->ino = st.st_ino;
	msg->fd_ro = msg->fd_rw = -1;
	msg->active_ms = qmgr_now_ms();
	/* The T record has seconds; the file's mtime, when it agrees, more. */
	msg->arrival_ms = msg->env.arrival * 1000;
	if ((long long)st.st_mtim.tv_sec == msg->env.arrival)
		msg->arrival_ms += st.st_mtim.tv_nsec / 1000000;
	log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (queue active)", id,
		 msg->env.sender, msg->env.content_length, msg->env.rcpt_count);
	return msg;
}

void
qmgr_message_free(struct qmgr_message *msg)
{
	size_t i;

	if (msg->fd_ro >= 0)
		close(msg->fd_ro);
	if (msg->fd_rw >= 0)
		close(msg->fd_rw);
	for (i = 0; i < msg->env.rcpt_count; i++) {
		free(msg->res[i].reason);
		free(msg->res[i].diag);
		free(msg->res[i].mta);
	}
	free(msg->res);
	queue_env_free(&msg->env);
	free(msg);
}

/* Open active/ID again and make sure it is the file that was validated. */
static int
qmgr_message_reopen(struct qmgr_message *msg, int flags, struct buf *why)
{
	char path[64];
	struct stat st;
	int fd;

	if (qmgr_message_path(SPOOL_ACTIVE, msg->id, path, sizeof(path)) != 0)
		return -1;
	fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		buf_printf(why, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_dev != msg->dev ||
	    st.st_ino != msg->ino) {
		buf_printf(why, "%s was replaced", path);
		close(fd);
		return -1;
	}
	return fd;
}

int
qmgr_message_hold_fds(struct qmgr_message *msg, struct buf *why)
{
	if (msg->fd_users > 0) {
		msg->fd_users++;
		return 0;
	}
	msg->fd_ro = qmgr_message_reopen(msg, O_RDONLY, why);
	if (msg->fd_ro < 0)
		return -1;
	msg->fd_rw = qmgr_message_reopen(msg, O_RDWR, why);
	if (msg->fd_rw < 0) {
		close(msg->fd_ro);
		msg->fd_ro = -1;
		return -1;
	}
	msg->fd_users = 1;
	return 0;
}

void
qmgr_message_release_fds(struct qmgr_message *msg)
{
	qmgr_message_sync(msg);
	if (msg->fd_users == 0 || --msg->fd_users > 0)
		return;
	close(msg->fd_ro);
	close(msg->fd_rw);
	msg->fd_ro = msg->fd_rw = -1;
}

void
qmgr_message_set_status(struct qmgr_message *msg, size_t rcpt, char status)
{
	struct queue_rcpt *r = &msg->env.rcpt[rcpt];

	if (msg->fd_rw < 0 ||
	    queue_file_write_status(msg->fd_rw, r, status) != 0) {
		log_error("%s: cannot record the status of <%s>: %s", msg->id,
			  r->addr,
			  msg->fd_rw < 0 ? "file not open" : strerror(errno));
		qmgr_unrecorded_add(msg->id, r->status_offset, status);
		return;
	}
	r->status = status;
	msg->unsynced = 1;
}

void
qmgr_message_sync(struct qmgr_message *msg)
{
	const struct queue_rcpt *r;

	if (!msg->unsynced || msg->fd_rw < 0)
		return;
	msg->unsynced = 0;
	if (fdatasync(msg->fd_rw) == 0)
		return;
	log_error("%s: cannot sync the recipients' statuses: %s", msg->id,
		  strerror(errno));
	/* Which bytes reached the disk is unknown: remember them all. */
	for (size_t i = 0; i < msg->env.rcpt_count; i++) {
		r = &msg->env.rcpt[i];
		if (r->status != QRCPT_TODO)
			qmgr_unrecorded_add(msg->id, r->status_offset,
					    r->status);
	}
}

void
qmgr_message_write_sent(struct qmgr_message *msg)
{
	struct buf why = BUF_INIT;
	int held = qmgr_message_hold_fds(msg, &why) == 0;

	for (size_t i = 0; i < msg->env.rcpt_count; i++)
		if (msg->res[i].state == QMGR_RCPT_SENT &&
		    msg->env.rcpt[i].status == QRCPT_TODO)
			qmgr_message_set_status(msg, i, QRCPT_DONE);
	if (held)
		qmgr_message_release_fds(msg);
	buf_free(&why);
}

/*
 * 1 when rcpt is the last recipient in flight and every other one is done:
 * the message will be removed as soon as rcpt's result is in.
 */
static int
qmgr_message_ends_done(const struct qmgr_message *msg, size_t rcpt)
{
	if (msg->unfinished != 1)
		return 0;
	for (size_t i = 0; i < msg->env.rcpt_count; i++)
		if (i != rcpt && msg->res[i].state != QMGR_RCPT_FINAL &&
		    msg->res[i].state != QMGR_RCPT_SENT)
			return 0;
	return 1;
}

static void
qmgr_message_keep_reason(struct qmgr_rcpt_result *res, const char *dsn,
			 const char *reason)
{
	snprintf(res->dsn, sizeof(res->dsn), "%s", dsn);
	free(res->reason);
	res->reason = xstrndup(reason, strnlen(reason, QMGR_REASON_MAX));
}

void
qmgr_message_result(struct qmgr_message *msg, size_t rcpt,
		    enum qmgr_result result, int held, int logged,
		    const char *relay, const char *dsn, const char *reason,
		    const struct qmgr_times *t)
{
	struct qmgr_rcpt_result *res = &msg->res[rcpt];
	const char *status = "sent";

	switch (result) {
	case QMGR_SENT:
		/* The unlink that follows records it (else write_sent). */
		if (!qmgr_message_ends_done(msg, rcpt))
			qmgr_message_set_status(msg, rcpt, QRCPT_DONE);
		res->state = QMGR_RCPT_SENT;
		/* For the success notice, when the sender asked for one. */
		if (msg->env.rcpt[rcpt].dsn_notify & DSN_NOTIFY_SUCCESS)
			qmgr_message_keep_reason(res, dsn, reason);
		break;
	case QMGR_BOUNCE:
		res->state = QMGR_RCPT_FAILED;
		qmgr_message_keep_reason(res, dsn, reason);
		status = "bounced";
		break;
	case QMGR_DEFER:
		res->state = QMGR_RCPT_DEFERRED;
		qmgr_message_keep_reason(res, dsn, reason);
		qmgr_reason_note(msg->id, reason);
		status = "deferred";
		break;
	}
	if (!logged)
		qmgr_log_rcpt(msg, rcpt, relay, t, dsn, status, reason);
	if (held)
		qmgr_message_release_fds(msg);
	if (--msg->unfinished == 0)
		qmgr_message_finish(msg);
}

void
qmgr_message_keep_remote(struct qmgr_message *msg, size_t rcpt,
			 const char *diag, const char *mta)
{
	struct qmgr_rcpt_result *res = &msg->res[rcpt];

	free(res->diag);
	free(res->mta);
	res->diag = diag != NULL && diag[0] != '\0'
			? xstrndup(diag, strnlen(diag, QMGR_REASON_MAX))
			: NULL;
	res->mta = mta != NULL && mta[0] != '\0'
		       ? xstrndup(mta, strnlen(mta, QMGR_REASON_MAX))
		       : NULL;
}

/* A result qmgr makes itself, without an agent (logged here). */
static void
qmgr_message_now(struct qmgr_message *msg, size_t i, enum qmgr_result result,
		 const char *dsn, const char *text)
{
	struct qmgr_times t;

	t.start_ms = t.conn_ms = t.done_ms = qmgr_now_ms();
	qmgr_message_result(msg, i, result, 0, 0, "none", dsn, text, &t);
}

/*
 * Route each recipient still to do (todo[0..n-1]): an immediate result,
 * or a place in a job for its destination.  Recipients of one message to
 * one destination go in one request (up to the recipient limit).
 */
static void
qmgr_message_route(struct qmgr_message *msg, const size_t *todo, size_t n)
{
	struct qmgr_route *routes =
	    xcalloc(msg->env.rcpt_count, sizeof(*routes));
	size_t *go = xcalloc(n + 1, sizeof(*go)), *order, *start;
	size_t i, k, ngo = 0, groups;
	const struct qmgr_transport *tp;

	msg->unfinished += n;
	for (k = 0; k < n; k++) {
		struct qmgr_route *r = &routes[todo[k]];
		qmgr_dest_route(msg->env.rcpt[todo[k]].addr, r);
		tp = &qmgr_transport_table[r->tp];
		if (r->kind == QMGR_ROUTE_DELIVER &&
		    !qmgr_service_present(tp->service)) {
			r->kind = QMGR_ROUTE_DEFER;
			snprintf(r->dsn, sizeof(r->dsn), "4.3.5");
			snprintf(r->text, sizeof(r->text),
				 "mail transport unavailable: no %s service "
				 "in master.conf",
				 qmgr_service_socket[tp->service]);
		}
		if (r->kind == QMGR_ROUTE_DELIVER)
			go[ngo++] = todo[k];
	}
	for (k = 0; k < n; k++) {
		const struct qmgr_route *r = &routes[todo[k]];
		if (r->kind != QMGR_ROUTE_DELIVER)
			qmgr_message_now(msg, todo[k],
					 r->kind == QMGR_ROUTE_BOUNCE
					     ? QMGR_BOUNCE
					     : QMGR_DEFER,
					 r->dsn, r->text);
	}
	order = xcalloc(ngo + 1, sizeof(*order));
	start = xcalloc(ngo + 1, sizeof(*start));
	groups = qmgr_transport_group(
	    routes, go, ngo,
	    (size_t)param_int("default_destination_recipient_limit"), order,
	    start);
	for (i = 0; i < groups; i++) {
		const struct qmgr_route *r = &routes[order[start[i]]];
		qmgr_dest_enqueue(msg, r->tp, r->nexthop, order + start[i],
				  start[i + 1] - start[i]);
	}
	free(start);
	free(order);
	free(go);
	free(routes);
}

void
qmgr_message_start(struct qmgr_message *msg)
{
	struct queue_rcpt *r;
	size_t i, n = 0, *todo;
	char done;

	todo = xcalloc(msg->env.rcpt_count + 1, sizeof(*todo));
	msg->unfinished = 1; /* held until every recipient is routed */
	for (i = 0; i < msg->env.rcpt_count; i++) {
		r = &msg->env.rcpt[i];
		done = r->status == QRCPT_TODO
			   ? qmgr_unrecorded_find(msg->id, r->status_offset)
			   : r->status;
		/* SENT is for this pass (success notices): earlier is FINAL. */
		if (done != 0)
			msg->res[i].state = QMGR_RCPT_FINAL;
		else
			todo[n++] = i;
	}
	qmgr_message_route(msg, todo, n);
	free(todo);
	if (--msg->unfinished == 0)
		qmgr_message_finish(msg);
}
