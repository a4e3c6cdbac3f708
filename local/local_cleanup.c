/*
 * local_cleanup: forwarding.  The remote targets of one delivery (from
 * aliases and .forward files) are resubmitted to cleanup as one new
 * message: the original sender kept, the content copied from qmgr's
 * read-only descriptor with a Delivered-To line for the forwarding
 * recipient in front, so a loop shows on its way back.  cleanup knows the
 * submission is forwarding (protocol "local") from this process's uid,
 * local_resolver_user, not from the frame.  Before op=end, the commit
 * point, the root parent is asked whether qmgr still waits.
 * Hostile: cleanup's reply (bounded by ipc.h, its text cleaned).
 * Runs in local's resolver; the targets were validated by the parsers.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "local.h"
#include "params.h"

struct resubmit_sink {
	int sock;
	int timeout;
	struct ipc_frame frame;
};

static int
resubmit_send(struct resubmit_sink *s)
{
	int rc = ipc_send(s->sock, &s->frame, -1, s->timeout);

	ipc_frame_reset(&s->frame);
	return rc;
}

static int
resubmit_chunk(void *ctx, const char *data, size_t len)
{
	struct resubmit_sink *s = ctx;

	ipc_put_str(&s->frame, IPC_OP, IPC_OP_DATA);
	ipc_put(&s->frame, IPC_CHUNK, data, len);
	return resubmit_send(s);
}

/* Envelope, Delivered-To line and content; 0 or -1 (r set). */
static int
resubmit_message(struct resubmit_sink *s, const struct local_msg *msg,
		 const char *const *addrs, size_t count, struct local_result *r)
{
	struct buf line = BUF_INIT;
	int rc;

	ipc_put_str(&s->frame, IPC_OP, IPC_OP_BEGIN);
	ipc_put_str(&s->frame, IPC_SENDER, msg->sender);
	ipc_put_str(&s->frame, IPC_PROTOCOL, "local");
	rc = resubmit_send(s);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		ipc_put_str(&s->frame, IPC_OP, IPC_OP_RCPT);
		ipc_put_str(&s->frame, IPC_ADDR, addrs[i]);
		ipc_put_str(&s->frame, IPC_ORIG, msg->orig_rcpt);
		rc = resubmit_send(s);
	}
	buf_printf(&line, "Delivered-To: %s\n", msg->rcpt);
	if (rc == 0)
		rc = resubmit_chunk(s, line.data, line.len);
	buf_free(&line);
	if (rc != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot forward: cleanup: %s",
				 strerror(errno));
		return -1;
	}
	if (local_msg_copy(msg, resubmit_chunk, s, r) != 0)
		return -1;
	/* Without op=end cleanup queues nothing: the commit point. */
	if (!local_commit_ok())
		return local_abort_result(r);
	ipc_put_str(&s->frame, IPC_OP, IPC_OP_END);
	if (resubmit_send(s) != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot forward: cleanup: %s",
				 strerror(errno));
		return -1;
	}
	return 0;
}

/* cleanup's answer into r. */
static void
resubmit_reply(struct resubmit_sink *s, size_t count, struct local_result *r)
{
	const char *why = "no reply", *status, *text, *id;
	struct ipc_frame f;

	ipc_frame_init(&f);
	if (ipc_recv(s->sock, &f, s->timeout, &why) != 1 ||
	    (status = ipc_get_str(&f, IPC_STATUS)) == NULL) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot forward: cleanup: %s", why);
		ipc_frame_free(&f);
		return;
	}
	text = ipc_get_str(&f, IPC_TEXT);
	id = ipc_get_str(&f, IPC_QUEUE_ID);
	if (text == NULL || strlen(text) > 512)
		text = "(no reason given)";
	if (id == NULL || strlen(id) > 64)
		id = "(unknown)";
	if (strcmp(status, IPC_STATUS_OK) == 0)
		local_result_set(r, LOCAL_SENT, "2.0.0",
				 "forwarded to %zu address%s as %s", count,
				 count == 1 ? "" : "es", id);
	else if (strcmp(status, IPC_STATUS_REJECT) == 0)
		local_result_set(r, LOCAL_BOUNCE, "5.3.0",
				 "forwarding refused by cleanup: %s", text);
	else
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot forward: cleanup: %s", text);
	ipc_frame_free(&f);
}

int
local_resubmit(const struct local_msg *msg, const char *const *addrs,
	       size_t count, struct local_result *r)
{
	struct resubmit_sink s;

	s.timeout = (int)param_int("ipc_timeout");
	s.sock = ipc_connect(IPC_SOCK_CLEANUP, s.timeout);
	if (s.sock < 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot forward: connect to %s: %s",
				 IPC_SOCK_CLEANUP, strerror(errno));
		return -1;
	}
	ipc_frame_init(&s.frame);
	if (resubmit_message(&s, msg, addrs, count, r) == 0)
		resubmit_reply(&s, count, r);
	ipc_frame_free(&s.frame);
	close(s.sock);
	return r->status == LOCAL_SENT ? 0 : -1;
}
