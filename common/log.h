/*
 * log: one log module for every program.  A line is written with a single
 * write(2) to fd 2 in syslog's shape ("Nov 22 10:00:00 host moat/smtpd[42]:
 * text"), so the master can point fd 2 of every child at maillog_file opened
 * O_APPEND and lines from many processes never interleave.  Control bytes in
 * a message (which may carry client data) are replaced with '?', so nobody
 * can forge a log line.  Lines start with the queue ID when there is one,
 * then key=value pairs, as Postfix's do.
 */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stdarg.h>

#define LOG_LINE_MAX 2048

/* Name this process in its log lines ("smtpd" becomes "moat/smtpd"). */
void log_init(const char *progname);
/* Write lines to this fd instead of 2 (-1: nowhere). */
void log_set_fd(int fd);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void log_vline(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
