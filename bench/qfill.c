/*
 * qfill: puts N valid queue files into a stopped instance's deferred/
 * for bench/compare.py's queue-scaling figures, in seconds rather than the
 * minutes N submissions would take.  One file is written with the queue
 * writer cleanup uses (common/queue_writer.c), read back and checked with
 * queue_file_read, then copied under N fresh queue IDs, each owned by the
 * queue's user, mode 0600, with an mtime (next-try time) an hour ahead so
 * that qmgr leaves them until `moat queue flush`.  One syncfs at the end
 * instead of one fsync per file: these files are a benchmark's fixture,
 * not accepted mail.
 *
 *   qfill SPOOL_DIR COUNT RCPT
 *
 * Run as root by the benchmark on an instance it made; trusts its
 * arguments (the benchmark's), nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "queue_file.h"

#define QFILL_USER "moat-queue"
#define QFILL_PROTO "qfill.proto"

static const char content[] =
    "Received: from load.example (localhost [127.0.0.1])\n"
    "\tby bench.example with ESMTP\n"
    "From: load@example.org\n"
    "To: someone\n"
    "Subject: queue scaling\n"
    "\n"
    "A message that waited in deferred/.\n";

/* The whole file fd into file. */
static int
qfill_slurp(int fd, struct buf *file)
{
	char chunk[8192];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(file, chunk, (size_t)n);
	return n == 0 ? 0 : -1;
}

/* The prototype, written and read back as qmgr would read it. */
static int
qfill_proto(int dirfd, const char *rcpt, struct buf *file)
{
	struct queue_writer w;
	struct queue_env env;
	struct buf err;
	char num[32];
	int fd, r;

	snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
	(void)unlinkat(dirfd, QFILL_PROTO, 0);
	if (queue_writer_open(&w, dirfd, QFILL_PROTO) != 0)
		return -1;
	(void)queue_writer_record(&w, QREC_ARRIVAL, num, strlen(num));
	(void)queue_writer_record(&w, QREC_SENDER, "load@example.org", 16);
	(void)queue_writer_record(&w, QREC_CLIENT_ADDR, "127.0.0.1", 9);
	(void)queue_writer_record(&w, QREC_PROTOCOL, "ESMTP", 5);
	(void)queue_writer_rcpt(&w, rcpt, NULL);
	(void)queue_writer_content(&w, content, sizeof(content) - 1);
	if (queue_writer_finish(&w) != 0)
		return -1;
	if ((fd = openat(dirfd, QFILL_PROTO, O_RDONLY | O_NOFOLLOW)) < 0)
		return -1;
	buf_init(&err);
	queue_env_init(&env);
	r = queue_file_read(fd, &env, &err);
	if (r != 0)
		fprintf(stderr, "qfill: prototype unreadable: %.*s\n",
			(int)err.len, err.data);
	queue_env_free(&env);
	buf_free(&err);
	if (r == 0 && qfill_slurp(fd, file) != 0)
		r = -1;
	close(fd);
	(void)unlinkat(dirfd, QFILL_PROTO, 0);
	return r;
}

static int
qfill_one(int dirfd, const struct buf *file, const struct passwd *pw,
	  const struct timespec times[2])
{
	char id[QUEUE_ID_SIZE];
	int fd, r = 0;

	queue_id_new(id);
	fd = openat(dirfd, id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, file->data, file->len) != (ssize_t)file->len ||
	    fchown(fd, pw->pw_uid, pw->pw_gid) != 0 || futimens(fd, times) != 0)
		r = -1;
	if (close(fd) != 0)
		r = -1;
	return r;
}

int
main(int argc, char **argv)
{
	struct timespec times[2];
	struct passwd *pw;
	struct buf file;
	char path[4096];
	long count;
	int dirfd;

	if (argc != 4 || (count = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: qfill SPOOL_DIR COUNT RCPT\n");
		return 2;
	}
	if ((pw = getpwnam(QFILL_USER)) == NULL) {
		fprintf(stderr, "qfill: no user %s\n", QFILL_USER);
		return 1;
	}
	if (snprintf(path, sizeof(path), "%s/deferred", argv[1]) >=
		(int)sizeof(path) ||
	    (dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0) {
		fprintf(stderr, "qfill: %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf_init(&file);
	if (qfill_proto(dirfd, argv[3], &file) != 0) {
		fprintf(stderr, "qfill: prototype: %s\n", strerror(errno));
		return 1;
	}
	times[0].tv_sec = times[1].tv_sec = time(NULL) + 3600;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	for (long i = 0; i < count; i++)
		if (qfill_one(dirfd, &file, pw, times) != 0) {
			fprintf(stderr, "qfill: file %ld: %s\n", i,
				strerror(errno));
			return 1;
		}
	if (syncfs(dirfd) != 0) {
		fprintf(stderr, "qfill: syncfs: %s\n", strerror(errno));
		return 1;
	}
	printf("%ld queue files in %s\n", count, path);
	return 0;
}
