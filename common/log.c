/*
 * log: format a line, neutralise control bytes, write it once to fd 2.
 * Runs in every process; the text may carry hostile client bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char log_prog[64] = "moat";
static char log_host[256];
static int log_fd = 2;

void
log_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	if (slash != NULL)
		progname = slash + 1;
	snprintf(log_prog, sizeof(log_prog), "moat/%s", progname);
	if (gethostname(log_host, sizeof(log_host)) != 0)
		snprintf(log_host, sizeof(log_host), "localhost");
	log_host[sizeof(log_host) - 1] = '\0';
	tzset();
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

void
log_vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	size_t len, head, i;
	int n, saved = errno;

	if (log_host[0] == '\0')
		log_init(log_prog[5] ? log_prog + 5 : "moat");
	localtime_r(&now, &tm);
	if (strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s", stamp, log_host,
		     log_prog, (long)getpid(), prefix);
	head = n < 0 ? 0 : (size_t)n >= sizeof(line) ? sizeof(line) - 1
						      : (size_t)n;
	n = vsnprintf(line + head, sizeof(line) - head, fmt, ap);
	len = n < 0 ? head : head + (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	for (i = head; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	line[len++] = '\n';
	if (log_fd >= 0)
		(void)!write(log_fd, line, len);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("warning: ", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("error: ", fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}
