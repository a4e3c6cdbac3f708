/*
 * test_safe_open: safe_open against real files in a temporary directory:
 * the symlink, hard link, wrong owner, group-writable and FIFO attacks are
 * refused with a human reason, and creation works.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_open.h"
#include "tap.h"

static char dir[64];

static const char *
path(const char *name)
{
	static char p[2][128]; /* two, for link(path(a), path(b)) */
	static int i;

	i = !i;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void
make_file(const char *name, mode_t mode)
{
	int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, "x\n", 2) != 2) {
		perror(name);
		exit(2);
	}
	close(fd);
	chmod(path(name), mode);
}

/* Open name; returns the fd (closed) >= 0 or -1, with why filled. */
static int
try_open(const char *name, int flags, uid_t uid, unsigned checks,
	 struct buf *why)
{
	struct stat st;
	int fd;

	buf_reset(why);
	fd =
	    safe_open(AT_FDCWD, path(name), flags, 0600, uid, checks, &st, why);
	if (fd >= 0)
		close(fd);
	return fd;
}

static void
test_plain(struct buf *why)
{
	make_file("plain", 0600);
	ok(try_open("plain", O_RDONLY, geteuid(), SAFE_NOT_GROUP_WRITABLE,
		    why) >= 0,
	   "a plain file owned by us opens (why: %s)", buf_cstr(why));
	ok(try_open("plain", O_RDONLY, (uid_t)-1, 0, why) >= 0,
	   "(uid_t)-1 skips the owner check");
	ok(try_open("missing", O_RDONLY, (uid_t)-1, 0, why) < 0 &&
	       errno == ENOENT,
	   "a missing file fails with ENOENT");
	is_str(buf_cstr(why), strerror(ENOENT), "reason for a missing file");
}

static void
test_symlink(struct buf *why)
{
	if (symlink(path("plain"), path("link")) != 0)
		perror("symlink");
	is_int(try_open("link", O_RDONLY, (uid_t)-1, 0, why), -1,
	       "a symbolic link is refused");
	is_str(buf_cstr(why), "is a symbolic link", "reason for a symlink");
	is_int(
	    try_open("link", O_WRONLY | O_APPEND, (uid_t)-1, SAFE_CREATE, why),
	    -1, "a symbolic link is refused with SAFE_CREATE");
	is_str(buf_cstr(why), "is a symbolic link",
	       "reason for a symlink with SAFE_CREATE");
	if (symlink(path("nowhere"), path("dangling")) != 0)
		perror("symlink");
	is_int(try_open("dangling", O_WRONLY, (uid_t)-1, SAFE_CREATE, why), -1,
	       "a dangling link is not followed to create its target");
	ok(access(path("nowhere"), F_OK) != 0,
	   "the dangling link's target was not created");
}

static void
test_hardlink(struct buf *why)
{
	make_file("victim", 0600);
	if (link(path("victim"), path("hard")) != 0)
		perror("link");
	is_int(try_open("hard", O_RDONLY, (uid_t)-1, 0, why), -1,
	       "a file with two hard links is refused");
	is_str(buf_cstr(why), "has 2 hard links", "reason for a hard link");
	is_int(errno, EMLINK, "errno for a hard link");
}

static void
test_owner(struct buf *why)
{
	char want[96];

	make_file("owned", 0600);
	if (geteuid() != 0) {
		printf("ok %d # SKIP not root: cannot chown\n", ++tap_n);
		printf("ok %d # SKIP not root: cannot chown\n", ++tap_n);
		return;
	}
	if (chown(path("owned"), 1001, 1001) != 0)
		perror("chown");
	is_int(try_open("owned", O_RDONLY, 1000, 0, why), -1,
	       "a file owned by another uid is refused");
	snprintf(want, sizeof(want), "is owned by uid 1001, not 1000");
	is_str(buf_cstr(why), want, "reason for a wrong owner");
}

static void
test_mode(struct buf *why)
{
	make_file("groupw", 0620);
	is_int(try_open("groupw", O_RDONLY, (uid_t)-1, SAFE_NOT_GROUP_WRITABLE,
			why),
	       -1, "a group-writable file is refused");
	is_str(buf_cstr(why), "is writable by group or others",
	       "reason for group-writable");
	make_file("otherw", 0602);
	is_int(try_open("otherw", O_RDONLY, (uid_t)-1, SAFE_NOT_GROUP_WRITABLE,
			why),
	       -1, "an others-writable file is refused");
	ok(try_open("groupw", O_RDONLY, (uid_t)-1, 0, why) >= 0,
	   "group-writable is fine without SAFE_NOT_GROUP_WRITABLE");
}

static void
test_not_regular(struct buf *why)
{
	if (mkfifo(path("fifo"), 0600) != 0)
		perror("mkfifo");
	is_int(try_open("fifo", O_RDONLY, (uid_t)-1, 0, why), -1,
	       "a FIFO is refused (and the open does not hang)");
	is_str(buf_cstr(why), "is not a regular file", "reason for a FIFO");
	if (mkdir(path("subdir"), 0700) != 0)
		perror("mkdir");
	is_int(try_open("subdir", O_RDONLY, (uid_t)-1, 0, why), -1,
	       "a directory is refused");
	is_str(buf_cstr(why), "is not a regular file",
	       "reason for a directory");
}

static void
test_create(struct buf *why)
{
	struct stat st;
	int fd, fl;

	buf_reset(why);
	fd = safe_open(AT_FDCWD, path("new"), O_WRONLY | O_APPEND, 0600,
		       geteuid(), SAFE_CREATE | SAFE_NOT_GROUP_WRITABLE, &st,
		       why);
	ok(fd >= 0, "SAFE_CREATE creates a missing file (why: %s)",
	   buf_cstr(why));
	is_int(st.st_mode & 0777, 0600, "created with the given mode");
	fl = fcntl(fd, F_GETFL);
	ok(fl >= 0 && !(fl & O_NONBLOCK), "the fd is left blocking");
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the fd is close-on-exec");
	ok(write(fd, "a\n", 2) == 2, "the created file is writable");
	close(fd);
	fd = safe_open(AT_FDCWD, path("new"), O_WRONLY | O_APPEND, 0600,
		       geteuid(), SAFE_CREATE, &st, why);
	ok(fd >= 0, "SAFE_CREATE opens an existing file");
	is_int(st.st_size, 2, "the existing file kept its content");
	if (fd >= 0)
		close(fd);
}

static void
cleanup_dir(void)
{
	static const char *names[] = {"plain", "link",  "dangling", "victim",
				      "hard",  "owned", "groupw",   "otherw",
				      "fifo",  "new",   "nowhere"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(path(names[i]));
	rmdir(path("subdir"));
	rmdir(dir);
}

int
main(void)
{
	struct buf why = BUF_INIT;

	snprintf(dir, sizeof(dir), "/tmp/h2-safe-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_plain(&why);
	test_symlink(&why);
	test_hardlink(&why);
	test_owner(&why);
	test_mode(&why);
	test_not_regular(&why);
	test_create(&why);
	cleanup_dir();
	buf_free(&why);
	return done_testing();
}
