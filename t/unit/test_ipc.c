/*
 * test_ipc: frames round-trip over real sockets (binary values, repeated
 * names, a passed descriptor, a frame near the size cap), EOF and timeouts
 * behave as ipc.h says, and malformed payloads are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "tap.h"

/* A parse that must fail, with its reason printed on failure. */
static void
rejects(const char *payload, size_t len, const char *name)
{
	struct ipc_frame f;
	const char *why = NULL;
	int r;

	ipc_frame_init(&f);
	r = ipc_parse(payload, len, &f, &why);
	ok(r == -1 && why != NULL && f.count == 0, "rejects %s", name);
	if (r != -1)
		printf("#   expected -1, got %d\n", r);
	else
		printf("#   reason: %s\n", why);
	ipc_frame_free(&f);
}

static void
test_round_trip(void)
{
	struct ipc_frame out, in;
	const char *why = "";
	const struct ipc_attr *a;
	long long v = 0;
	int sv[2], rcpts = 0;
	size_t i;

	ipc_frame_init(&out);
	ipc_frame_init(&in);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	ipc_put_str(&out, "op", "begin");
	ipc_put_str(&out, "sender", "");
	ipc_put(&out, "bin", "a\0b,\n:9", 7);
	ipc_put_str(&out, "rcpt", "one@example.org");
	ipc_put_str(&out, "rcpt", "two@example.org");
	ipc_put_int(&out, "size", -1234567890123LL);
	is_int(ipc_send(sv[0], &out, -1, 5), 0, "send a frame");
	is_int(ipc_recv(sv[1], &in, 5, &why), 1, "receive it");
	is_int(in.count, 6, "six attributes");
	is_int(in.fd, -1, "no descriptor");
	is_str(ipc_get_str(&in, "op"), "begin", "op value");
	is_str(ipc_get_str(&in, "sender"), "", "empty value");
	a = ipc_get(&in, "bin");
	ok(a != NULL && a->value_len == 7 &&
	       memcmp(a->value, "a\0b,\n:9", 8) == 0,
	   "binary value kept with its NUL and a NUL after it");
	ok(ipc_get_str(&in, "bin") == NULL,
	   "ipc_get_str refuses a value with a NUL");
	is_str(ipc_get_str(&in, "rcpt"), "one@example.org",
	       "ipc_get returns the first of repeated names");
	for (i = 0; i < in.count; i++)
		rcpts += strcmp(in.attr[i].name, "rcpt") == 0;
	is_int(rcpts, 2, "both repeated attributes are there, in order");
	is_str(in.attr[4].value, "two@example.org", "second rcpt in place");
	is_int(ipc_get_int(&in, "size", LLONG_MIN, 0, &v), 0, "negative int");
	is_int(v, -1234567890123LL, "int value");
	ok(ipc_get(&in, "missing") == NULL, "absent name gives NULL");
	ipc_frame_free(&out);
	ipc_frame_free(&in);
	close(sv[0]);
	close(sv[1]);
}

/* ipc_get_int on a received frame {n=value}. */
static int
get_int(const char *value, long long min, long long max, long long *v)
{
	struct ipc_frame out, in;
	const char *why = "";
	int r = -2;

	ipc_frame_init(&out);
	ipc_frame_init(&in);
	ipc_put_str(&out, "n", value);
	if (ipc_parse(out.raw.data, out.raw.len, &in, &why) == 0)
		r = ipc_get_int(&in, "n", min, max, v);
	ipc_frame_free(&out);
	ipc_frame_free(&in);
	return r;
}

static void
test_get_int(void)
{
	static const char *const bad[] = {"",     "-",  "+1",
					  "01",   "-0", "1a",
					  " 1",   "1 ", "99999999999999999999",
					  "0x10", "--1"};
	long long v = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(get_int(bad[i], LLONG_MIN, LLONG_MAX, &v) == -1,
		   "ipc_get_int refuses \"%s\"", bad[i]);
	is_int(get_int("0", 0, 10, &v), 0, "\"0\" is a number");
	is_int(v, 0, "  its value is 0");
	is_int(get_int("9223372036854775807", 0, LLONG_MAX, &v), 0,
	       "LLONG_MAX parses");
	is_int(get_int("100", 0, 99, &v), -1, "100 is above max 99");
	is_int(get_int("100", 101, 200, &v), -1, "100 is below min 101");
	is_int(get_int("100", 100, 100, &v), 0, "100 is within [100, 100]");
}

static void
test_fd_passing(void)
{
	struct ipc_frame out, in;
	const char *why = "";
	int sv[2], p[2];
	char got[8] = "";

	ipc_frame_init(&out);
	ipc_frame_init(&in);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (pipe(p) < 0)
		abort();
	ipc_put_str(&out, "op", "deliver");
	is_int(ipc_send(sv[0], &out, p[1], 5), 0, "send with a descriptor");
	close(p[1]);
	is_int(ipc_recv(sv[1], &in, 5, &why), 1, "receive it");
	ok(in.fd >= 0, "a descriptor arrived (%d)", in.fd);
	ok((fcntl(in.fd, F_GETFD) & FD_CLOEXEC) != 0,
	   "received descriptor is close-on-exec");
	is_int(write(in.fd, "hi", 2), 2, "write through the passed pipe end");
	ipc_frame_reset(&in);
	is_int(in.fd, -1, "reset closes the descriptor");
	is_int(read(p[0], got, sizeof(got)), 2, "the pipe got 2 bytes");
	is_int(read(p[0], got, sizeof(got)), 0,
	       "and EOF: no copy of the write end is left open");
	close(p[0]);
	ipc_frame_free(&out);
	ipc_frame_free(&in);
	close(sv[0]);
	close(sv[1]);
}

/* Two descriptors with one frame: refused, and both closed. */
static void
test_two_fds(void)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	static const char frame[] = "\0\0\0\x0a"
				    "2:op,1:x,";
	struct ipc_frame in;
	struct msghdr msg;
	struct cmsghdr *cmsg;
	struct iovec iov;
	const char *why = "";
	int sv[2], p[2], fds[2];
	char c;

	ipc_frame_init(&in);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (pipe(p) < 0)
		abort();
	fds[0] = p[1];
	fds[1] = p[1];
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)frame;
	iov.iov_len = sizeof(frame) - 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	is_int(sendmsg(sv[0], &msg, 0), (long long)sizeof(frame) - 1,
	       "raw frame with two descriptors sent");
	close(p[1]);
	is_int(ipc_recv(sv[1], &in, 5, &why), -1, "two descriptors refused");
	is_int(errno, EPROTO, "errno EPROTO");
	is_int(in.fd, -1, "no descriptor kept");
	is_int(read(p[0], &c, 1), 0, "both received copies were closed");
	close(p[0]);
	ipc_frame_free(&in);
	close(sv[0]);
	close(sv[1]);
}

/* Write raw bytes, close, and see what ipc_recv makes of them. */
static int
recv_after(const char *bytes, size_t len, int *err, const char **why)
{
	struct ipc_frame in;
	int sv[2], r;

	ipc_frame_init(&in);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (len > 0 && write(sv[0], bytes, len) != (ssize_t)len)
		return -2;
	close(sv[0]);
	errno = 0;
	r = ipc_recv(sv[1], &in, 5, why);
	*err = errno;
	close(sv[1]);
	ipc_frame_free(&in);
	return r;
}

static void
test_eof_and_garbage(void)
{
	const char *why = "";
	int err;

	is_int(recv_after("", 0, &err, &why), 0, "EOF before a frame gives 0");
	is_int(recv_after("\0\0", 2, &err, &why), -1, "EOF inside the header");
	is_int(err, EPROTO, "  is EPROTO");
	is_int(recv_after("\0\0\0\x0a"
			  "2:op",
			  8, &err, &why),
	       -1, "EOF inside the payload");
	is_int(err, EPROTO, "  is EPROTO");
	is_int(recv_after("\0\0\0\0", 4, &err, &why), -1, "zero length frame");
	is_int(recv_after("\0\x10\0\x01", 4, &err, &why), -1,
	       "length over IPC_FRAME_MAX");
	is_str(why, "bad frame length", "  reason");
	is_int(recv_after("\0\0\0\x0a"
			  "2:OP,1:x,",
			  14, &err, &why),
	       -1, "malformed payload over the wire");
	is_int(err, EPROTO, "  is EPROTO");
}

static void
test_timeout(void)
{
	struct ipc_frame in;
	const char *why = "";
	struct timespec t0, t1;
	int sv[2], r;
	double s;

	ipc_frame_init(&in);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ipc_recv(sv[1], &in, 1, &why);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	is_int(r, -1, "a silent peer times out");
	is_int(errno, ETIMEDOUT, "  with ETIMEDOUT");
	ok(s >= 0.9 && s < 3, "  after about a second (%.2fs)", s);
	/* Half a header, then silence. */
	is_int(write(sv[0], "\0\0", 2), 2, "half a header written");
	is_int(ipc_recv(sv[1], &in, 1, &why), -1, "a stalled frame times out");
	is_int(errno, ETIMEDOUT, "  with ETIMEDOUT");
	ipc_frame_free(&in);
	close(sv[0]);
	close(sv[1]);
}

/* A frame of nearly IPC_FRAME_MAX bytes needs many partial writes. */
static void
test_big_frame(void)
{
	struct ipc_frame out, in;
	const char *why = "";
	const struct ipc_attr *a;
	size_t vlen = IPC_FRAME_MAX - 32, i;
	char *big = xmalloc(vlen);
	int sv[2], status;
	pid_t pid;

	for (i = 0; i < vlen; i++)
		big[i] = (char)(i * 7);
	ipc_frame_init(&out);
	ipc_frame_init(&in);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	ipc_put(&out, "chunk", big, vlen);
	ok(out.raw.len <= IPC_FRAME_MAX, "frame fits (%zu)", out.raw.len);
	pid = fork();
	if (pid == 0)
		_exit(ipc_send(sv[0], &out, -1, 10) == 0 ? 0 : 1);
	is_int(ipc_recv(sv[1], &in, 10, &why), 1, "receive a big frame");
	a = ipc_get(&in, "chunk");
	ok(a != NULL && a->value_len == vlen &&
	       memcmp(a->value, big, vlen) == 0,
	   "big value intact");
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender succeeded");
	ipc_put(&out, "more", big, 40);
	is_int(ipc_send(sv[0], &out, -1, 1), -1, "over-size frame not sent");
	is_int(errno, EMSGSIZE, "  EMSGSIZE");
	ipc_frame_free(&out);
	ipc_frame_free(&in);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

static void
test_malformed(void)
{
	char many[IPC_ATTR_MAX * 8 + 16];
	char name33[64];
	size_t n = 0, i;

	rejects("", 0, "an empty payload");
	rejects("3:ab,1:x,", 9, "a netstring shorter than its length");
	rejects("2:op;1:x,", 9, "a netstring without its comma");
	rejects("x:op,1:x,", 9, "a non-numeric length");
	rejects(":op,1:x,", 8, "a missing length");
	rejects("02:op,1:x,", 10, "a length with a leading zero");
	rejects("00000002:op,1:x,", 16, "an 8-digit length");
	rejects("2:op", 4, "a truncated netstring");
	rejects("2:op,", 5, "a name without a value");
	rejects("2:OP,1:x,", 9, "an uppercase name");
	rejects("2:o-,1:x,", 9, "a name with a dash");
	rejects("0:,1:x,", 7, "an empty name");
	rejects("2:op,1:x,junk", 13, "trailing garbage");
	rejects("2:op,1:x,2", 10, "a trailing partial length");
	rejects("2:o\0,1:x,", 9, "a NUL in a name");
	snprintf(name33, sizeof(name33), "33:%s,1:x,",
		 "abcdefghijklmnopqrstuvwxyz0123456");
	rejects(name33, strlen(name33), "a 33-byte name");
	for (i = 0; i <= IPC_ATTR_MAX; i++) {
		memcpy(many + n, "1:a,0:,", 7);
		n += 7;
	}
	rejects(many, n, "IPC_ATTR_MAX + 1 attributes");
	{
		struct ipc_frame f;
		const char *why = "";
		ipc_frame_init(&f);
		is_int(ipc_parse(many, n - 7, &f, &why), 0,
		       "exactly IPC_ATTR_MAX attributes parse");
		is_int(f.count, IPC_ATTR_MAX, "  all of them");
		ipc_frame_free(&f);
	}
	{
		char *huge = xcalloc(IPC_FRAME_MAX + 1, 1);
		rejects(huge, IPC_FRAME_MAX + 1, "a payload over the cap");
		free(huge);
	}
}

static void
test_take_frame(void)
{
	static const char two[] = "\0\0\0\x09"
				  "2:op,1:a,"
				  "\0\0\0\x09"
				  "2:op,1:b,";
	struct buf in = BUF_INIT;
	struct ipc_frame f;
	const char *why = "";
	size_t i;
	int r = 0;

	ipc_frame_init(&f);
	for (i = 0; i < 13 && r == 0; i++) {
		buf_append(&in, two + i, 1);
		r = ipc_take_frame(&in, &f, &why);
	}
	is_int(r, 1, "a frame is taken once its last byte is in");
	is_int(i, 13, "  after exactly 13 bytes");
	is_int(in.len, 0, "  and removed from the buffer");
	buf_append(&in, two + 13, sizeof(two) - 1 - 13);
	is_int(ipc_take_frame(&in, &f, &why), 1, "the second frame");
	is_str(ipc_get_str(&f, "op"), "b", "  with its value");
	is_int(ipc_take_frame(&in, &f, &why), 0, "nothing more");
	buf_append(&in, "\x01\0\0\0", 4);
	is_int(ipc_take_frame(&in, &f, &why), -1,
	       "a header over the cap fails at once");
	buf_reset(&in);
	buf_append(&in, "\0\0\0\x05junk!", 9);
	is_int(ipc_take_frame(&in, &f, &why), -1, "a malformed frame fails");
	buf_free(&in);
	ipc_frame_free(&f);
}

/* Frames appended to a buffer of our own read back as sent. */
static void
test_frame_append(void)
{
	struct buf out = BUF_INIT;
	struct ipc_frame f, g;
	const char *why = "";

	ipc_frame_init(&f);
	ipc_frame_init(&g);
	is_int(ipc_frame_append(&out, &f), -1,
	       "an empty frame is not appended");
	ipc_put_str(&f, "op", "data");
	ipc_put(&f, "chunk", "a\0b", 3);
	is_int(ipc_frame_append(&out, &f), 0, "a frame is appended");
	ipc_frame_reset(&f);
	ipc_put_str(&f, "op", "end");
	is_int(ipc_frame_append(&out, &f), 0, "a second one after it");
	is_int(ipc_take_frame(&out, &g, &why), 1, "the first reads back");
	is_str(ipc_get_str(&g, "op"), "data", "  its op");
	ok(ipc_get(&g, "chunk") != NULL &&
	       ipc_get(&g, "chunk")->value_len == 3 &&
	       memcmp(ipc_get(&g, "chunk")->value, "a\0b", 3) == 0,
	   "  its binary chunk");
	is_int(ipc_take_frame(&out, &g, &why), 1, "the second reads back");
	is_str(ipc_get_str(&g, "op"), "end", "  its op");
	is_int(out.len, 0, "nothing left");
	ipc_frame_free(&f);
	ipc_frame_free(&g);
	buf_free(&out);
}

static void
test_connect(void)
{
	char dir[] = "/tmp/moat-ipc-XXXXXX", path[200], longp[200];
	struct sockaddr_un sun;
	uid_t uid = 99;
	pid_t pid = 0;
	int l, c, a;

	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	is_int(ipc_connect(longp, 1), -1, "an over-long path is refused");
	is_int(errno, ENAMETOOLONG, "  ENAMETOOLONG");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/sock", dir);
	is_int(ipc_connect(path, 1), -1, "no socket yet");
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	bind(l, (struct sockaddr *)&sun, sizeof(sun));
	listen(l, 5);
	c = ipc_connect(path, 1);
	ok(c >= 0, "connect to a listening socket");
	ok((fcntl(c, F_GETFD) & FD_CLOEXEC) &&
	       !(fcntl(c, F_GETFL) & O_NONBLOCK),
	   "  close-on-exec and blocking");
	a = accept(l, NULL, NULL);
	is_int(ipc_peer_cred(a, &uid, &pid), 0, "SO_PEERCRED");
	is_int(uid, geteuid(), "  peer uid is ours");
	is_int(pid, getpid(), "  peer pid is ours");
	close(a);
	close(c);
	close(l);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_round_trip();
	test_get_int();
	test_fd_passing();
	test_two_fds();
	test_eof_and_garbage();
	test_timeout();
	test_big_frame();
	test_malformed();
	test_take_frame();
	test_frame_append();
	test_connect();
	return done_testing();
}
