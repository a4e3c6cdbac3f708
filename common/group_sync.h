/*
 * group_sync: one fsync of a directory shared by the processes that just
 * renamed files into it (a group commit, as databases do).  cleanup's
 * processes each rename a finished queue file into active/ and must not
 * answer before active/ is on disk; when ten of them do so at once, one
 * fsync that starts after all ten renames covers them all.  The
 * processes meet in a small file (a counter page, mapped shared) in a
 * directory only their user may write; a waiter sleeps on a futex in it
 * for at most GROUP_SYNC_WAIT_MS, then syncs alone, so a syncer that is
 * stopped or killed slows the others and never blocks them.
 *
 * The promise: group_sync_dir() returns 0 only after an fsync of the
 * directory that began after the caller's rename (the caller's, or
 * another's) ended without error.  The page is shared by processes of one
 * user and trusted no further than they are; it holds counters only.
 */
#ifndef MOAT_GROUP_SYNC_H
#define MOAT_GROUP_SYNC_H

#define GROUP_SYNC_WAIT_MS 100

struct group_sync_page;

struct group_sync {
	struct group_sync_page *page; /* NULL: each caller syncs alone */
	unsigned long own;            /* fsyncs this process made */
	unsigned long shared;         /* calls covered by another's fsync */
};

/*
 * Open (creating when missing) the page file NAME in the directory dirfd
 * and map it.  0 when shared; -1 with errno when not (g then syncs alone,
 * the caller may log why).
 */
int group_sync_open(struct group_sync *g, int dirfd, const char *name);

/*
 * The caller has renamed a file into the directory fd refers to: return
 * once that directory is on disk (0), or -1 with fsync's errno.
 */
int group_sync_dir(struct group_sync *g, int fd);

void group_sync_close(struct group_sync *g);

#endif
