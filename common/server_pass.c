/*
 * server_pass: the skeleton's pass mode (server.h): each connection
 * accepted on a pass service (its peer already checked against the
 * stance's pass_peers) hands over one client (ipc_proto.h):
 *
 *   -> {op=pass, client_addr, client_port, [trusted=1]} + its socket
 *   <- {status=ok} or {status=busy}
 *
 * "busy" when the process has no room for the client: every client needs
 * a session of max_clients; an untrusted one must also leave
 * ops->pass_reserve sessions free and may not come after max_use clients
 * (a trusted one may: the process is only draining).  The listener stays
 * open while fewer than SERVER_PASS_PENDING_MAX offers are pending, so
 * every offer gets its answer at once, even from a full process, and the
 * passer never waits in the backlog for a session that is not coming.  The
 * socket received must be a connected TCP socket whose peer is the address and
 * port offered; "ok" goes before a byte is written to it (so a passer that
 * hears nothing may still give it to another), then it is made non-blocking
 * and given to accept_client, and the pass connection closes.  On "busy"
 * this copy closes and the passer's own keeps the client; one hand-off is
 * one frame each way.  Hostile input: the frames and the descriptor, from
 * a passer that may be compromised: the frames are bounded
 * (SERVER_PASS_INPUT_MAX) and parsed by the pure functions below (fuzzed),
 * a conversation gets SERVER_PASS_TIMEOUT_MS, and nothing ever blocks.
 * Runs in the daemons of pass services (smtpd), after the drop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "ipc_proto.h"
#include "log.h"
#include "server.h"
#include "server_pass.h"
#include "server_state.h"

#define SERVER_PASS_INPUT_MAX 1024  /* bytes of frames on one connection */
#define SERVER_PASS_TIMEOUT_MS 5000 /* for the whole conversation */

struct server_pass_conn {
	int fd;
	int client_fd; /* received, not yet handed on */
	struct server_pass_offer offer;
	struct buf in;
	unsigned long timer;
};

int
server_pass_addr_text(int family, const void *bytes, char *out, size_t size)
{
	const unsigned char *b = bytes;

	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const void *)b))
		return inet_ntop(AF_INET, b + 12, out, (socklen_t)size) ? 0
									: -1;
	if (family != AF_INET && family != AF_INET6)
		return -1;
	return inet_ntop(family, b, out, (socklen_t)size) ? 0 : -1;
}

static int
server_pass_op_is(const struct ipc_frame *f, const char *op, const char **why)
{
	const char *got = ipc_get_str(f, IPC_OP);

	if (got == NULL || strcmp(got, op) != 0) {
		*why = "unexpected request";
		return 0;
	}
	return 1;
}

int
server_pass_parse_offer(const struct ipc_frame *f, struct server_pass_offer *o,
			const char **why)
{
	const char *addr = ipc_get_str(f, IPC_CLIENT_ADDR);
	unsigned char bytes[16];
	long long port, trusted = 0;
	int family = AF_INET;

	memset(o, 0, sizeof(*o));
	if (!server_pass_op_is(f, IPC_OP_PASS, why))
		return -1;
	if (addr == NULL || strlen(addr) >= sizeof(o->addr) ||
	    (inet_pton(AF_INET, addr, bytes) != 1 &&
	     (family = AF_INET6, inet_pton(AF_INET6, addr, bytes) != 1)) ||
	    server_pass_addr_text(family, bytes, o->addr, sizeof(o->addr)) !=
		0) {
		*why = "bad client address";
		return -1;
	}
	if (ipc_get_int(f, IPC_CLIENT_PORT, 1, 65535, &port) != 0 ||
	    (ipc_get(f, IPC_TRUSTED) != NULL &&
	     ipc_get_int(f, IPC_TRUSTED, 0, 1, &trusted) != 0)) {
		*why = "bad client port or trusted flag";
		return -1;
	}
	o->port = (unsigned)port;
	o->trusted = (int)trusted;
	return 0;
}

/* The handed socket: connected TCP, to the peer that was offered. */
static int
server_pass_check_socket(int fd, const struct server_pass_offer *o,
			 const char **why)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *s4 = (const void *)&ss;
	const struct sockaddr_in6 *s6 = (const void *)&ss;
	socklen_t len = sizeof(ss);
	char text[INET6_ADDRSTRLEN];
	unsigned port;
	struct stat st;
	int type = 0, rc;

	*why = "not a connected TCP socket";
	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return -1;
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM)
		return -1;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		rc = server_pass_addr_text(AF_INET, &s4->sin_addr, text,
					   sizeof(text));
		port = ntohs(s4->sin_port);
	} else {
		rc = server_pass_addr_text(ss.ss_family, &s6->sin6_addr, text,
					   sizeof(text));
		port = ntohs(s6->sin6_port);
	}
	if (rc != 0)
		return -1;
	if (strcmp(text, o->addr) != 0 || port != o->port) {
		*why = "its peer is not the client offered";
		return -1;
	}
	return 0;
}

static unsigned server_pass_npending;

unsigned
server_pass_pending(void)
{
	return server_pass_npending;
}

static void
server_pass_close(struct server_pass_conn *c)
{
	server_pass_npending--;
	event_timer_cancel(c->timer);
	event_remove(c->fd);
	close(c->fd);
	if (c->client_fd >= 0)
		close(c->client_fd);
	buf_free(&c->in);
	free(c);
}

static void
server_pass_fail(struct server_pass_conn *c, const char *why)
{
	int named = c->offer.addr[0] != '\0';

	if (why == NULL || strcmp(why, IPC_WHY_EOF) != 0)
		log_warn("service=%s: passed client%s%s: %s",
			 server_service_name(), named ? " " : "",
			 named ? c->offer.addr : "",
			 why != NULL ? why : "bad frame");
	server_pass_close(c);
	server_client_done();
}

/* Room for the offered client in this process now? */
static int
server_pass_room(const struct server_pass_offer *o)
{
	unsigned max = server_ops->max_clients,
		 reserve = server_ops->pass_reserve;
	unsigned now = server_client_count(); /* this pending one included */

	if (o->trusted)
		return max == 0 || now <= max;
	if (!server_use_left())
		return 0;
	if (max == 0)
		return 1;
	if (reserve >= max)
		reserve = max - 1;
	return now <= max - reserve;
}

static int
server_pass_reply(struct server_pass_conn *c, const char *status)
{
	struct ipc_frame r;
	int rc;

	ipc_frame_init(&r);
	ipc_put_str(&r, IPC_STATUS, status);
	rc = ipc_send_nowait(c->fd, &r, -1);
	ipc_frame_free(&r);
	return rc;
}

/*
 * The offer and its socket: "busy", or a refusal (logged; the passer sees
 * the connection close), or "ok" and the client is the daemon's, served as
 * if it had accepted it.
 */
static void
server_pass_frame(struct server_pass_conn *c, const struct ipc_frame *f)
{
	const char *why = NULL;
	int fd = c->client_fd, fl;

	if (server_pass_parse_offer(f, &c->offer, &why) != 0 || fd < 0) {
		server_pass_fail(c, why ? why : "no socket with the client");
		return;
	}
	if (!server_pass_room(&c->offer)) {
		(void)server_pass_reply(c, IPC_STATUS_BUSY);
		server_pass_close(c);
		server_client_done();
		return;
	}
	if (server_pass_check_socket(fd, &c->offer, &why) != 0) {
		server_pass_fail(c, why);
		return;
	}
	if (server_pass_reply(c, IPC_STATUS_OK) != 0 ||
	    (fl = fcntl(fd, F_GETFL)) < 0 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)) {
		server_pass_fail(c, strerror(errno));
		return;
	}
	c->client_fd = -1;
	server_pass_close(c);
	server_client_taken();
	server_ops->accept_client(fd);
}

static void
server_pass_on_read(int fd, unsigned events, void *ctx)
{
	struct server_pass_conn *c = ctx;
	const char *why = NULL;
	struct ipc_frame f;
	int r;

	(void)events;
	ipc_frame_init(&f);
	r = ipc_read_frame_fd(fd, &c->in, SERVER_PASS_INPUT_MAX, &f,
			      &c->client_fd, &why);
	if (r == 1)
		server_pass_frame(c, &f);
	else if (r < 0)
		server_pass_fail(c, why);
	ipc_frame_free(&f);
}

static void
server_pass_on_timeout(void *ctx)
{
	struct server_pass_conn *c = ctx;

	c->timer = 0;
	server_pass_fail(c, "timeout");
}

void
server_pass_begin(int conn_fd)
{
	struct server_pass_conn *c = xcalloc(1, sizeof(*c));

	c->fd = conn_fd;
	c->client_fd = -1;
	server_pass_npending++;
	buf_init(&c->in);
	c->timer =
	    event_timer_add(SERVER_PASS_TIMEOUT_MS, server_pass_on_timeout, c);
	event_set(conn_fd, EVENT_READ, server_pass_on_read, c);
}
