/*
 * local: the local delivery agent.  qmgr sends one request per connection
 * on private/local: {op=deliver, queue_id, sender, rcpt, [orig_rcpt],
 * content_offset, content_length, arrival} with a read-only descriptor of
 * the queue file; local resolves the recipient (aliases, .forward files),
 * delivers each destination in a child that runs as its user, and answers
 * {status, dsn, text}.  local never opens the queue.
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
local_reply(int client, const struct local_result *r)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	local_result_put(&f, r);
	if (ipc_send(client, &f, -1, (int)param_int("ipc_timeout")) != 0)
		log_warn("reply to qmgr: %s", strerror(errno));
	ipc_frame_free(&f);
}

static void
local_serve(int client)
{
	struct ipc_frame f;
	struct local_msg m;
	struct local_result r;
	const char *why = NULL;

	ipc_frame_init(&f);
	if (ipc_recv(client, &f, (int)param_int("ipc_timeout"), &why) != 1) {
		if (why != NULL)
			log_warn("request from qmgr: %s", why);
	} else if ((why = local_request(&f, &m)) != NULL)
		log_warn("malformed request from qmgr: %s", why);
	else {
		m.client_fd = client;
		local_deliver(&m, &r);
		local_reply(client, &r);
	}
	ipc_frame_free(&f);
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
