/*
 * cleanup_file: where a submission's queue file comes from.  A queue file
 * is made in active/ under its final name with QUEUE_MODE_PARTIAL, which
 * keeps qmgr out until the writer marks it complete (QUEUE_MODE:
 * queue_file.h), so no rename and no second directory fsync stand between
 * the end of a message and its 250.  Every file this process makes is
 * flock'd for as long as it holds it, which tells qmgr that a partial file
 * has a live writer.  After each submission cleanup makes the next file
 * ahead of time, the spare: QUEUE_FILL zeros written and fdatasync'd, and
 * active/ synced for it (with the other cleanups: group_sync.h).  The next
 * 250 then waits for one fdatasync of a file whose size and blocks are
 * already on disk, which needs no journal commit when the message fits
 * (the writer seals it: queue_file.h).  A spare older than
 * CLEANUP_SPARE_MAX_AGE_MS is replaced, well before qmgr would take it
 * for the leftover of a killed cleanup (QMGR_INCOMING_MAX_AGE, an hour);
 * the process removes its spare when it exits, on SIGTERM too.  Runs in
 * cleanup.
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

/* The spare; the SIGTERM handler reads these, so they are plain statics. */
static volatile int spare_fd = -1, spare_dirfd = -1;
static char spare_id[QUEUE_ID_SIZE];
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

/* QUEUE_FILL zeros, on disk; the offset stays 0.  0, or -1 (errno set). */
static int
file_fill(int fd)
{
	static const char zeros[QUEUE_FILL];
	ssize_t n = pwrite(fd, zeros, sizeof(zeros), 0);

	if (n >= 0 && n != (ssize_t)sizeof(zeros))
		errno = ENOSPC;
	if (n != (ssize_t)sizeof(zeros))
		return -1;
	return fdatasync(fd);
}

void
cleanup_file_drop_spare(void)
{
	int fd = spare_fd;

	if (fd < 0)
		return;
	spare_fd = -1;
	(void)unlinkat(spare_dirfd, spare_id, 0);
	(void)close(fd);
}

int
cleanup_file_take(const struct cleanup_config *cfg, struct queue_writer *w,
		  char id[QUEUE_ID_SIZE], int *synced)
{
	int fd;

	if (spare_fd >= 0 &&
	    event_now_ms() - spare_born_ms > CLEANUP_SPARE_MAX_AGE_MS)
		cleanup_file_drop_spare();
	if (spare_fd >= 0) {
		fd = spare_fd;
		spare_fd = -1;
		memcpy(id, spare_id, QUEUE_ID_SIZE);
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
	char id[QUEUE_ID_SIZE];
	int fd;

	if (spare_fd >= 0)
		return;
	if ((fd = file_create(cfg, id)) < 0) {
		log_warn("create a queue file ahead in %s/: %s", SPOOL_ACTIVE,
			 strerror(errno));
		return;
	}
	if (file_fill(fd) < 0 ||
	    group_sync_dir(cfg->active_sync, cfg->active_fd) < 0) {
		log_warn("make a queue file ahead in %s/: %s", SPOOL_ACTIVE,
			 strerror(errno));
		(void)unlinkat(cfg->active_fd, id, 0);
		close(fd);
		return;
	}
	memcpy(spare_id, id, QUEUE_ID_SIZE);
	spare_dirfd = cfg->active_fd;
	spare_born_ms = event_now_ms();
	spare_fd = fd; /* last: the handler sees a whole spare or none */
}
