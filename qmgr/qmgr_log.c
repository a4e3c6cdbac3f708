/*
 * qmgr_log: the per-recipient log line in Postfix's shape, which log
 * readers (pflogsumm, fail2ban) parse:
 *   ID: to=<rcpt>, orig_to=<orig>, relay=local, delay=0.12,
 *   delays=0.01/0/0/0.11, dsn=2.0.0, status=sent (delivered to maildir)
 * orig_to only when it differs from to.  The reason may carry a delivery
 * agent's text; log.c turns control bytes into '?'.  Runs in qmgr.
 */
#include <string.h>
#include <time.h>

#include "log.h"
#include "qmgr.h"
#include "delay_text.h"
#include "qmgr_backoff.h"

long long
qmgr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
qmgr_log_delay(long long ms, char *out, size_t size)
{
	if (delay_text(ms, out, size) < 0)
		return "?";
	return out;
}

void
qmgr_log_rcpt(const struct qmgr_message *msg, size_t rcpt, const char *relay,
	      const struct qmgr_times *t, const char *dsn, const char *status,
	      const char *reason)
{
	const struct queue_rcpt *r = &msg->env.rcpt[rcpt];
	char total[24], a[24], b[24], c[24], d[24];
	struct buf orig = BUF_INIT;

	if (r->orig != NULL && strcmp(r->orig, r->addr) != 0)
		buf_printf(&orig, "orig_to=<%s>, ", r->orig);
	log_info(
	    "%s: to=<%s>, %srelay=%s, delay=%s, delays=%s/%s/%s/%s, "
	    "dsn=%s, status=%s (%.*s)",
	    msg->id, r->addr, buf_cstr(&orig), relay,
	    qmgr_log_delay(t->done_ms - msg->arrival_ms, total, sizeof(total)),
	    qmgr_log_delay(msg->active_ms - msg->arrival_ms, a, sizeof(a)),
	    qmgr_log_delay(t->start_ms - msg->active_ms, b, sizeof(b)),
	    qmgr_log_delay(t->conn_ms - t->start_ms, c, sizeof(c)),
	    qmgr_log_delay(t->done_ms - t->conn_ms, d, sizeof(d)), dsn, status,
	    QMGR_REASON_MAX, reason);
	buf_free(&orig);
}
