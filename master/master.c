/*
 * master: the supervisor of a Moat instance.  `master -c CONFDIR [-f]`
 * reads main.conf and master.conf, opens the log (maillog_file, which
 * only logd is given: master_log.c), locks the pid file, creates every
 * listening socket, starts one process of every service (logd among
 * them) and then keeps the services running: more processes on demand,
 * replacements (with backoff) for the ones that fail, a reload on SIGHUP,
 * a clean stop on SIGTERM or SIGINT.
 *
 * Security stance: runs as root, unconfined (it must bind privileged ports,
 * fork daemons as root so they can chroot, and signal them), so it does as
 * little as possible: it trusts only root-owned configuration, reads no
 * network or user data, and from its children accepts nothing but
 * fixed-size status records on the status pipes, each checked against its
 * own table of children, and the kernel's audit records of seccomp kills
 * (/dev/kmsg, master_seccomp.c).  Children get a clean environment and no
 * descriptor but the ones they need.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "master.h"

static struct master_conf master_conf;
static int master_foreground;
static int master_sigfd = -1;

static void __attribute__((noreturn)) master_usage(void)
{
	log_fatal("usage: master -c CONFDIR [-f]");
}

/*
 * Nothing inherited but 0, 1 and 2, and those open, so that no file we
 * open lands on them.
 */
static void
master_sanitize_fds(void)
{
	int fd;

	(void)close_range(3, ~0U, 0);
	do
		fd = open("/dev/null", O_RDWR);
	while (fd >= 0 && fd <= 2);
	if (fd < 0)
		exit(1);
	close(fd);
}

static void
master_reload(void)
{
	struct master_conf next;
	struct buf err = BUF_INIT;

	log_info("reload -- configuration %s", master_conf.conf_dir);
	if (master_conf_load(master_conf.conf_dir, &next, &err) != 0) {
		log_error("reload failed, the old configuration stays: %s",
			  buf_cstr(&err));
		goto done;
	}
	if (strcmp(next.queue_dir, master_conf.queue_dir) != 0) {
		log_error("reload: queue_directory changed: stop and start "
			  "the mail system to use it; the old configuration "
			  "stays");
		master_conf_free(&next);
		goto done;
	}
	master_children_drain();
	master_children_signal_if(SIGHUP, 0);
	master_services_reload(&next.table);
	master_conf_free(&master_conf);
	master_conf = next;
	master_spawn_set_conf(&master_conf);
	/* A new maillog_file, or the old one after log rotation. */
	master_log_reload(&master_conf, master_foreground);
done:
	buf_free(&err);
}

/*
 * Wait until the children of logd (is_logd 1) or of the other services
 * (0) are gone, at most MASTER_STOP_GRACE seconds, then kill the rest.
 */
static void
master_stop_wait(int is_logd)
{
	long long deadline = event_now_ms() + MASTER_STOP_GRACE * 1000LL, left;
	struct pollfd pfd = {master_sigfd, POLLIN, 0};
	int junk, killed = 0;

	while (master_child_count_if(is_logd) > 0) {
		left = deadline - event_now_ms();
		if (left <= 0 && !killed) {
			log_warn("%u processes did not stop in %d seconds: "
				 "killing them",
				 master_child_count_if(is_logd),
				 MASTER_STOP_GRACE);
			master_children_signal_if(SIGKILL, is_logd);
			killed = 1;
		}
		(void)poll(&pfd, 1, left > 0 ? (int)left : 1000);
		(void)master_signal_read(master_sigfd, &junk);
		master_reap();
	}
}

/*
 * Every daemon but logd first; then logd, told to write what every
 * channel holds before it exits, so the last lines are kept.
 */
static void __attribute__((noreturn)) master_stop(int sig)
{
	log_info("terminating on signal %d", sig);
	master_children_signal_if(SIGTERM, 0);
	master_stop_wait(0);
	master_log_stop();
	master_stop_wait(1);
	master_log_stopped();
	master_services_close_all();
	master_state_remove();
	master_pid_remove();
	exit(0);
}

/* Each pollfd serves a child's status pipe or a service's listener. */
struct master_poll {
	struct pollfd *pfd;
	struct master_service **svc;
	struct master_child **child;
	size_t count, cap;
};

static void
master_poll_add(struct master_poll *p, int fd, struct master_service *s,
		struct master_child *c)
{
	if (p->count == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->pfd = xreallocarray(p->pfd, p->cap, sizeof(*p->pfd));
		p->svc = xreallocarray(p->svc, p->cap, sizeof(*p->svc));
		p->child = xreallocarray(p->child, p->cap, sizeof(*p->child));
	}
	p->pfd[p->count].fd = fd;
	p->pfd[p->count].events = POLLIN;
	p->pfd[p->count].revents = 0;
	p->svc[p->count] = s;
	p->child[p->count++] = c;
}

/* Status pipes always; a listener only while the service needs a child. */
static void
master_poll_build(struct master_poll *p, long long now)
{
	struct master_service *s;
	struct master_child *c;

	p->count = 0;
	master_poll_add(p, master_sigfd, NULL, NULL);
	for (c = master_children(); c != NULL; c = c->next)
		if (c->status_rd >= 0)
			master_poll_add(p, c->status_rd, NULL, c);
	for (s = master_services(); s != NULL; s = s->next)
		if (master_service_wants_demand(s, now))
			master_poll_add(p, s->listen_fd, s, NULL);
}

/* Status records first: they may come from a child about to be reaped. */
static void
master_poll_dispatch(struct master_poll *p)
{
	struct master_service *s;
	size_t i;

	for (i = 1; i < p->count; i++)
		if (p->pfd[i].revents && p->child[i] != NULL)
			master_child_read_status(p->child[i]);
	for (i = 1; i < p->count; i++) {
		s = p->svc[i];
		if (s != NULL && (p->pfd[i].revents & POLLIN) &&
		    master_service_wants_demand(s, event_now_ms()))
			(void)master_spawn(s);
	}
}

static void __attribute__((noreturn)) master_loop(void)
{
	struct master_poll p = {NULL, NULL, NULL, 0, 0};
	long long now, next, timeout;
	unsigned sigs;
	int term_sig = SIGTERM;

	for (;;) {
		now = event_now_ms();
		next = -1;
		master_spawn_due(now, &next);
		master_poll_build(&p, now);
		timeout = next < 0 ? -1 : next - now < 0 ? 0 : next - now;
		if (timeout > 3600 * 1000)
			timeout = 3600 * 1000;
		if (poll(p.pfd, p.count, (int)timeout) < 0) {
			if (errno != EINTR)
				log_fatal("poll: %s", strerror(errno));
			continue;
		}
		master_poll_dispatch(&p);
		if (!p.pfd[0].revents)
			continue;
		sigs = master_signal_read(master_sigfd, &term_sig);
		if (sigs & MASTER_SIG_CHLD) {
			master_reap();
			master_services_reap_removed();
		}
		if (sigs & MASTER_SIG_TERM)
			master_stop(term_sig);
		if (sigs & MASTER_SIG_HUP)
			master_reload();
	}
}

static const char *
master_args(int argc, char **argv)
{
	const char *conf_dir = NULL;
	int c;

	while ((c = getopt(argc, argv, "c:f")) != -1) {
		switch (c) {
		case 'c':
			conf_dir = optarg;
			break;
		case 'f':
			master_foreground = 1;
			break;
		default:
			master_usage();
		}
	}
	if (conf_dir == NULL || optind != argc)
		master_usage();
	return conf_dir;
}

int
main(int argc, char **argv)
{
	char conf_dir[PATH_MAX];
	struct buf err = BUF_INIT;
	int ready_fd = -1, null_fd;

	master_sanitize_fds();
	log_init("master");
	if (realpath(master_args(argc, argv), conf_dir) == NULL)
		log_fatal("configuration directory: %s", strerror(errno));
	if (geteuid() != 0)
		log_fatal("the master must run as root");
	/* No filter, but nothing it starts can gain privileges by exec. */
	sandbox_enter(SANDBOX_NONE);
	umask(022);
	if (master_conf_load(conf_dir, &master_conf, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	if (master_log_open(&master_conf, master_foreground, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	if (chdir(master_conf.queue_dir) != 0)
		log_fatal("chdir %s: %s", master_conf.queue_dir,
			  strerror(errno));
	if (!master_foreground)
		ready_fd = master_daemonize();
	master_pid_lock();
	master_state_remove(); /* a previous master's */
	master_seccomp_init();
	if (master_services_open(&master_conf.table, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	master_sigfd = master_signal_init();
	if ((null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		log_fatal("open /dev/null: %s", strerror(errno));
	if (!master_foreground &&
	    (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0))
		log_fatal("dup2: %s", strerror(errno));
	master_log_start();
	master_spawn_init(&master_conf, null_fd);
	log_info("daemon started, configuration %s", conf_dir);
	if (!master_foreground)
		master_daemon_ready(ready_fd);
	buf_free(&err);
	master_loop();
}
