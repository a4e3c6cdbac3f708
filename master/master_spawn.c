/*
 * master_spawn: start daemons and account for their deaths.  A child is
 * forked by root and exec'd with the service's listener on fd 3, the
 * write end of a status pipe of its own on fd 4, a log channel of its own
 * on fd 2 (master_log.c), /dev/null on 0 and 1, nothing else open, default
 * signal dispositions and a clean environment; the daemon drops privileges
 * itself (server.c).  Policy: demand (no idle child and a readable
 * listener) starts one more up to maxproc; a child that fails is replaced
 * after a backoff; a service of one process (qmgr) is always kept running.
 * Hostile input: the status bytes a child writes (a compromised daemon
 * writes anything, but only on its own pipe, so it can only misstate its
 * own state) and exit statuses; a death is logged and recorded by
 * master_state.c.  Runs in the master.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "master.h"

#define MASTER_ARGV_MAX (9 + SERVICE_ARGS_MAX + 1)

static const struct master_conf *spawn_conf;
static int spawn_null_fd = -1;
static char *spawn_env[3];
static struct master_child *master_child_list;
static unsigned master_child_total;

void
master_spawn_init(const struct master_conf *mc, int null_fd)
{
	const char *tz = getenv("TZ");
	struct buf b = BUF_INIT;
	size_t n = 0;

	spawn_conf = mc;
	spawn_null_fd = null_fd;
	spawn_env[n++] = xstrdup("PATH=/usr/bin:/bin");
	if (tz != NULL) {
		buf_printf(&b, "TZ=%s", tz);
		spawn_env[n++] = xstrdup(buf_cstr(&b));
		buf_free(&b);
	}
	spawn_env[n] = NULL;
}

void
master_spawn_set_conf(const struct master_conf *mc)
{
	spawn_conf = mc;
}

/* In the child: set up the descriptors and exec; never returns. */
static void __attribute__((noreturn))
master_child_exec(const struct master_service *s, const char *path, char **argv,
		  int status_wr, int log_wr)
{
	int listen_fd, status_fd, log_fd;

	master_signal_child_reset();
	/* Above 4 first, so the dup2s below cannot clobber each other. */
	listen_fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 5);
	status_fd = fcntl(status_wr, F_DUPFD_CLOEXEC, 5);
	log_fd = fcntl(log_wr, F_DUPFD_CLOEXEC, 5);
	if (listen_fd < 0 || status_fd < 0 || log_fd < 0 ||
	    dup2(spawn_null_fd, 0) < 0 || dup2(spawn_null_fd, 1) < 0 ||
	    dup2(listen_fd, SERVER_LISTEN_FD) < 0 ||
	    dup2(status_fd, SERVER_STATUS_FD) < 0 || dup2(log_fd, 2) < 0) {
		log_error("service %s: child descriptors: %s", s->svc.name,
			  strerror(errno));
		_exit(127);
	}
	if (close_range(SERVER_STATUS_FD + 1, ~0U, 0) != 0) {
		log_error("close_range: %s", strerror(errno));
		_exit(127);
	}
	execve(path, argv, spawn_env);
	log_error("service %s: exec %s: %s", s->svc.name, path,
		  strerror(errno));
	_exit(127);
}

/* argv: command -c CONFDIR -n SERVICE -u USER [-r] [-p] [args...] */
static void
master_child_argv(const struct master_service *s, char **argv)
{
	size_t n = 0, i;

	argv[n++] = (char *)s->svc.command;
	argv[n++] = (char *)"-c";
	argv[n++] = spawn_conf->conf_dir;
	argv[n++] = (char *)"-n";
	argv[n++] = (char *)s->svc.name;
	argv[n++] = (char *)"-u";
	argv[n++] = (char *)s->svc.user;
	if (s->svc.chroot)
		argv[n++] = (char *)"-r";
	if (s->svc.type == SERVICE_PASS)
		argv[n++] = (char *)"-p"; /* handed clients, not accepting */
	for (i = 0; s->svc.args[i] != NULL && n < MASTER_ARGV_MAX - 1; i++)
		argv[n++] = s->svc.args[i];
	argv[n] = NULL;
}

int
master_spawn(struct master_service *s)
{
	char *argv[MASTER_ARGV_MAX];
	struct master_child *c;
	struct buf path = BUF_INIT;
	int pfd[2] = {-1, -1}, log_rd = -1, log_wr = -1;
	pid_t pid = -1;

	buf_printf(&path, "%s/%s", spawn_conf->daemon_dir, s->svc.command);
	master_child_argv(s, argv);
	master_seccomp_drain(); /* what is read now is older than the child */
	if (pipe2(pfd, O_CLOEXEC) != 0 ||
	    fcntl(pfd[0], F_SETFL, O_NONBLOCK) != 0 ||
	    (log_rd = master_log_channel(&log_wr)) < 0 || (pid = fork()) < 0) {
		log_warn("service %s: %s: %s", s->svc.name,
			 pfd[0] < 0   ? "status pipe"
			 : log_rd < 0 ? "log channel"
				      : "fork",
			 strerror(errno));
		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
		if (log_rd >= 0) {
			close(log_rd);
			close(log_wr);
		}
		buf_free(&path);
		s->throttle_until = event_now_ms() + 1000;
		return -1;
	}
	if (pid == 0)
		master_child_exec(s, buf_cstr(&path), argv, pfd[1], log_wr);
	close(pfd[1]);
	close(log_wr);
	master_seccomp_forget(pid);
	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->svc = s;
	c->status_rd = pfd[0];
	c->log_fd = log_rd;
	c->path = path.data; /* the buffer's storage now belongs to c */
	/* Counted idle until it says otherwise: no second start meanwhile. */
	c->idle = 1;
	c->started_ms = event_now_ms();
	c->next = master_child_list;
	master_child_list = c;
	master_child_total++;
	s->total++;
	s->idle++;
	master_log_spawned(c);
	return 0;
}

struct master_child *
master_children(void)
{
	return master_child_list;
}

static void
master_status_apply(struct master_child *c, char status)
{
	struct master_service *s = c->svc;

	if (status == SERVER_STATUS_IDLE) {
		if (!c->idle && !c->draining) {
			c->idle = 1;
			s->idle++;
		}
	} else if (status == SERVER_STATUS_BUSY) {
		if (c->idle) {
			c->idle = 0;
			s->idle--;
		}
	} else if (!c->bad_status) {
		/* Once per child: a liar cannot fill the log. */
		c->bad_status = 1;
		log_warn("service %s: pid %ld wrote an unknown status",
			 s->svc.name, (long)c->pid);
	}
}

/* Read what the child wrote on its own pipe; only the child can write it. */
void
master_child_read_status(struct master_child *c)
{
	char rec[64];
	ssize_t n, i;

	for (;;) {
		n = read(c->status_rd, rec, sizeof(rec));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			/* Closed: the child is dying, or shut it itself. */
			close(c->status_rd);
			c->status_rd = -1;
		}
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			master_status_apply(c, rec[i]);
		if ((size_t)n < sizeof(rec))
			break;
	}
}

unsigned
master_child_count(void)
{
	return master_child_total;
}

/* 1 second, then doubling up to the maximum. */
static unsigned
master_backoff_next(unsigned backoff)
{
	if (backoff == 0)
		return 1;
	return backoff * 2 > MASTER_BACKOFF_MAX ? MASTER_BACKOFF_MAX
						: backoff * 2;
}

/* Decide when the service may start again after this death. */
static void
master_child_exited(const struct master_child *c, int status, long long now)
{
	struct master_service *s = c->svc;
	long long lived = now - c->started_ms;
	int failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;

	s->total--;
	if (c->idle)
		s->idle--;
	if (s->removed) {
		master_state_death(c, status, failed);
		return;
	}
	if (lived >= MASTER_BACKOFF_RESET * 1000LL)
		s->backoff = 0;
	if (failed) {
		s->backoff = master_backoff_next(s->backoff);
		s->throttle_until = now + s->backoff * 1000LL;
		s->respawn = 1;
	} else if (s->svc.maxproc == 1) {
		s->respawn = 1;
		if (s->throttle_until < c->started_ms + MASTER_RESPAWN_MIN_MS)
			s->throttle_until =
			    c->started_ms + MASTER_RESPAWN_MIN_MS;
	}
	/* Logged once the next start is known, for moat status. */
	master_state_death(c, status, failed);
	if (failed && s->backoff > 1)
		log_warn("service %s: failing repeatedly; next start in %u "
			 "seconds",
			 s->svc.name, s->backoff);
}

void
master_reap(void)
{
	struct master_child **pp, *c;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (pp = &master_child_list; (c = *pp) != NULL; pp = &c->next)
			if (c->pid == pid)
				break;
		if (c == NULL)
			continue;
		*pp = c->next;
		master_child_total--;
		master_child_exited(c, status, event_now_ms());
		master_log_reaped(c);
		if (c->status_rd >= 0)
			close(c->status_rd);
		free(c->path);
		free(c);
	}
}

void
master_children_signal_if(int sig, int is_logd)
{
	struct master_child *c;

	for (c = master_child_list; c != NULL; c = c->next)
		if (master_log_is_logd(c->svc) == is_logd &&
		    kill(c->pid, sig) != 0 && errno != ESRCH)
			log_warn("kill %ld: %s", (long)c->pid, strerror(errno));
}

unsigned
master_child_count_if(int is_logd)
{
	struct master_child *c;
	unsigned n = 0;

	for (c = master_child_list; c != NULL; c = c->next)
		n += master_log_is_logd(c->svc) == is_logd;
	return n;
}

/* Reload: every child finishes its work and exits; none counts as idle. */
void
master_children_drain(void)
{
	struct master_child *c;

	for (c = master_child_list; c != NULL; c = c->next) {
		if (c->idle) {
			c->idle = 0;
			c->svc->idle--;
		}
		c->draining = 1;
	}
}

/*
 * Start what must run without demand: a service at start or after a
 * reload, one whose child failed (after its backoff), a service of one
 * process.  *next_ms: the earliest time something is waiting for.
 */
void
master_spawn_due(long long now, long long *next_ms)
{
	struct master_service *s;

	for (s = master_services(); s != NULL; s = s->next) {
		if (s->removed)
			continue;
		if (now < s->throttle_until) {
			if (*next_ms < 0 || s->throttle_until < *next_ms)
				*next_ms = s->throttle_until;
			continue;
		}
		if (s->respawn && s->total == 0 && master_spawn(s) == 0)
			s->respawn = 0;
	}
}
