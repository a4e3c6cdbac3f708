/*
 * qmgr_bounce_send: submit a DSN through cleanup, like any other message:
 * {op=begin, sender="", protocol="bounce", [smtputf8]}, {op=rcpt,
 * addr=the original sender}, {op=data} chunks, {op=end}, then cleanup's
 * reply.  The DSN carries the original header block (read with pread,
 * bounded by header_size_limit), or for a failure of a message sent with
 * RET=FULL the whole message when it is within bounce_size_limit.
 * Hostile input: cleanup's reply (bounded by ipc.c) and the original
 * message (copied as data).
 * XXX the conversation blocks the event loop for up to ipc_timeout per
 * step; cleanup is local and answers in milliseconds.  Runs in qmgr.
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
#include "ipc.h"
#include "ipc_proto.h"
#include "params.h"
#include "qmgr.h"

/* An RFC 5322 date-time in local time. */
static void
qmgr_bounce_date(long long when, char *out, size_t size)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(out, size, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/*
 * The original header block, or with full the whole content, read from
 * the validated queue file.
 */
static int
qmgr_bounce_headers(const struct qmgr_message *msg, int full, struct buf *out,
		    struct buf *why)
{
	char path[64];
	size_t want = msg->env.content_length;
	size_t limit =
	    (size_t)param_int(full ? "bounce_size_limit" : "header_size_limit");
	struct stat st;
	ssize_t n;
	int fd;

	if (want > limit)
		want = limit;
	snprintf(path, sizeof(path), "active/%s", msg->id);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_ino != msg->ino ||
	    st.st_dev != msg->dev) {
		buf_printf(why, "cannot reopen %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf_reserve(out, want);
	n = pread(fd, out->data, want, msg->env.content_offset);
	close(fd);
	if (n < 0) {
		buf_printf(why, "read %s: %s", path, strerror(errno));
		return -1;
	}
	out->len =
	    full ? (size_t)n : qmgr_bounce_header_len(out->data, (size_t)n);
	out->data[out->len] = '\0';
	return 0;
}

/* RET=FULL for a failure, when the message fits bounce_size_limit. */
static int
qmgr_bounce_full(const struct qmgr_message *msg, enum qmgr_dsn_kind kind)
{
	return kind == QMGR_DSN_FAILURE && msg->env.dsn_ret == DSN_RET_FULL &&
	       msg->env.content_length <=
		   (size_t)param_int("bounce_size_limit");
}

static int
qmgr_bounce_text(const struct qmgr_message *msg, enum qmgr_dsn_kind kind,
		 const struct qmgr_bounce_rcpt *rcpt, size_t count,
		 struct buf *text, struct buf *why)
{
	struct qmgr_bounce_input in;
	struct buf headers = BUF_INIT;
	char date[64], arrival[64], boundary[80], msgid[160];
	long long now = time(NULL);
	int tries, r = -1;

	memset(&in, 0, sizeof(in));
	in.kind = kind;
	in.full = qmgr_bounce_full(msg, kind);
	in.envid = msg->env.dsn_envid;
	in.utf8 = msg->env.smtputf8;
	if (qmgr_bounce_headers(msg, in.full, &headers, why) != 0)
		return -1;
	qmgr_bounce_date(now, date, sizeof(date));
	qmgr_bounce_date(msg->env.arrival, arrival, sizeof(arrival));
	in.myhostname = param_str("myhostname");
	in.sender = msg->env.sender;
	in.date = date;
	in.arrival_date = arrival;
	in.boundary = boundary;
	in.message_id = msgid;
	in.rcpt = rcpt;
	in.rcpt_count = count;
	in.headers = headers.data;
	in.headers_len = headers.len;
	for (tries = 0; tries < 4 && r != 0; tries++) {
		snprintf(boundary, sizeof(boundary), "%lld.%s.%08X", now,
			 msg->id, arc4random());
		snprintf(msgid, sizeof(msgid), "%s@%s", boundary,
			 in.myhostname);
		buf_reset(text);
		r = qmgr_bounce_build(&in, text);
	}
	if (r != 0)
		buf_printf(why, "cannot build the DSN");
	buf_free(&headers);
	return r;
}

static int
qmgr_bounce_frame(int sock, struct ipc_frame *f, int timeout, struct buf *why)
{
	int r = ipc_send(sock, f, -1, timeout);

	if (r != 0)
		buf_printf(why, "send to %s: %s", IPC_SOCK_CLEANUP,
			   strerror(errno));
	ipc_frame_reset(f);
	return r;
}

static int
qmgr_bounce_submit(int sock, const struct qmgr_message *msg,
		   const struct buf *text, int timeout, struct buf *why)
{
	struct ipc_frame f;
	size_t off, n;
	int r;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "");
	ipc_put_str(&f, IPC_PROTOCOL, "bounce");
	if (msg->env.smtputf8) /* to a UTF-8 sender, with UTF-8 inside */
		ipc_put_str(&f, IPC_SMTPUTF8, "1");
	r = qmgr_bounce_frame(sock, &f, timeout, why);
	if (r == 0) {
		ipc_put_str(&f, IPC_OP, IPC_OP_RCPT);
		ipc_put_str(&f, IPC_ADDR, msg->env.sender);
		r = qmgr_bounce_frame(sock, &f, timeout, why);
	}
	for (off = 0; r == 0 && off < text->len; off += n) {
		n = text->len - off < IPC_CHUNK_MAX ? text->len - off
						    : IPC_CHUNK_MAX;
		ipc_put_str(&f, IPC_OP, IPC_OP_DATA);
		ipc_put(&f, IPC_CHUNK, text->data + off, n);
		r = qmgr_bounce_frame(sock, &f, timeout, why);
	}
	if (r == 0) {
		ipc_put_str(&f, IPC_OP, IPC_OP_END);
		r = qmgr_bounce_frame(sock, &f, timeout, why);
	}
	ipc_frame_free(&f);
	return r;
}

static int
qmgr_bounce_reply(int sock, int timeout, char new_id[QUEUE_ID_SIZE],
		  struct buf *why)
{
	struct ipc_frame f;
	const char *status, *text, *id, *err = NULL;
	int r = -1;

	ipc_frame_init(&f);
	if (ipc_recv(sock, &f, timeout, &err) != 1) {
		buf_printf(why, "no reply from %s: %s", IPC_SOCK_CLEANUP,
			   err != NULL ? err : strerror(errno));
		goto out;
	}
	status = ipc_get_str(&f, IPC_STATUS);
	text = ipc_get_str(&f, IPC_TEXT);
	id = ipc_get_str(&f, IPC_QUEUE_ID);
	if (status == NULL || strcmp(status, IPC_STATUS_OK) != 0) {
		buf_printf(why, "%s answered %s (%.200s)", IPC_SOCK_CLEANUP,
			   status != NULL ? status : "nothing",
			   text != NULL ? text : "");
		goto out;
	}
	snprintf(new_id, QUEUE_ID_SIZE, "%s",
		 id != NULL && queue_id_valid(id) ? id : "?");
	r = 0;
out:
	ipc_frame_free(&f);
	return r;
}

int
qmgr_bounce_send(const struct qmgr_message *msg, enum qmgr_dsn_kind kind,
		 const struct qmgr_bounce_rcpt *rcpt, size_t count,
		 char new_id[QUEUE_ID_SIZE], struct buf *why)
{
	int timeout = (int)param_int("ipc_timeout");
	struct buf text = BUF_INIT;
	int sock, r = -1;

	if (qmgr_bounce_text(msg, kind, rcpt, count, &text, why) != 0)
		goto out;
	sock = ipc_connect(IPC_SOCK_CLEANUP, timeout);
	if (sock < 0) {
		buf_printf(why, "connect to %s: %s", IPC_SOCK_CLEANUP,
			   strerror(errno));
		goto out;
	}
	if (qmgr_bounce_submit(sock, msg, &text, timeout, why) == 0)
		r = qmgr_bounce_reply(sock, timeout, new_id, why);
	close(sock);
out:
	buf_free(&text);
	return r;
}
