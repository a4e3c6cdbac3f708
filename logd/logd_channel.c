/*
 * logd_channel: the channels logd reads.  A channel is a SOCK_SEQPACKET
 * socket pair the master made for one daemon it started: the daemon has
 * its end as fd 2 (and so do its children, such as local's delivery
 * processes), logd has the other, labelled by the master with the
 * program's name.  The master set SO_PASSCRED and SO_TIMESTAMP on logd's
 * end before the daemon existed, so every record carries the sender's pid
 * (the kernel's: a process cannot claim another pid without
 * CAP_SYS_ADMIN) and the time it was sent (so lines queued while logd was
 * restarting keep their time).  Hostile input: every record and whatever
 * a sender attaches to it (descriptors are closed unread).  A channel ends
 * when every process holding the other end has exited (EOF).  Runs in
 * logd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "event.h"
#include "logd.h"

#define LOGD_READ_BATCH 64     /* records from one channel per turn */
#define LOGD_DRAIN_MAX 1000000 /* records from one channel before exit */
#define LOGD_FDS_SEEN 8        /* room for descriptors a sender attaches */

struct logd_channel {
	struct logd_channel *next;
	int fd;
	char program[LOGD_NAME_MAX + 1];
	long pid; /* the pid the master forked */
	struct logd_rate rate;
};

static struct logd_channel *logd_channel_list;
static int logd_reading;
static long long logd_rate_limit = 1024 * 1024, logd_burst_limit = 4 << 20;

/* A record read from a channel, with what the kernel says about it. */
struct logd_record {
	char data[LOGD_DATAGRAM_MAX];
	size_t len;
	int cut;  /* longer than data: the rest is gone */
	long pid; /* 0: the kernel gave none */
	time_t when;
};

void
logd_channels_set_limit(long long rate, long long burst)
{
	logd_rate_limit = rate;
	logd_burst_limit = burst;
}

static void
logd_channel_report(struct logd_channel *ch, long long now_ms, int final)
{
	unsigned long long bytes = 0;
	unsigned long n = logd_rate_report(&ch->rate, now_ms, final, &bytes);

	if (n > 0)
		logd_sink_notice("warning: %lu lines (%llu bytes) from "
				 "%s/%s[%ld] dropped (log_rate_limit: %lld "
				 "bytes a second)",
				 n, bytes, logd_fmt.syslog_name, ch->program,
				 ch->pid, logd_rate_limit);
}

static void
logd_channel_close(struct logd_channel *ch)
{
	struct logd_channel **pp;

	logd_channel_report(ch, event_now_ms(), 1);
	for (pp = &logd_channel_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	event_remove(ch->fd);
	close(ch->fd);
	free(ch);
}

/* The kernel's word on a record; descriptors a sender attached closed. */
static void
logd_record_control(struct msghdr *msg, struct logd_record *rec)
{
	struct cmsghdr *cmsg;
	struct ucred cred;
	struct timeval tv;
	size_t i, nfds;
	int fd;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	     cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET)
			continue;
		if (cmsg->cmsg_type == SCM_CREDENTIALS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(cmsg), sizeof(cred));
			rec->pid = (long)cred.pid;
		} else if (cmsg->cmsg_type == SCM_TIMESTAMP &&
			   cmsg->cmsg_len == CMSG_LEN(sizeof(tv))) {
			memcpy(&tv, CMSG_DATA(cmsg), sizeof(tv));
			rec->when = tv.tv_sec;
		} else if (cmsg->cmsg_type == SCM_RIGHTS) {
			nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfds; i++) {
				memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
				       sizeof(int));
				close(fd);
			}
		}
	}
}

/* 1: a record in rec; 0: nothing now; -1: the channel ended or failed. */
static int
logd_record_read(int fd, struct logd_record *rec)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(struct timeval)) +
			 CMSG_SPACE(sizeof(int) * LOGD_FDS_SEEN)];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;

	iov.iov_base = rec->data;
	iov.iov_len = sizeof(rec->data);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	/* An empty record still carries credentials; the end carries none. */
	if (n == 0 && msg.msg_controllen == 0)
		return -1;
	rec->len = (size_t)n;
	rec->cut = (msg.msg_flags & MSG_TRUNC) != 0;
	rec->pid = 0;
	rec->when = time(NULL);
	logd_record_control(&msg, rec);
	return 1;
}

static void
logd_record_write(struct logd_channel *ch, const struct logd_record *rec)
{
	char out[LOG_LINE_MAX];
	const char *line;
	size_t pos = 0, len, n;
	long long now = event_now_ms();
	long pid = rec->pid > 0 ? rec->pid : ch->pid;

	while (logd_next_line(rec->data, rec->len, &pos, &line, &len)) {
		n = logd_format_line(&logd_fmt, ch->program, pid, rec->when,
				     line, len, rec->cut && pos >= rec->len,
				     out);
		if (logd_rate_take(&ch->rate, n, logd_rate_limit,
				   logd_burst_limit, now))
			logd_sink_write(out, n);
	}
}

/* Up to max records; -1 when the channel ended (it is freed then). */
static int
logd_channel_read(struct logd_channel *ch, unsigned long max)
{
	static struct logd_record rec;
	unsigned long i;
	int r = 0;

	for (i = 0; i < max; i++) {
		r = logd_record_read(ch->fd, &rec);
		if (r <= 0)
			break;
		logd_record_write(ch, &rec);
	}
	if (r < 0) {
		logd_channel_close(ch);
		return -1;
	}
	return 0;
}

static void
logd_on_channel(int fd, unsigned events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)logd_channel_read(ctx, LOGD_READ_BATCH);
}

int
logd_channel_add(int fd, const char *program, long pid, const char **why)
{
	struct logd_channel *ch;
	int on = 1;

	if (!log_fd_is_channel(fd)) {
		*why = "channel: not a unix seqpacket socket";
		return -1;
	}
	/* The master set both; they must hold before a record is sent. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof(on)) != 0) {
		*why = "channel: setsockopt failed";
		return -1;
	}
	ch = xcalloc(1, sizeof(*ch));
	ch->fd = fd;
	strlcpy(ch->program, program, sizeof(ch->program));
	ch->pid = pid;
	logd_rate_init(&ch->rate, logd_burst_limit, event_now_ms());
	ch->next = logd_channel_list;
	logd_channel_list = ch;
	if (logd_reading)
		event_set(fd, EVENT_READ, logd_on_channel, ch);
	return 0;
}

void
logd_channels_enable(int on)
{
	struct logd_channel *ch;

	logd_reading = on;
	for (ch = logd_channel_list; ch != NULL; ch = ch->next) {
		if (on)
			event_set(ch->fd, EVENT_READ, logd_on_channel, ch);
		else
			event_remove(ch->fd);
	}
}

void
logd_channels_drain(void)
{
	struct logd_channel *ch, *next;

	if (!logd_sink_ready())
		return; /* the master hands them to the next logd */
	for (ch = logd_channel_list; ch != NULL; ch = next) {
		next = ch->next;
		if (logd_channel_read(ch, LOGD_DRAIN_MAX) == 0)
			logd_channel_report(ch, event_now_ms(), 1);
	}
}

void
logd_channels_sweep(long long now_ms)
{
	struct logd_channel *ch;

	for (ch = logd_channel_list; ch != NULL; ch = ch->next)
		logd_channel_report(ch, now_ms, 0);
}
