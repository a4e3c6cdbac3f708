/*
 * smtpd_cleanup: frames to and from cleanup over private/cleanup, a path
 * relative to the chroot (queue_directory).  cleanup is a trusted local
 * daemon, yet its reply is read with the bounded parser of ipc.h and only
 * well-formed values are kept.  Sends block at most ipc_timeout seconds.
 * XXX a send blocks the whole process while cleanup's socket buffer is
 * full; cleanup reads promptly, so this stays short.  Run by smtpd.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "smtpd_cleanup.h"

#define REPLY_READ_MAX 8192

void
smtpd_cleanup_init(struct smtpd_cleanup *c, int timeout)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout = timeout;
	buf_init(&c->pending);
	buf_init(&c->in);
}

static int
send_frame(struct smtpd_cleanup *c, struct ipc_frame *f, const char *what)
{
	int r = ipc_send(c->fd, f, -1, c->timeout);

	if (r != 0) {
		log_warn("cleanup: sending %s: %s", what, strerror(errno));
		c->failed = 1;
		smtpd_cleanup_close(c);
	}
	ipc_frame_reset(f);
	return r;
}

/* SMTPUTF8 and the DSN parameters of MAIL FROM (RFC 6531, 3461). */
static void
put_esmtp(struct ipc_frame *f, const struct smtpd_esmtp *x)
{
	if (x->smtputf8)
		ipc_put_str(f, IPC_SMTPUTF8, "1");
	if (dsn_ret_name(x->ret) != NULL)
		ipc_put_str(f, IPC_DSN_RET, dsn_ret_name(x->ret));
	if (x->envid[0] != '\0')
		ipc_put_str(f, IPC_DSN_ENVID, x->envid);
}

/* NOTIFY and ORCPT of recipient i. */
static void
put_rcpt_dsn(struct ipc_frame *f, const struct smtpd_esmtp *x, size_t i)
{
	char notify[DSN_NOTIFY_TEXT_MAX];

	if (i >= x->rcpt_count)
		return;
	if (x->rcpt[i].notify != 0) {
		dsn_notify_format(x->rcpt[i].notify, notify);
		ipc_put_str(f, IPC_DSN_NOTIFY, notify);
	}
	if (x->rcpt[i].orcpt != NULL)
		ipc_put_str(f, IPC_DSN_ORCPT, x->rcpt[i].orcpt);
}

static int
send_envelope(struct smtpd_cleanup *c, const struct smtpd_session *s)
{
	struct ipc_frame f;
	size_t i;
	int r;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, s->sender);
	ipc_put_str(&f, IPC_PROTOCOL,
		    s->ext.smtputf8 ? "UTF8SMTP"
		    : s->esmtp      ? "ESMTP"
				    : "SMTP");
	ipc_put_str(&f, IPC_CLIENT_ADDR, s->client_addr);
	ipc_put_str(&f, IPC_CLIENT_NAME, s->client_name);
	ipc_put_str(&f, IPC_HELO, s->helo);
	put_esmtp(&f, &s->ext);
	r = send_frame(c, &f, "begin");
	for (i = 0; r == 0 && i < s->rcpt_count; i++) {
		ipc_put_str(&f, IPC_OP, IPC_OP_RCPT);
		ipc_put_str(&f, IPC_ADDR, s->rcpt[i]);
		put_rcpt_dsn(&f, &s->ext, i);
		r = send_frame(c, &f, "rcpt");
	}
	ipc_frame_free(&f);
	return r;
}

int
smtpd_cleanup_open(struct smtpd_cleanup *c, const struct smtpd_session *s)
{
	c->failed = 0;
	c->code = 0;
	buf_reset(&c->pending);
	buf_reset(&c->in);
	c->fd = ipc_connect(IPC_SOCK_CLEANUP, c->timeout);
	if (c->fd < 0) {
		log_warn("cleanup: connect to %s: %s", IPC_SOCK_CLEANUP,
			 strerror(errno));
		c->failed = 1;
		return -1;
	}
	return send_envelope(c, s);
}

/* Send the pending content in chunks; all of it, or only whole chunks. */
static void
send_chunks(struct smtpd_cleanup *c, int all)
{
	struct ipc_frame f;
	size_t n;

	ipc_frame_init(&f);
	while (c->fd >= 0 && c->pending.len > 0 &&
	       (all || c->pending.len >= IPC_CHUNK_MAX)) {
		n = c->pending.len < IPC_CHUNK_MAX ? c->pending.len
						   : IPC_CHUNK_MAX;
		ipc_put_str(&f, IPC_OP, IPC_OP_DATA);
		ipc_put(&f, IPC_CHUNK, c->pending.data, n);
		if (send_frame(c, &f, "data") != 0)
			break;
		buf_consume(&c->pending, n);
	}
	ipc_frame_free(&f);
	if (c->fd < 0)
		buf_reset(&c->pending);
}

void
smtpd_cleanup_data(struct smtpd_cleanup *c, struct buf *content)
{
	if (c->fd >= 0 && content->len > 0) {
		buf_append(&c->pending, content->data, content->len);
		send_chunks(c, 0);
	}
	buf_reset(content);
}

int
smtpd_cleanup_finish(struct smtpd_cleanup *c)
{
	struct ipc_frame f;
	int r;

	if (c->fd < 0)
		return -1;
	send_chunks(c, 1);
	if (c->fd < 0)
		return -1;
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, IPC_OP_END);
	r = send_frame(c, &f, "end");
	ipc_frame_free(&f);
	return r;
}

/* Keep the reply's values when they are plain and fit. */
static int
take_reply(struct smtpd_cleanup *c, const struct ipc_frame *f)
{
	const char *dsn = ipc_get_str(f, IPC_DSN);
	const char *text = ipc_get_str(f, IPC_TEXT);
	const char *id = ipc_get_str(f, IPC_QUEUE_ID);
	long long code;

	if (ipc_get_int(f, IPC_CODE, 200, 599, &code) != 0 || dsn == NULL ||
	    strlcpy(c->dsn, dsn, sizeof(c->dsn)) >= sizeof(c->dsn))
		return -1;
	c->code = (int)code;
	strlcpy(c->text, text != NULL ? text : "", sizeof(c->text));
	if (id == NULL || strlcpy(c->queue_id, id, sizeof(c->queue_id)) >=
			      sizeof(c->queue_id))
		c->queue_id[0] = '\0';
	return 0;
}

int
smtpd_cleanup_read_reply(struct smtpd_cleanup *c)
{
	struct ipc_frame f;
	const char *why = NULL;
	int r;

	ipc_frame_init(&f);
	r = ipc_read_frame(c->fd, &c->in, REPLY_READ_MAX, &f, &why);
	if (r == 1 && take_reply(c, &f) != 0) {
		why = "bad reply attributes";
		r = -1;
	}
	ipc_frame_free(&f);
	if (r < 0)
		log_warn("cleanup: reading the reply: %s", why);
	return r;
}

void
smtpd_cleanup_close(struct smtpd_cleanup *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void
smtpd_cleanup_free(struct smtpd_cleanup *c)
{
	smtpd_cleanup_close(c);
	buf_free(&c->pending);
	buf_free(&c->in);
}
