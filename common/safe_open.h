/*
 * safe_open: open a file on behalf of a user, never following a link and
 * checking what was opened with fstat: a regular file, a single hard link,
 * owned by the expected uid (unless expect_uid is (uid_t)-1), not writable
 * by group or others when SAFE_NOT_GROUP_WRITABLE.  Defeats the hard-link
 * and symlink attacks on mailboxes and dot-files (the dead.letter hole).
 * Used by local (mailboxes, .forward) and by `moat check`/map build (source
 * files that only root may write).
 */
#ifndef MOAT_SAFE_OPEN_H
#define MOAT_SAFE_OPEN_H

#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"

#define SAFE_NOT_GROUP_WRITABLE 0x01	/* refuse mode & 022 */
#define SAFE_CREATE 0x02		/* create when missing (O_EXCL) */

/*
 * flags: open(2) flags (O_NOFOLLOW is always added); mode for creation.
 * Returns the fd, or -1 with a human reason in why (and errno).
 * dirfd: AT_FDCWD or a directory to resolve path against.
 */
int safe_open(int dirfd, const char *path, int flags, mode_t mode,
	      uid_t expect_uid, unsigned checks, struct stat *st,
	      struct buf *why);

/*
 * The directory part of path into out ("." for a bare name, "/" for a
 * name in /); -1 when it does not fit.
 */
int path_dirname(const char *path, char *out, size_t size);

#endif
