/*
 * cleanup_file: where a submission's queue file comes from.  A queue file
 * is made in active/ under its final name with QUEUE_MODE_PARTIAL, which
 * keeps qmgr out until the writer marks it complete (QUEUE_MODE:
 * queue_file.h), so no rename and no second directory fsync stand between
 * the end of a message and its 250.  Every file this process makes is
 * flock'd for as long as it holds it, which tells qmgr that a partial file
 * has a live writer.  Files are made ahead of time, CLEANUP_SPARES at once
 * when the last is taken (the spares): each gets QUEUE_FILL zeros, their
 * writeback starts together and one fdatasync commits them all (on ext4
 * the journal commit that allocates their blocks is one for the lot), and
 * active/ is synced once for them (with the other cleanups:
 * group_sync.h).  A 250 then waits for one fdatasync of a file whose size
 * and blocks are already on disk, which needs no journal commit when the
 * message fits (the writer seals it: queue_file.h), and the syncs that
 * make the spares come once every CLEANUP_SPARES messages, not between
 * every two.  Spares older than CLEANUP_SPARE_MAX_AGE_MS are replaced,
 * well before qmgr would take one for the leftover of a killed cleanup
 * (QMGR_INCOMING_MAX_AGE, an hour); the process removes its spares when
 * it exits, on SIGTERM too.  Runs in cleanup.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cleanup.h"
#include "event.h"
#include "log.h"
#include "queue_file.h"
#include "spool.h"

#define CLEANUP_SPARE_MAX_AGE_MS (10LL * 60 * 1000)

/*
 * The spares; the SIGTERM handler reads these, so they are plain statics.
 * A slot is in use while its descriptor is >= 0.
 */
_Static_assert(CLEANUP_SPARES == 4, "spare_fd's initializer has 4 slots");
static volatile int spare_fd[CLEANUP_SPARES] = {-1, -1, -1, -1},
		    spare_dirfd = -1;
static char spare_id[CLEANUP_SPARES][QUEUE_ID_SIZE];
static long long spare_born_ms;

/* A new partial file in active/, locked; its descriptor, or -1 (errno set). */
static int
file_create(const struct cleanup_config *cfg, char id[QUEUE_ID_SIZE])
{
	int fd, err;

	queue_id_new(id);
	fd = openat(cfg->active_fd, id,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		    QUEUE_MODE_PARTIAL);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		err = errno;
		(void)unlinkat(cfg->active_fd, id, 0);
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/*
 * QUEUE_FILL zeros, their writeback started (which allocates their blocks
 * now); the offset stays 0.  0, or -1 (errno set).
 */
static int
file_fill(int fd)
{
	static const char zeros[QUEUE_FILL];
	ssize_t n = pwrite(fd, zeros, sizeof(zeros), 0);

	if (n >= 0 && n != (ssize_t)sizeof(zeros))
		errno = ENOSPC;
	if (n != (ssize_t)sizeof(zeros))
		return -1;
	return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

void
cleanup_file_drop_spare(void)
{
	for (int i = 0; i < CLEANUP_SPARES; i++) {
		int fd = spare_fd[i];

		if (fd < 0)
			continue;
		spare_fd[i] = -1;
		(void)unlinkat(spare_dirfd, spare_id[i], 0);
		(void)close(fd);
	}
}

/* The slot of a spare to take, or -1 when there is none. */
static int
spare_slot(void)
{
	for (int i = CLEANUP_SPARES - 1; i >= 0; i--)
		if (spare_fd[i] >= 0)
			return i;
	return -1;
}

int
cleanup_file_take(const struct cleanup_config *cfg, struct queue_writer *w,
		  char id[QUEUE_ID_SIZE], int *synced)
{
	int fd, i = spare_slot();

	if (i >= 0 &&
	    event_now_ms() - spare_born_ms > CLEANUP_SPARE_MAX_AGE_MS) {
		cleanup_file_drop_spare();
		i = -1;
	}
	if (i >= 0) {
		fd = spare_fd[i];
		spare_fd[i] = -1;
		memcpy(id, spare_id[i], QUEUE_ID_SIZE);
		*synced = 1;
		return queue_writer_adopt(w, cfg->active_fd, id, fd,
					  QUEUE_FILL);
	}
	if ((fd = file_create(cfg, id)) < 0)
		return -1;
	*synced = 0;
	return queue_writer_adopt(w, cfg->active_fd, id, fd, 0);
}

void
cleanup_file_make_spare(const struct cleanup_config *cfg)
{
	char id[CLEANUP_SPARES][QUEUE_ID_SIZE];
	int fd[CLEANUP_SPARES], n, err = 0;

	if (spare_slot() >= 0)
		return;
	for (n = 0; n < CLEANUP_SPARES && err == 0; n++)
		if ((fd[n] = file_create(cfg, id[n])) < 0 ||
		    file_fill(fd[n]) < 0)
			err = errno;
	if (err == 0 && (fdatasync(fd[n - 1]) < 0 ||
			 group_sync_dir(cfg->active_sync, cfg->active_fd) < 0))
		err = errno;
	if (err != 0) {
		log_warn("make queue files ahead in %s/: %s", SPOOL_ACTIVE,
			 strerror(err));
		while (n-- > 0)
			if (fd[n] >= 0) {
				(void)unlinkat(cfg->active_fd, id[n], 0);
				close(fd[n]);
			}
		return;
	}
	spare_dirfd = cfg->active_fd;
	spare_born_ms = event_now_ms();
	/* The descriptor last: the handler sees a whole spare or none. */
	for (int i = 0; i < CLEANUP_SPARES; i++) {
		memcpy(spare_id[i], id[i], QUEUE_ID_SIZE);
		spare_fd[i] = fd[i];
	}
}
