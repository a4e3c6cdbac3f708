/*
 * local_resolver: the resolver, forked by local's root parent and kept
 * for one recipient after another (each {op=resolve} brings the message's
 * descriptor, closed when that recipient is done; local_parent.c bounds
 * its life).  Before it reads a byte of a message, an alias value or a
 * .forward, it keeps only the socket to its parent and the log, drops to
 * local_resolver_user (moat-local) for good, opens the aliases map as
 * that user, gives up the file system entirely (Landlock: no path may be
 * opened any more) and enters SANDBOX_LOCAL_RESOLVER.  Then it resolves
 * each recipient
 * (local_resolve.c: the header block's Delivered-To lines, aliases, the
 * targets of .forward files that the owner's own child read), asks the
 * parent for each delivery as a job (user, target, source), resubmits
 * forwarded mail to cleanup as itself, and ends with {op=done} and the
 * recipient's result; when the recipient has one destination, a mailbox
 * it reached without an alias or a .forward, that job goes as the last
 * (last=1) and its result is the recipient's, for the parent to log,
 * which saves the answer and {op=done}: a round trip a message.  It never
 * learns a uid and cannot run anything: the parent checks every job it asks
 * for.  Hostile: the message, the aliases values, the .forward items, cleanup's
 * replies; the parent's answers are checked too.  A resolver that dies or lies
 * costs a deferral.
 * XXX kept, a resolver that a hostile message took over sees the next
 * messages of its parent (up to local_resolver_max_use): the price of no
 * process start per message; it gains no right it did not have.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "landlock.h"
#include "local.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "privilege.h"
#include "sandbox.h"

static const char *const resolver_job_names[] = {
    [JOB_MAILBOX] = "mailbox",
    [JOB_COMMAND] = "command",
    [JOB_FILE] = "file",
    [JOB_FORWARD] = "forward",
};

static void
resolver_put_request(struct ipc_frame *f, const struct local_job_req *req)
{
	ipc_put_str(f, IPC_OP, LOCAL_OP_JOB);
	ipc_put_str(f, LOCAL_ATTR_JOB, resolver_job_names[req->type]);
	ipc_put_str(f, LOCAL_ATTR_USER, req->user);
	ipc_put_str(f, IPC_RCPT, req->rcpt);
	if (req->type == JOB_COMMAND || req->type == JOB_FILE) {
		ipc_put_str(f, LOCAL_ATTR_TARGET, req->target);
		ipc_put_str(f, LOCAL_ATTR_SOURCE,
			    req->source == SOURCE_ALIAS ? "alias" : "forward");
	}
	if (req->source == SOURCE_ALIAS)
		ipc_put_str(f, LOCAL_ATTR_ALIAS, req->alias);
	if (req->type == JOB_COMMAND && req->extension[0] != '\0')
		ipc_put_str(f, LOCAL_ATTR_EXTENSION, req->extension);
	if (req->last)
		ipc_put_str(f, LOCAL_ATTR_LAST, "1");
}

/* The parent's answer: {status, dsn, text, [target]...}. */
static int
resolver_take_answer(const struct ipc_frame *f, struct local_result *r,
		     struct local_items *items)
{
	if (f->fd >= 0 || local_result_parse(f, r) != 0)
		return -1;
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->attr[i].name, LOCAL_ATTR_TARGET) == 0 &&
		    (items == NULL ||
		     local_items_add(items, f->attr[i].value,
				     f->attr[i].value_len) != 0))
			return -1;
	return 0;
}

int
local_resolver_job(int sock, const struct local_job_req *req,
		   struct local_result *r, struct local_items *items)
{
	const char *why = "no answer";
	struct ipc_frame f;
	int rc = -1;

	ipc_frame_init(&f);
	resolver_put_request(&f, req);
	if (ipc_send(sock, &f, -1, (int)param_int("ipc_timeout")) != 0)
		rc = -1;
	else if (req->last)
		rc = 1; /* no answer comes: the parent has the recipient */
	else {
		/* No time limit on the answer: the parent bounds the
		 * recipient. */
		ipc_frame_reset(&f);
		if (ipc_recv(sock, &f, 0, &why) == 1)
			rc = resolver_take_answer(&f, r, items);
	}
	ipc_frame_free(&f);
	if (rc < 0) {
		if (items != NULL)
			local_items_reset(items);
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "local's parent did not answer");
	}
	return rc;
}

static void
resolver_send(int sock, const char *op, const struct local_result *r)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, op);
	if (r != NULL)
		local_result_put(&f, r);
	(void)ipc_send(sock, &f, -1, (int)param_int("ipc_timeout"));
	ipc_frame_free(&f);
}

/* Tell the parent that cleanup queued the forwarded copy. */
void
local_resolver_forwarded(int sock)
{
	resolver_send(sock, LOCAL_OP_FORWARDED, NULL);
}

/* As local_resolver_user: the map, then no file system at all. */
static int
resolver_confine(struct local_resolver *rs, struct local_result *r)
{
	const char *path = param_str("alias_maps");
	struct buf err = BUF_INIT;
	int rc = 0;

	if (path[0] != '\0' && (rs->aliases = map_open(path, &err)) == NULL) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "alias database unavailable: %s",
				 buf_cstr(&err));
		rc = -1;
	}
	buf_free(&err);
	if (landlock_confine(NULL, 0) < 0) {
		log_warn("resolver: Landlock: %s", strerror(errno));
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot confine the resolver: %s",
				 strerror(errno));
		rc = -1;
	}
	return rc;
}

/* {op=resolve, forwarded, message fields} from the parent; 0 or -1. */
static int
resolver_request(const struct ipc_frame *f, struct local_msg *m,
		 struct local_resolver *rs)
{
	const char *op = ipc_get_str(f, IPC_OP);
	const char *fw = ipc_get_str(f, LOCAL_ATTR_FORWARDED);

	if (op == NULL || strcmp(op, LOCAL_OP_RESOLVE) != 0 || fw == NULL ||
	    local_msg_take(f, m) != 0)
		return -1;
	rs->forwarded = strcmp(fw, "yes") == 0;
	return 0;
}

void
local_resolver_main(int sock, uid_t uid, gid_t gid, pid_t parent)
{
	int idle =
	    (int)param_int("local_resolver_idle_time") + LOCAL_KEPT_GRACE;
	struct local_resolver rs = {sock, 0, NULL};
	struct local_result r, failed;
	struct local_msg m;
	struct ipc_frame f;
	const char *why;
	int confined, handed;

	/* Not qmgr's connection, the listener, the status pipe, the kept
	 * delivery processes' sockets. */
	local_close_fds(sock, -1, -1);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	privilege_drop_ids(uid, gid, (gid_t)-1);
	confined = resolver_confine(&rs, &failed) == 0;
	/* Signal handlers and the death signal before the filter. */
	local_abort_arm(parent);
	local_commit_arm(sock);
	if (confined)
		sandbox_enter(SANDBOX_LOCAL_RESOLVER);
	ipc_frame_init(&f);
	while (!local_aborted() && ipc_recv(sock, &f, idle, &why) == 1) {
		if (resolver_request(&f, &m, &rs) != 0)
			_exit(1); /* the parent defers the recipient */
		handed = 0;
		if (confined)
			handed = local_resolve_deliver(&m, &rs, &r);
		else {
			r = failed;
			local_log_result(&m, m.rcpt, &r);
		}
		if (!handed)
			resolver_send(sock, LOCAL_OP_DONE, &r);
		ipc_frame_reset(&f); /* closes the message's descriptor */
		if (!confined)
			break; /* the next message gets a new try */
	}
	_exit(0);
}
