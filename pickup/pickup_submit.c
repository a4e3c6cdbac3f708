/*
 * pickup_submit: hand one maildrop message to cleanup over private/cleanup
 * ("Submission to cleanup" in ipc_proto.h): begin with the sender, protocol
 * "local" and the submitter's uid and name (from fstat and the passwd
 * table, never from the file), one rcpt frame per recipient, the content
 * in chunks, end, and cleanup's reply.  cleanup may answer early and close
 * (a refused sender or recipient): a failed send is followed by an attempt
 * to read that reply.  Hostile input: the reply is bounded and checked
 * (a queue ID must look like one).  Runs in pickup.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dsn.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "pickup.h"

static int
pickup_send(int sock, struct ipc_frame *f, int timeout)
{
	int rc = ipc_send(sock, f, -1, timeout);

	ipc_frame_reset(f);
	return rc;
}

static int
pickup_send_envelope(int sock, const struct pickup_message *m,
		     struct ipc_frame *f)
{
	char notify[DSN_NOTIFY_TEXT_MAX];
	size_t i;

	ipc_put_str(f, IPC_OP, IPC_OP_BEGIN);
	ipc_put_str(f, IPC_SENDER, m->sender);
	ipc_put_str(f, IPC_PROTOCOL, "local");
	ipc_put_int(f, IPC_SUBMIT_UID, (long long)m->uid);
	ipc_put_str(f, IPC_SUBMIT_USER, m->user);
	if (dsn_ret_name(m->env->dsn_ret) != NULL)
		ipc_put_str(f, IPC_DSN_RET, dsn_ret_name(m->env->dsn_ret));
	if (m->env->dsn_envid != NULL)
		ipc_put_str(f, IPC_DSN_ENVID, m->env->dsn_envid);
	if (pickup_send(sock, f, m->timeout) < 0)
		return -1;
	for (i = 0; i < m->env->rcpt_count; i++) {
		ipc_put_str(f, IPC_OP, IPC_OP_RCPT);
		ipc_put_str(f, IPC_ADDR, m->env->rcpt[i].addr);
		if (m->env->rcpt[i].dsn_notify != 0) {
			dsn_notify_format(m->env->rcpt[i].dsn_notify, notify);
			ipc_put_str(f, IPC_DSN_NOTIFY, notify);
		}
		if (pickup_send(sock, f, m->timeout) < 0)
			return -1;
	}
	return 0;
}

static int
pickup_send_content(int sock, const struct pickup_message *m,
		    struct ipc_frame *f)
{
	size_t off = 0, n, len = m->env->content_length;

	while (off < len) {
		n = len - off > IPC_CHUNK_MAX ? IPC_CHUNK_MAX : len - off;
		ipc_put_str(f, IPC_OP, IPC_OP_DATA);
		ipc_put(f, IPC_CHUNK, m->content + off, n);
		if (pickup_send(sock, f, m->timeout) < 0)
			return -1;
		off += n;
	}
	ipc_put_str(f, IPC_OP, IPC_OP_END);
	return pickup_send(sock, f, m->timeout);
}

/* Read cleanup's verdict from a reply frame. */
static void
pickup_reply_parse(const struct ipc_frame *f, struct pickup_reply *r)
{
	const char *text = ipc_get_str(f, IPC_TEXT);
	const char *dsn = ipc_get_str(f, IPC_DSN);
	const char *id = ipc_get_str(f, IPC_QUEUE_ID);
	long long code = 0;

	r->verdict = pickup_verdict_of(ipc_get_str(f, IPC_STATUS));
	if (ipc_get_int(f, IPC_CODE, 200, 599, &code) < 0)
		code = 0;
	snprintf(r->text, sizeof(r->text), "%lld %.16s %.200s", code,
		 dsn ? dsn : "-", text ? text : "(no text)");
	if (r->verdict != PICKUP_QUEUED)
		return;
	/* Queued whatever the ID looks like: sending again would duplicate. */
	if (id != NULL && queue_id_valid(id))
		strlcpy(r->queue_id, id, sizeof(r->queue_id));
	else
		strlcpy(r->queue_id, "NOQUEUE", sizeof(r->queue_id));
}

void
pickup_submit(const struct pickup_message *m, struct pickup_reply *r)
{
	struct ipc_frame f;
	const char *why = "connection closed";
	int sock, rc, sent;

	memset(r, 0, sizeof(*r));
	r->verdict = PICKUP_DEFER;
	sock = ipc_connect(IPC_SOCK_CLEANUP, m->timeout);
	if (sock < 0) {
		snprintf(r->text, sizeof(r->text), "connect to %s: %s",
			 IPC_SOCK_CLEANUP, strerror(errno));
		return;
	}
	ipc_frame_init(&f);
	sent = pickup_send_envelope(sock, m, &f) == 0 &&
	       pickup_send_content(sock, m, &f) == 0;
	/* Even after a failed send: cleanup may have answered and closed. */
	rc = ipc_recv(sock, &f, m->timeout, &why);
	if (rc == 1)
		pickup_reply_parse(&f, r);
	else
		snprintf(r->text, sizeof(r->text), "%s%s",
			 sent ? "no reply from cleanup: "
			      : "cleanup closed the conversation: ",
			 rc < 0 && errno == ETIMEDOUT ? "timeout" : why);
	ipc_frame_free(&f);
	close(sock);
}
