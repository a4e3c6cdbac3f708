/*
 * safe_open: open a file that a user may control (a mailbox, a .forward,
 * a map source) without following a symbolic link, then check with fstat
 * what was really opened.  The path and the file are hostile: the owner
 * may have replaced them with a link to /etc/passwd, a hard link to
 * someone else's mailbox or a FIFO.  Runs in local's delivery children
 * and in `moat check` / map builds.
 *
 * The open itself adds O_NONBLOCK so that a FIFO planted in place of the
 * file cannot hang the caller before fstat refuses it; the flag is cleared
 * again on a regular file unless the caller asked for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_open.h"

static int
safe_open_fd(int dirfd, const char *path, int flags, mode_t mode,
	     unsigned checks)
{
	int base = flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	int fd;

	base &= ~(O_CREAT | O_EXCL);
	if (checks & SAFE_CREATE) {
		fd = openat(dirfd, path, base | O_CREAT | O_EXCL, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		/* It exists (or is a link, which the plain open refuses). */
	}
	return openat(dirfd, path, base);
}

/* The reason a file that opened is still refused; NULL when it is fine. */
static const char *
safe_open_check(const struct stat *st, uid_t expect_uid, unsigned checks,
		char *reason, size_t size, int *err)
{
	if (!S_ISREG(st->st_mode)) {
		*err = EINVAL;
		return "is not a regular file";
	}
	if (st->st_nlink != 1) {
		*err = EMLINK;
		snprintf(reason, size, "has %lu hard links",
			 (unsigned long)st->st_nlink);
		return reason;
	}
	if (expect_uid != (uid_t)-1 && st->st_uid != expect_uid) {
		*err = EPERM;
		snprintf(reason, size, "is owned by uid %lu, not %lu",
			 (unsigned long)st->st_uid, (unsigned long)expect_uid);
		return reason;
	}
	if ((checks & SAFE_NOT_GROUP_WRITABLE) && (st->st_mode & 022)) {
		*err = EPERM;
		return "is writable by group or others";
	}
	return NULL;
}

static int
safe_open_fail(int fd, struct buf *why, const char *reason, int err)
{
	if (fd >= 0)
		close(fd);
	if (why != NULL)
		buf_set_str(why, reason);
	errno = err;
	return -1;
}

int
safe_open(int dirfd, const char *path, int flags, mode_t mode, uid_t expect_uid,
	  unsigned checks, struct stat *st, struct buf *why)
{
	struct stat local_st;
	char reason[96];
	const char *bad;
	int fd, err = 0;

	if (st == NULL)
		st = &local_st;
	fd = safe_open_fd(dirfd, path, flags, mode, checks);
	if (fd < 0) {
		err = errno;
		return safe_open_fail(
		    -1, why,
		    err == ELOOP ? "is a symbolic link" : strerror(err), err);
	}
	if (fstat(fd, st) != 0) {
		err = errno;
		return safe_open_fail(fd, why, strerror(err), err);
	}
	bad = safe_open_check(st, expect_uid, checks, reason, sizeof(reason),
			      &err);
	if (bad != NULL)
		return safe_open_fail(fd, why, bad, err);
	if (!(flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		err = errno;
		return safe_open_fail(fd, why, strerror(err), err);
	}
	return fd;
}

int
path_dirname(const char *path, char *out, size_t size)
{
	char *slash;

	if (strlcpy(out, path, size) >= size)
		return -1;
	slash = strrchr(out, '/');
	if (slash == NULL)
		strlcpy(out, ".", size);
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
	return 0;
}
