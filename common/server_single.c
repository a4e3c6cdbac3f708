/*
 * server_single: single_server_main, the skeleton of daemons that serve one
 * client at a time to the end (cleanup, local): wait for the listener with
 * the max_idle timeout, accept, check the peer, serve, report busy and idle
 * to the master, and exit after max_use clients or on a signal.  Runs in
 * those daemons after server_setup dropped privileges.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "server.h"
#include "server_state.h"

/*
 * The listener and the signal pipe, in an epoll set of this process's own:
 * the listener EPOLLEXCLUSIVE, so a new client wakes one idle process of
 * the service, not every one (each would try accept and find nothing).
 */
static int server_epfd = -1;

static void
server_wait_init(void)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = SERVER_LISTEN_FD;
	if (epoll_ctl(server_epfd, EPOLL_CTL_ADD, SERVER_LISTEN_FD, &ev) != 0)
		log_fatal("server: epoll_ctl listener: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.fd = server_signal_pipe[0];
	if (epoll_ctl(server_epfd, EPOLL_CTL_ADD, server_signal_pipe[0], &ev) !=
	    0)
		log_fatal("server: epoll_ctl signal pipe: %s", strerror(errno));
}

/* 1: the listener is readable; 0: idle timeout; -1: signal or EINTR. */
static int
server_wait(long long timeout_ms)
{
	struct epoll_event ev[2];
	int n, i, listener = 0;

	if (timeout_ms > 24LL * 3600 * 1000)
		timeout_ms = 24LL * 3600 * 1000;
	n = epoll_wait(server_epfd, ev, 2, (int)timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			log_fatal("server: epoll_wait: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (ev[i].data.fd == SERVER_LISTEN_FD)
			listener = 1;
		else
			server_drain_signals();
	}
	return listener ? 1 : -1;
}

int
single_server_main(int argc, char **argv, const struct server_ops *ops)
{
	long long served = 0, deadline, left;
	int fd, r;

	if (ops->serve == NULL)
		log_fatal("server: single_server_main without serve");
	/* Before the sandbox, which has no epoll_create1. */
	server_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (server_epfd < 0)
		log_fatal("server: epoll_create1: %s", strerror(errno));
	server_setup(argc, argv, ops);
	server_wait_init();
	deadline = event_now_ms() + server_max_idle_ms;
	while (!server_hup && (ops->persistent || served < server_max_use)) {
		left = deadline - event_now_ms();
		if (!ops->persistent && left <= 0)
			break;
		r = server_wait(ops->persistent ? -1 : left);
		if (r == 0)
			break;
		if (r < 0 || (fd = server_accept(0)) < 0)
			continue;
		server_status(SERVER_STATUS_BUSY);
		ops->serve(fd);
		close(fd);
		served++;
		server_status(SERVER_STATUS_IDLE);
		deadline = event_now_ms() + server_max_idle_ms;
	}
	return 0;
}
