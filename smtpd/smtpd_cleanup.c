/*
 * smtpd_cleanup: frames to and from cleanup over private/cleanup, a path
 * relative to the chroot (queue_directory).  cleanup is a trusted local
 * daemon, yet its reply is read with the bounded parser of ipc.h and only
 * well-formed values are kept.  Frames are encoded into the session's
 * buffer and written without blocking; the caller bounds that buffer by
 * not reading its client while it is full.  Run by smtpd.
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
#include "smtpd_security.h"

#define REPLY_READ_MAX 8192

void
smtpd_cleanup_init(struct smtpd_cleanup *c, int timeout)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout = timeout;
	buf_init(&c->pending);
	buf_init(&c->out);
	buf_init(&c->in);
}

/* Queue a frame (always within IPC_FRAME_MAX here) and reuse f. */
static int
send_frame(struct smtpd_cleanup *c, struct ipc_frame *f, const char *what)
{
	int r = ipc_frame_append(&c->out, f);

	if (r != 0) {
		log_warn("cleanup: sending %s: %s", what, strerror(errno));
		c->failed = 1;
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
	ipc_put_str(&f, IPC_PROTOCOL, smtpd_session_protocol(s));
	ipc_put_str(&f, IPC_CLIENT_ADDR, s->client_addr);
	ipc_put_str(&f, IPC_CLIENT_NAME, s->client_name);
	ipc_put_str(&f, IPC_HELO, s->helo);
	if (s->sec.tls)
		ipc_put_str(&f, IPC_TLS, s->sec.tls_info);
	if (s->sec.authenticated) {
		ipc_put_str(&f, IPC_AUTH_USER, s->sec.auth_user);
		if (s->cfg->sec != NULL && s->cfg->sec->auth_header)
			ipc_put_str(&f, IPC_AUTH_HEADER, "1");
	}
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
smtpd_cleanup_connect(struct smtpd_cleanup *c)
{
	if (c->fd >= 0)
		return 0;
	c->fd = ipc_connect_nowait(IPC_SOCK_CLEANUP);
	if (c->fd >= 0)
		return 0;
	if (errno == EAGAIN)
		return 1;
	log_warn("cleanup: connect to %s: %s", IPC_SOCK_CLEANUP,
		 strerror(errno));
	c->failed = 1;
	return -1;
}

int
smtpd_cleanup_open(struct smtpd_cleanup *c, const struct smtpd_session *s)
{
	smtpd_cleanup_close(c);
	c->open = 1;
	c->failed = 0;
	c->ended = 0;
	c->code = 0;
	buf_reset(&c->pending);
	buf_reset(&c->out);
	buf_reset(&c->in);
	return send_envelope(c, s) != 0 ? -1 : 0;
}

/* Frame the pending content in chunks; all of it, or only whole chunks. */
static void
send_chunks(struct smtpd_cleanup *c, int all)
{
	struct ipc_frame f;
	size_t n;

	ipc_frame_init(&f);
	while (!c->failed && c->pending.len > 0 &&
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
	if (c->failed)
		buf_reset(&c->pending);
}

void
smtpd_cleanup_data(struct smtpd_cleanup *c, struct buf *content)
{
	if (c->open && !c->failed && content->len > 0) {
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

	if (!c->open || c->failed)
		return -1;
	send_chunks(c, 1);
	if (c->failed)
		return -1;
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, IPC_OP_END);
	r = send_frame(c, &f, "end");
	ipc_frame_free(&f);
	c->ended = r == 0;
	return r;
}

int
smtpd_cleanup_flush(struct smtpd_cleanup *c)
{
	if (c->fd < 0 || c->failed || ipc_send_buf(c->fd, &c->out) == 0)
		return c->failed ? -1 : 0;
	log_warn("cleanup: sending: %s", strerror(errno));
	c->failed = 1;
	buf_reset(&c->out);
	buf_reset(&c->pending);
	return -1;
}

size_t
smtpd_cleanup_backlog(const struct smtpd_cleanup *c)
{
	return c->out.len + c->pending.len;
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
	c->open = 0;
	buf_reset(&c->pending); /* nothing more goes to this cleanup */
	buf_reset(&c->out);
}

void
smtpd_cleanup_free(struct smtpd_cleanup *c)
{
	smtpd_cleanup_close(c);
	buf_free(&c->pending);
	buf_free(&c->out);
	buf_free(&c->in);
}
