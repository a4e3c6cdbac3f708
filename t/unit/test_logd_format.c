/*
 * test_logd_format: logd's line formatter and record splitter without
 * sockets: the tag is the master's label and the kernel's pid whatever the
 * text claims, the time stamp and host, the syslog shape (priority from the
 * facility and the text's severity, no host, no newline), control bytes
 * replaced, the cut at LOG_LINE_MAX (and of a record logd read only in
 * part), the lines of a multi-line record, and the names the tag accepts.
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "logd.h"
#include "tap.h"

/* 2026-12-07 10:00:05 UTC; the tests run with TZ=UTC. */
#define WHEN ((time_t)1796637605)

static struct logd_format
file_format(void)
{
	struct logd_format f;

	memset(&f, 0, sizeof(f));
	strlcpy(f.host, "mx1", sizeof(f.host));
	strlcpy(f.syslog_name, "moat", sizeof(f.syslog_name));
	f.facility = LOG_MAIL;
	return f;
}

static char *
format(const struct logd_format *f, const char *program, long pid,
       const char *text, size_t len, int cut, size_t *out_len)
{
	static char out[LOG_LINE_MAX + 1];
	size_t n = logd_format_line(f, program, pid, WHEN, text, len, cut, out);

	out[n] = '\0';
	if (out_len != NULL)
		*out_len = n;
	return out;
}

static void
test_file_line(void)
{
	struct logd_format f = file_format();
	const char *forged = "moat/qmgr[1]: 0A1B: removed";

	is_str(format(&f, "smtpd", 42, "connect from unknown[192.0.2.1]", 31, 0,
		      NULL),
	       "Dec  7 10:00:05 mx1 moat/smtpd[42]: connect from "
	       "unknown[192.0.2.1]\n",
	       "a file line: stamp, host, syslog_name/program[pid], text, LF");
	is_str(format(&f, "smtpd", 4242, forged, strlen(forged), 0, NULL),
	       "Dec  7 10:00:05 mx1 moat/smtpd[4242]: moat/qmgr[1]: 0A1B: "
	       "removed\n",
	       "a forged tag in the text stays text: the label and pid win");
	strlcpy(f.syslog_name, "postfix-out", sizeof(f.syslog_name));
	is_str(format(&f, "qmgr", 7, "x", 1, 0, NULL),
	       "Dec  7 10:00:05 mx1 postfix-out/qmgr[7]: x\n",
	       "syslog_name is the tag's first part");
}

static void
test_syslog_line(void)
{
	struct logd_format f = file_format();

	f.syslog = 1;
	is_str(format(&f, "smtpd", 42, "hello", 5, 0, NULL),
	       "<22>Dec  7 10:00:05 moat/smtpd[42]: hello",
	       "syslog: <mail.info>, no host, no newline");
	is_str(format(&f, "smtpd", 42, "warning: x", 10, 0, NULL),
	       "<20>Dec  7 10:00:05 moat/smtpd[42]: warning: x",
	       "syslog: warning: is mail.warning");
	f.facility = LOG_LOCAL3;
	is_str(format(&f, "local", 9, "fatal: y", 8, 0, NULL),
	       "<154>Dec  7 10:00:05 moat/local[9]: fatal: y",
	       "syslog: fatal: is crit, in the facility set");
	is_int(logd_severity("error: z", 8), LOG_ERR, "error: is err");
	is_int(logd_severity("warning:", 8), LOG_INFO,
	       "a prefix without its space is info");
	is_int(logd_severity("queued", 6), LOG_INFO, "anything else is info");
}

static void
test_control_bytes(void)
{
	struct logd_format f = file_format();
	const char text[] = "a\rb\033[2Jc\0d\x7f"
			    "e\xc3\xa9";

	is_str(format(&f, "smtpd", 1, text, sizeof(text) - 1, 0, NULL),
	       "Dec  7 10:00:05 mx1 moat/smtpd[1]: a?b?[2Jc?d?e\xc3\xa9\n",
	       "CR, ESC, NUL and DEL become '?'; UTF-8 stays");
}

static void
test_cut(void)
{
	struct logd_format f = file_format();
	char *text = malloc(3 * LOG_LINE_MAX), *line;
	size_t n, mark = strlen(LOGD_CUT_MARK);

	memset(text, 'x', 3 * LOG_LINE_MAX);
	line = format(&f, "cleanup", 123, text, 3 * LOG_LINE_MAX, 0, &n);
	is_int(n, LOG_LINE_MAX, "a long text makes a line of LOG_LINE_MAX");
	ok(line[n - 1] == '\n' &&
	       memcmp(line + n - 1 - mark, LOGD_CUT_MARK, mark) == 0,
	   "it ends with the cut mark and the newline");
	f.syslog = 1;
	(void)format(&f, "cleanup", 123, text, 3 * LOG_LINE_MAX, 0, &n);
	is_int(n, LOG_LINE_MAX, "a syslog message is cut at LOG_LINE_MAX");
	f.syslog = 0;
	line = format(&f, "cleanup", 123, "short", 5, 1, &n);
	is_str(line,
	       "Dec  7 10:00:05 mx1 moat/cleanup[123]: short" LOGD_CUT_MARK
	       "\n",
	       "a record read in part is marked even when short");
	free(text);
}

static void
test_lines(void)
{
	const char rec[] = "one\r\n\ntwo\nthree";
	const char *line;
	size_t pos = 0, len;
	struct buf got = BUF_INIT;

	while (logd_next_line(rec, sizeof(rec) - 1, &pos, &line, &len)) {
		buf_append(&got, line, len);
		buf_append(&got, "|", 1);
	}
	is_str(buf_cstr(&got), "one|two|three|",
	       "a record splits at LF; CR before LF and empty lines go");
	buf_free(&got);
	pos = 0;
	is_int(logd_next_line("\n\n", 2, &pos, &line, &len), 0,
	       "a record of newlines holds no line");
	pos = 0;
	is_int(logd_next_line("", 0, &pos, &line, &len), 0,
	       "an empty record holds no line");
}

static void
test_names(void)
{
	ok(log_syslog_name_ok("moat") && log_syslog_name_ok("postfix-out") &&
	       log_syslog_name_ok("mail/moat"),
	   "syslog_name: moat, postfix-out, mail/moat");
	ok(!log_syslog_name_ok("") && !log_syslog_name_ok("moat smtpd") &&
	       !log_syslog_name_ok("moat[1]") && !log_syslog_name_ok("a:b") &&
	       !log_syslog_name_ok("\n"),
	   "syslog_name: no empty, space, brackets, colon or control");
	ok(logd_program_ok("smtpd") && !logd_program_ok("a/b") &&
	       !logd_program_ok("smtpd[1]"),
	   "a program's name has no slash or bracket");
	is_int(log_facility_code("mail"), LOG_MAIL, "facility mail");
	is_int(log_facility_code("LOCAL7"), LOG_LOCAL7, "facility local7");
	is_int(log_facility_code("kern"), -1, "facility kern is refused");
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_file_line();
	test_syslog_line();
	test_control_bytes();
	test_cut();
	test_lines();
	test_names();
	return done_testing();
}
