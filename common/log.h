/*
 * log: one log module for every program.  A line is written with a single
 * write(2) to fd 2.  Under the master, fd 2 of a daemon is its own channel
 * to logd (a SOCK_SEQPACKET socket, see logd(8)): then each write is one
 * record holding only the text ("warning: ..."), and logd, not the
 * writer, puts the time, the host, the program's name and the kernel's pid
 * in front.  Anywhere else (a terminal, a file: sendmail, postdrop, moat,
 * a daemon run by hand) the line has syslog's shape ("Nov 22 10:00:00 host
 * moat/smtpd[42]: text").  Control bytes in a message (which may carry
 * client data) are replaced with '?'.  Lines start with the queue ID when
 * there is one, then key=value pairs, as Postfix's do.
 */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stdarg.h>

#define LOG_LINE_MAX 2048
#define LOG_NAME_MAX 64 /* syslog_name, and a program's name in a tag */

/* Name this process in its log lines ("smtpd" becomes "moat/smtpd"). */
void log_init(const char *progname);
/* Write lines to this fd instead of 2 (-1: nowhere); also after a dup2. */
void log_set_fd(int fd);
/* The tag's first part in full lines: "moat" unless set (syslog_name). */
void log_set_syslog_name(const char *name);
/* 1 when fd is a log channel (a UNIX SOCK_SEQPACKET socket). */
int log_fd_is_channel(int fd);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/*
 * log_names.c: 1 when name may stand in a tag (syslog_name, a program):
 * 1..LOG_NAME_MAX bytes of [A-Za-z0-9._+-/].  The syslog.h code of a
 * facility name (mail, daemon, user, local0..local7), or -1.
 */
int log_syslog_name_ok(const char *name);
int log_facility_code(const char *name);

void log_vline(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
