/*
 * local_journal: the destinations that already took a message.  It closes
 * the at-least-once window when qmgr (or local's parent) dies after a
 * delivery but before qmgr recorded the result, and the one where a
 * recipient is retried because another destination of its expansion
 * deferred.  The delivery child, right after its mailbox write, file write
 * or command succeeded, says so ({op=delivered}), and the root parent
 * appends "QUEUEID<TAB>KEY" to the journal (one O_APPEND write: atomic
 * among processes; no fsync: it guards against a process crash, not a
 * power loss).  Before delivering to a destination, local's parent looks
 * for its line and, when found, records it as sent without delivering
 * again.  The journal is LOCAL_JOURNAL_BUCKETS files in
 * state/local.journal/, named by a hash of the queue ID: a lookup reads
 * only its message's file.  Each turns over at LOCAL_JOURNAL_MAX bytes,
 * keeping the previous one, so a lookup reads at most twice that (from the
 * page cache), the whole keeps the last 1,024 x 4 KiB of lines at least
 * (some 50,000 deliveries), and a retry after many more may find nothing:
 * then the old at-least-once rule holds.  Queue IDs are unique, so an old
 * line never matches a new message.  The directory and files are root's,
 * 0700 and 0600; the lines are built from validated queue IDs and keys,
 * never read as anything but bytes to compare.  Runs in local's root
 * parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "local_resolve.h"
#include "log.h"
#include "queue_file.h"
#include "spool.h"

#define LOCAL_JOURNAL_DIR SPOOL_STATE "/local.journal"
#define LOCAL_JOURNAL_BUCKETS 1024
#define LOCAL_JOURNAL_MAX 4096 /* bytes of one file before it turns over */
#define LOCAL_JOURNAL_LINE_MAX 4096
#define LOCAL_JOURNAL_PATH_MAX (sizeof(LOCAL_JOURNAL_DIR) + 8)

/* The file of queue_id's lines (old: the one before it). */
static void
local_journal_path(const char *queue_id, int old, char *path)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = queue_id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(path, LOCAL_JOURNAL_PATH_MAX, "%s/%03x%s", LOCAL_JOURNAL_DIR,
		 (unsigned)(h % LOCAL_JOURNAL_BUCKETS), old ? ".old" : "");
}

/* Read a journal file (bounded) into out; 0, or -1 when it is unusable. */
static int
local_journal_read(const char *path, struct buf *out)
{
	char chunk[8192];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0) {
		close(fd);
		return -1;
	}
	while (out->len < 4 * LOCAL_JOURNAL_MAX &&
	       (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(fd);
	return 0;
}

static int
local_journal_has(const struct buf *text, const char *line, size_t len)
{
	const char *p = text->data, *end = text->data + text->len;

	while (p != NULL && p < end) {
		if ((size_t)(end - p) >= len && memcmp(p, line, len) == 0)
			return 1;
		p = memchr(p, '\n', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	return 0;
}

/* "QUEUEID<TAB>KEY\n", with any tab or newline in key made a space. */
static int
local_journal_line(const char *queue_id, const char *key, struct buf *line)
{
	buf_reset(line);
	buf_printf(line, "%s\t%s\n", queue_id, key);
	for (size_t i = strlen(queue_id) + 1; i + 1 < line->len; i++)
		if (line->data[i] == '\t' || line->data[i] == '\n')
			line->data[i] = ' ';
	return line->len <= LOCAL_JOURNAL_LINE_MAX ? 0 : -1;
}

int
local_journal_seen(const struct local_msg *m, const char *key)
{
	struct buf line = BUF_INIT, text = BUF_INIT;
	char path[LOCAL_JOURNAL_PATH_MAX];
	int found = 0;

	if (local_journal_line(m->queue_id, key, &line) == 0) {
		local_journal_path(m->queue_id, 0, path);
		if (local_journal_read(path, &text) == 0)
			found = local_journal_has(&text, line.data, line.len);
		buf_reset(&text);
		local_journal_path(m->queue_id, 1, path);
		if (!found && local_journal_read(path, &text) == 0)
			found = local_journal_has(&text, line.data, line.len);
	}
	buf_free(&text);
	buf_free(&line);
	return found;
}

int
local_journal_open(const char *queue_id)
{
	char path[LOCAL_JOURNAL_PATH_MAX];
	int fd, flags = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC;

	local_journal_path(queue_id, 0, path);
	fd = open(path, flags, 0600);
	/* An older Moat's single file by that name: its lines go. */
	if (fd < 0 && errno == ENOTDIR) {
		(void)unlink(LOCAL_JOURNAL_DIR);
		(void)unlink(LOCAL_JOURNAL_DIR ".old");
		errno = ENOENT;
	}
	/* The first line ever: make the directory (state/ is root's). */
	if (fd < 0 && errno == ENOENT &&
	    (mkdir(LOCAL_JOURNAL_DIR, 0700) == 0 || errno == EEXIST))
		fd = open(path, flags, 0600);
	if (fd < 0)
		log_warn("cannot open %s: %s", path, strerror(errno));
	return fd;
}

/* One write(2) of one line: atomic with O_APPEND. */
void
local_journal_write(int fd, const char *queue_id, const char *key)
{
	struct buf line = BUF_INIT;

	if (fd < 0 || local_journal_line(queue_id, key, &line) != 0) {
		buf_free(&line);
		return;
	}
	if (write(fd, line.data, line.len) != (ssize_t)line.len)
		log_warn("%s: cannot write %s: %s", queue_id, LOCAL_JOURNAL_DIR,
			 strerror(errno));
	buf_free(&line);
}

/* The parent, after the child: turn the file over when it is full. */
void
local_journal_close(int fd, const char *queue_id)
{
	char path[LOCAL_JOURNAL_PATH_MAX], old[LOCAL_JOURNAL_PATH_MAX];
	struct stat st, now;

	if (fd < 0)
		return;
	local_journal_path(queue_id, 0, path);
	/* Unless another process just did it (the name moved on). */
	if (fstat(fd, &st) == 0 && st.st_size > LOCAL_JOURNAL_MAX &&
	    lstat(path, &now) == 0 && now.st_ino == st.st_ino &&
	    now.st_dev == st.st_dev) {
		local_journal_path(queue_id, 1, old);
		(void)rename(path, old);
	}
	close(fd);
}

void
local_journal_add(const char *queue_id, const char *key)
{
	int fd = local_journal_open(queue_id);

	local_journal_write(fd, queue_id, key);
	local_journal_close(fd, queue_id);
}
