/*
 * test_landlock: common/landlock.c confines a process as local's resolver
 * and delivery children need: after landlock_confine, a forked child may
 * create, write, rename and remove files only below the directory it was
 * granted, may read a directory granted for reading but not write there,
 * cannot open anything else (not even /etc/passwd, as root), keeps the
 * descriptors it had, and (with ABI 4) cannot connect over TCP.  With no
 * path at all it can open nothing.  Skipped on a kernel without Landlock.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"
#include "tap.h"

static char top[] = "/tmp/test_landlock.XXXXXX";
static char granted[128], readonly[128], other[128];

/* Bits a confined child reports back, one per check that held. */
#define C_WRITE_GRANTED 0x001
#define C_RENAME_GRANTED 0x002
#define C_REMOVE_GRANTED 0x004
#define C_MKDIR_GRANTED 0x008
#define C_READ_READONLY 0x010
#define C_NO_WRITE_READONLY 0x020
#define C_NO_WRITE_OTHER 0x040
#define C_NO_PASSWD 0x080
#define C_OLD_FD_WORKS 0x100
#define C_NO_TCP 0x200

static int
at(const char *dir, const char *name, int flags)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, flags | O_CLOEXEC, 0600);
}

/* 1 when a TCP connect to 127.0.0.1:1 is refused by Landlock itself. */
static int
tcp_denied(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(1),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM, 0), rc, err;

	if (s < 0)
		return 0;
	rc = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	err = errno;
	close(s);
	return rc != 0 && err == EACCES;
}

/* A listening TCP socket on 127.0.0.1: its port, or 0. */
static unsigned short
tcp_listener(int *fd)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(*fd, 4) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sin, &len) != 0)
		return 0;
	return ntohs(sin.sin_port);
}

static int
tcp_connects(unsigned short port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM, 0), rc;

	if (s < 0)
		return 0;
	rc = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	close(s);
	return rc == 0;
}

/* smtpd's stance: TCP to its resolvers' ports only (landlock_confine_tcp). */
static void
tcp_ports(void)
{
	int a, b, status = 0;
	unsigned short allowed = tcp_listener(&a), denied = tcp_listener(&b);
	pid_t pid;

	if (allowed == 0 || denied == 0) {
		ok(0, "two TCP listeners");
		return;
	}
	pid = fork();
	if (pid == 0) {
		int r = 0;

		if (landlock_confine_tcp(&allowed, 1) != 0)
			_exit(99);
		r |= tcp_connects(allowed) ? 1 : 0;
		r |= !tcp_connects(denied) && errno == EACCES ? 2 : 0;
		_exit(r);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 1),
	   "TCP confined to one port: a connect to that port works");
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 2),
	   "  a connect to any other port is refused (EACCES)");
	close(a);
	close(b);
}

static unsigned
confined_checks(int old_fd)
{
	char path[256], to[256], c;
	unsigned got = 0;
	int fd;

	if ((fd = at(granted, "new", O_WRONLY | O_CREAT | O_EXCL)) >= 0) {
		got |= write(fd, "xy", 2) == 2 && ftruncate(fd, 1) == 0
			   ? C_WRITE_GRANTED
			   : 0;
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/new", granted);
	snprintf(to, sizeof(to), "%s/sub", granted);
	if (mkdir(to, 0700) == 0)
		got |= C_MKDIR_GRANTED;
	snprintf(to, sizeof(to), "%s/sub/moved", granted);
	if (rename(path, to) == 0)
		got |= C_RENAME_GRANTED;
	if (unlink(to) == 0)
		got |= C_REMOVE_GRANTED;
	if ((fd = at(readonly, "file", O_RDONLY)) >= 0) {
		got |= read(fd, &c, 1) == 1 ? C_READ_READONLY : 0;
		close(fd);
	}
	if (at(readonly, "new", O_WRONLY | O_CREAT) < 0 && errno == EACCES)
		got |= C_NO_WRITE_READONLY;
	if (at(other, "new", O_WRONLY | O_CREAT) < 0 && errno == EACCES)
		got |= C_NO_WRITE_OTHER;
	if (open("/etc/passwd", O_RDONLY) < 0 && errno == EACCES)
		got |= C_NO_PASSWD;
	if (lseek(old_fd, 0, SEEK_SET) == 0 && read(old_fd, &c, 1) == 1)
		got |= C_OLD_FD_WORKS;
	if (tcp_denied())
		got |= C_NO_TCP;
	return got;
}

/* Fork, confine to paths, run the checks; their bits, or ~0U. */
static unsigned
in_child(const struct landlock_path *paths, size_t n)
{
	int pfd[2], old_fd = at(readonly, "file", O_RDONLY), status;
	unsigned got = ~0U;
	pid_t pid;

	if (pipe(pfd) != 0)
		return got;
	pid = fork();
	if (pid == 0) {
		unsigned bits = ~0U;
		if (landlock_confine(paths, n) == 0)
			bits = confined_checks(old_fd);
		(void)!write(pfd[1], &bits, sizeof(bits));
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &got, sizeof(got)) != sizeof(got))
		got = ~0U;
	close(pfd[0]);
	close(old_fd);
	waitpid(pid, &status, 0);
	return got;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path);
}

int
main(void)
{
	int abi = landlock_abi(), fd;
	unsigned got, net = 0;

	if (abi == 0) {
		printf("1..0 # SKIP the kernel has no Landlock\n");
		return 0;
	}
	if (mkdtemp(top) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	snprintf(granted, sizeof(granted), "%s/granted", top);
	snprintf(readonly, sizeof(readonly), "%s/readonly", top);
	snprintf(other, sizeof(other), "%s/other", top);
	mkdir(granted, 0700);
	mkdir(readonly, 0700);
	mkdir(other, 0700);
	if ((fd = at(readonly, "file", O_WRONLY | O_CREAT)) >= 0) {
		(void)!write(fd, "data", 4);
		close(fd);
	}
	ok(1, "Landlock ABI %d", abi);

	const struct landlock_path paths[] = {
	    {granted, LANDLOCK_GRANT_WRITE},
	    {readonly, LANDLOCK_GRANT_READ},
	    {"/nonexistent/moat-test", LANDLOCK_GRANT_WRITE},
	};
	got = in_child(paths, 3);
	ok(got != ~0U, "a child confined itself (a missing path is skipped)");
	ok(got & C_WRITE_GRANTED,
	   "  creates, writes and truncates a file where granted (mbox)");
	ok(got & C_MKDIR_GRANTED, "  makes a directory there");
	ok(got & C_RENAME_GRANTED, "  renames a file into it (Maildir)");
	ok(got & C_REMOVE_GRANTED, "  removes a file there (a dot-lock)");
	ok(got & C_READ_READONLY, "  reads where reading is granted");
	ok(got & C_NO_WRITE_READONLY, "  cannot create a file there");
	ok(got & C_NO_WRITE_OTHER, "  cannot create a file elsewhere");
	ok(got & C_NO_PASSWD, "  cannot read /etc/passwd, though root");
	ok(got & C_OLD_FD_WORKS, "  still reads a descriptor it had before");
	if (abi >= 4)
		net = C_NO_TCP;
	ok((got & C_NO_TCP) == net, "  TCP connect refused when ABI >= 4");

	if (abi >= 4)
		tcp_ports();
	got = in_child(NULL, 0);
	ok(got != ~0U && !(got & C_READ_READONLY) && !(got & C_WRITE_GRANTED) &&
	       (got & C_NO_PASSWD) && (got & C_OLD_FD_WORKS),
	   "no paths: a child opens nothing, but keeps its descriptors");
	nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
