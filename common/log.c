/*
 * log: format a line, neutralise control bytes, write it once to fd 2:
 * the bare text when fd 2 is a log channel to logd (which adds the rest
 * from what it knows, not from what we say), a whole syslog-shaped line
 * otherwise.  Runs in every process; the text may carry hostile client
 * bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char log_name[64] = "moat";
static char log_base[64] = "moat";
static char log_prog[128] = "moat/moat";
static char log_host[256];
static int log_fd = 2;
static int log_channel; /* log_fd is a channel to logd */

int
log_fd_is_channel(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return 0;
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
		return 0;
	return type == SOCK_SEQPACKET && domain == AF_UNIX;
}

static void
log_make_tag(void)
{
	snprintf(log_prog, sizeof(log_prog), "%s/%s", log_name, log_base);
}

/* What log_init learns besides the name; also for a process without it. */
static void
log_init_host(void)
{
	if (gethostname(log_host, sizeof(log_host)) != 0)
		snprintf(log_host, sizeof(log_host), "localhost");
	log_host[sizeof(log_host) - 1] = '\0';
	log_channel = log_fd_is_channel(log_fd);
	tzset();
}

void
log_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	if (slash != NULL)
		progname = slash + 1;
	snprintf(log_base, sizeof(log_base), "%s", progname);
	log_make_tag();
	log_init_host();
}

void
log_set_fd(int fd)
{
	log_fd = fd;
	log_channel = log_fd_is_channel(fd);
}

void
log_set_syslog_name(const char *name)
{
	snprintf(log_name, sizeof(log_name), "%s", name);
	log_make_tag();
}

/* "Nov 22 10:00:00 host moat/smtpd[42]: " into line; its length. */
static size_t
log_head(char *line, size_t size)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	localtime_r(&now, &tm);
	if (strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(line, size, "%s %s %s[%ld]: ", stamp, log_host, log_prog,
		     (long)getpid());
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

void
log_vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len, head = 0, i;
	int n, saved = errno;

	if (log_host[0] == '\0')
		log_init_host();
	if (!log_channel)
		head = log_head(line, sizeof(line));
	n = snprintf(line + head, sizeof(line) - head, "%s", prefix);
	len = n < 0 ? head : head + (size_t)n;
	if (len < sizeof(line) - 1) {
		n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		len = n < 0 ? len : len + (size_t)n;
	}
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	for (i = head; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	/* A record is a line: logd needs no newline. */
	if (!log_channel)
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
