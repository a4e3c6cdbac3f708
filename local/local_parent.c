/*
 * local_parent: one recipient, as local's root parent sees it.  It hands
 * the recipient and the message's descriptor to the resolver it keeps (a
 * child that dropped to local_resolver_user and confined itself before it
 * read anything: local_resolver.c; started again after
 * local_resolver_max_use messages, local_resolver_idle_time unused, a
 * rebuild of the aliases map, or any failure) and then only answers it:
 * a job request is
 * checked (local_job.c), looked up in the journal, and run in a delivery
 * child as the account the parent itself found (local_child.c), which
 * says when the destination has it, for the parent to journal (only root
 * can open the journal); a commit question is
 * answered from qmgr's connection; "forwarded" is journalled; "done"
 * carries the recipient's result, unless a mailbox job came as the last
 * (the recipient's one destination): then its result is the recipient's,
 * logged here, and the resolver hears nothing more of it.  The parent never
 * reads the message, the aliases or a .forward, and never speaks to cleanup.
 * Everything the resolver sends is hostile: a malformed frame, a lie
 * (local_job.c), an unexpected op, silence past the recipient's deadline or
 * death ends it (SIGKILL) and defers the recipient; destinations already
 * delivered are in the journal, so the retry delivers each once.  A result that
 * claims less than the jobs the parent ran (sent while one deferred) is raised
 * to theirs.  Runs in local's root parent.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "local.h"
#include "log.h"
#include "maps.h"
#include "params.h"

#define PARENT_COMMITS_MAX 8 /* commit questions from one resolver */

struct parent {
	const struct local_msg *msg;
	int sock;
	pid_t pid;
	struct local_job_ctx ctx;
	struct local_result worst; /* of the results the parent made */
	unsigned commits;
	int forwarded;       /* op=forwarded came */
	struct buf resubmit; /* the journal key of the forwarding */
	struct local_result done;
};

/* What the resolver hears for one job: the result and any items. */
static int
parent_answer(struct parent *p, const struct local_result *r,
	      const struct local_items *items)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	local_result_put(&f, r);
	for (size_t i = 0; items != NULL && i < items->count; i++)
		ipc_put_str(&f, LOCAL_ATTR_TARGET, local_item(items, i));
	rc = ipc_send(p->sock, &f, -1, (int)param_int("ipc_timeout"));
	ipc_frame_free(&f);
	return rc;
}

/* Run a checked job, unless the journal says it was done. */
static void
parent_run(struct parent *p, struct local_job *job, struct local_result *r,
	   struct local_items *items)
{
	if (job->journal_key != NULL &&
	    local_journal_seen(p->msg, job->journal_key)) {
		local_result_set(
		    r, LOCAL_SENT, "2.0.0",
		    "this destination already has the message (journal)");
		return;
	}
	if (job->journal_key != NULL)
		job->journal_fd = local_journal_open(p->msg->queue_id);
	(void)local_child_run(job, p->msg, r,
			      job->type == JOB_FORWARD ? items : NULL);
	local_journal_close(job->journal_fd, p->msg->queue_id);
	if (job->type == JOB_FORWARD && r->status == LOCAL_SENT &&
	    items->count > 0)
		local_job_ctx_owner(&p->ctx, job->user.name);
}

/*
 * {op=job}: 0 answered, 1 when it was the recipient's last (its result is
 * the recipient's: logged here, as the resolver would have, and nothing
 * is answered), -1 with why when the resolver lied.
 */
static int
parent_job(struct parent *p, const struct ipc_frame *f, const char **why)
{
	struct local_job_req *req = xmalloc(sizeof(*req));
	struct local_job job;
	struct local_result r;
	struct local_items items;
	int rc = -1;

	local_items_init(&items);
	if (local_job_parse(f, req, why) != 0)
		goto out;
	switch (local_job_check(req, &p->ctx, &job, &r, why)) {
	case LOCAL_JOB_LIE:
		goto out;
	case LOCAL_JOB_REFUSED:
		break;
	case LOCAL_JOB_RUN:
		parent_run(p, &job, &r, &items);
		break;
	}
	local_result_merge(&p->worst, &r);
	if (req->last) {
		local_log_result(p->msg, req->rcpt, &r);
		p->done = r;
		rc = 1;
	} else if ((rc = parent_answer(p, &r, &items)) != 0)
		*why = "cannot answer it";
out:
	local_items_free(&items);
	free(req);
	return rc;
}

/* A frame that is {op=NAME} and nothing else. */
static int
parent_bare_op(const struct ipc_frame *f, const char *name)
{
	const char *op = ipc_get_str(f, IPC_OP);

	return f->count == 1 && f->fd < 0 && op != NULL &&
	       strcmp(op, name) == 0;
}

static int
parent_commit(struct parent *p)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	ipc_put_str(&f, LOCAL_ATTR_GO,
		    local_client_alive(p->msg->client_fd) ? "yes" : "no");
	rc = ipc_send(p->sock, &f, -1, (int)param_int("ipc_timeout"));
	ipc_frame_free(&f);
	return rc;
}

/* The forwarded copy is queued: a retry must not queue it again. */
static void
parent_forwarded(struct parent *p)
{
	local_journal_add(p->msg->queue_id, p->resubmit.data);
}

/* {op=done, status, dsn, text}: 0, or -1 when malformed. */
static int
parent_done(struct parent *p, const struct ipc_frame *f)
{
	const char *op = ipc_get_str(f, IPC_OP);

	if (f->count != 4 || f->fd >= 0 || op == NULL ||
	    strcmp(op, LOCAL_OP_DONE) != 0)
		return -1;
	return local_result_parse(f, &p->done);
}

/*
 * One frame from the resolver: 1 when it was the last (done), 0 to go on,
 * -1 with why when the resolver broke the protocol.
 */
static int
parent_frame(struct parent *p, const struct ipc_frame *f, const char **why)
{
	const char *op = ipc_get_str(f, IPC_OP);

	if (op != NULL && strcmp(op, LOCAL_OP_JOB) == 0)
		return parent_job(p, f, why);
	if (parent_bare_op(f, LOCAL_OP_COMMIT)) {
		if (++p->commits > PARENT_COMMITS_MAX) {
			*why = "too many commit questions";
			return -1;
		}
		if (parent_commit(p) == 0)
			return 0;
		*why = "cannot answer it";
		return -1;
	}
	if (parent_bare_op(f, LOCAL_OP_FORWARDED) && !p->forwarded) {
		p->forwarded = 1;
		parent_forwarded(p);
		return 0;
	}
	if (parent_done(p, f) == 0)
		return 1;
	*why = "unexpected or malformed frame";
	return -1;
}

/* Serve the resolver until done; NULL, or why it failed. */
static const char *
parent_serve(struct parent *p)
{
	const char *why = NULL;
	struct ipc_frame f;
	long long left;
	int rc = -1;

	ipc_frame_init(&f);
	for (;;) {
		left = p->msg->deadline - time(NULL);
		if (left <= 0) {
			why = "the time for this recipient ran out";
			break;
		}
		rc = ipc_recv(p->sock, &f, (int)left, &why);
		if (rc == 0)
			why = "it exited without a result";
		if (rc != 1)
			break;
		why = NULL;
		rc = parent_frame(p, &f, &why);
		ipc_frame_reset(&f);
		if (rc != 0)
			break;
	}
	ipc_frame_free(&f);
	return rc == 1 ? NULL : why != NULL ? why : "no result";
}

/* The journal key of forwarding: the recipient as qmgr named it. */
static void
parent_resubmit_key(struct parent *p)
{
	buf_printf(&p->resubmit, "resubmit:0:%s", p->msg->rcpt);
	for (size_t i = 0; i < p->resubmit.len; i++)
		p->resubmit.data[i] =
		    (char)tolower((unsigned char)p->resubmit.data[i]);
}

/* The resolver this root parent keeps, one message after another. */
static struct {
	pid_t pid; /* 0: none */
	int sock;
	unsigned uses;
	time_t last;  /* the end of its last message */
	int have_map; /* the aliases map's file when it started: */
	dev_t map_dev;
	ino_t map_ino;
} resolver = {.sock = -1};

static void
parent_resolver_end(void)
{
	if (resolver.pid > 0)
		(void)local_kept_end(resolver.pid, resolver.sock);
	resolver.pid = 0;
	resolver.sock = -1;
}

/* 1 with the aliases map's file identity, 0 when there is none. */
static int
parent_map_id(dev_t *dev, ino_t *ino)
{
	const char *path = param_str("alias_maps");
	struct stat st;

	if (path[0] == '\0' || map_file_stat(path, &st) != 0)
		return 0;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 1;
}

/* Not idle too long, and its map is still the one at the path. */
static int
parent_resolver_fresh(void)
{
	dev_t dev = 0;
	ino_t ino = 0;
	int have = parent_map_id(&dev, &ino);

	return time(NULL) - resolver.last <
		   param_int("local_resolver_idle_time") &&
	       have == resolver.have_map &&
	       (!have || (dev == resolver.map_dev && ino == resolver.map_ino));
}

static int
parent_resolver_start(uid_t ruid, gid_t rgid)
{
	pid_t me = getpid();
	int sv[2];

	/* Before the fork: a rebuild in between only costs a restart. */
	resolver.have_map = parent_map_id(&resolver.map_dev, &resolver.map_ino);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	resolver.pid = fork();
	if (resolver.pid == 0) {
		close(sv[0]);
		local_resolver_main(sv[1], ruid, rgid, me);
	}
	close(sv[1]);
	if (resolver.pid < 0) {
		resolver.pid = 0;
		close(sv[0]);
		return -1;
	}
	resolver.sock = sv[0];
	resolver.uses = 0;
	resolver.last = time(NULL);
	return 0;
}

/* {op=resolve} and the message to the resolver; 0 when it went out. */
static int
parent_request(const struct parent *p, int forwarded)
{
	const struct local_msg *m = p->msg;
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, LOCAL_OP_RESOLVE);
	ipc_put_str(&f, LOCAL_ATTR_FORWARDED, forwarded ? "yes" : "no");
	local_msg_put(&f, m, m->rcpt, m->orig_rcpt);
	rc = ipc_send(resolver.sock, &f, m->fd, (int)param_int("ipc_timeout"));
	ipc_frame_free(&f);
	return rc;
}

/*
 * Give the message to the kept resolver, or to a new one when there is
 * none, it is stale, or the kept one left (its own idle time) before it
 * could take it; 0, or -1 with errno.
 */
static int
parent_start(struct parent *p, uid_t ruid, gid_t rgid)
{
	int forwarded = local_journal_seen(p->msg, p->resubmit.data), err;

	if (resolver.pid > 0 &&
	    (!parent_resolver_fresh() || parent_request(p, forwarded) != 0))
		parent_resolver_end();
	if (resolver.pid == 0) {
		if (parent_resolver_start(ruid, rgid) != 0)
			return -1;
		if (parent_request(p, forwarded) != 0) {
			err = errno;
			parent_resolver_end();
			errno = err;
			return -1;
		}
	}
	p->pid = resolver.pid;
	p->sock = resolver.sock;
	return 0;
}

/* Keep an honest resolver for the next message, up to its max use. */
static void
parent_resolver_release(const char *why)
{
	if (why == NULL &&
	    ++resolver.uses < (unsigned)param_int("local_resolver_max_use"))
		resolver.last = time(NULL);
	else
		parent_resolver_end();
}

/* The resolver's word, unless it claims less than what the parent saw. */
static void
parent_result(struct parent *p, const char *why, struct local_result *r)
{
	const struct local_msg *m = p->msg;

	if (why != NULL) {
		log_warn("%s: resolver pid=%ld: %s; deferring", m->queue_id,
			 (long)p->pid, why);
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "local delivery resolver failed: %s", why);
		local_log_result(m, m->rcpt, r);
		return;
	}
	*r = p->done;
	local_result_merge(r, &p->worst);
	if (r->status != p->done.status)
		log_warn("%s: resolver pid=%ld reported status=%s, but a "
			 "destination has status=%s",
			 m->queue_id, (long)p->pid,
			 local_status_name(p->done.status),
			 local_status_name(r->status));
}

void
local_parent_deliver(const struct local_msg *msg, uid_t ruid, gid_t rgid,
		     struct local_result *r)
{
	struct parent p = {.msg = msg, .sock = -1, .pid = -1};
	const char *why;

	local_job_ctx_init(&p.ctx, param_str("default_privs"),
			   param_bool("allow_mail_to_commands"),
			   param_bool("allow_mail_to_files"));
	local_result_set(&p.worst, LOCAL_SENT, "2.0.0", "delivered");
	buf_init(&p.resubmit);
	parent_resubmit_key(&p);
	if (parent_start(&p, ruid, rgid) != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot start the resolver: %s",
				 strerror(errno));
		local_log_result(msg, msg->rcpt, r);
	} else {
		why = parent_serve(&p);
		parent_resolver_release(why);
		parent_result(&p, why, r);
	}
	buf_free(&p.resubmit);
	local_job_ctx_free(&p.ctx);
}
