/*
 * logd_sink: where logd's lines go.  The sink is a descriptor the master
 * opened as root and handed over: maillog_file opened for appending, the
 * master's standard error (master -f), or a datagram socket connected to
 * the system's logger (maillog_file empty).  logd never opens a path.
 * Input: the descriptor (checked to be of the kind the master says) and
 * formatted lines.  Lines for a file are gathered and written together
 * when logd has read what its channels held (logd_sink_flush, after each
 * turn of the event loop, and before exit), one write for many lines; a
 * logger socket takes each line as a datagram of its own.  A line that
 * cannot be written is counted and the count is logged once writing works
 * again; a logger socket that is gone ends logd, so that the master starts
 * another with a fresh connection.  Runs in logd.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logd.h"

struct logd_format logd_fmt;
static int logd_sink_fd = -1;
static unsigned long logd_sink_lost;
static int logd_sink_errno;
/* A file sink's lines not yet written, and how many lines that is. */
static char logd_sink_buf[LOGD_SINK_BUF];
static size_t logd_sink_len;
static unsigned long logd_sink_lines;

static int
logd_sink_check(int fd, int syslog, const char **why)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof(type);

	if (fstat(fd, &st) != 0) {
		*why = "sink: fstat failed";
		return -1;
	}
	if (syslog) {
		if (!S_ISSOCK(st.st_mode) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_DGRAM) {
			*why = "sink: kind syslog, but not a datagram socket";
			return -1;
		}
		return 0;
	}
	if (S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode)) {
		*why = "sink: kind file, but a directory or block device";
		return -1;
	}
	return 0;
}

int
logd_sink_set(int fd, int syslog, const char **why)
{
	if (logd_sink_check(fd, syslog, why) != 0)
		return -1;
	logd_sink_flush();
	if (logd_sink_fd >= 0)
		close(logd_sink_fd);
	logd_sink_fd = fd;
	logd_fmt.syslog = syslog;
	return 0;
}

int
logd_sink_ready(void)
{
	return logd_sink_fd >= 0;
}

static ssize_t
logd_sink_put(const char *line, size_t len)
{
	ssize_t n;

	do
		n = logd_fmt.syslog
			? send(logd_sink_fd, line, len, MSG_NOSIGNAL)
			: write(logd_sink_fd, line, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static unsigned long
logd_count_lines(const char *p, size_t len)
{
	const char *nl;
	unsigned long n = 0;

	while (len > 0 && (nl = memchr(p, '\n', len)) != NULL) {
		n++;
		len -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	return n;
}

/* lines lines of len bytes went out (n) or not: count, report, or end. */
static void
logd_sink_result(ssize_t n, size_t len, unsigned long lines)
{
	unsigned long lost;

	if (n == (ssize_t)len) {
		if ((lost = logd_sink_lost) != 0) {
			logd_sink_lost = 0;
			logd_sink_notice("warning: %lu lines were not written: "
					 "%s",
					 lost, strerror(logd_sink_errno));
		}
		return;
	}
	/* A short write to a file: the lines past it count as lost. */
	logd_sink_lost += lines;
	logd_sink_errno = n < 0 ? errno : EIO;
	/* The logger went away (restarted): our connection is dead. */
	if (logd_fmt.syslog && n < 0 &&
	    (errno == ECONNREFUSED || errno == ENOTCONN || errno == EPIPE))
		log_fatal("the syslog socket is gone (%s); a new logd will "
			  "connect again",
			  strerror(logd_sink_errno));
}

void
logd_sink_flush(void)
{
	size_t len = logd_sink_len;
	unsigned long lines = logd_sink_lines;
	ssize_t n;

	if (len == 0 || logd_sink_fd < 0)
		return;
	logd_sink_len = 0;
	logd_sink_lines = 0;
	n = logd_sink_put(logd_sink_buf, len);
	if (n > 0 && (size_t)n < len)
		lines = logd_count_lines(logd_sink_buf + n, len - (size_t)n);
	logd_sink_result(n, len, lines);
}

void
logd_sink_write(const char *line, size_t len)
{
	if (logd_sink_fd < 0)
		return;
	if (logd_fmt.syslog) {
		logd_sink_result(logd_sink_put(line, len), len, 1);
		return;
	}
	if (len > sizeof(logd_sink_buf) - logd_sink_len)
		logd_sink_flush();
	memcpy(logd_sink_buf + logd_sink_len, line, len);
	logd_sink_len += len;
	logd_sink_lines++;
}

void
logd_sink_notice(const char *fmt, ...)
{
	char text[LOG_LINE_MAX], line[LOG_LINE_MAX];
	va_list ap;
	size_t len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	len = logd_format_line(&logd_fmt, "logd", (long)getpid(), time(NULL),
			       text, len, 0, line);
	logd_sink_write(line, len);
}
