/*
 * qmgr_notify: the delivery status notifications that are not about a
 * failure (RFC 3461 NOTIFY): a success notice listing the recipients a
 * pass delivered that asked for one ("delivered" by local, "relayed" by
 * remote to a server without DSN; none when the server has DSN, since it
 * took NOTIFY and answers for itself), and the delay warning, sent once
 * per message for recipients still deferred delay_warning_time after the
 * arrival that did not turn it down (NOTIFY without DELAY).  Never for
 * the null sender.  A success notice that cleanup refuses is logged and
 * dropped (the recipients are done); a delay warning is tried again at
 * the next pass until it goes, then the W record says so.
 * XXX a crash between a delivery and the end of its pass loses that
 * success notice.  Input: the message's own, validated state.  Runs in
 * qmgr.
 */
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "log.h"
#include "params.h"
#include "qmgr.h"

/* One notice's recipient from the pass's result for recipient i. */
static void
qmgr_notify_rcpt(const struct qmgr_message *msg, size_t i,
		 struct qmgr_bounce_rcpt *r, const char *dsn)
{
	const struct qmgr_rcpt_result *res = &msg->res[i];

	memset(r, 0, sizeof(*r));
	r->addr = msg->env.rcpt[i].addr;
	r->orig = msg->env.rcpt[i].orig;
	r->orcpt = msg->env.rcpt[i].dsn_orcpt;
	r->dsn = res->dsn[0] != '\0' ? res->dsn : dsn;
	r->reason = res->reason != NULL ? res->reason : "delivered";
	r->diag = res->diag;
	r->mta = res->mta;
	r->relayed = res->relayed;
}

/* Send a notice of kind for n recipients; what to log on success. */
static int
qmgr_notify_send(const struct qmgr_message *msg, enum qmgr_dsn_kind kind,
		 const struct qmgr_bounce_rcpt *r, size_t n, const char *what)
{
	char id[QUEUE_ID_SIZE];
	struct buf why = BUF_INIT;
	int rc = qmgr_bounce_send(msg, kind, r, n, id, &why);

	if (rc != 0)
		log_warn("%s: cannot send the %s: %s", msg->id, what,
			 buf_cstr(&why));
	else
		log_info("%s: sender %s: %s", msg->id, what, id);
	buf_free(&why);
	return rc;
}

void
qmgr_notify_success(struct qmgr_message *msg)
{
	size_t i, n = 0, count = msg->env.rcpt_count;
	struct qmgr_bounce_rcpt *r;

	if (msg->env.sender[0] == '\0')
		return;
	r = xcalloc(count, sizeof(*r));
	for (i = 0; i < count; i++)
		if (msg->res[i].state == QMGR_RCPT_SENT &&
		    !msg->res[i].no_notice &&
		    dsn_notify_wants(msg->env.rcpt[i].dsn_notify,
				     DSN_NOTIFY_SUCCESS))
			qmgr_notify_rcpt(msg, i, &r[n++], "2.0.0");
	if (n > 0)
		(void)qmgr_notify_send(msg, QMGR_DSN_SUCCESS, r, n,
				       "delivery status notification");
	free(r);
}

/* Record in the W record that the warning is no longer due. */
static void
qmgr_notify_delay_done(struct qmgr_message *msg)
{
	struct buf why = BUF_INIT;

	if (qmgr_message_hold_fds(msg, &why) != 0) {
		log_warn("%s: %s", msg->id, buf_cstr(&why));
	} else {
		if (queue_file_set_warn(msg->fd_rw, &msg->env, QWARN_SENT) != 0)
			log_warn("%s: cannot record the delay warning",
				 msg->id);
		qmgr_message_release_fds(msg);
	}
	msg->env.warn = QWARN_SENT;
	buf_free(&why);
}

void
qmgr_notify_delay(struct qmgr_message *msg, long long now)
{
	long long after = param_int("delay_warning_time");
	size_t i, n = 0, deferred = 0, count = msg->env.rcpt_count;
	struct qmgr_bounce_rcpt *r;

	if (after <= 0 || msg->env.warn != QWARN_DUE ||
	    msg->env.sender[0] == '\0' || now < msg->env.arrival + after)
		return;
	r = xcalloc(count, sizeof(*r));
	for (i = 0; i < count; i++) {
		if (msg->res[i].state != QMGR_RCPT_DEFERRED)
			continue;
		deferred++;
		if (dsn_notify_wants(msg->env.rcpt[i].dsn_notify,
				     DSN_NOTIFY_DELAY))
			qmgr_notify_rcpt(msg, i, &r[n++], "4.0.0");
	}
	if (deferred > 0 &&
	    (n == 0 || qmgr_notify_send(msg, QMGR_DSN_DELAY, r, n,
					"delay notification") == 0))
		qmgr_notify_delay_done(msg);
	free(r);
}
