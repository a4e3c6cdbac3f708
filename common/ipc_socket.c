/*
 * ipc_socket: the blocking side of ipc.h: send and receive whole frames on
 * a UNIX stream socket with a deadline, pass one descriptor with
 * SCM_RIGHTS, connect by path and learn the peer's credentials.  Bytes and
 * descriptors from the peer are hostile: a frame's length is checked
 * before its payload is read, a second descriptor ends the conversation,
 * and every received descriptor is close-on-exec.  Runs in every daemon
 * and in the admin command.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define IPC_FDS_SEEN 8 /* room to notice a peer sending too many */

static long long
ipc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ipc_wait(int sock, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	for (;;) {
		left = -1;
		if (deadline > 0) {
			left = deadline - ipc_now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			if (left > INT_MAX)
				left = INT_MAX;
		}
		pfd.fd = sock;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

long long
ipc_deadline(int timeout)
{
	return timeout > 0 ? ipc_now_ms() + (long long)timeout * 1000 : 0;
}

ssize_t
ipc_sendmsg(int sock, struct iovec *iov, size_t iovcnt, int fd_to_pass)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg;
	struct cmsghdr *cmsg;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = iovcnt;
	if (fd_to_pass >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd_to_pass, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A frame as two pieces: its header (filled in) and its payload. */
static int
ipc_frame_iov(const struct ipc_frame *f, unsigned char *header,
	      struct iovec *iov)
{
	size_t len = f->raw.len;

	if (len == 0 || len > IPC_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	header[0] = (unsigned char)(len >> 24);
	header[1] = (unsigned char)(len >> 16);
	header[2] = (unsigned char)(len >> 8);
	header[3] = (unsigned char)len;
	iov[0].iov_base = header;
	iov[0].iov_len = IPC_HEADER_LEN;
	iov[1].iov_base = f->raw.data;
	iov[1].iov_len = len;
	return 0;
}

int
ipc_send(int sock, const struct ipc_frame *f, int fd_to_pass, int timeout)
{
	unsigned char header[IPC_HEADER_LEN];
	size_t iovcnt = 2;
	long long deadline = ipc_deadline(timeout);
	struct iovec iov[2], *next = iov;
	ssize_t n;

	if (ipc_frame_iov(f, header, iov) != 0)
		return -1;
	while (iovcnt > 0) {
		/* The descriptor rides on the first byte only. */
		n = ipc_sendmsg(sock, next, iovcnt, fd_to_pass);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Full: wait for room (poll only then). */
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    ipc_wait(sock, POLLOUT, deadline) == 0)
				continue;
			return -1;
		}
		fd_to_pass = -1;
		while (n > 0 && iovcnt > 0) {
			size_t step = (size_t)n < next->iov_len ? (size_t)n
								: next->iov_len;
			next->iov_base = (char *)next->iov_base + step;
			next->iov_len -= step;
			n -= (ssize_t)step;
			if (next->iov_len == 0) {
				next++;
				iovcnt--;
			}
		}
	}
	return 0;
}

/* Take the descriptors of one received message; at most one per frame. */
static int
ipc_collect_fds(struct msghdr *msg, int *fd, const char **why)
{
	struct cmsghdr *cmsg;
	int bad = (msg->msg_flags & MSG_CTRUNC) != 0;
	size_t i, nfds;
	int got;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	     cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&got, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			if (*fd < 0 && !bad)
				*fd = got;
			else {
				close(got);
				bad = 1;
			}
		}
	}
	if (bad) {
		*why = "more than one descriptor in a frame";
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * Read exactly len bytes into p, collecting a passed descriptor into *fd.
 * Returns 1, 0 on EOF before the first byte when eof_ok, -1 otherwise.
 */
static int
ipc_read_exact(int sock, char *p, size_t len, long long deadline, int *fd,
	       int eof_ok, const char **why)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_SEEN)];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg;
	struct iovec iov;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		iov.iov_base = p + done;
		iov.iov_len = len - done;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				*why = "read failed";
				return -1;
			}
			/* Nothing yet: wait (poll only then). */
			if (ipc_wait(sock, POLLIN, deadline) < 0) {
				*why = errno == ETIMEDOUT ? "timeout"
							  : "poll failed";
				return -1;
			}
			continue;
		}
		if (ipc_collect_fds(&msg, fd, why) < 0)
			return -1;
		if (n == 0) {
			if (done == 0 && eof_ok)
				return 0;
			*why = "unexpected end of file in a frame";
			errno = EPROTO;
			return -1;
		}
		done += (size_t)n;
	}
	return 1;
}

int
ipc_recv(int sock, struct ipc_frame *f, int timeout, const char **why)
{
	long long deadline = ipc_deadline(timeout);
	char header[IPC_HEADER_LEN];
	size_t len;
	int fd = -1, r;

	ipc_frame_reset(f);
	r = ipc_read_exact(sock, header, sizeof(header), deadline, &fd, 1, why);
	if (r <= 0)
		goto out;
	len = ipc_frame_length(header);
	if (len == 0 || len > IPC_FRAME_MAX) {
		*why = "bad frame length";
		errno = EPROTO;
		r = -1;
		goto out;
	}
	buf_reserve(&f->raw, len);
	r = ipc_read_exact(sock, f->raw.data, len, deadline, &fd, 0, why);
	if (r <= 0)
		goto out;
	f->raw.len = len;
	f->raw.data[len] = '\0';
	if (ipc_parse_received(f, why) < 0) {
		errno = EPROTO;
		r = -1;
	}
out:
	if (r == 1) {
		f->fd = fd;
		return 1;
	}
	if (fd >= 0)
		close(fd);
	if (r == 0)
		return 0;
	buf_reset(&f->raw);
	f->count = 0;
	return -1;
}

int
ipc_peer_cred(int sock, uid_t *uid, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	if (len != sizeof(cred)) {
		errno = EPROTO;
		return -1;
	}
	*uid = cred.uid;
	*pid = cred.pid;
	return 0;
}

/*
 * connect(2) on a UNIX stream socket never waits for the peer's accept;
 * it can only block while the listener's backlog is full.  The socket is
 * non-blocking during connect so that case (EAGAIN) is retried until the
 * timeout instead of hanging; with timeout 0 it is retried for ever.
 */
/* A non-blocking UNIX stream socket, and the address of path in sun. */
static int
ipc_unix_socket(const char *path, struct sockaddr_un *sun)
{
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

int
ipc_connect(const char *path, int timeout)
{
	long long deadline = ipc_deadline(timeout);
	struct sockaddr_un sun;
	int sock, saved, flags;

	if ((sock = ipc_unix_socket(path, &sun)) < 0)
		return -1;
	while (connect(sock, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN ||
		    (deadline > 0 && ipc_now_ms() >= deadline)) {
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			goto fail;
		}
		usleep(10000);
	}
	/* Blocking again: ipc_send and ipc_recv poll before each call. */
	flags = fcntl(sock, F_GETFL);
	if (flags < 0 || fcntl(sock, F_SETFL, flags & ~O_NONBLOCK) < 0)
		goto fail;
	return sock;
fail:
	saved = errno;
	close(sock);
	errno = saved;
	return -1;
}

/* One non-blocking read into in, with a descriptor into *fd (or none). */
static int
ipc_read_some(int sock, struct buf *in, size_t max, int *fd, const char **why)
{
	union {
		char buf[CMSG_SPACE(IPC_FDS_SEEN * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char chunk[4096];
	struct iovec iov = {chunk, sizeof(chunk)};
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != NULL) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
	}
	n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n > 0 && fd != NULL && ipc_collect_fds(&msg, fd, why) < 0)
		return -1;
	if (n <= 0) {
		*why = n == 0 ? IPC_WHY_EOF : strerror(errno);
		return -1;
	}
	if (in->len + (size_t)n > max) {
		*why = "input too large";
		return -1;
	}
	buf_append(in, chunk, (size_t)n);
	return 1;
}

int
ipc_read_frame(int sock, struct buf *in, size_t max, struct ipc_frame *f,
	       const char **why)
{
	int r;

	r = ipc_take_frame(in, f, why); /* a frame read with an earlier one */
	if (r != 0)
		return r;
	if ((r = ipc_read_some(sock, in, max, NULL, why)) <= 0)
		return r;
	return ipc_take_frame(in, f, why);
}

int
ipc_read_frame_fd(int sock, struct buf *in, size_t max, struct ipc_frame *f,
		  int *fd, const char **why)
{
	int r;

	r = ipc_take_frame(in, f, why);
	if (r != 0)
		return r;
	if ((r = ipc_read_some(sock, in, max, fd, why)) <= 0)
		return r;
	return ipc_take_frame(in, f, why);
}

int
ipc_frame_append(struct buf *out, const struct ipc_frame *f)
{
	unsigned char header[IPC_HEADER_LEN];
	struct iovec iov[2];

	if (ipc_frame_iov(f, header, iov) != 0)
		return -1;
	buf_append(out, header, sizeof(header));
	buf_append(out, f->raw.data, f->raw.len);
	return 0;
}

int
ipc_send_buf(int sock, struct buf *out)
{
	ssize_t n;

	while (out->len > 0) {
		n = send(sock, out->data, out->len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			buf_consume(out, (size_t)n);
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return -1;
	}
	return 0;
}

int
ipc_send_nowait(int sock, const struct ipc_frame *f, int fd_to_pass)
{
	unsigned char header[IPC_HEADER_LEN];
	struct iovec iov[2];
	ssize_t n;

	if (ipc_frame_iov(f, header, iov) != 0)
		return -1;
	do
		n = ipc_sendmsg(sock, iov, 2, fd_to_pass);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != f->raw.len + sizeof(header)) {
		errno = EAGAIN; /* only part went: the caller gives up */
		return -1;
	}
	return n < 0 ? -1 : 0;
}

int
ipc_connect_nowait(const char *path)
{
	struct sockaddr_un sun;
	int sock, saved;

	if ((sock = ipc_unix_socket(path, &sun)) < 0)
		return -1;
	if (connect(sock, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return sock;
	saved = errno;
	close(sock);
	errno = saved;
	return -1;
}

int
ipc_peer_alive(int sock)
{
	char c;
	ssize_t n;

	if (sock < 0)
		return 1;
	n = recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
				   errno == EINTR));
}
