/*
 * server_single: single_server_main, the skeleton of daemons that serve one
 * client at a time to the end (cleanup, local): wait for the listener with
 * the max_idle timeout, accept, check the peer, serve, report busy and idle
 * to the master, and exit after max_use clients or on a signal.  Runs in
 * those daemons after server_setup dropped privileges.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "server.h"
#include "server_state.h"

/* 1: the listener is readable; 0: idle timeout; -1: signal or EINTR. */
static int
server_wait(long long timeout_ms)
{
	struct pollfd pfd[2];
	int n;

	pfd[0].fd = SERVER_LISTEN_FD;
	pfd[0].events = POLLIN;
	pfd[1].fd = server_signal_pipe[0];
	pfd[1].events = POLLIN;
	if (timeout_ms > 24LL * 3600 * 1000)
		timeout_ms = 24LL * 3600 * 1000;
	n = poll(pfd, 2, (int)timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			log_fatal("server: poll: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		return 0;
	if (pfd[1].revents)
		server_drain_signals();
	return pfd[0].revents ? 1 : -1;
}

int
single_server_main(int argc, char **argv, const struct server_ops *ops)
{
	long long served = 0, deadline, left;
	int fd, r;

	if (ops->serve == NULL)
		log_fatal("server: single_server_main without serve");
	server_setup(argc, argv, ops);
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
