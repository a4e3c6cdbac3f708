/*
 * group_sync: a directory fsync shared by concurrent renamers (see
 * group_sync.h).  The page counts tickets: a caller takes the next one
 * after its rename; `synced` says every ticket up to it is covered by an
 * fsync that began after that ticket was taken.  One caller at a time
 * leads (busy): it reads the ticket count, fsyncs, raises `synced` to
 * what it read, and wakes the others, who either find themselves covered
 * or lead the next round with everyone who arrived meanwhile.  `busy` is
 * only a hint: correctness rests on reading the count before the fsync,
 * so two leaders at once (after a timeout) cost an fsync and nothing
 * else.  Input: the page, written by processes of the same user; a wrong
 * value there can make a caller sync alone, or wrongly believe itself
 * covered, which that user could cause anyway by deleting its files.
 * Runs in cleanup.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "group_sync.h"

struct group_sync_page {
	_Atomic uint64_t ticket; /* renames announced */
	_Atomic uint64_t synced; /* tickets up to this one are on disk */
	_Atomic uint32_t busy;   /* a leader is in its fsync (a hint) */
	_Atomic uint32_t wake;   /* futex word: bumped after every fsync */
};

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
	       "the page's counters must be lock-free to be shared");

int
group_sync_open(struct group_sync *g, int dirfd, const char *name)
{
	const int rw = O_RDWR | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	void *p;
	int fd, saved;

	memset(g, 0, sizeof(*g));
	fd = openat(dirfd, name, rw);
	if (fd < 0 && errno == ENOENT) {
		/* Created empty; ftruncate below gives it zeroed counters. */
		fd = openat(
		    dirfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno == EEXIST) {
			if (fd >= 0)
				(void)close(fd);
			fd = openat(dirfd, name, rw);
		}
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		errno = EINVAL;
		goto fail;
	}
	/* Extending never rewrites counters another process already set. */
	if (st.st_size < (off_t)sizeof(struct group_sync_page) &&
	    ftruncate(fd, sizeof(struct group_sync_page)) < 0)
		goto fail;
	p = mmap(NULL, sizeof(struct group_sync_page), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	(void)close(fd);
	g->page = p;
	return 0;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

void
group_sync_close(struct group_sync *g)
{
	if (g->page != NULL)
		(void)munmap(g->page, sizeof(struct group_sync_page));
	g->page = NULL;
}

static long
gs_futex(_Atomic uint32_t *word, int op, uint32_t val,
	 const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, 0);
}

static long
gs_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fsync for every ticket taken so far; then wake whoever waits. */
static int
gs_sync(struct group_sync *g, int fd, int leader)
{
	struct group_sync_page *p = g->page;
	uint64_t upto = atomic_load(&p->ticket);
	int r = fsync(fd), saved = errno;

	g->own++;
	if (r == 0) {
		uint64_t cur = atomic_load(&p->synced);

		while (cur < upto &&
		       !atomic_compare_exchange_weak(&p->synced, &cur, upto))
			;
	}
	if (leader)
		atomic_store(&p->busy, 0);
	atomic_fetch_add(&p->wake, 1);
	(void)gs_futex(&p->wake, FUTEX_WAKE, INT_MAX, NULL);
	errno = saved;
	return r;
}

int
group_sync_dir(struct group_sync *g, int fd)
{
	struct group_sync_page *p = g->page;
	uint64_t mine;
	long deadline;

	if (p == NULL) {
		g->own++;
		return fsync(fd);
	}
	mine = atomic_fetch_add(&p->ticket, 1) + 1;
	deadline = gs_now_ms() + GROUP_SYNC_WAIT_MS;
	for (;;) {
		uint32_t seen = atomic_load(&p->wake), idle = 0;
		long left;
		struct timespec ts;

		if (atomic_load(&p->synced) >= mine) {
			g->shared++;
			return 0;
		}
		if (atomic_compare_exchange_strong(&p->busy, &idle, 1))
			return gs_sync(g, fd, 1);
		left = deadline - gs_now_ms();
		if (left <= 0)
			break;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		/* Returns at once when a leader finished since `seen`. */
		(void)gs_futex(&p->wake, FUTEX_WAIT, seen, &ts);
	}
	/* The leader is slow, stopped or dead: let the next one lead. */
	{
		uint32_t stuck = 1;

		(void)atomic_compare_exchange_strong(&p->busy, &stuck, 0);
	}
	return gs_sync(g, fd, 0);
}
