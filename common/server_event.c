/*
 * server_event: event_server_main, the skeleton of daemons that serve many
 * clients at once through event.h (smtpd, qmgr, pickup): accept while
 * under max_clients, report busy while any client (or the busy hook's
 * work) is in hand, wind down on SIGHUP and exit when idle past max_idle
 * or after max_use clients.  Runs in those daemons after server_setup.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "server.h"
#include "server_state.h"

static unsigned server_clients;
static int server_accepting = -1;
static unsigned long server_accepted;
static long long server_idle_since;

static int
server_want_accept(void)
{
	if (server_hup)
		return 0;
	/* A pass service answers every offer: room is decided per client. */
	if (server_pass_mode)
		return server_pass_pending() < SERVER_PASS_PENDING_MAX;
	if (!server_ops->persistent &&
	    server_accepted >= (unsigned long)server_max_use)
		return 0;
	if (server_ops->max_clients != 0 &&
	    server_clients >= server_ops->max_clients)
		return 0;
	return 1;
}

static void server_on_listener(int fd, unsigned events, void *ctx);

static void
server_update_accept(void)
{
	int want = server_want_accept();

	if (want == server_accepting)
		return;
	/* Each new client wakes one idle process of the service, not all. */
	event_set(SERVER_LISTEN_FD, want ? EVENT_READ | EVENT_EXCLUSIVE : 0,
		  server_on_listener, NULL);
	server_accepting = want;
}

static void
server_on_listener(int fd, unsigned events, void *ctx)
{
	int client, i;

	(void)fd;
	(void)events;
	(void)ctx;
	for (i = 0; i < 16 && server_want_accept(); i++) {
		client = server_accept(SOCK_NONBLOCK);
		if (client == -1)
			break;
		if (client < 0)
			continue;
		server_clients++;
		server_status(SERVER_STATUS_BUSY);
		if (server_pass_mode) {
			server_pass_begin(client);
			continue;
		}
		server_accepted++;
		server_ops->accept_client(client);
	}
	server_update_accept();
}

static void
server_on_signal_pipe(int fd, unsigned events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)ctx;
	server_drain_signals();
}

/* 1 when the event server should exit now (no client is being served). */
static int
server_event_done(long long *timeout)
{
	long long left;

	*timeout = -1;
	if (server_clients > 0)
		return 0;
	if (server_ops->busy != NULL && server_ops->busy())
		return 0;
	if (server_hup)
		return 1;
	if (server_ops->persistent)
		return 0;
	if (server_accepted >= (unsigned long)server_max_use)
		return 1;
	left = server_idle_since + server_max_idle_ms - event_now_ms();
	if (left <= 0)
		return 1;
	*timeout = left;
	return 0;
}

int
event_server_main(int argc, char **argv, const struct server_ops *ops)
{
	long long timeout;

	if (ops->accept_client == NULL)
		log_fatal("server: event_server_main without accept_client");
	/* First: pre_drop and post_drop may register fds and timers. */
	event_init();
	server_setup(argc, argv, ops);
	event_set(server_signal_pipe[0], EVENT_READ, server_on_signal_pipe,
		  NULL);
	server_idle_since = event_now_ms();
	for (;;) {
		server_update_accept();
		if (server_event_done(&timeout))
			break;
		event_run_once(timeout);
		if (ops->tick != NULL)
			ops->tick();
	}
	return 0;
}

void
server_client_taken(void)
{
	server_accepted++;
}

int
server_use_left(void)
{
	return server_ops->persistent ||
	       server_accepted < (unsigned long)server_max_use;
}

void
server_client_done(void)
{
	if (server_clients > 0)
		server_clients--;
	if (server_clients == 0) {
		server_idle_since = event_now_ms();
		server_status(SERVER_STATUS_IDLE);
	}
}

unsigned
server_client_count(void)
{
	return server_clients;
}
