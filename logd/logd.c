/*
 * logd: the log service.  No daemon holds the log: each daemon's fd 2 is a
 * channel of its own to logd (a SOCK_SEQPACKET socket pair the master
 * makes when it starts the daemon), and logd alone writes the lines, each
 * tagged syslog_name/program[pid] with the program the master started and
 * the pid the kernel reports for the sender, so a compromised daemon can
 * neither forge another process's line nor touch the lines already
 * written.  The master connects to logd's socket, hands it the sink (a
 * descriptor of maillog_file, of the master's standard error under -f, or
 * of a socket connected to the system's logger) and every channel, and
 * keeps a copy of each: a logd that dies loses nothing, the next one gets
 * them all with what was queued meanwhile.  Each channel may log
 * log_rate_limit bytes a second (log_burst_limit at once); what it drops
 * is counted and logged.  Told to stop (the master's op=stop, at reload
 * and stop, or SIGHUP) logd reads what every channel holds, writes it, and
 * exits.
 *
 * Security stance: runs as moat-log, a user of its own that owns nothing,
 * chrooted in queue_directory, sandbox SANDBOX_LOGD, event_server_main,
 * persistent (one process, always running).  Peers: root only (the
 * master; SO_PEERCRED, by the skeleton).  Hostile input: every record on
 * every channel (logd_channel.c, logd_format.c); the master's frames are
 * checked too (logd_control.c).  It opens no file: its descriptors are the
 * master's gifts.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "log.h"
#include "logd.h"
#include "params.h"
#include "server.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const logd_peers[] = {"root", NULL};
static const struct server_stance logd_stance = {
    .user = "moat-log",
    .chroot = 1,
    .sandbox = SANDBOX_LOGD,
    .peers = logd_peers,
};

#define LOGD_CONTROL_TIMEOUT 5 /* seconds for the rest of a frame */
#define LOGD_SWEEP_MS 1000

static void
logd_request(const struct logd_request *r, int fd)
{
	const char *why = NULL;

	if (r->op == LOGD_OP_SINK) {
		if (logd_sink_set(fd, r->syslog, &why) != 0) {
			log_error("%s", why);
			close(fd);
			return;
		}
		logd_channels_enable(1);
		return;
	}
	if (logd_channel_add(fd, r->program, r->pid, &why) != 0) {
		log_error("program=%s pid=%ld: %s", r->program, r->pid, why);
		close(fd);
	}
}

/* One frame from the master; -1 ends the conversation. */
static int
logd_control(struct ipc_frame *f)
{
	struct logd_request r;
	const char *why = NULL;
	int fd = f->fd;

	if (logd_control_parse(f, &r, &why) != 0) {
		log_error("control: %s", why);
		return -1;
	}
	/* As a reload's SIGHUP does: the loop ends, main() drains. */
	if (r.op == LOGD_OP_STOP) {
		(void)raise(SIGHUP);
		return 0;
	}
	if (fd < 0) {
		log_error("control: %s without a descriptor",
			  r.op == LOGD_OP_SINK ? "sink" : "channel");
		return -1;
	}
	f->fd = -1; /* ours now */
	logd_request(&r, fd);
	return 0;
}

static void
logd_on_control(int fd, unsigned events, void *ctx)
{
	struct ipc_frame f;
	const char *why = NULL;
	int r;

	(void)events;
	(void)ctx;
	ipc_frame_init(&f);
	r = ipc_recv(fd, &f, LOGD_CONTROL_TIMEOUT, &why);
	if (r == 1)
		r = logd_control(&f) == 0 ? 1 : -1;
	else if (r < 0)
		log_error("control: %s", why != NULL ? why : "read failed");
	ipc_frame_free(&f);
	if (r == 1)
		return;
	/* The end of a master's conversation (an older logd's too). */
	event_remove(fd);
	close(fd);
}

/*
 * The master's connection lasts as long as this process, and logd is
 * persistent: so it is not counted as a client being served, or logd
 * could never exit when told to.
 */
static void
logd_accept(int fd)
{
	event_set(fd, EVENT_READ, logd_on_control, NULL);
	server_client_done();
}

static void
logd_sweep(void *ctx)
{
	(void)ctx;
	logd_channels_sweep(event_now_ms());
	(void)event_timer_add(LOGD_SWEEP_MS, logd_sweep, NULL);
}

static void
logd_params(void)
{
	const char *name = param_str("syslog_name");
	const char *facility = param_str("syslog_facility");
	int code = log_facility_code(facility);

	if (!log_syslog_name_ok(name))
		log_fatal("syslog_name %s: expected 1 to %d of "
			  "[A-Za-z0-9._+-/]",
			  name, LOG_NAME_MAX);
	if (code < 0)
		log_fatal("syslog_facility %s: unknown facility", facility);
	strlcpy(logd_fmt.syslog_name, name, sizeof(logd_fmt.syslog_name));
	logd_fmt.facility = code;
	if (gethostname(logd_fmt.host, sizeof(logd_fmt.host)) != 0)
		strlcpy(logd_fmt.host, "localhost", sizeof(logd_fmt.host));
	logd_fmt.host[sizeof(logd_fmt.host) - 1] = '\0';
	logd_channels_set_limit(param_int("log_rate_limit"),
				param_int("log_burst_limit"));
}

static void
logd_post_drop(void)
{
	logd_params();
	(void)event_timer_add(LOGD_SWEEP_MS, logd_sweep, NULL);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &logd_stance,
	    .persistent = 1,
	    .post_drop = logd_post_drop,
	    .accept_client = logd_accept,
	    .tick = logd_sink_flush,
	};

	/*
	 * Our own lines go to our own channel, which we read: never block
	 * on it (a full channel of our own would wait for us for ever).
	 */
	if (log_fd_is_channel(2))
		(void)fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
	(void)event_server_main(argc, argv, &ops);
	/* SIGHUP (reload, stop): write what is queued; the rest waits. */
	logd_channels_drain();
	logd_sink_flush();
	return 0;
}
