/*
 * master_log: the master's part in logging, so that no daemon holds the
 * log.  The master opens the sink as root (maillog_file for appending, its
 * own standard error under -f, or a datagram socket connected to
 * syslog_socket when maillog_file is empty), makes a log channel (a
 * SOCK_SEQPACKET socket pair) for itself and for every daemon it starts
 * (the daemon's end becomes its fd 2), and hands the sink and logd's end of
 * every channel to logd over a connection to logd's socket.  It keeps its
 * own copy of logd's end of every live channel, so a logd that dies and is
 * started again gets them all back with what was queued meanwhile; the
 * channel of a daemon that ended while no logd ran is kept until the next
 * logd has it.  The master's own lines take the same path; before the
 * first logd runs they wait in the master's channel, and after the last
 * logd has drained at stop they go straight to the sink.  Hostile input:
 * none; the master only writes to logd, and reads nothing from any
 * channel.  Runs in the master.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "master.h"

#define MASTER_LOG_COMMAND "logd"
/* A channel's queue while logd restarts: ~10000 short lines. */
#define MASTER_LOG_SNDBUF (4 * 1024 * 1024)
#define MASTER_LOG_TIMEOUT 2 /* seconds to connect to logd, or send */
#define MASTER_LOG_PENDING_MAX 1000

/* The channel of a daemon that ended while no logd ran. */
struct master_log_pending {
	struct master_log_pending *next;
	int fd;
	pid_t pid;
	char *program;
};

static int log_sink = -1;   /* the sink the next logd gets */
static int log_sink_syslog; /* its kind */
static int log_stderr = -1; /* -f: the master's standard error */
static int log_self = -1;   /* logd's end of the master's own channel */
static int log_conn = -1;   /* the connection to the running logd */
static pid_t log_pid;       /* the running logd, or 0 */
static struct master_log_pending *log_pending;
static unsigned log_pending_count;
static const struct master_conf *log_conf; /* for a new logger socket */

int
master_log_is_logd(const struct master_service *s)
{
	return strcmp(s->svc.command, MASTER_LOG_COMMAND) == 0;
}

static int
master_log_open_file(const char *path, struct buf *err)
{
	struct stat st;
	int fd;

	fd = open(path,
		  O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		      O_NOCTTY,
		  0640);
	if (fd < 0) {
		buf_printf(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		buf_printf(err, "%s is not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int
master_log_open_syslog(const char *path, struct buf *err)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		buf_printf(err, "syslog_socket %s: path too long", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		buf_printf(err, "syslog_socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open the sink the configuration names; the old one stays on failure.
 * The first call, under -f, keeps the master's standard error for it.
 */
int
master_log_open(const struct master_conf *mc, int foreground, struct buf *err)
{
	int fd, syslog = 0;

	if (foreground && log_stderr < 0 &&
	    (log_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3)) < 0) {
		buf_printf(err, "dup of standard error: %s", strerror(errno));
		return -1;
	}
	if (foreground)
		fd = fcntl(log_stderr, F_DUPFD_CLOEXEC, 3);
	else if (mc->maillog[0] != '\0')
		fd = master_log_open_file(mc->maillog, err);
	else if ((fd = master_log_open_syslog(mc->syslog_socket, err)) >= 0)
		syslog = 1;
	if (fd < 0) {
		if (err->len == 0)
			buf_printf(err, "dup: %s", strerror(errno));
		return -1;
	}
	if (log_sink >= 0)
		close(log_sink);
	log_sink = fd;
	log_sink_syslog = syslog;
	log_conf = mc;
	log_set_syslog_name(mc->syslog_name);
	return 0;
}

/* A channel: logd's end returned, the daemon's end in *child_end. */
int
master_log_channel(int *child_end)
{
	int sv[2], on = 1, size = MASTER_LOG_SNDBUF;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	/* Before any record is sent: the kernel stamps records only then. */
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_TIMESTAMP, &on, sizeof(on)) != 0 ||
	    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &size,
		       sizeof(size)) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	*child_end = sv[1];
	return sv[0];
}

/* After daemonizing: the master's own lines go to its channel too. */
void
master_log_start(void)
{
	int child_end;

	if ((log_self = master_log_channel(&child_end)) < 0)
		log_fatal("log channel: %s", strerror(errno));
	if (dup2(child_end, 2) < 0)
		log_fatal("dup2: %s", strerror(errno));
	close(child_end);
	/* Never wait for logd: a full channel loses the master's line. */
	(void)fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
	log_set_fd(2);
}

static int
master_log_send(const char *op, const char *program, pid_t pid, int fd)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, op);
	if (strcmp(op, IPC_OP_SINK) == 0)
		ipc_put_str(&f, IPC_KIND,
			    log_sink_syslog ? IPC_KIND_SYSLOG : IPC_KIND_FILE);
	else if (strcmp(op, IPC_OP_CHANNEL) == 0) {
		ipc_put_str(&f, IPC_PROGRAM, program);
		ipc_put_int(&f, IPC_PID, pid);
	}
	rc = ipc_send(log_conn, &f, fd, MASTER_LOG_TIMEOUT);
	ipc_frame_free(&f);
	return rc;
}

/* A logd that cannot take what it is given is of no use: start another. */
static void
master_log_failed(const char *what)
{
	log_warn("log service: %s: %s; restarting logd pid %ld", what,
		 strerror(errno), (long)log_pid);
	if (log_conn >= 0)
		close(log_conn);
	log_conn = -1;
	if (log_pid > 0)
		(void)kill(log_pid, SIGKILL);
}

static int
master_log_send_pending(void)
{
	struct master_log_pending *p;

	while ((p = log_pending) != NULL) {
		if (master_log_send(IPC_OP_CHANNEL, p->program, p->pid,
				    p->fd) != 0)
			return -1;
		log_pending = p->next;
		log_pending_count--;
		close(p->fd);
		free(p->program);
		free(p);
	}
	return 0;
}

/*
 * A new logd: the sink, then every channel the master holds.  A logger
 * socket is connected again for each logd: the last one may have ended
 * because the logger restarted.
 */
static void
master_log_handover(const struct master_service *s)
{
	struct buf err = BUF_INIT;
	struct master_child *c;

	if (log_sink_syslog && master_log_open(log_conf, 0, &err) != 0)
		log_warn("log service: %s", buf_cstr(&err));
	buf_free(&err);
	if ((log_conn = ipc_connect(s->svc.name, MASTER_LOG_TIMEOUT)) < 0) {
		master_log_failed("connect");
		return;
	}
	if (master_log_send(IPC_OP_SINK, NULL, 0, log_sink) != 0 ||
	    master_log_send(IPC_OP_CHANNEL, "master", getpid(), log_self) !=
		0) {
		master_log_failed("send");
		return;
	}
	for (c = master_children(); c != NULL; c = c->next)
		if (c->log_fd >= 0 &&
		    master_log_send(IPC_OP_CHANNEL, c->svc->svc.command, c->pid,
				    c->log_fd) != 0) {
			master_log_failed("send");
			return;
		}
	if (master_log_send_pending() != 0)
		master_log_failed("send");
}

void
master_log_spawned(struct master_child *c)
{
	if (master_log_is_logd(c->svc)) {
		log_pid = c->pid;
		master_log_handover(c->svc);
	} else if (log_conn >= 0 &&
		   master_log_send(IPC_OP_CHANNEL, c->svc->svc.command, c->pid,
				   c->log_fd) != 0) {
		master_log_failed("send");
	}
}

static void
master_log_keep(struct master_child *c)
{
	struct master_log_pending *p;

	if (log_pending_count >= MASTER_LOG_PENDING_MAX) {
		log_warn("log service down: the last lines of %s pid %ld are "
			 "lost",
			 c->svc->svc.command, (long)c->pid);
		close(c->log_fd);
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->fd = c->log_fd;
	p->pid = c->pid;
	p->program = xstrdup(c->svc->svc.command);
	p->next = log_pending;
	log_pending = p;
	log_pending_count++;
}

/*
 * Connections a dead logd never accepted would reach the next one with
 * stale frames: accept them here (the master owns the listener) and close
 * them unread.
 */
static void
master_log_discard_backlog(const struct master_service *s)
{
	int fd;

	if (s->listen_fd < 0)
		return;
	while ((fd = accept4(s->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/*
 * A child was reaped.  The running logd has its own copy of the channel
 * and reads it to the end; without a logd the channel waits for the next.
 */
void
master_log_reaped(struct master_child *c)
{
	if (c->pid == log_pid) {
		log_pid = 0;
		if (log_conn >= 0)
			close(log_conn);
		log_conn = -1;
		master_log_discard_backlog(c->svc);
		/* Failing repeatedly: say so where someone will see it. */
		if (c->svc->backoff > 1)
			master_log_direct(
			    "warning: logd is failing repeatedly; "
			    "the lines of every process wait "
			    "until it runs");
	}
	if (c->log_fd < 0)
		return;
	if (log_conn >= 0)
		close(c->log_fd);
	else
		master_log_keep(c);
	c->log_fd = -1;
}

/*
 * Reload: a new sink (maillog_file again after rotation, or another), and
 * the running logd told to finish, so the next one has the new sink and
 * configuration.
 */
void
master_log_reload(const struct master_conf *mc, int foreground)
{
	struct buf err = BUF_INIT;

	if (master_log_open(mc, foreground, &err) != 0)
		log_error("reload: %s", buf_cstr(&err));
	buf_free(&err);
	if (log_conn >= 0 && master_log_send(IPC_OP_STOP, NULL, 0, -1) != 0)
		master_log_failed("send");
}

/*
 * Stop, once every other daemon is gone: the running logd (or one started
 * now, if none runs) writes what every channel holds, then exits.
 */
void
master_log_stop(void)
{
	struct master_service *s;

	for (s = master_services(); s != NULL && log_pid == 0; s = s->next)
		if (!s->removed && master_log_is_logd(s))
			(void)master_spawn(s);
	if (log_conn >= 0 && master_log_send(IPC_OP_STOP, NULL, 0, -1) != 0)
		master_log_failed("send");
}

/* One line straight to a file sink, for when no logd can take it. */
void
master_log_direct(const char *fmt, ...)
{
	va_list ap;

	if (log_sink < 0 || log_sink_syslog)
		return;
	log_set_fd(log_sink);
	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
	log_set_fd(2);
}

/* At stop, the last logd gone: what the master still says goes direct. */
void
master_log_stopped(void)
{
	if (log_sink >= 0 && !log_sink_syslog)
		log_set_fd(log_sink);
}
