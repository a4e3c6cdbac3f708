/*
 * anvil: connection accounting shared by every smtpd process, so one
 * client cannot take every session slot.  Each smtpd process keeps one
 * connection to private/anvil and reports each client it accepts
 * ({op=connect, client}: anvil answers the client's simultaneous
 * connections and its connections in the current anvil_rate_time_unit
 * window) and each session that ends ({op=disconnect, client}, no reply),
 * and each AUTH attempt ({op=auth, client}: anvil answers the client's
 * attempts in the current window, for smtpd_client_auth_rate_limit).
 * When an smtpd's connection closes, everything it added is taken back.
 * Clients are counted by client_key.h's key: an IPv4 address, or an IPv6
 * network of smtpd_client_ipv6_prefix_length bits (a /64), so a host that
 * walks its subnet is still one client.  The table holds ANVIL_CLIENTS_MAX
 * clients; when it is full the least recently seen client without
 * connections is forgotten (anvil_table.h), so a flood of new addresses
 * never switches the limits off.  An smtpd that finds a restarted anvil
 * tells it what it serves ({op=restore}), so the counts survive a restart.
 *
 * Security stance: runs as moat-anvil, a user of its own with no right to
 * the queue, chrooted in queue_directory, sandbox SANDBOX_ANVIL,
 * event_server_main, persistent (one process, always running).  Peers: smtpd
 * only (SO_PEERCRED, by the skeleton).  Hostile input: every frame (bounded by
 * ANVIL_INPUT_MAX, the address checked by anvil_addr_valid).  It opens no file
 * after start-up.
 * The counts live in memory only; while anvil is away each smtpd process
 * applies the limits to its own clients (smtpd_anvil.c), and restores
 * them here when anvil is back.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anvil_table.h"
#include "client_key.h"
#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "server.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const anvil_peers[] = {"smtpd", NULL};
static const struct server_stance anvil_stance = {
    .user = "moat-anvil",
    .chroot = 1,
    .sandbox = SANDBOX_ANVIL,
    .peers = anvil_peers,
};

#define ANVIL_CLIENTS_MAX 100000 /* addresses tracked at once */
#define ANVIL_INPUT_MAX 4096     /* bytes buffered per peer */
#define ANVIL_SEND_TIMEOUT 2     /* seconds for one reply */

struct anvil_conn {
	int fd;
	struct buf in;
	struct anvil_peer peer;
};

static struct anvil_table *anvil_clients;
static long long anvil_window_ms;
static unsigned anvil_v6_prefix;
static int anvil_full_logged;
static unsigned long anvil_evicted_logged;

static void
anvil_close(struct anvil_conn *c)
{
	event_remove(c->fd);
	close(c->fd);
	anvil_table_release(anvil_clients, &c->peer, event_now_ms());
	buf_free(&c->in);
	free(c);
	server_client_done();
}

/* count < 0: none (an answer to op=auth); full: status=full, no numbers. */
static int
anvil_reply(int fd, int full, long long count, unsigned rate)
{
	struct ipc_frame r;
	int rc;

	ipc_frame_init(&r);
	ipc_put_str(&r, IPC_STATUS, full ? IPC_STATUS_FULL : IPC_STATUS_OK);
	if (!full) {
		if (count >= 0)
			ipc_put_int(&r, IPC_COUNT, count);
		ipc_put_int(&r, IPC_RATE, rate);
	}
	rc = ipc_send(fd, &r, -1, ANVIL_SEND_TIMEOUT);
	ipc_frame_free(&r);
	return rc;
}

static void
anvil_log_full(void)
{
	if (!anvil_full_logged)
		log_warn("client table full (%d clients), all with "
			 "connections; smtpd limits new clients on its own",
			 ANVIL_CLIENTS_MAX);
	anvil_full_logged = 1;
}

static int
anvil_on_connect(struct anvil_conn *c, const char *key)
{
	unsigned count = 0, rate = 0;
	int full;

	full = anvil_table_connect(anvil_clients, &c->peer, key, event_now_ms(),
				   &count, &rate) != 0;
	if (full)
		anvil_log_full();
	return anvil_reply(c->fd, full, count, rate);
}

static int
anvil_on_restore(struct anvil_conn *c, const struct ipc_frame *f,
		 const char *key)
{
	long long n;

	if (ipc_get_int(f, IPC_COUNT, 1, ANVIL_CLIENTS_MAX, &n) != 0)
		return -1;
	if (anvil_table_restore(anvil_clients, &c->peer, key, (unsigned)n,
				event_now_ms()) != 0)
		anvil_log_full();
	return 0;
}

static int
anvil_on_auth(struct anvil_conn *c, const char *key)
{
	unsigned rate = 0;
	int full;

	full = anvil_table_auth(anvil_clients, key, event_now_ms(), &rate) != 0;
	if (full)
		anvil_log_full();
	return anvil_reply(c->fd, full, -1, rate);
}

/* One request; -1 with *why for anything we do not understand. */
static int
anvil_request(void *ctx, const struct ipc_frame *f, const char **why)
{
	struct anvil_conn *c = ctx;
	const char *op = ipc_get_str(f, IPC_OP);
	const char *client = ipc_get_str(f, IPC_CLIENT);
	char key[CLIENT_KEY_MAX];

	if (op == NULL || client == NULL ||
	    !anvil_addr_valid(client, strlen(client)) ||
	    client_key(client, anvil_v6_prefix, key, sizeof(key)) != 0) {
		*why = "bad request";
		return -1;
	}
	if (strcmp(op, IPC_OP_DISCONNECT) == 0) {
		anvil_table_disconnect(anvil_clients, &c->peer, key,
				       event_now_ms());
		return 0;
	}
	if (strcmp(op, IPC_OP_RESTORE) == 0) {
		if (anvil_on_restore(c, f, key) == 0)
			return 0;
		*why = "bad restore request";
		return -1;
	}
	if (strcmp(op, IPC_OP_CONNECT) != 0 && strcmp(op, IPC_OP_AUTH) != 0) {
		*why = "not a known request";
		return -1;
	}
	if ((strcmp(op, IPC_OP_AUTH) == 0 ? anvil_on_auth(c, key)
					  : anvil_on_connect(c, key)) != 0) {
		*why = "cannot send the reply";
		return -1;
	}
	return 0;
}

static void
anvil_on_read(int fd, unsigned events, void *ctx)
{
	struct anvil_conn *c = ctx;

	(void)events;
	if (ipc_serve_frames(fd, &c->in, ANVIL_INPUT_MAX, anvil_request, c) !=
	    0)
		anvil_close(c);
}

static void
anvil_accept(int fd)
{
	struct anvil_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	buf_init(&c->in);
	event_set(fd, EVENT_READ, anvil_on_read, c);
}

static void
anvil_expire(void *ctx)
{
	unsigned long evicted = anvil_table_evicted(anvil_clients);

	(void)ctx;
	anvil_table_expire(anvil_clients, event_now_ms());
	if (anvil_table_size(anvil_clients) < ANVIL_CLIENTS_MAX)
		anvil_full_logged = 0;
	if (evicted != anvil_evicted_logged)
		log_info("client table full: forgot %lu least recently seen "
			 "clients without connections",
			 evicted - anvil_evicted_logged);
	anvil_evicted_logged = evicted;
	(void)event_timer_add(anvil_window_ms, anvil_expire, NULL);
}

static void
anvil_post_drop(void)
{
	anvil_window_ms = param_int("anvil_rate_time_unit") * 1000;
	anvil_v6_prefix =
	    (unsigned)param_int("smtpd_client_ipv6_prefix_length");
	anvil_clients = anvil_table_new(ANVIL_CLIENTS_MAX, anvil_window_ms);
	(void)event_timer_add(anvil_window_ms, anvil_expire, NULL);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &anvil_stance,
	    .persistent = 1,
	    .post_drop = anvil_post_drop,
	    .accept_client = anvil_accept,
	};

	return event_server_main(argc, argv, &ops);
}
