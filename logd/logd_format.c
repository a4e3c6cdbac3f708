/*
 * logd_format: what logd makes of a record, purely: the lines in it, the
 * severity its text announces, and the line written to the sink, whose
 * tag (syslog_name/program[pid]) comes from the master's label and the
 * kernel, never from the record.  Hostile input: every record byte (a
 * compromised daemon writes anything to its fd 2); the text is bounded to
 * LOG_LINE_MAX and control bytes are replaced, so no record can make two
 * lines or a line that looks like another process's.  Runs in logd.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "logd.h"

int
logd_program_ok(const char *name)
{
	return log_syslog_name_ok(name) && strchr(name, '/') == NULL;
}

/* The prefixes log.c writes, as Postfix's lines have them. */
int
logd_severity(const char *text, size_t len)
{
	static const struct {
		const char *prefix;
		int severity;
	} levels[] = {
	    {"warning: ", LOG_WARNING},
	    {"error: ", LOG_ERR},
	    {"fatal: ", LOG_CRIT},
	    {"panic: ", LOG_CRIT},
	};
	size_t i, n;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		n = strlen(levels[i].prefix);
		if (len >= n && memcmp(text, levels[i].prefix, n) == 0)
			return levels[i].severity;
	}
	return LOG_INFO;
}

int
logd_next_line(const char *data, size_t size, size_t *pos, const char **line,
	       size_t *len)
{
	const char *nl;
	size_t start, end;

	while (*pos < size) {
		start = *pos;
		nl = memchr(data + start, '\n', size - start);
		end = nl != NULL ? (size_t)(nl - data) : size;
		*pos = nl != NULL ? end + 1 : size;
		if (end > start && data[end - 1] == '\r')
			end--;
		if (end == start)
			continue;
		*line = data + start;
		*len = end - start;
		return 1;
	}
	return 0;
}

/* The tag and what comes before it; its length (always < LOG_LINE_MAX/2). */
static size_t
logd_format_head(const struct logd_format *fmt, const char *program, long pid,
		 time_t when, int severity, char *out, size_t size)
{
	char stamp[32];
	struct tm tm;
	int n;

	if (localtime_r(&when, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		strlcpy(stamp, "Jan  1 00:00:00", sizeof(stamp));
	if (fmt->syslog)
		n = snprintf(out, size,
			     "<%d>%s %s/%s[%ld]: ", fmt->facility | severity,
			     stamp, fmt->syslog_name, program, pid);
	else
		n = snprintf(out, size, "%s %s %s/%s[%ld]: ", stamp, fmt->host,
			     fmt->syslog_name, program, pid);
	if (n < 0)
		return 0;
	return (size_t)n >= size ? size - 1 : (size_t)n;
}

size_t
logd_format_line(const struct logd_format *fmt, const char *program, long pid,
		 time_t when, const char *text, size_t len, int cut, char *out)
{
	size_t head, room, take, i, mark = strlen(LOGD_CUT_MARK);

	head = logd_format_head(fmt, program, pid, when,
				logd_severity(text, len), out, LOG_LINE_MAX);
	/* What the text may fill: the rest, less a file line's newline. */
	room = LOG_LINE_MAX - head - (fmt->syslog ? 0 : 1);
	if (len > room)
		cut = 1;
	take = cut ? (len < room - mark ? len : room - mark) : len;
	for (i = 0; i < take; i++) {
		unsigned char c = (unsigned char)text[i];
		out[head + i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	head += take;
	if (cut) {
		memcpy(out + head, LOGD_CUT_MARK, mark);
		head += mark;
	}
	if (!fmt->syslog)
		out[head++] = '\n';
	return head;
}
