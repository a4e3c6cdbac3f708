/*
 * test_group_sync: the shared directory fsync of common/group_sync.c, with
 * real files in a temporary directory and real processes: a caller alone
 * syncs itself; a caller whose ticket another's fsync covered returns
 * without one; a waiter is woken by the leader's end; a stuck leader
 * (its busy flag left set, as by a kill -9) delays a caller by the wait
 * bound and no more, and is cleared; a failing fsync is reported; the
 * page file is no symlink nor hard link; and six processes renaming at
 * once all come back with every ticket covered.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "group_sync.h"
#include "tap.h"

/* The page's layout, as group_sync.c has it, to look and poke at. */
struct raw_page {
	_Atomic uint64_t ticket;
	_Atomic uint64_t synced;
	_Atomic uint32_t busy;
	_Atomic uint32_t wake;
};

static char dir[] = "/tmp/test_group_sync.XXXXXX";
static int dirfd_;

static struct raw_page *
raw_map(void)
{
	int fd = openat(dirfd_, "page", O_RDWR);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, sizeof(struct raw_page), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Create a file and rename it into the directory, as cleanup does. */
static int
rename_one(const char *tag, int i)
{
	char tmp[64], name[64];
	int fd;

	snprintf(tmp, sizeof(tmp), ".tmp-%s-%d", tag, i);
	snprintf(name, sizeof(name), "f-%s-%d", tag, i);
	fd = openat(dirfd_, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return renameat(dirfd_, tmp, dirfd_, name);
}

static void
test_open(void)
{
	struct group_sync a, b;
	struct stat st;

	ok(group_sync_open(&a, dirfd_, "page") == 0, "open creates the page");
	ok(fstatat(dirfd_, "page", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600 &&
	       st.st_size >= (off_t)sizeof(struct raw_page),
	   "a regular file, 0600, sized for the counters");
	ok(group_sync_open(&b, dirfd_, "page") == 0, "a second open maps it");
	is_int(group_sync_dir(&a, dirfd_), 0, "a caller alone syncs");
	is_int(a.own, 1, "with an fsync of its own");
	is_int(group_sync_dir(&b, dirfd_), 0, "the other process's page too");
	group_sync_close(&a);
	group_sync_close(&b);
	ok(symlinkat("page", dirfd_, "link") == 0, "(a symlink to the page)");
	ok(group_sync_open(&a, dirfd_, "link") < 0 && errno == ELOOP &&
	       a.page == NULL,
	   "a symlink is refused");
	ok(linkat(dirfd_, "page", dirfd_, "hard", 0) == 0,
	   "(a hard link to the page)");
	ok(group_sync_open(&a, dirfd_, "hard") < 0 && errno == EINVAL,
	   "a hard-linked page is refused");
	unlinkat(dirfd_, "hard", 0);
	unlinkat(dirfd_, "link", 0);
	errno = 0;
	is_int(group_sync_dir(&a, dirfd_), 0, "unshared, a caller syncs alone");
}

static void
test_covered_and_stuck(void)
{
	struct group_sync g;
	struct raw_page *p;
	struct timespec t0;
	long ms;

	group_sync_open(&g, dirfd_, "page");
	p = raw_map();
	ok(p != NULL, "the page maps for a look");
	if (p == NULL)
		return;
	/* Another leader read a ticket count beyond ours and synced. */
	atomic_store(&p->synced, atomic_load(&p->ticket) + 1);
	is_int(group_sync_dir(&g, dirfd_), 0, "covered by another's fsync");
	ok(g.own == 0 && g.shared == 1, "without an fsync of its own");
	is_int(atomic_load(&p->synced), atomic_load(&p->ticket),
	       "synced never moves back");

	/* A leader killed in its fsync leaves busy set. */
	atomic_store(&p->busy, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(group_sync_dir(&g, dirfd_), 0, "a stuck leader: synced anyway");
	ms = ms_since(&t0);
	ok(ms >= GROUP_SYNC_WAIT_MS - 5 && ms < 10 * GROUP_SYNC_WAIT_MS,
	   "after the wait bound (%ld ms)", ms);
	ok(g.own == 1, "with an fsync of its own");
	is_int(atomic_load(&p->busy), 0, "and the stuck flag cleared");
	ok(atomic_load(&p->synced) == atomic_load(&p->ticket),
	   "its ticket recorded as synced");

	/* A failing fsync covers nobody. */
	{
		uint64_t before = atomic_load(&p->synced);

		errno = 0;
		ok(group_sync_dir(&g, -1) < 0 && errno == EBADF,
		   "a failing fsync is reported (EBADF)");
		is_int(atomic_load(&p->synced), before, "and covers no ticket");
		is_int(atomic_load(&p->busy), 0, "nor keeps the lead");
	}
	munmap(p, sizeof(*p));
	group_sync_close(&g);
}

/* A waiter is woken by the leader's end and finds itself covered. */
static void
test_woken(void)
{
	struct raw_page *p = raw_map();
	uint64_t before;
	pid_t pid;
	int status, i;

	if (p == NULL)
		return;
	atomic_store(&p->busy, 1); /* a leader is in its fsync */
	before = atomic_load(&p->ticket);
	pid = fork();
	if (pid == 0) {
		struct group_sync g;

		group_sync_open(&g, dirfd_, "page");
		if (group_sync_dir(&g, dirfd_) != 0)
			_exit(1);
		_exit(g.own == 0 && g.shared == 1 ? 0 : 2);
	}
	for (i = 0; i < 2000 && atomic_load(&p->ticket) == before; i++)
		usleep(500);
	/* The leader ends: it read a count that holds the child's ticket. */
	atomic_store(&p->synced, atomic_load(&p->ticket));
	atomic_store(&p->busy, 0);
	atomic_fetch_add(&p->wake, 1);
	syscall(SYS_futex, (uint32_t *)&p->wake, FUTEX_WAKE, INT_MAX, NULL,
		NULL, 0);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a waiter woken by the leader returns covered, no fsync of its "
	   "own (exit %d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	munmap(p, sizeof(*p));
}

/* Six processes, fifty renames each, all at once. */
static void
test_many(void)
{
	enum { KIDS = 6, ROUNDS = 50 };
	struct raw_page *p = raw_map();
	pid_t pids[KIDS];
	int k, bad = 0, fds[2];
	uint64_t start;
	unsigned long own = 0, shared = 0;

	if (p == NULL || pipe(fds) < 0)
		return;
	start = atomic_load(&p->ticket);
	for (k = 0; k < KIDS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct group_sync g;
			char tag[16];
			unsigned long counts[2];
			int i;

			snprintf(tag, sizeof(tag), "k%d", k);
			if (group_sync_open(&g, dirfd_, "page") < 0)
				_exit(1);
			for (i = 0; i < ROUNDS; i++)
				if (rename_one(tag, i) < 0 ||
				    group_sync_dir(&g, dirfd_) < 0)
					_exit(2);
			counts[0] = g.own;
			counts[1] = g.shared;
			if (write(fds[1], counts, sizeof(counts)) !=
			    sizeof(counts))
				_exit(3);
			_exit(0);
		}
	}
	close(fds[1]);
	for (k = 0; k < KIDS; k++) {
		int status;
		unsigned long counts[2];

		waitpid(pids[k], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
		if (read(fds[0], counts, sizeof(counts)) == sizeof(counts)) {
			own += counts[0];
			shared += counts[1];
		}
	}
	close(fds[0]);
	is_int(bad, 0, "six processes renaming at once all succeed");
	is_int(atomic_load(&p->ticket) - start, KIDS * ROUNDS,
	       "each rename took one ticket");
	ok(atomic_load(&p->synced) == atomic_load(&p->ticket),
	   "every ticket is covered at the end");
	is_int(own + shared, KIDS * ROUNDS, "each call synced or was covered");
	printf("# %lu fsyncs for %d renames (%lu covered by another's)\n", own,
	       KIDS * ROUNDS, shared);
	munmap(p, sizeof(*p));
}

static void
cleanup_dir(void)
{
	char cmd_path[PATH_MAX];
	int k, i;

	for (k = 0; k < 6; k++)
		for (i = 0; i < 50; i++) {
			snprintf(cmd_path, sizeof(cmd_path), "f-k%d-%d", k, i);
			unlinkat(dirfd_, cmd_path, 0);
		}
	unlinkat(dirfd_, "page", 0);
	close(dirfd_);
	rmdir(dir);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL ||
	    (dirfd_ = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		printf("1..0 # SKIP no temporary directory\n");
		return 0;
	}
	test_open();
	test_covered_and_stuck();
	test_woken();
	test_many();
	cleanup_dir();
	return done_testing();
}
