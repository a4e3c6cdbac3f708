/*
 * smtpd_anvil: asks anvil how many connections a client has and how fast
 * it makes them, over one persistent connection per smtpd process.  The
 * calls block for at most SMTPD_ANVIL_TIMEOUT seconds; anvil's reply is
 * checked (numbers within bounds); after a failure anvil is not asked
 * again for SMTPD_ANVIL_RETRY_MS.  The process also counts its own
 * clients in the same kind of table anvil keeps (anvil_table.h, by
 * client_key.h's key): when anvil cannot be reached, does not answer or is
 * full, the limits apply to these counts instead (per process: weaker than
 * anvil's, but never off), with a modest rate limit even when none is set.
 * When a new connection to anvil is made (anvil was restarted), the
 * sessions counted here are restored there first ({op=restore}); the
 * connection is watched in the event loop, so a process that serves
 * clients reconnects and restores them as soon as anvil is back, not at
 * its next client.  A flood gains nothing from a killed anvil.  Run by
 * smtpd.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anvil_table.h"
#include "client_key.h"
#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "smtpd_anvil.h"

#define SMTPD_ANVIL_TIMEOUT 2 /* seconds */
#define SMTPD_ANVIL_NUM_MAX 100000000LL
#define SMTPD_ANVIL_LOCAL_MAX 4096 /* clients one process remembers */
#define SMTPD_ANVIL_RETRY_MS 1000  /* after a failure, before the next try */

static int anvil_fd = -1;
static long long anvil_retry_at;
static unsigned long anvil_retry_timer;
static struct anvil_table *local_table;
static struct anvil_peer local_peer;
static unsigned local_v6_prefix;
static int anvil_away_logged;

enum smtpd_anvil_verdict
smtpd_anvil_judge(unsigned count, unsigned rate, unsigned count_limit,
		  unsigned rate_limit)
{
	if (count_limit > 0 && count > count_limit)
		return SMTPD_ANVIL_COUNT;
	if (rate_limit > 0 && rate > rate_limit)
		return SMTPD_ANVIL_RATE;
	return SMTPD_ANVIL_OK;
}

unsigned
smtpd_anvil_fallback_rate(unsigned count_limit, unsigned rate_limit)
{
	if (rate_limit > 0)
		return rate_limit;
	return count_limit <= 100000 ? 2 * count_limit : 200000;
}

static void
local_init(void)
{
	if (local_table != NULL)
		return;
	local_v6_prefix =
	    (unsigned)param_int("smtpd_client_ipv6_prefix_length");
	local_table = anvil_table_new(SMTPD_ANVIL_LOCAL_MAX,
				      param_int("anvil_rate_time_unit") * 1000);
}

static void anvil_on_retry(void *ctx);

/* Lost: try again soon by itself while this process holds sessions. */
static void
anvil_drop(void)
{
	if (anvil_fd >= 0) {
		event_remove(anvil_fd);
		close(anvil_fd);
	}
	anvil_fd = -1;
	anvil_retry_at = event_now_ms() + SMTPD_ANVIL_RETRY_MS;
	if (anvil_retry_timer == 0 && local_peer.len > 0)
		anvil_retry_timer =
		    event_timer_add(SMTPD_ANVIL_RETRY_MS, anvil_on_retry, NULL);
}

static int
anvil_send(const char *op, const char *client, unsigned count)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, op);
	ipc_put_str(&f, IPC_CLIENT, client);
	if (count > 0)
		ipc_put_int(&f, IPC_COUNT, count);
	rc = ipc_send(anvil_fd, &f, -1, SMTPD_ANVIL_TIMEOUT);
	ipc_frame_free(&f);
	return rc;
}

/* A new anvil learns the sessions this process serves; -1: dropped. */
static int
anvil_restore(void)
{
	const char *key;
	unsigned n;
	size_t i;

	for (i = 0; (key = anvil_peer_key(&local_peer, i, &n)) != NULL; i++)
		if (anvil_send(IPC_OP_RESTORE, key, n) != 0)
			return -1;
	return 0;
}

/* anvil never speaks first: readable between requests is its end. */
static void
anvil_on_readable(int fd, unsigned events, void *ctx)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)events;
	(void)ctx;
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	log_warn("%s: %s; counting on our own until it is back", IPC_SOCK_ANVIL,
		 n == 0 ? "connection closed" : "unexpected bytes");
	anvil_drop();
}

static int
anvil_open(const char **why)
{
	if (anvil_fd >= 0)
		return 0;
	if (event_now_ms() < anvil_retry_at) {
		*why = "it failed a moment ago";
		return -1;
	}
	anvil_fd = ipc_connect(IPC_SOCK_ANVIL, SMTPD_ANVIL_TIMEOUT);
	if (anvil_fd < 0 || anvil_restore() != 0) {
		*why = strerror(errno);
		anvil_drop();
		return -1;
	}
	event_set(anvil_fd, EVENT_READ, anvil_on_readable, NULL);
	return 0;
}

static void
anvil_on_retry(void *ctx)
{
	const char *why = NULL;

	(void)ctx;
	anvil_retry_timer = 0;
	if (anvil_fd < 0 && local_peer.len > 0 && anvil_open(&why) == 0)
		log_info("%s: reconnected; %zu clients' sessions restored",
			 IPC_SOCK_ANVIL, local_peer.len);
}

/*
 * The reply to op=connect (count given) or op=auth (count NULL); -1 with
 * *why when there is none, it is bad, or anvil is full (*full set: the
 * connection stays).
 */
static int
anvil_read_reply(unsigned *count, unsigned *rate, int *full, const char **why)
{
	struct ipc_frame f;
	const char *status;
	long long c = 0, r = 0;
	int rc = -1;

	ipc_frame_init(&f);
	if (ipc_recv(anvil_fd, &f, SMTPD_ANVIL_TIMEOUT, why) != 1) {
		if (*why == NULL)
			*why = "connection closed";
	} else if ((status = ipc_get_str(&f, IPC_STATUS)) != NULL &&
		   strcmp(status, IPC_STATUS_FULL) == 0) {
		*full = 1;
		*why = "client table full";
	} else if (status == NULL || strcmp(status, IPC_STATUS_OK) != 0 ||
		   (count != NULL &&
		    ipc_get_int(&f, IPC_COUNT, 0, SMTPD_ANVIL_NUM_MAX, &c) !=
			0) ||
		   ipc_get_int(&f, IPC_RATE, 0, SMTPD_ANVIL_NUM_MAX, &r) != 0) {
		*why = "malformed reply";
	} else {
		if (count != NULL)
			*count = (unsigned)c;
		*rate = (unsigned)r;
		rc = 0;
	}
	ipc_frame_free(&f);
	return rc;
}

/* anvil's answer to op about addr: 0, or -1 with *why. */
static int
anvil_ask(const char *op, const char *addr, unsigned *count, unsigned *rate,
	  const char **why)
{
	int full = 0;

	if (anvil_open(why) != 0)
		return -1;
	if (anvil_send(op, addr, 0) != 0) {
		*why = strerror(errno);
	} else if (anvil_read_reply(count, rate, &full, why) == 0) {
		return 0;
	}
	if (!full)
		anvil_drop();
	return -1;
}

int
smtpd_anvil_connect(const char *addr, unsigned *count, unsigned *rate)
{
	char key[CLIENT_KEY_MAX];
	unsigned lcount, lrate;
	const char *why = NULL;
	int asked;

	local_init();
	if (client_key(addr, local_v6_prefix, key, sizeof(key)) != 0)
		return -1;
	/* Asked first: a new anvil must not learn this session twice. */
	asked = anvil_ask(IPC_OP_CONNECT, addr, count, rate, &why);
	if (anvil_table_connect(local_table, &local_peer, key, event_now_ms(),
				&lcount, &lrate) != 0)
		lcount = lrate = 0; /* every client it knows is connected */
	if (asked == 0) {
		anvil_away_logged = 0;
		return 0;
	}
	if (!anvil_away_logged)
		log_warn("%s: %s; this process limits its clients on its own",
			 IPC_SOCK_ANVIL, why != NULL ? why : "no answer");
	anvil_away_logged = 1;
	*count = lcount;
	*rate = lrate;
	return 1;
}

int
smtpd_anvil_auth(const char *addr, unsigned *rate)
{
	char key[CLIENT_KEY_MAX];
	unsigned lrate;
	const char *why = NULL;

	local_init();
	if (client_key(addr, local_v6_prefix, key, sizeof(key)) != 0)
		return -1;
	if (anvil_table_auth(local_table, key, event_now_ms(), &lrate) != 0)
		lrate = 0; /* every client it knows is connected */
	if (anvil_ask(IPC_OP_AUTH, addr, NULL, rate, &why) == 0)
		return 0;
	log_warn("%s: %s; this process limits AUTH on its own", IPC_SOCK_ANVIL,
		 why != NULL ? why : "no answer");
	*rate = lrate;
	return 1;
}

void
smtpd_anvil_disconnect(const char *addr)
{
	char key[CLIENT_KEY_MAX];

	if (local_table == NULL ||
	    client_key(addr, local_v6_prefix, key, sizeof(key)) != 0)
		return;
	anvil_table_disconnect(local_table, &local_peer, key, event_now_ms());
	anvil_table_expire(local_table, event_now_ms());
	/* XXX a session anvil answered "full" for is taken back here too. */
	if (anvil_fd >= 0 && anvil_send(IPC_OP_DISCONNECT, addr, 0) != 0) {
		log_warn("%s: %s", IPC_SOCK_ANVIL, strerror(errno));
		anvil_drop();
	}
}
