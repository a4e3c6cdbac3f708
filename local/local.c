/*
 * local: the local delivery agent.  qmgr sends one request per connection
 * on private/local: {op=deliver, queue_id, sender, rcpt, [orig_rcpt],
 * content_offset, content_length, arrival} with a read-only descriptor of
 * the queue file; local resolves the recipient (aliases, .forward files),
 * delivers each destination in a child that runs as its user, and answers
 * {status, dsn, text, batch_index, queue_id}.  local never opens the
 * queue.  A request may be a batch: up to local_delivery_batch_limit
 * such frames for one recipient, the first saying how many (batch=N).
 * Each message is resolved and delivered on its own, one after the
 * other, as a single one would be; mailbox deliveries in kept processes
 * leave the fsync of Maildir/new for the end of the batch, where each
 * process that owes one does it once (the group commit, local_kept.c);
 * only then are the results sent, in order, one frame each.  A message
 * whose sync failed is deferred (it is journalled: the retry records it
 * without delivering again).
 *
 * Security stance: user root, NOT chrooted (it must become any user and
 * reach their homes); sandbox SANDBOX_NONE in this parent; peers: qmgr
 * only.  The root parent does what only root can do and nothing else
 * (local_parent.c): it checks qmgr's request and hands it to the
 * resolver it keeps (forked once for many recipients), which dropped to
 * local_resolver_user (moat-local), confined itself
 * (Landlock, SANDBOX_LOCAL_RESOLVER) and does all the reading and
 * deciding: the header block, the aliases, the .forward items, forwarding
 * through cleanup (local_resolver.c).  The parent looks up again, from
 * the name, each user the resolver asks a job for and checks the job
 * against its rules (local_job.c); it opens the journal (state/, root
 * 0700) and hands its descriptor to the delivery child, which drops to
 * the user (never uid 0), confines itself and enters SANDBOX_LOCAL_CHILD
 * (SANDBOX_LOCAL_COMMAND once it forked a |command) before it touches a
 * file the user controls (local_child.c).  The parent
 * never opens a file a user controls and never parses the message, an
 * alias value or a .forward.
 * Hostile input: the request, and whatever the resolver or a child sends
 * back.  A malformed request ends the conversation and is logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "local.h"
#include "log.h"
#include "params.h"
#include "privilege.h"
#include "server.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const local_peers[] = {"qmgr", NULL};
static const struct server_stance local_stance = {
    .user = "root",
    .chroot = 0,
    .sandbox = SANDBOX_NONE,
    .peers = local_peers,
};
static uid_t local_resolver_uid;
static gid_t local_resolver_gid;

/*
 * The resolver's account: known, not root, not the queue's owner (whose
 * rights would let a compromised resolver write the queue).
 */
static void
local_pre_drop(int argc, char **argv)
{
	const char *user = param_str("local_resolver_user");
	uid_t queue_uid;
	gid_t queue_gid;

	(void)argc;
	(void)argv;
	if (privilege_user_ids(user, &local_resolver_uid,
			       &local_resolver_gid) != 0)
		log_fatal("local_resolver_user %s: no such user (moat setup "
			  "creates it)",
			  user);
	if (local_resolver_uid == 0)
		log_fatal("local_resolver_user %s is root: refusing to start",
			  user);
	if (privilege_user_ids(param_str("mail_owner"), &queue_uid,
			       &queue_gid) == 0 &&
	    queue_uid == local_resolver_uid)
		log_fatal("local_resolver_user %s is mail_owner: it must be a "
			  "user of its own",
			  user);
}

/* An address-like string from qmgr: parses, fits, no control bytes. */
static int
local_valid_address(const char *s, int allow_null)
{
	return address_text_ok(s, ADDR_ALLOW_NO_DOMAIN | ADDR_ALLOW_UTF8 |
				      (allow_null ? ADDR_ALLOW_NULL : 0));
}

/* Fill m from a request frame; NULL, or the reason it is malformed. */
static const char *
local_request(struct ipc_frame *f, struct local_msg *m)
{
	const char *op = ipc_get_str(f, IPC_OP);
	long long off, len, arrival;

	m->queue_id = ipc_get_str(f, IPC_QUEUE_ID);
	m->sender = ipc_get_str(f, IPC_SENDER);
	m->rcpt = ipc_get_str(f, IPC_RCPT);
	m->orig_rcpt = ipc_get_str(f, IPC_ORIG_RCPT);
	if (op == NULL || strcmp(op, IPC_OP_DELIVER) != 0)
		return "not a delivery request";
	if (!local_queue_id_ok(m->queue_id))
		return "bad queue_id";
	if (m->sender == NULL || m->rcpt == NULL ||
	    strlen(m->sender) >= ADDR_TEXT_MAX ||
	    strlen(m->rcpt) >= ADDR_TEXT_MAX)
		return "missing or over-long sender or rcpt";
	if (ipc_get_int(f, IPC_CONTENT_OFFSET, 0, 1LL << 40, &off) != 0 ||
	    ipc_get_int(f, IPC_CONTENT_LENGTH, 0, 1LL << 40, &len) != 0)
		return "bad content_offset or content_length";
	if (ipc_get_int(f, IPC_ARRIVAL, 0, 1LL << 40, &arrival) != 0)
		arrival = time(NULL);
	if (!local_valid_address(m->orig_rcpt, 0))
		m->orig_rcpt = m->rcpt;
	if (f->fd < 0)
		return "no queue file descriptor";
	m->fd = f->fd;
	m->offset = (off_t)off;
	m->length = (off_t)len;
	m->arrival = (time_t)arrival;
	/* qmgr waits ipc_timeout + command_time_limit for the reply. */
	m->deadline = time(NULL) + param_int("command_time_limit") +
		      param_int("ipc_timeout") / 2;
	return NULL;
}

/* The descriptor: read-only, a regular file holding the content. */
static const char *
local_check_fd(const struct local_msg *m)
{
	struct stat st;
	int fl = fcntl(m->fd, F_GETFL);

	(void)fcntl(m->fd, F_SETFD, FD_CLOEXEC);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY)
		return "the queue file descriptor is not read-only";
	if (fstat(m->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return "the queue file descriptor is not a regular file";
	if (m->offset + m->length > st.st_size)
		return "the content lies beyond the end of the queue file";
	return NULL;
}

/* What to do with a well-formed request. */
static void
local_deliver(const struct local_msg *m, struct local_result *r)
{
	const char *bad = local_check_fd(m);

	if (bad != NULL) {
		log_warn("%s: %s", m->queue_id, bad);
		local_result_set(r, LOCAL_DEFER, "4.3.0", "%s", bad);
	} else if (!local_valid_address(m->sender, 1))
		local_result_set(r, LOCAL_BOUNCE, "5.1.7",
				 "bad sender address syntax");
	else if (!local_valid_address(m->rcpt, 0))
		local_result_set(r, LOCAL_BOUNCE, "5.1.3",
				 "bad recipient address syntax");
	else
		local_parent_deliver(m, local_resolver_uid, local_resolver_gid,
				     r);
}

static void
local_reply(int client, const struct local_result *r, size_t index,
	    const char *queue_id)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	local_result_put(&f, r);
	ipc_put_int(&f, IPC_BATCH_INDEX, (long long)index);
	ipc_put_str(&f, IPC_QUEUE_ID, queue_id);
	if (ipc_send(client, &f, -1, (int)param_int("ipc_timeout")) != 0)
		log_warn("reply to qmgr: %s", strerror(errno));
	ipc_frame_free(&f);
}

/* One message of a request: its frame holds its strings and descriptor. */
struct local_item {
	struct ipc_frame f;
	struct local_msg m;
	struct local_result r;
	unsigned deps; /* kept slots that delivered it, not yet synced */
	int unsynced;  /* one of them failed its sync */
};

/* The size the first frame announces: 1 without batch=, 0 when bad. */
static size_t
local_batch_size(const struct ipc_frame *f)
{
	long long n = 1;

	if (ipc_get(f, IPC_BATCH) != NULL &&
	    ipc_get_int(f, IPC_BATCH, 2, IPC_BATCH_MAX, &n) != 0)
		return 0;
	return (size_t)n;
}

/* Read one frame of the request into it; 0, or -1 (logged). */
static int
local_read_one(int client, struct local_item *it, int first)
{
	const char *why = NULL;

	if (ipc_recv(client, &it->f, (int)param_int("ipc_timeout"), &why) !=
	    1) {
		if (why != NULL)
			log_warn("request from qmgr: %s", why);
		return -1;
	}
	if (!first && ipc_get(&it->f, IPC_BATCH) != NULL)
		why = "batch= after the first frame";
	else if (first && local_batch_size(&it->f) == 0)
		why = "bad batch";
	else
		why = local_request(&it->f, &it->m);
	if (why != NULL) {
		log_warn("malformed request from qmgr: %s", why);
		return -1;
	}
	it->m.client_fd = client;
	return 0;
}

/*
 * A batch's syncs ended since the last call: messages up to last that
 * waited for a failed one are unsynced; none waits any more for a done
 * one.
 */
static void
local_batch_settle(struct local_item *it, size_t last, unsigned synced,
		   unsigned failed)
{
	for (size_t i = 0; i <= last; i++) {
		if (it[i].deps & failed)
			it[i].unsynced = 1;
		it[i].deps &= ~(synced | failed);
	}
}

/* Deliver the n messages of a batch, with one group commit at the end. */
static void
local_batch(struct local_item *it, size_t n)
{
	unsigned deps, synced, failed;

	local_kept_group_begin();
	for (size_t i = 0; i < n; i++) {
		local_deliver(&it[i].m, &it[i].r);
		local_kept_group_take(&deps, &synced, &failed);
		it[i].deps = deps;
		local_batch_settle(it, i, synced, failed);
	}
	local_kept_group_end();
	local_kept_group_take(&deps, &synced, &failed);
	local_batch_settle(it, n - 1, synced, failed);
	for (size_t i = 0; i < n; i++) {
		if (!it[i].unsynced || it[i].r.status != LOCAL_SENT)
			continue;
		local_result_set(&it[i].r, LOCAL_DEFER, "4.3.0",
				 "maildir fsync of new/ failed");
		local_log_result(&it[i].m, it[i].m.rcpt, &it[i].r);
	}
}

static void
local_serve(int client)
{
	struct local_item *it = xcalloc(1, sizeof(*it));
	size_t i, n = 0, frames = 1;

	ipc_frame_init(&it[0].f);
	if (local_read_one(client, &it[0], 1) == 0) {
		n = frames = local_batch_size(&it[0].f);
		it = xreallocarray(it, n, sizeof(*it));
		for (i = 1; i < n; i++) {
			memset(&it[i], 0, sizeof(it[i]));
			ipc_frame_init(&it[i].f);
		}
		for (i = 1; i < n; i++)
			if (local_read_one(client, &it[i], 0) != 0)
				break;
		if (i < n) {
			n = 0; /* qmgr defers them all */
		} else if (n == 1) {
			local_deliver(&it[0].m, &it[0].r);
		} else {
			log_info("%s: to=<%s>: a batch of %zu messages",
				 it[0].m.queue_id, it[0].m.rcpt, n);
			local_batch(it, n);
		}
	}
	for (i = 0; i < n; i++)
		local_reply(client, &it[i].r, i, it[i].m.queue_id);
	for (i = 0; i < frames; i++)
		ipc_frame_free(&it[i].f);
	free(it);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &local_stance,
	    .pre_drop = local_pre_drop,
	    .serve = local_serve,
	};

	return single_server_main(argc, argv, &ops);
}
