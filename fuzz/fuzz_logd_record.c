/*
 * fuzz_logd_record: hostile records from a daemon's log channel into
 * logd's splitter and formatter.  The first byte chooses the format
 * (file or syslog), whether the record counts as cut, and where the same
 * bytes are split into several records at line ends; the lines made must
 * not depend on that split (compared with the whole record).  Every line
 * must start with the tag logd chose, stay within LOG_LINE_MAX, hold no
 * control byte, and (files) end with its only newline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "buf.h"
#include "logd.h"

#define WHEN ((time_t)1796637605)

static struct logd_format fmt;
static char head[LOG_LINE_MAX];
static size_t head_len;

/* The head of a line; a syslog one after its <PRI>, which may vary. */
static size_t
skip_pri(const char *line, size_t n)
{
	const char *gt = fmt.syslog ? memchr(line, '>', n) : NULL;

	return gt != NULL ? (size_t)(gt - line) + 1 : 0;
}

static void
check_line(const char *line, size_t n)
{
	size_t i, body = fmt.syslog ? n : n - 1;
	size_t skip = skip_pri(line, n), skip_head = skip_pri(head, head_len);

	if (n > LOG_LINE_MAX || n < head_len ||
	    (fmt.syslog && skip != skip_head) ||
	    memcmp(line + skip, head + skip_head, head_len - skip_head) != 0)
		abort();
	if (!fmt.syslog && line[n - 1] != '\n')
		abort();
	for (i = head_len; i < body; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort();
}

/* Every line of one record, formatted, appended to out. */
static void
record(const char *data, size_t size, int cut, struct buf *out)
{
	char line[LOG_LINE_MAX];
	const char *text;
	size_t pos = 0, len, n;

	while (logd_next_line(data, size, &pos, &text, &len)) {
		if (len == 0 || memchr(text, '\n', len) != NULL)
			abort();
		n = logd_format_line(&fmt, "smtpd", 42, WHEN, text, len,
				     cut && pos >= size, line);
		check_line(line, n);
		buf_append(out, line, n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, parts = BUF_INIT;
	const char *p = (const char *)data + 1, *nl;
	size_t left, every, seen = 0, start = 0, i;
	char *empty;

	if (size == 0)
		return 0;
	memset(&fmt, 0, sizeof(fmt));
	fmt.syslog = data[0] & 1;
	fmt.facility = LOG_MAIL;
	strlcpy(fmt.host, "mx1", sizeof(fmt.host));
	strlcpy(fmt.syslog_name, "moat", sizeof(fmt.syslog_name));
	/* The head is what a line with an empty text starts with. */
	empty = (char *)"";
	head_len = logd_format_line(&fmt, "smtpd", 42, WHEN, empty, 0, 0, head);
	if (!fmt.syslog)
		head_len--;
	left = size - 1;
	record(p, left, 0, &whole);
	/* The same bytes as several records, split after every n-th LF. */
	every = 1 + (data[0] >> 1) % 4;
	for (i = 0; i < left; i = (size_t)(nl - p) + 1) {
		if ((nl = memchr(p + i, '\n', left - i)) == NULL)
			break;
		if (++seen % every == 0) {
			record(p + start, (size_t)(nl - p) + 1 - start, 0,
			       &parts);
			start = (size_t)(nl - p) + 1;
		}
	}
	record(p + start, left - start, 0, &parts);
	if (!buf_equal(&whole, &parts))
		abort();
	buf_reset(&whole);
	record(p, left, 1, &whole); /* a cut record: still bounded */
	buf_free(&whole);
	buf_free(&parts);
	return 0;
}
