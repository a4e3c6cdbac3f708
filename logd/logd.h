/*
 * logd.h: the interfaces shared by the files of logd/ (and its unit tests
 * and fuzz targets).  The pure parts: the line formatter (logd_format.c),
 * the per-channel rate limiter (logd_rate.c) and the parser of the
 * master's control frames (logd_control.c).  The parts that do I/O: the
 * channels (logd_channel.c) and the sink (logd_sink.c).
 */
#ifndef MOAT_LOGD_H
#define MOAT_LOGD_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "ipc.h"
#include "log.h"

#define LOGD_NAME_MAX LOG_NAME_MAX
#define LOGD_DATAGRAM_MAX (8 * LOG_LINE_MAX) /* read at once; more is cut */
#define LOGD_CUT_MARK " [cut]"
#define LOGD_SINK_BUF (8 * LOG_LINE_MAX) /* a file's lines, written at once */

/* --- logd_format.c: records into lines -------------------------------- */

struct logd_format {
	int syslog;     /* 1: "<PRI>stamp tag[pid]: text", no host, no LF */
	int facility;   /* syslog facility, as syslog.h has it (LOG_MAIL) */
	char host[256]; /* file lines only */
	char syslog_name[LOGD_NAME_MAX + 1];
};

/* A program's name: what log_syslog_name_ok() takes, without '/'. */
int logd_program_ok(const char *name);
/* The syslog severity a text announces ("warning: " ...); LOG_INFO else. */
int logd_severity(const char *text, size_t len);

/*
 * The next line of a record: *pos moves past it.  Lines end at LF; a CR
 * before the LF is dropped; empty lines are skipped.  1 with *line and
 * *len set, 0 when the record holds no more.
 */
int logd_next_line(const char *data, size_t size, size_t *pos,
		   const char **line, size_t *len);

/*
 * One line as the sink takes it, into out (LOG_LINE_MAX bytes at most,
 * the newline of a file line included): time stamp, host (files),
 * syslog_name/program[pid], then the text with every control byte
 * replaced by '?'.  A text that does not fit, or cut is set (the record
 * was longer than logd reads), ends in LOGD_CUT_MARK.  Returns the length.
 */
size_t logd_format_line(const struct logd_format *fmt, const char *program,
			long pid, time_t when, const char *text, size_t len,
			int cut, char *out);

/* --- logd_rate.c: a token bucket of bytes per channel --------------- */

#define LOGD_DROP_QUIET_MS 1000   /* report drops after this quiet time */
#define LOGD_DROP_REPORT_MS 60000 /* or at least this often in a flood */

struct logd_rate {
	long long tokens;  /* thousandths of a byte */
	long long last_ms; /* last refill */
	unsigned long dropped;
	unsigned long long dropped_bytes;
	long long first_drop_ms, last_drop_ms;
};

/* rate: bytes a second; burst: bytes at once (at least LOG_LINE_MAX). */
void logd_rate_init(struct logd_rate *r, long long burst, long long now_ms);
/* 1: log this line of cost bytes; 0: over the limit, dropped (counted). */
int logd_rate_take(struct logd_rate *r, size_t cost, long long rate,
		   long long burst, long long now_ms);
/*
 * The number of dropped lines to report now (and forget, with their bytes
 * in *bytes), or 0: when there are some and the flood has paused for
 * LOGD_DROP_QUIET_MS, has gone on for LOGD_DROP_REPORT_MS, or final (the
 * channel is closing).
 */
unsigned long logd_rate_report(struct logd_rate *r, long long now_ms, int final,
			       unsigned long long *bytes);

/* --- logd_control.c: the master's frames ------------------------------ */

enum logd_op {
	LOGD_OP_SINK,
	LOGD_OP_CHANNEL,
	LOGD_OP_STOP,
};

struct logd_request {
	enum logd_op op;
	int syslog; /* sink: kind syslog */
	char program[LOGD_NAME_MAX + 1];
	long pid; /* channel: the pid the master forked */
};

/* Pure: one frame into r; -1 with *why when it is not a valid request. */
int logd_control_parse(const struct ipc_frame *f, struct logd_request *r,
		       const char **why);

/* --- logd_sink.c: where lines go -------------------------------------- */

/* Take fd as the sink (closing the old one); -1 with *why if it is unfit. */
int logd_sink_set(int fd, int syslog, const char **why);
int logd_sink_ready(void);
/*
 * Write one formatted line (to a file: gathered until logd_sink_flush or a
 * full buffer); a failure is counted and reported later.
 */
void logd_sink_write(const char *line, size_t len);
/* Write the gathered lines: after each turn of the loop, and at exit. */
void logd_sink_flush(void);
/* logd's own line, straight to the sink (drop notices, sink trouble). */
void logd_sink_notice(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* The format every line is written in (set up once at start). */
extern struct logd_format logd_fmt;

/* --- logd_channel.c: the channels ------------------------------------- */

/* Take fd as logd's end of a channel; -1 with *why if it is not one. */
int logd_channel_add(int fd, const char *program, long pid, const char **why);
/* Start or stop reading every channel (reading waits for a sink). */
void logd_channels_enable(int on);
/* Read what every channel holds now (before exit). */
void logd_channels_drain(void);
/* Report the drops that are due; every second. */
void logd_channels_sweep(long long now_ms);
void logd_channels_set_limit(long long rate, long long burst);

#endif
