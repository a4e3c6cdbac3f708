/*
 * local_maildir: deliver into a Maildir: create it and tmp/, new/, cur/
 * (0700) when missing, write tmp/UNIQUE (O_EXCL, no link followed), fsync,
 * rename it into new/ without replacing anything, fsync new/.  A message
 * is in new/ whole or not at all.  In a batch (group mode, set by a kept
 * delivery process for the messages of one local request) the syncs wait
 * for the end of the batch (local_maildir_sync, before the parent reports
 * any of its messages to qmgr: the Maildir group commit): each file is
 * written into tmp/ with its writeback started and kept open; at the sync
 * each is fsynced, then (qmgr still waiting) renamed into new/ and told
 * to the parent, which journals it, and each new/ is fsynced once.  With
 * a journal, the first fsync commits the writes of the others too.  The
 * directory tree belongs to the user and is hostile: every component is
 * opened with O_NOFOLLOW relative to the one before, so a symbolic link
 * anywhere is refused.  Runs in local's delivery child as the mailbox's
 * user (never root).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "local.h"

#define MAILDIR_PENDING_MAX 8 /* new/ directories waiting for their fsync */

/* Group mode, and the new/ directories renamed into and not yet synced. */
static int maildir_group;
static int maildir_pending[MAILDIR_PENDING_MAX];
static size_t maildir_npending;

/*
 * Group mode's files written into tmp/ and not yet synced nor renamed,
 * in the order of their jobs: the batch syncs them one after the other
 * (their writeback started as each was written, so one journal commit
 * can take several) and only then renames them, at local_maildir_sync.
 */
struct maildir_late {
	int fd, tmpfd, newfd;
	char name[NAME_MAX + 1];
};
static struct maildir_late maildir_late[LOCAL_LATE_MAX];
static size_t maildir_nlate;

size_t
local_maildir_late_count(void)
{
	return maildir_nlate;
}

/* Open (creating when asked) one directory below dirfd; -1 (errno). */
static int
maildir_open_dir(int dirfd, const char *name, int create)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, name, flags);

	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
		return -1;
	return openat(dirfd, name, flags);
}

static const char *
maildir_reason(int err)
{
	return err == ELOOP || err == ENOTDIR
		   ? "is a symbolic link or not a directory"
		   : strerror(err);
}

/* Walk path below basefd, one component at a time; -1 with r set. */
static int
maildir_walk(int basefd, const char *path, struct local_result *r)
{
	char copy[PATH_MAX], *comp, *save = NULL;
	int fd = dup(basefd), next;

	if (fd < 0 || strlcpy(copy, path, sizeof(copy)) >= sizeof(copy)) {
		if (fd >= 0)
			close(fd);
		local_result_set(r, LOCAL_DEFER, "4.3.0", "bad maildir path %s",
				 path);
		return -1;
	}
	for (comp = strtok_r(copy, "/", &save); comp != NULL;
	     comp = strtok_r(NULL, "/", &save)) {
		next = -1;
		errno = EINVAL;
		if (strcmp(comp, ".") != 0 && strcmp(comp, "..") != 0)
			next = maildir_open_dir(fd, comp, 1);
		if (next < 0) {
			local_result_set(r, LOCAL_DEFER, "4.2.0",
					 "maildir %s: %s %s", path, comp,
					 maildir_reason(errno));
			close(fd);
			return -1;
		}
		close(fd);
		fd = next;
	}
	return fd;
}

/* The part of a Maildir file name that names this host. */
static void
maildir_host(char *out, size_t size)
{
	char host[256];
	size_t n = 0;

	if (gethostname(host, sizeof(host)) != 0)
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (const char *p = host; *p != '\0' && n + 5 < size; p++) {
		if (*p == '/' || *p == ':') {
			n += (size_t)snprintf(out + n, size - n, "\\%03o",
					      (unsigned char)*p);
			continue;
		}
		out[n++] = (unsigned char)*p > ' ' ? *p : '_';
	}
	out[n] = '\0';
}

/* Create tmp/UNIQUE; the fd, with the name in name, or -1. */
static int
maildir_create(int tmpfd, char *name, size_t size)
{
	static unsigned seq;
	char host[256];
	struct timeval tv;
	int fd, tries;

	maildir_host(host, sizeof(host));
	for (tries = 0; tries < 10; tries++) {
		gettimeofday(&tv, NULL);
		if (snprintf(name, size, "%lld.M%06ldP%ld_%u.%s",
			     (long long)tv.tv_sec, (long)tv.tv_usec,
			     (long)getpid(), seq++, host) >= (int)size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = openat(
		    tmpfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int
maildir_sink(void *ctx, const char *data, size_t len)
{
	return local_write_all(*(int *)ctx, data, len);
}

/* fsync fd; 0, or -1 with r set to "maildir fsync WHAT: reason". */
static int
maildir_fsync(int fd, const char *what, struct local_result *r)
{
	if (fsync(fd) == 0)
		return 0;
	local_result_set(r, LOCAL_DEFER, "4.3.0", "maildir fsync %s: %s", what,
			 strerror(errno));
	return -1;
}

/*
 * Write the copy into tmp/name and sync it (late: only start its
 * writeback; local_maildir_sync syncs it); 0 or -1 with r set.
 */
static int
maildir_write(int fd, const struct local_msg *msg, const char *rcpt, int late,
	      struct local_result *r)
{
	struct buf prefix = BUF_INIT;
	int rc;

	local_msg_prefix(&prefix, msg->sender, rcpt);
	rc = local_write_all(fd, prefix.data, prefix.len);
	buf_free(&prefix);
	if (rc != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "maildir write error: %s", strerror(errno));
		return -1;
	}
	if (local_msg_copy(msg, maildir_sink, &fd, r) != 0)
		return -1;
	if (late) {
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		return 0;
	}
	return maildir_fsync(fd, "error", r);
}

void
local_maildir_group(int on)
{
	maildir_group = on;
}

/*
 * In group mode: leave new/'s fsync to local_maildir_sync; 0 when it was
 * left (the directory is in the pending list), -1 to sync now.
 */
static int
maildir_sync_later(int newfd)
{
	struct stat st, seen;
	int fd;

	if (!maildir_group || fstat(newfd, &st) != 0)
		return -1;
	for (size_t i = 0; i < maildir_npending; i++)
		if (fstat(maildir_pending[i], &seen) == 0 &&
		    seen.st_dev == st.st_dev && seen.st_ino == st.st_ino)
			return 0;
	if (maildir_npending == MAILDIR_PENDING_MAX || (fd = dup(newfd)) < 0)
		return -1;
	maildir_pending[maildir_npending++] = fd;
	return 0;
}

/*
 * The late files: sync each, then, while qmgr still waits, rename each
 * into new/ and tell the parent which (its index among them), waiting
 * for its answer before the next rename, so that a kill finds at most one
 * file in new/ that the journal does not name (as without a batch);
 * new/'s fsync is left to the caller; a file not renamed is removed.  0,
 * or -1 with r set.
 */
static int
maildir_publish_late(struct local_result *r)
{
	struct maildir_late *l;
	int rc = 0;
	size_t i;

	for (i = 0; i < maildir_nlate && rc == 0; i++)
		rc = maildir_fsync(maildir_late[i].fd, "error", r);
	if (rc == 0 && maildir_nlate > 0 && !local_commit_ok())
		rc = local_abort_result(r);
	for (i = 0; i < maildir_nlate; i++) {
		l = &maildir_late[i];
		if (rc == 0 && renameat2(l->tmpfd, l->name, l->newfd, l->name,
					 RENAME_NOREPLACE) != 0) {
			local_result_set(r, LOCAL_DEFER, "4.3.0",
					 "maildir rename into new/: %s",
					 strerror(errno));
			rc = -1;
		}
		if (rc == 0) {
			/* Journalled before the next rename: one at a time. */
			if (!local_commit_delivered_index(i))
				rc = local_abort_result(r);
			else if (maildir_sync_later(l->newfd) != 0)
				/* A failure defers; this one is journalled. */
				rc = maildir_fsync(l->newfd, "of new/", r);
		} else
			(void)unlinkat(l->tmpfd, l->name, 0);
		close(l->fd);
		close(l->tmpfd);
		close(l->newfd);
	}
	maildir_nlate = 0;
	return rc;
}

int
local_maildir_sync(struct local_result *r)
{
	int rc = maildir_publish_late(r), err = 0;

	for (size_t i = 0; i < maildir_npending; i++) {
		if (fsync(maildir_pending[i]) != 0 && err == 0)
			err = errno;
		close(maildir_pending[i]);
	}
	maildir_npending = 0;
	if (rc != 0)
		return -1;
	if (err != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "maildir fsync of new/: %s", strerror(err));
		return -1;
	}
	local_result_set(r, LOCAL_SENT, "2.0.0", "synced");
	return 0;
}

/* tmp/name into new/name, never over an existing file. */
static int
maildir_publish(int tmpfd, int newfd, const char *name, struct local_result *r)
{
	if (!local_commit_ok())
		return local_abort_result(r);
	if (renameat2(tmpfd, name, newfd, name, RENAME_NOREPLACE) != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "maildir rename into new/: %s",
				 strerror(errno));
		return -1;
	}
	/* Journal at once: the fsync below is the longest step after it. */
	local_child_delivered();
	if (maildir_sync_later(newfd) == 0)
		return 0;
	/* On failure the message is in new/ and journalled: a retry skips it.
	 */
	return maildir_fsync(newfd, "of new/", r);
}

/* Keep a written file for the batch's sync (descriptors copied); 0 or -1. */
static int
maildir_keep_late(int fd, int tmpfd, int newfd, const char *name)
{
	struct maildir_late *l = &maildir_late[maildir_nlate];

	if (maildir_nlate == LOCAL_LATE_MAX ||
	    strlcpy(l->name, name, sizeof(l->name)) >= sizeof(l->name))
		return -1;
	if ((l->tmpfd = dup(tmpfd)) < 0)
		return -1;
	if ((l->newfd = dup(newfd)) < 0) {
		close(l->tmpfd);
		return -1;
	}
	l->fd = fd;
	maildir_nlate++;
	return 0;
}

static int
maildir_deliver_in(int dirfd, const char *path, const struct local_msg *msg,
		   const char *rcpt, struct local_result *r)
{
	static const char *const subdirs[] = {"tmp", "new", "cur"};
	int fds[3] = {-1, -1, -1}, fd = -1, rc = -1;
	int late = maildir_group && maildir_nlate < LOCAL_LATE_MAX;
	char name[NAME_MAX + 1];

	for (size_t i = 0; i < 3; i++) {
		fds[i] = maildir_open_dir(dirfd, subdirs[i], 1);
		if (fds[i] < 0) {
			local_result_set(r, LOCAL_DEFER, "4.2.0",
					 "maildir %s%s: %s", path, subdirs[i],
					 maildir_reason(errno));
			goto out;
		}
	}
	fd = maildir_create(fds[0], name, sizeof(name));
	if (fd < 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot create a file in %stmp: %s", path,
				 strerror(errno));
		goto out;
	}
	rc = maildir_write(fd, msg, rcpt, late, r);
	if (rc == 0 && late) {
		if (maildir_keep_late(fd, fds[0], fds[1], name) == 0)
			goto out; /* synced and renamed at local_maildir_sync */
		rc = maildir_fsync(fd, "error", r);
	}
	if (close(fd) != 0 && rc == 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "maildir close error: %s", strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = maildir_publish(fds[0], fds[1], name, r);
	if (rc != 0)
		(void)unlinkat(fds[0], name, 0);
out:
	for (size_t i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

int
local_maildir_deliver(int basefd, const char *path, const struct local_msg *msg,
		      const char *rcpt, struct local_result *r)
{
	int dirfd = maildir_walk(basefd, path, r);
	int rc;

	if (dirfd < 0)
		return -1;
	rc = maildir_deliver_in(dirfd, path, msg, rcpt, r);
	close(dirfd);
	if (rc == 0)
		local_result_set(r, LOCAL_SENT, "2.0.0",
				 "delivered to maildir");
	return rc;
}
