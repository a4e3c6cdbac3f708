/*
 * remote_io: the TCP connection to a remote SMTP server: a non-blocking
 * connect bounded by smtp_connect_timeout, writes and reply reads each
 * bounded by the timeout of their stage (poll), and replies parsed by
 * remote_reply.c from a bounded input buffer.  Every byte read is
 * hostile.  After STARTTLS the bytes go through the connection's SSL
 * object (remote_tls.c) on the same non-blocking socket, with the same
 * deadlines.  Runs in remote.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "remote_tls.h"

/* Bytes buffered from the server beyond a whole reply: a few replies. */
#define REMOTE_INPUT_MAX (REMOTE_REPLY_LINE_MAX * (REMOTE_REPLY_LINES_MAX + 4))

void
remote_conn_init(struct remote_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	buf_init(&c->in);
}

void
remote_conn_close(struct remote_conn *c)
{
	if (c->tls != NULL)
		remote_tls_close(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
}

int
remote_conn_open(struct remote_conn *c, const struct remote_addr *a,
		 int timeout, struct buf *why)
{
	long long deadline = ipc_deadline(timeout);
	socklen_t len = sizeof(int);
	int fd, err = 0, one = 1;

	fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		buf_printf(why, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->sa, a->salen) != 0) {
		if (errno != EINPROGRESS)
			err = errno;
		else if (ipc_wait(fd, POLLOUT, deadline) != 0)
			err = errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
	}
	if (err != 0) {
		buf_printf(
		    why, "connect to %s[%s]:%d: %s", a->host, a->ip, a->port,
		    err == ETIMEDOUT ? "Connection timed out" : strerror(err));
		close(fd);
		return -1;
	}
	/*
	 * No Nagle: every write is a whole command batch or a chunk of
	 * content, and the end of data (".") must not wait for the ACK of
	 * the content before it, which a server delays by up to 40 ms
	 * while it waits for the dot itself: one stall per message.
	 */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->addr = *a;
	c->opened_ms = event_now_ms();
	buf_reset(&c->in);
	snprintf(c->peer, sizeof(c->peer), "%s[%s]", a->host, a->ip);
	return 0;
}

int
remote_conn_write(struct remote_conn *c, const char *p, size_t n, int timeout)
{
	long long deadline = ipc_deadline(timeout);
	short events = POLLOUT;
	ssize_t w;

	while (n > 0) {
		if (c->tls != NULL)
			w = remote_tls_write(c, p, n, &events);
		else
			w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (ipc_wait(c->fd, events, deadline) != 0)
			return -1;
	}
	return 0;
}

ssize_t
remote_conn_read(struct remote_conn *c, char *p, size_t n, long long deadline)
{
	short events = POLLIN;
	ssize_t r;

	for (;;) {
		if (c->tls != NULL)
			r = remote_tls_read(c, p, n, &events);
		else
			r = recv(c->fd, p, n, 0);
		if (r >= 0)
			return r;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (ipc_wait(c->fd, events, deadline) != 0)
			return -1;
	}
}

int
remote_conn_reply(struct remote_conn *c, struct smtp_reply *r, int timeout,
		  const char **why)
{
	long long deadline = ipc_deadline(timeout);
	char chunk[4096];
	ssize_t n;
	int got;

	for (;;) {
		if ((got = smtp_reply_take(&c->in, r, why)) != 0) {
			if (got < 0)
				errno = EPROTO;
			return got;
		}
		if (c->in.len >= REMOTE_INPUT_MAX) {
			*why = "too much input";
			errno = EPROTO;
			return -1;
		}
		n = remote_conn_read(c, chunk, sizeof(chunk), deadline);
		if (n > 0) {
			buf_append(&c->in, chunk, (size_t)n);
			continue;
		}
		if (n == 0) {
			*why = NULL;
			errno = ECONNRESET;
			return -1;
		}
		*why = errno == ETIMEDOUT ? "timeout" : strerror(errno);
		return -1;
	}
}
