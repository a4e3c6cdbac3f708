/*
 * qmgr_finish: the end of a message's pass.  Recipients that failed for
 * good, and those still deferred once the message outlived its queue
 * lifetime, get one DSN to the sender (never for the null sender: such a
 * message is only marked and removed; nor for a recipient whose DSN
 * NOTIFY leaves out FAILURE); they are marked bounced only after
 * cleanup accepted the DSN.  Success notices and delay warnings follow
 * (qmgr_notify.c).  Then the message is removed when nothing is
 * left to do, or moved to deferred/ with its next-try time as mtime (to
 * hold/ instead when the administrator held it during the pass).
 * Input: the message's own state, already validated.  Runs in qmgr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dsn.h"
#include "log.h"
#include "params.h"
#include "qmgr.h"
#include "qmgr_backoff.h"
#include "spool.h"

#define QMGR_EXPIRED_DSN "5.4.7"

/* --- statuses that could not be written ------------------------------ */

struct qmgr_unrecorded {
	char id[QUEUE_ID_SIZE];
	off_t offset;
	char status;
};

static struct qmgr_unrecorded *qmgr_unrecorded;
static size_t qmgr_unrecorded_count;

char
qmgr_unrecorded_find(const char *id, off_t offset)
{
	size_t i;

	for (i = 0; i < qmgr_unrecorded_count; i++)
		if (qmgr_unrecorded[i].offset == offset &&
		    strcmp(qmgr_unrecorded[i].id, id) == 0)
			return qmgr_unrecorded[i].status;
	return 0;
}

void
qmgr_unrecorded_add(const char *id, off_t offset, char status)
{
	struct qmgr_unrecorded *u;

	/* XXX past the limit a failing disk may cause a second delivery. */
	if (qmgr_unrecorded_count == QMGR_UNRECORDED_MAX ||
	    qmgr_unrecorded_find(id, offset) != 0)
		return;
	qmgr_unrecorded =
	    xreallocarray(qmgr_unrecorded, qmgr_unrecorded_count + 1,
			  sizeof(*qmgr_unrecorded));
	u = &qmgr_unrecorded[qmgr_unrecorded_count++];
	memcpy(u->id, id, QUEUE_ID_SIZE);
	u->offset = offset;
	u->status = status;
}

void
qmgr_unrecorded_clear(const char *id)
{
	size_t i = 0;

	while (i < qmgr_unrecorded_count) {
		if (strcmp(qmgr_unrecorded[i].id, id) == 0)
			qmgr_unrecorded[i] =
			    qmgr_unrecorded[--qmgr_unrecorded_count];
		else
			i++;
	}
}

/* --- DSNs -------------------------------------------------------------- */

struct qmgr_failed {
	struct qmgr_bounce_rcpt *rcpt; /* the first notify go in the DSN */
	size_t *index;                 /* every one, to be marked */
	char **text;                   /* reasons written here (expiry) */
	size_t count, expired, notify;
};

static void
qmgr_failed_add(struct qmgr_failed *f, const struct qmgr_message *msg, size_t i,
		int expired, long long lifetime)
{
	const struct qmgr_rcpt_result *res = &msg->res[i];
	struct buf text = BUF_INIT;
	char span[32];
	struct qmgr_bounce_rcpt *r = &f->rcpt[f->count];

	r->addr = msg->env.rcpt[i].addr;
	r->orig = msg->env.rcpt[i].orig;
	r->dsn = res->dsn;
	r->reason = res->reason != NULL ? res->reason : "unknown reason";
	r->diag = res->diag;
	r->mta = res->mta;
	r->orcpt = msg->env.rcpt[i].dsn_orcpt;
	if (expired) {
		if (lifetime > 0 &&
		    qmgr_duration_text(lifetime, span, sizeof(span)) > 0)
			buf_printf(&text,
				   "message could not be delivered for %s (%s)",
				   span, r->reason);
		else
			buf_printf(&text, "message could not be delivered (%s)",
				   r->reason);
		f->text[f->count] = xstrdup(buf_cstr(&text));
		r->reason = f->text[f->count];
		r->dsn = QMGR_EXPIRED_DSN;
		f->expired++;
		buf_free(&text);
	}
	f->index[f->count++] = i;
}

/* Recipients for a DSN: failed for good, or deferred past the lifetime. */
static void
qmgr_failed_collect(struct qmgr_failed *f, const struct qmgr_message *msg,
		    long long now)
{
	long long lifetime = qmgr_lifetime(msg->env.sender[0] == '\0',
					   param_int("maximal_queue_lifetime"),
					   param_int("bounce_queue_lifetime"));
	int expired = qmgr_expired(now, msg->env.arrival, lifetime);
	size_t i, n = msg->env.rcpt_count;

	memset(f, 0, sizeof(*f));
	f->rcpt = xcalloc(n, sizeof(*f->rcpt));
	f->index = xcalloc(n, sizeof(*f->index));
	f->text = xcalloc(n, sizeof(*f->text));
	for (i = 0; i < n; i++) {
		if (msg->res[i].state == QMGR_RCPT_FAILED)
			qmgr_failed_add(f, msg, i, 0, lifetime);
		else if (msg->res[i].state == QMGR_RCPT_DEFERRED && expired)
			qmgr_failed_add(f, msg, i, 1, lifetime);
	}
}

static void
qmgr_failed_free(struct qmgr_failed *f)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		free(f->text[i]);
	free(f->text);
	free(f->index);
	free(f->rcpt);
}

static void
qmgr_failed_mark(struct qmgr_message *msg, const struct qmgr_failed *f)
{
	struct buf why = BUF_INIT;
	int held;
	size_t i;

	held = qmgr_message_hold_fds(msg, &why) == 0;
	if (!held)
		log_warn("%s: %s", msg->id, buf_cstr(&why));
	for (i = 0; i < f->count; i++) {
		qmgr_message_set_status(msg, f->index[i], QRCPT_BOUNCED);
		msg->res[f->index[i]].state = QMGR_RCPT_FINAL;
	}
	if (held)
		qmgr_message_release_fds(msg);
	buf_free(&why);
}

/*
 * Keep in the DSN only the recipients whose NOTIFY asks for failures (RFC
 * 3461 4.1; no NOTIFY asks); the others are marked without one.  The
 * index list keeps every recipient.  0 when none is left to notify.
 */
static int
qmgr_failed_wanted(const struct qmgr_message *msg, struct qmgr_failed *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->count; i++) {
		const struct queue_rcpt *r = &msg->env.rcpt[f->index[i]];
		if (dsn_notify_wants(r->dsn_notify, DSN_NOTIFY_FAILURE))
			f->rcpt[n++] = f->rcpt[i];
		else
			log_info("%s: to=<%s>: NOTIFY asks for no non-delivery "
				 "notification",
				 msg->id, r->addr);
	}
	f->notify = n;
	return n > 0;
}

static void
qmgr_finish_bounce(struct qmgr_message *msg, struct qmgr_failed *f)
{
	const char *sender = msg->env.sender;
	char bounce_id[QUEUE_ID_SIZE];
	struct buf why = BUF_INIT;

	if (sender[0] == '\0') {
		if (f->expired > 0)
			log_info("%s: from=<>, status=expired, discarded",
				 msg->id);
		if (f->count > f->expired)
			log_info("%s: sender is null: no non-delivery "
				 "notification",
				 msg->id);
		qmgr_failed_mark(msg, f);
		return;
	}
	if (!qmgr_failed_wanted(msg, f)) {
		qmgr_failed_mark(msg, f);
		return;
	}
	if (qmgr_bounce_send(msg, QMGR_DSN_FAILURE, f->rcpt, f->notify,
			     bounce_id, &why) != 0) {
		log_warn("%s: cannot send the non-delivery notification: %s; "
			 "will try again",
			 msg->id, buf_cstr(&why));
		buf_free(&why);
		return;
	}
	if (f->expired > 0)
		log_info("%s: from=<%s>, status=expired, returned to sender",
			 msg->id, sender);
	log_info("%s: sender non-delivery notification: %s", msg->id,
		 bounce_id);
	qmgr_failed_mark(msg, f);
	buf_free(&why);
}

/* --- removal or deferral ------------------------------------------------ */

static int
qmgr_finish_all_done(const struct qmgr_message *msg)
{
	size_t i;

	for (i = 0; i < msg->env.rcpt_count; i++)
		if (msg->res[i].state != QMGR_RCPT_FINAL &&
		    msg->res[i].state != QMGR_RCPT_SENT)
			return 0;
	return 1;
}

static void
qmgr_finish_remove(const struct qmgr_message *msg, const char *path)
{
	if (unlink(path) != 0) {
		log_warn("%s: cannot remove %s: %s", msg->id, path,
			 strerror(errno));
		return;
	}
	qmgr_unrecorded_clear(msg->id);
	qmgr_reason_forget(msg->id);
	log_info("%s: removed", msg->id);
}

/* Held during its pass (moat queue hold): to hold/, not deferred/. */
static void
qmgr_finish_hold(const struct qmgr_message *msg, const char *path)
{
	char to[64];

	if (snprintf(to, sizeof(to), "%s/%s", SPOOL_HOLD, msg->id) >=
	    (int)sizeof(to))
		return;
	if (rename(path, to) != 0) {
		log_error("%s: cannot move %s to %s/: %s", msg->id, path,
			  SPOOL_HOLD, strerror(errno));
		return;
	}
	log_info("%s: placed on hold (by uid %lu)", msg->id,
		 (unsigned long)msg->hold_uid);
}

static void
qmgr_finish_defer(const struct qmgr_message *msg, const char *path,
		  long long now)
{
	char to[64];
	struct timespec ts[2];
	long long next = qmgr_next_try(now, msg->env.arrival,
				       param_int("minimal_backoff_time"),
				       param_int("maximal_backoff_time"));

	if (snprintf(to, sizeof(to), "%s/%s", SPOOL_DEFERRED, msg->id) >=
	    (int)sizeof(to))
		return;
	/* The mtime of a deferred file is its next-try time. */
	ts[0].tv_sec = (time_t)now;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = (time_t)next;
	ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
		log_warn("%s: cannot set the next try time: %s", msg->id,
			 strerror(errno));
	if (rename(path, to) != 0) {
		log_error("%s: cannot move %s to %s/: %s", msg->id, path,
			  SPOOL_DEFERRED, strerror(errno));
		return;
	}
	qmgr_queue_note_due(next);
}

void
qmgr_message_finish(struct qmgr_message *msg)
{
	long long now = time(NULL);
	struct qmgr_failed failed;
	char path[64];

	qmgr_failed_collect(&failed, msg, now);
	if (failed.count > 0)
		qmgr_finish_bounce(msg, &failed);
	qmgr_failed_free(&failed);
	qmgr_notify_success(msg);
	qmgr_notify_delay(msg, now);
	if (snprintf(path, sizeof(path), "%s/%s", SPOOL_ACTIVE, msg->id) <
	    (int)sizeof(path)) {
		if (qmgr_finish_all_done(msg))
			qmgr_finish_remove(msg, path);
		else if (msg->hold)
			qmgr_finish_hold(msg, path);
		else
			qmgr_finish_defer(msg, path, now);
	}
	qmgr_queue_forget(msg->id, msg->env.rcpt_count);
	qmgr_message_free(msg);
}
