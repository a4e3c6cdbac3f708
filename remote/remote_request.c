/*
 * remote_request: one delivery request from qmgr (frames in ipc_proto.h)
 * and what goes back: the request is checked field by field (queue ID,
 * addresses through the one address parser, the descriptor read-only
 * and holding the content), the transaction built from it, and for each
 * recipient one log line in Postfix's shape, which pflogsumm reads,
 *   ID: to=<a@b>, relay=mx.b[192.0.2.1]:25, conn_use=2, delay=1.2,
 *   delays=0.01/0/0.6/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)
 * and one result frame.  delays: before qmgr (arrival to the active
 * set), in qmgr (to the hand-off of this request), connection setup
 * (hand-off to a ready session: connect, greeting, EHLO, or RSET of a
 * reused session; includes the wait for this process), transmission
 * (MAIL to the final reply), all wall-clock milliseconds of qmgr's and
 * this process's clocks.  Hostile input: qmgr's frame (bounded by ipc.c,
 * validated here) and the remote texts (control bytes already '?').
 * Runs in remote.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "address.h"
#include "delay_text.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "queue_file.h"
#include "remote.h"

/*
 * An address from qmgr: parses (with a domain), fits, no controls; UTF-8
 * came in only with SMTPUTF8, which the transaction then asks for.
 */
static int
request_address(const char *s, int allow_null)
{
	return address_text_ok(s, ADDR_ALLOW_UTF8 |
				      (allow_null ? ADDR_ALLOW_NULL : 0));
}

/* A DSN parameter value: printable ASCII, bounded. */
static int
request_param_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return i > 0 && i < REMOTE_PARAM_MAX;
}

/* A recipient's followers (orig_rcpt, dsn_notify, dsn_orcpt). */
static const char *
request_follower(struct remote_req *q, const struct ipc_attr *a)
{
	struct smtp_rcpt *rc = &q->rcpt[q->txn.rcpt_count - 1];

	if (strcmp(a->name, IPC_ORIG_RCPT) == 0) {
		if (request_address(a->value, 0))
			q->orig[q->txn.rcpt_count - 1] = a->value;
	} else if (strcmp(a->name, IPC_DSN_NOTIFY) == 0) {
		if (!request_param_ok(a->value))
			return "bad dsn_notify";
		rc->notify = a->value;
	} else if (strcmp(a->name, IPC_DSN_ORCPT) == 0) {
		if (!request_param_ok(a->value))
			return "bad dsn_orcpt";
		rc->orcpt = a->value;
	}
	return NULL;
}

/* The recipients, each with what follows it. */
static const char *
request_rcpts(struct remote_req *q, const struct ipc_frame *f)
{
	const char *why;
	size_t i;

	for (i = 0; i < f->count; i++) {
		const struct ipc_attr *a = &f->attr[i];
		if (strcmp(a->name, IPC_RCPT) == 0) {
			if (q->txn.rcpt_count == REMOTE_RCPT_MAX)
				return "too many recipients";
			if (strlen(a->value) != a->value_len ||
			    !request_address(a->value, 0))
				return "bad rcpt";
			q->rcpt[q->txn.rcpt_count].addr = a->value;
			q->txn.rcpt_count++;
		} else if (q->txn.rcpt_count > 0 &&
			   strlen(a->value) == a->value_len &&
			   (why = request_follower(q, a)) != NULL) {
			return why;
		}
	}
	return q->txn.rcpt_count > 0 ? NULL : "no rcpt";
}

static long long
request_time(const struct ipc_frame *f, const char *name)
{
	long long v;

	if (ipc_get_int(f, name, 0, 1LL << 50, &v) != 0)
		return 0;
	return v;
}

static const char *
request_envelope(struct remote_req *q, const struct ipc_frame *f)
{
	const char *op = ipc_get_str(f, IPC_OP);
	long long off, len;

	if (op == NULL || strcmp(op, IPC_OP_DELIVER) != 0)
		return "not a delivery request";
	q->queue_id = ipc_get_str(f, IPC_QUEUE_ID);
	q->nexthop = ipc_get_str(f, IPC_NEXTHOP);
	q->txn.sender = ipc_get_str(f, IPC_SENDER);
	if (q->queue_id == NULL || !queue_id_valid(q->queue_id))
		return "bad queue_id";
	if (q->nexthop == NULL || q->nexthop[0] == '\0' ||
	    strlen(q->nexthop) >= REMOTE_HOST_MAX + 8)
		return "bad nexthop";
	if (!request_address(q->txn.sender, 1))
		return "bad sender";
	if (ipc_get_int(f, IPC_CONTENT_OFFSET, 0, 1LL << 40, &off) != 0 ||
	    ipc_get_int(f, IPC_CONTENT_LENGTH, 0, 1LL << 40, &len) != 0)
		return "bad content_offset or content_length";
	q->msg.offset = (off_t)off;
	q->msg.length = (off_t)len;
	q->t_arrival = request_time(f, IPC_TIME_ARRIVAL);
	q->t_active = request_time(f, IPC_TIME_ACTIVE);
	q->t_handoff = request_time(f, IPC_TIME_HANDOFF);
	q->txn.ret = ipc_get_str(f, IPC_DSN_RET);
	q->txn.envid = ipc_get_str(f, IPC_DSN_ENVID);
	if ((q->txn.ret != NULL && strcasecmp(q->txn.ret, "FULL") != 0 &&
	     strcasecmp(q->txn.ret, "HDRS") != 0) ||
	    (q->txn.envid != NULL && !request_param_ok(q->txn.envid)))
		return "bad dsn_ret or dsn_envid";
	q->txn.smtputf8 = ipc_get(f, IPC_SMTPUTF8) != NULL;
	return NULL;
}

/* The descriptor: read-only, a regular file holding the content. */
static const char *
request_fd(struct remote_req *q, int fd)
{
	struct stat st;
	int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;

	if (fd < 0)
		return "no queue file descriptor";
	q->msg.fd = fd;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY)
		return "the queue file descriptor is not read-only";
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return "the queue file descriptor is not a regular file";
	if (q->msg.offset + q->msg.length > st.st_size)
		return "the content lies beyond the end of the queue file";
	return NULL;
}

const char *
remote_request_parse(struct remote_req *q, const struct ipc_frame *f)
{
	const char *why;

	memset(q, 0, sizeof(*q));
	q->msg.fd = -1;
	q->msg.client_fd = -1;
	q->rcpt = xcalloc(REMOTE_RCPT_MAX, sizeof(*q->rcpt));
	q->orig = xcalloc(REMOTE_RCPT_MAX, sizeof(*q->orig));
	q->txn.rcpt = q->rcpt;
	if ((why = request_envelope(q, f)) != NULL ||
	    (why = request_rcpts(q, f)) != NULL ||
	    (why = request_fd(q, f->fd)) != NULL)
		return why;
	return NULL;
}

void
remote_request_free(struct remote_req *q)
{
	free(q->rcpt);
	free(q->orig);
	q->rcpt = NULL;
	q->orig = NULL;
}

static const char *
request_status(enum smtp_rcpt_state st, int for_log)
{
	if (st == SMTP_RCPT_SENT)
		return "sent";
	if (st == SMTP_RCPT_BOUNCE)
		return for_log ? "bounced" : IPC_STATUS_BOUNCE;
	return for_log ? "deferred" : IPC_STATUS_DEFER;
}

static const char *
request_delay(long long ms, char *out, size_t size)
{
	return delay_text(ms, out, size) < 0 ? "?" : out;
}

void
remote_request_log(const struct remote_req *q, size_t i,
		   const struct remote_outcome *o)
{
	const struct smtp_rcpt *rc = &q->rcpt[i];
	char total[24], a[24], b[24], c[24], d[24], use[32] = "";
	struct buf orig = BUF_INIT;
	long long handoff = q->t_handoff ? q->t_handoff : o->ready_ms;

	if (q->orig[i] != NULL && strcmp(q->orig[i], rc->addr) != 0)
		buf_printf(&orig, "orig_to=<%s>, ", q->orig[i]);
	if (o->conn_use > 1)
		snprintf(use, sizeof(use), "conn_use=%u, ", o->conn_use);
	log_info("%s: to=<%s>, %srelay=%s, %sdelay=%s, delays=%s/%s/%s/%s, "
		 "dsn=%s, status=%s (%s)",
		 q->queue_id, rc->addr, buf_cstr(&orig), o->relay, use,
		 request_delay(o->done_ms - q->t_arrival, total, sizeof(total)),
		 request_delay(q->t_active - q->t_arrival, a, sizeof(a)),
		 request_delay(handoff - q->t_active, b, sizeof(b)),
		 request_delay(o->ready_ms - handoff, c, sizeof(c)),
		 request_delay(o->done_ms - o->ready_ms, d, sizeof(d)), rc->dsn,
		 request_status(rc->state, 1), rc->text);
	buf_free(&orig);
}

int
remote_request_answer(int sock, const struct remote_req *q, size_t i,
		      const struct remote_outcome *o, int close_after,
		      int timeout)
{
	const struct smtp_rcpt *rc = &q->rcpt[i];
	struct ipc_frame f;
	int r;

	ipc_frame_init(&f);
	ipc_put_int(&f, IPC_RCPT_INDEX, (long long)i);
	ipc_put_str(&f, IPC_STATUS, request_status(rc->state, 0));
	ipc_put_str(&f, IPC_DSN, rc->dsn);
	ipc_put_str(&f, IPC_TEXT, rc->text);
	if (rc->diag[0] != '\0')
		ipc_put_str(&f, IPC_DIAG, rc->diag);
	if (o->mta[0] != '\0')
		ipc_put_str(&f, IPC_REMOTE_MTA, o->mta);
	/* Sent to a DSN server, which now answers for NOTIFY itself. */
	if (rc->state == SMTP_RCPT_SENT && o->dsn)
		ipc_put_str(&f, IPC_DSN_PASSED, "1");
	if (close_after)
		ipc_put_str(&f, IPC_CLOSE, "1");
	r = ipc_send(sock, &f, -1, timeout);
	ipc_frame_free(&f);
	return r;
}
