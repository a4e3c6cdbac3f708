/*
 * qmgr_admin: queue administration requests on private/qmgr (protocol in
 * ipc_proto.h), one per connection: list, show, flush, hold, release,
 * requeue and delete.  qmgr.c hands over a connection whose first frame
 * is one of these; here the caller's permission is checked (qmgr_auth.c),
 * the request carried out, the reply frames queued and written as the
 * client reads them (a listing a chunk per loop turn, so deliveries go
 * on), and the connection closed; the requests themselves are in
 * qmgr_admin_ops.c.  Hostile input: the request (any local user may send
 * one): only a queue ID that passes queue_id_valid is handed on.  A client
 * that stops reading is dropped after ipc_timeout.  Runs in qmgr, chrooted
 * in the spool.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "qmgr.h"
#include "qmgr_admin.h"
#include "server.h"

struct qmgr_admin_op {
	const char *name;
	enum qmgr_perm perm;
	int needs_id;
	void (*run)(struct qmgr_admin *a, const char *id);
};

void
qmgr_admin_put_frame(struct buf *out, const struct ipc_frame *f)
{
	size_t len = f->raw.len;
	unsigned char header[IPC_HEADER_LEN];

	if (len == 0 || len > IPC_FRAME_MAX)
		log_fatal("qmgr_admin_put_frame: frame of %zu bytes", len);
	header[0] = (unsigned char)(len >> 24);
	header[1] = (unsigned char)(len >> 16);
	header[2] = (unsigned char)(len >> 8);
	header[3] = (unsigned char)len;
	buf_append(out, header, sizeof(header));
	buf_append(out, f->raw.data, len);
}

void
qmgr_admin_reply(struct qmgr_admin *a, const char *status, const char *text)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_STATUS, status);
	ipc_put_str(&f, IPC_TEXT, text);
	qmgr_admin_put_frame(&a->out, &f);
	ipc_frame_free(&f);
}

static const struct qmgr_admin_op qmgr_admin_ops[] = {
    {IPC_OP_LIST, QMGR_PERM_SEE, 0, qmgr_admin_list},
    {IPC_OP_SHOW, QMGR_PERM_READ, 1, qmgr_admin_show},
    {IPC_OP_FLUSH, QMGR_PERM_RUN, 0, qmgr_admin_flush},
    {IPC_OP_HOLD, QMGR_PERM_CHANGE, 1, qmgr_admin_hold},
    {IPC_OP_RELEASE, QMGR_PERM_CHANGE, 1, qmgr_admin_release},
    {IPC_OP_REQUEUE, QMGR_PERM_CHANGE, 1, qmgr_admin_requeue},
    {IPC_OP_DELETE, QMGR_PERM_CHANGE, 1, qmgr_admin_delete},
};

static const struct qmgr_admin_op *
qmgr_admin_find(const char *op)
{
	size_t i;

	for (i = 0; op != NULL &&
		    i < sizeof(qmgr_admin_ops) / sizeof(qmgr_admin_ops[0]);
	     i++)
		if (strcmp(qmgr_admin_ops[i].name, op) == 0)
			return &qmgr_admin_ops[i];
	return NULL;
}

int
qmgr_admin_is_request(const char *op)
{
	return qmgr_admin_find(op) != NULL;
}

/* --- the connection ------------------------------------------------------ */

static void
qmgr_admin_close(struct qmgr_admin *a)
{
	event_remove(a->fd);
	close(a->fd);
	if (a->timer != 0)
		event_timer_cancel(a->timer);
	if (a->pass_fd >= 0)
		close(a->pass_fd);
	qmgr_list_free(a->list);
	buf_free(&a->out);
	qmgr_auth_leave(&a->peer);
	free(a);
	server_client_done();
}

static void qmgr_admin_on_timeout(void *ctx);

static void
qmgr_admin_arm_timer(struct qmgr_admin *a)
{
	if (a->timer != 0)
		event_timer_cancel(a->timer);
	a->timer = event_timer_add(param_int("ipc_timeout") * 1000,
				   qmgr_admin_on_timeout, a);
}

/* Write what the socket takes: 1 all written, 0 more later, -1 error. */
static int
qmgr_admin_send(struct qmgr_admin *a)
{
	struct iovec iov;
	ssize_t n;

	while (a->out.len > 0) {
		iov.iov_base = a->out.data;
		iov.iov_len = a->out.len;
		n = ipc_sendmsg(a->fd, &iov, 1, a->pass_fd);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		if (a->pass_fd >= 0) {
			close(a->pass_fd);
			a->pass_fd = -1;
		}
		buf_consume(&a->out, (size_t)n);
		qmgr_admin_arm_timer(a);
	}
	return 1;
}

static void qmgr_admin_on_write(int fd, unsigned events, void *ctx);

/* A chunk of the listing at most per loop turn, so deliveries go on. */
static void
qmgr_admin_write(struct qmgr_admin *a)
{
	int r;

	if (a->out.len == 0 && a->list != NULL && !a->list_done)
		a->list_done = qmgr_list_more(a->list, &a->out);
	r = qmgr_admin_send(a);
	if (r < 0) {
		log_warn("op=%s uid=%lu: %s; closed", a->op,
			 (unsigned long)a->peer.uid, strerror(errno));
		qmgr_admin_close(a);
		return;
	}
	if (r == 1 && (a->list == NULL || a->list_done)) {
		qmgr_admin_close(a);
		return;
	}
	event_set(a->fd, EVENT_WRITE, qmgr_admin_on_write, a);
}

static void
qmgr_admin_on_write(int fd, unsigned events, void *ctx)
{
	(void)fd;
	(void)events;
	qmgr_admin_write(ctx);
}

static void
qmgr_admin_on_timeout(void *ctx)
{
	struct qmgr_admin *a = ctx;

	a->timer = 0;
	log_warn("op=%s uid=%lu: timeout writing the reply; closed", a->op,
		 (unsigned long)a->peer.uid);
	qmgr_admin_close(a);
}

static void
qmgr_admin_run(struct qmgr_admin *a, const struct qmgr_admin_op *op,
	       const struct ipc_frame *f)
{
	const char *id = ipc_get_str(f, IPC_QUEUE_ID);

	if (!qmgr_auth_allowed(&a->peer, op->perm)) {
		log_warn("op=%s uid=%lu pid=%ld: denied", op->name,
			 (unsigned long)a->peer.uid, (long)a->peer.pid);
		qmgr_admin_reply(a, IPC_STATUS_DENIED,
				 qmgr_auth_denial(op->perm));
		return;
	}
	if (op->needs_id && (id == NULL || !queue_id_valid(id))) {
		log_warn("op=%s uid=%lu: not a queue ID", op->name,
			 (unsigned long)a->peer.uid);
		qmgr_admin_reply(a, IPC_STATUS_ERROR, "not a queue ID");
		return;
	}
	op->run(a, id);
}

void
qmgr_admin_start(int fd, const struct qmgr_peer *p, const struct ipc_frame *f)
{
	const struct qmgr_admin_op *op =
	    qmgr_admin_find(ipc_get_str(f, IPC_OP));
	struct qmgr_admin *a = xcalloc(1, sizeof(*a));

	a->fd = fd;
	a->peer = *p;
	a->pass_fd = -1;
	buf_init(&a->out);
	if (op == NULL) {
		a->op = "unknown";
		qmgr_admin_reply(a, IPC_STATUS_ERROR, "unknown request");
	} else {
		a->op = op->name;
		qmgr_admin_run(a, op, f);
	}
	qmgr_admin_arm_timer(a);
	qmgr_admin_write(a);
}
