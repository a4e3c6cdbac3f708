/*
 * smtpd_anvil: asks anvil how many connections a client has and how fast
 * it makes them, over one persistent connection per smtpd process.
 * Nothing here blocks the event loop: questions are sent without waiting
 * (a socket with no room is a failure), anvil's answers come in the order
 * asked and are read when the socket is readable, and a question not
 * answered within SMTPD_ANVIL_DEADLINE_MS gives up on anvil: that
 * session and every other one waiting are answered with this process's
 * own counts, while every other session goes on.  anvil's reply is
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
#include <stdlib.h>
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

#define SMTPD_ANVIL_DEADLINE_MS 300 /* for an answer, then our own counts */
#define SMTPD_ANVIL_INPUT_MAX 4096
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
static struct buf anvil_in;
static unsigned anvil_generation; /* a new one at each drop */

/* A question asked, in the order anvil answers them. */
struct anvil_question {
	struct anvil_question *next;
	smtpd_anvil_fn fn; /* NULL: the session is gone */
	void *ctx;
	unsigned lcount, lrate; /* this process's own, when asked */
	long long deadline;     /* event_now_ms */
};
struct anvil_queue {
	struct anvil_question *head, *tail;
};
static struct anvil_queue asked;   /* on the connection to anvil */
static struct anvil_queue orphans; /* theirs dropped: answered soon */
static unsigned long deadline_timer, orphan_timer;

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

static void
queue_push(struct anvil_queue *q, struct anvil_question *a)
{
	a->next = NULL;
	if (q->tail != NULL)
		q->tail->next = a;
	else
		q->head = a;
	q->tail = a;
}

static struct anvil_question *
queue_pop(struct anvil_queue *q)
{
	struct anvil_question *a = q->head;

	if (a != NULL && (q->head = a->next) == NULL)
		q->tail = NULL;
	return a;
}

/* Answer a question with this process's own counts, and free it. */
static void
question_local(struct anvil_question *a)
{
	if (a->fn != NULL)
		a->fn(a->ctx, 1, a->lcount, a->lrate);
	free(a);
}

/* Questions whose connection was dropped: our own counts decide. */
static void
anvil_on_orphans(void *ctx)
{
	struct anvil_question *a;

	(void)ctx;
	orphan_timer = 0;
	while ((a = queue_pop(&orphans)) != NULL)
		question_local(a);
}

/*
 * Lost: the questions asked are answered from our own counts (from the
 * event loop, not from inside whatever noticed the loss), and anvil is
 * tried again soon by itself while this process holds sessions.
 */
static void
anvil_drop(void)
{
	struct anvil_question *a;

	if (anvil_fd >= 0) {
		event_remove(anvil_fd);
		close(anvil_fd);
	}
	anvil_fd = -1;
	anvil_generation++;
	buf_reset(&anvil_in);
	event_timer_cancel(deadline_timer);
	deadline_timer = 0;
	while ((a = queue_pop(&asked)) != NULL)
		queue_push(&orphans, a);
	if (orphans.head != NULL && orphan_timer == 0)
		orphan_timer = event_timer_add(0, anvil_on_orphans, NULL);
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
	rc = ipc_send_nowait(anvil_fd, &f, -1);
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

static void anvil_on_readable(int fd, unsigned events, void *ctx);

static int
anvil_open(const char **why)
{
	if (anvil_fd >= 0)
		return 0;
	if (event_now_ms() < anvil_retry_at) {
		*why = "it failed a moment ago";
		return -1;
	}
	anvil_fd = ipc_connect_nowait(IPC_SOCK_ANVIL);
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
 * anvil's answer to op=connect or op=auth: 0 with its numbers (*count
 * untouched when the reply has none), or -1 with *why when it is bad or
 * anvil is full (*full set: the connection stays).
 */
static int
anvil_parse_reply(const struct ipc_frame *f, unsigned *count, unsigned *rate,
		  int *full, const char **why)
{
	const char *status = ipc_get_str(f, IPC_STATUS);
	long long c = 0, r = 0;
	int has_count = ipc_get(f, IPC_COUNT) != NULL;

	if (status != NULL && strcmp(status, IPC_STATUS_FULL) == 0) {
		*full = 1;
		*why = "client table full";
		return -1;
	}
	if (status == NULL || strcmp(status, IPC_STATUS_OK) != 0 ||
	    (has_count &&
	     ipc_get_int(f, IPC_COUNT, 0, SMTPD_ANVIL_NUM_MAX, &c) != 0) ||
	    ipc_get_int(f, IPC_RATE, 0, SMTPD_ANVIL_NUM_MAX, &r) != 0) {
		*why = "malformed reply";
		return -1;
	}
	if (has_count)
		*count = (unsigned)c;
	*rate = (unsigned)r;
	return 0;
}

static void anvil_on_deadline(void *ctx);

/* The timer runs for the oldest question: anvil answers in order. */
static void
anvil_arm_deadline(void)
{
	event_timer_cancel(deadline_timer);
	deadline_timer = 0;
	if (asked.head != NULL)
		deadline_timer =
		    event_timer_add(asked.head->deadline - event_now_ms(),
				    anvil_on_deadline, NULL);
}

static void
anvil_on_deadline(void *ctx)
{
	(void)ctx;
	deadline_timer = 0;
	log_warn("%s: no answer within %d ms; counting on our own until it "
		 "answers",
		 IPC_SOCK_ANVIL, SMTPD_ANVIL_DEADLINE_MS);
	anvil_away_logged = 1;
	anvil_drop();
}

/* One answer, to the oldest question; -1 with *why: drop anvil. */
static int
anvil_answer(const struct ipc_frame *f, const char **why)
{
	struct anvil_question *a = queue_pop(&asked);
	unsigned count, rate;
	int full = 0;

	if (a == NULL) {
		*why = "unexpected bytes"; /* anvil never speaks first */
		return -1;
	}
	count = a->lcount;
	if (anvil_parse_reply(f, &count, &rate, &full, why) != 0) {
		if (!full)
			queue_push(&orphans, a); /* answered by anvil_drop */
		else
			question_local(a);
		return full ? 0 : -1;
	}
	anvil_away_logged = 0;
	if (a->fn != NULL)
		a->fn(a->ctx, 0, count, rate);
	free(a);
	return 0;
}

static void
anvil_on_readable(int fd, unsigned events, void *ctx)
{
	struct ipc_frame f;
	const char *why = NULL;
	unsigned gen = anvil_generation;
	int got, rc = 0;

	(void)events;
	(void)ctx;
	ipc_frame_init(&f);
	got = ipc_read_frame(fd, &anvil_in, SMTPD_ANVIL_INPUT_MAX, &f, &why);
	while (got == 1 && rc == 0 && gen == anvil_generation) {
		rc = anvil_answer(&f, &why);
		ipc_frame_reset(&f);
		if (rc == 0 && gen == anvil_generation)
			got = ipc_take_frame(&anvil_in, &f, &why);
	}
	ipc_frame_free(&f);
	if (gen != anvil_generation) /* a callback dropped it already */
		return;
	if (got < 0 || rc < 0) {
		log_warn("%s: %s; counting on our own until it is back",
			 IPC_SOCK_ANVIL, why != NULL ? why : "bad reply");
		anvil_drop();
		return;
	}
	anvil_arm_deadline();
}

/*
 * Send op about addr, to be answered to fn; 0, or -1 with *why (anvil
 * away: the caller's own counts decide at once).
 */
static int
anvil_ask(const char *op, const char *addr, smtpd_anvil_fn fn, void *ctx,
	  unsigned lcount, unsigned lrate, const char **why)
{
	struct anvil_question *a;

	if (anvil_fd < 0)
		return -1; /* anvil_open said why */
	if (anvil_send(op, addr, 0) != 0) {
		*why = strerror(errno);
		anvil_drop();
		return -1;
	}
	a = xcalloc(1, sizeof(*a));
	a->fn = fn;
	a->ctx = ctx;
	a->lcount = lcount;
	a->lrate = lrate;
	a->deadline = event_now_ms() + SMTPD_ANVIL_DEADLINE_MS;
	queue_push(&asked, a);
	if (asked.head == a)
		anvil_arm_deadline();
	return 0;
}

static int
anvil_away(const char *why, const char *what)
{
	if (!anvil_away_logged)
		log_warn("%s: %s; this process limits %s on its own",
			 IPC_SOCK_ANVIL, why != NULL ? why : "no answer", what);
	anvil_away_logged = 1;
	return SMTPD_ANVIL_OWN;
}

int
smtpd_anvil_connect(const char *addr, smtpd_anvil_fn fn, void *ctx,
		    unsigned *count, unsigned *rate)
{
	char key[CLIENT_KEY_MAX];
	const char *why = NULL;
	int open;

	local_init();
	if (client_key(addr, local_v6_prefix, key, sizeof(key)) != 0)
		return -1;
	/* Opened first: a new anvil must not learn this session twice. */
	open = anvil_open(&why);
	if (anvil_table_connect(local_table, &local_peer, key, event_now_ms(),
				count, rate) != 0)
		*count = *rate = 0; /* every client it knows is connected */
	if (open == 0 &&
	    anvil_ask(IPC_OP_CONNECT, addr, fn, ctx, *count, *rate, &why) == 0)
		return SMTPD_ANVIL_ASKED;
	return anvil_away(why, "its clients");
}

int
smtpd_anvil_auth(const char *addr, smtpd_anvil_fn fn, void *ctx, unsigned *rate)
{
	char key[CLIENT_KEY_MAX];
	const char *why = NULL;

	local_init();
	if (client_key(addr, local_v6_prefix, key, sizeof(key)) != 0)
		return -1;
	if (anvil_table_auth(local_table, key, event_now_ms(), rate) != 0)
		*rate = 0; /* every client it knows is connected */
	if (anvil_open(&why) == 0 &&
	    anvil_ask(IPC_OP_AUTH, addr, fn, ctx, 0, *rate, &why) == 0)
		return SMTPD_ANVIL_ASKED;
	return anvil_away(why, "AUTH");
}

void
smtpd_anvil_cancel(void *ctx)
{
	struct anvil_question *a;

	for (a = asked.head; a != NULL; a = a->next)
		if (a->ctx == ctx)
			a->fn = NULL;
	for (a = orphans.head; a != NULL; a = a->next)
		if (a->ctx == ctx)
			a->fn = NULL;
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
		log_warn("%s: %s; counting on our own until it is back",
			 IPC_SOCK_ANVIL, strerror(errno));
		anvil_drop();
	}
}
