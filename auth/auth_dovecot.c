/*
 * auth_dovecot: one password check by Dovecot's authentication server,
 * over its client socket (smtpd_sasl_path, inside queue_directory, where
 * auth runs chrooted; Dovecot's unix_listener puts it there, as for
 * Postfix).  Each check is one connection: VERSION and CPID, the
 * server's handshake, one AUTH with mechanism PLAIN whatever the client
 * used (the credentials are already decoded), and the answer.  Every
 * step is bounded by the timeout.  The server's lines are read by
 * auth_dovecot_parse.c.  Buffers that held the password are wiped.  Run
 * by auth.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "base64.h"
#include "ipc.h"
#include "log.h"

#define DOVECOT_REQUEST_ID 1

/* Write all of data before the deadline; 0 or -1. */
static int
dovecot_write(int fd, const char *data, size_t len, long long deadline)
{
	ssize_t n;

	while (len > 0) {
		if (ipc_wait(fd, POLLOUT, deadline) != 0)
			return -1;
		n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the parser reaches its next state; 0, or -1 with *why. */
static int
dovecot_read(int fd, struct dovecot_client *d, struct buf *in,
	     long long deadline, const char **why)
{
	char chunk[4096];
	ssize_t n;
	int r;

	while ((r = dovecot_client_feed(d, in, why)) == 0) {
		if (in->len > DOVECOT_LINE_MAX * 4) {
			*why = "too much without a line end";
			return -1;
		}
		if (ipc_wait(fd, POLLIN, deadline) != 0) {
			*why = "no answer in time";
			return -1;
		}
		n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			*why = n == 0 ? "connection closed" : strerror(errno);
			return -1;
		}
		buf_append(in, chunk, (size_t)n);
	}
	return r < 0 ? -1 : 0;
}

/* Only an IP address's characters go into rip=. */
static int
dovecot_addr_ok(const char *a)
{
	size_t n = strspn(a, "0123456789abcdefABCDEF.:");

	return n > 0 && n < 64 && a[n] == '\0';
}

static void
dovecot_request(struct buf *req, const char *user, const char *pass,
		const char *client_addr)
{
	struct buf plain = BUF_INIT;

	buf_append_char(&plain, '\0');
	buf_append_str(&plain, user);
	buf_append_char(&plain, '\0');
	buf_append_str(&plain, pass);
	buf_printf(req, "AUTH\t%d\tPLAIN\tservice=smtp\tnologin\tsecured",
		   DOVECOT_REQUEST_ID);
	if (client_addr != NULL && dovecot_addr_ok(client_addr))
		buf_printf(req, "\trip=%s", client_addr);
	buf_append_str(req, "\tresp=");
	base64_encode((const unsigned char *)plain.data, plain.len, req);
	buf_append_char(req, '\n');
	explicit_bzero(plain.data, plain.cap);
	buf_free(&plain);
}

enum auth_verdict
auth_dovecot_check(const char *path, const char *user, const char *pass,
		   const char *client_addr, int timeout)
{
	long long deadline = ipc_deadline(timeout);
	struct dovecot_client d;
	struct buf in = BUF_INIT, out = BUF_INIT;
	const char *why = NULL;
	int fd;

	dovecot_client_init(&d, DOVECOT_REQUEST_ID);
	fd = ipc_connect(path, timeout);
	if (fd < 0) {
		log_warn("dovecot: connect to %s: %s", path, strerror(errno));
		return AUTH_TEMP;
	}
	buf_printf(&out, "VERSION\t1\t2\nCPID\t%ld\n", (long)getpid());
	if (dovecot_write(fd, out.data, out.len, deadline) != 0)
		why = "cannot send the handshake";
	else if (dovecot_read(fd, &d, &in, deadline, &why) == 0 && !d.plain)
		why = "the server does not offer PLAIN";
	if (why == NULL) {
		buf_reset(&out);
		dovecot_request(&out, user, pass, client_addr);
		if (dovecot_write(fd, out.data, out.len, deadline) != 0)
			why = "cannot send the request";
		else
			(void)dovecot_read(fd, &d, &in, deadline, &why);
	}
	close(fd);
	explicit_bzero(out.data, out.cap);
	buf_free(&out);
	buf_free(&in);
	if (why != NULL) {
		log_warn("dovecot: %s: %s", path, why);
		return AUTH_TEMP;
	}
	return d.verdict;
}
