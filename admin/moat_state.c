/*
 * moat_state: what `moat status` says about failing services, read from
 * the file the master keeps (SPOOL_MASTER_STATE, master/master_state.c):
 * for each service whose last process failed, how it died (an exit status,
 * a signal, a seccomp kill and the call), when, and when the master starts
 * it again.  Input: that file, trusted only when it is a regular file that
 * root owns and only root can write, and only as far as its bounded,
 * tab-separated lines go.  Runs in the moat command.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "moat.h"
#include "spool.h"

#define MOAT_STATE_MAX (64 * 1024)
#define MOAT_STATE_HEAD "moat-state 1\n"
#define MOAT_STATE_FIELDS 5

/* The file's text, if root's own and not too large; -1: none to show. */
static int
moat_state_read(const char *path, struct buf *text)
{
	char chunk[4096];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		if (errno != ENOENT)
			moat_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) || st.st_size > MOAT_STATE_MAX) {
		moat_error("%s: not a file of root's that only root can write; "
			   "ignored",
			   path);
		close(fd);
		return -1;
	}
	while (text->len < MOAT_STATE_MAX &&
	       (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(text, chunk, (size_t)n);
	close(fd);
	return 0;
}

static void
moat_state_time(long long when, char *out, size_t size)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, size, "%lld", when);
}

/* One line: SERVICE COMMAND FAILED_AT RESTART_AT HOW, tab-separated. */
static void
moat_state_line(char *line, long long now)
{
	char *f[MOAT_STATE_FIELDS], *end, at[32];
	long long failed, restart;
	int i;

	for (i = 0; i < MOAT_STATE_FIELDS; i++) {
		f[i] = line;
		line = strchr(line, '\t');
		if ((line == NULL) != (i == MOAT_STATE_FIELDS - 1))
			return; /* not five fields */
		if (line != NULL)
			*line++ = '\0';
	}
	failed = strtoll(f[2], &end, 10);
	if (end == f[2] || *end != '\0')
		return;
	restart = strtoll(f[3], &end, 10);
	if (end == f[3] || *end != '\0')
		return;
	moat_state_time(failed, at, sizeof(at));
	if (restart > now)
		moat_say("%s (%s): %s at %s, restarting in %lld s", f[1], f[0],
			 f[4], at, restart - now);
	else
		moat_say("%s (%s): %s at %s, restarted", f[1], f[0], f[4], at);
}

void
moat_state_show(const char *queue_dir)
{
	struct buf text = BUF_INIT;
	char path[PATH_MAX], *line, *next;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", queue_dir,
		     SPOOL_MASTER_STATE);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    moat_state_read(path, &text) != 0 || text.len == 0 ||
	    strncmp(buf_cstr(&text), MOAT_STATE_HEAD,
		    strlen(MOAT_STATE_HEAD)) != 0) {
		buf_free(&text);
		return;
	}
	for (line = text.data + strlen(MOAT_STATE_HEAD);
	     (next = strchr(line, '\n')) != NULL; line = next + 1) {
		*next = '\0';
		moat_state_line(line, (long long)time(NULL));
	}
	buf_free(&text);
}
