/*
 * local_kept: delivery children kept for a batch of mailbox deliveries,
 * so that a message costs no fork, no privilege drop and no seccomp
 * filter load.  The root parent keeps at most KEPT_MAX of them, one per
 * account (uid, gid, name, home, extra group): it forks one the first
 * time a mailbox job for that account comes, exactly as for a one-shot
 * child (local_child.c: close every other descriptor, privilege_drop_ids
 * to the user, never uid 0, the death signal, chdir home, Landlock for
 * the mailbox, SANDBOX_LOCAL_CHILD), and from then on sends it each job
 * as one frame with qmgr's read-only descriptor of the message.  A kept
 * child runs only what its confinement was made for: mailbox jobs, and
 * .forward jobs when home_mailbox puts the mailbox (and so its Landlock
 * grant) in the home directory; there it opens ~/.forward itself with
 * safe_open (no link, owned by the user, not group-writable), as the
 * one-shot child does.  The same commit question, the same {op=delivered}
 * notice that the parent journals, the same result frame; a child that
 * dies, lies or runs late is killed and the job deferred, as before.
 * The parent retires a child after local_child_max_use jobs or when it
 * finds it idle for local_child_idle_time; the child itself leaves a few
 * seconds after that (so it never leaves while the parent may still send
 * it a job), and when the parent dies.
 * Batches (local.c): while the parent delivers several messages of
 * one request it sends mailbox jobs with group=1, and the child leaves a
 * Maildir file in tmp/ with its writeback started (its answer says
 * late=1: the parent notes the message's journal key) and new/'s fsync
 * for later (local_maildir.c); before the parent answers qmgr for any
 * message of the batch it sends {op=sync} to each child that delivered
 * in it, which fsyncs its late files, asks the commit question once,
 * renames each into new/ and names it ({op=delivered, index}: the parent
 * journals the key it noted, never one the child names, and answers
 * before the child renames the next one), fsyncs the
 * directories and answers {status, dsn, text}.  A child that fails that,
 * or dies or is retired while a sync is owed, makes every message it
 * delivered unsynced in this batch deferred (those renamed are
 * journalled: the retry records them without a second copy).  Hostile:
 * in the parent, the child's frames (local_child_talk, kept_sync); in the
 * child, nothing new: the job frame comes from root, and is still
 * checked.  Runs in local's root parent and in the kept children (the
 * user's uid).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "local.h"
#include "log.h"
#include "params.h"

#define KEPT_MAX 8 /* kept children of one root parent */

/* A late file of the batch: what to journal when the child renames it. */
struct kept_late {
	char *queue_id;
	char *key; /* the journal key, or NULL */
	int told;  /* {op=delivered} came for it */
};

struct kept {
	pid_t pid; /* 0: a free slot */
	int sock;
	struct local_user user;
	gid_t extra_gid;
	unsigned uses;
	time_t last; /* the end of its last job */
	int owed;    /* delivered in group mode since its last sync */
	struct kept_late late[LOCAL_LATE_MAX]; /* in the child's order */
	size_t nlate;
	int client_fd; /* qmgr's connection of the batch, for the commit */
};

static struct kept kept_pool[KEPT_MAX];
/*
 * A batch: group mode on; the slots whose child delivered for the
 * current message (without a sync yet), and those whose owed sync was
 * done, or failed, since the caller last asked.
 */
static int kept_group;
static unsigned kept_deps, kept_synced, kept_failed;

static int
kept_home_mailbox(void)
{
	return param_str("home_mailbox")[0] != '\0';
}

int
local_kept_serves(const struct local_job *job)
{
	return job->type == JOB_MAILBOX ||
	       (job->type == JOB_FORWARD && kept_home_mailbox());
}

/* --- the kept child ---------------------------------------------------- */

/* A job frame from the parent into job and msg (pointing into f); 0/-1. */
static int
kept_job_parse(const struct ipc_frame *f, struct local_job *job,
	       struct local_msg *msg)
{
	const char *op = ipc_get_str(f, IPC_OP);
	const char *type = ipc_get_str(f, LOCAL_ATTR_JOB);

	if (op == NULL || strcmp(op, LOCAL_OP_JOB) != 0 || type == NULL ||
	    local_msg_take(f, msg) != 0)
		return -1;
	local_maildir_group(ipc_get(f, LOCAL_ATTR_GROUP) != NULL);
	if (strcmp(type, "mailbox") == 0)
		job->type = JOB_MAILBOX;
	else if (strcmp(type, "forward") == 0 && kept_home_mailbox())
		job->type = JOB_FORWARD;
	else
		return -1;
	job->rcpt = msg->rcpt;
	return 0;
}

/* One job, confined already (or not: then failed says why). */
static void
kept_job_run(int sock, const struct local_job *job, const struct local_msg *msg,
	     const struct local_result *failed)
{
	struct local_source_handle h;
	struct local_result r;
	struct local_items items;

	size_t late_before = local_maildir_late_count();
	int late;

	local_items_init(&items);
	local_child_begin(job);
	if (failed != NULL)
		r = *failed;
	else {
		local_source_open(job, &h);
		local_child_work(job, msg, &h, &r, &items);
		if (h.forward_fd >= 0)
			close(h.forward_fd);
	}
	late = local_maildir_late_count() > late_before;
	if (late)
		local_child_delivered_later(); /* at the sync, when renamed */
	else if (r.status == LOCAL_SENT)
		local_child_delivered();
	local_child_reply(sock, &r, &items, late);
	local_items_free(&items);
}

/* {op=sync} and nothing else. */
static int
kept_is_sync(const struct ipc_frame *f)
{
	const char *op = ipc_get_str(f, IPC_OP);

	return f->count == 1 && f->fd < 0 && op != NULL &&
	       strcmp(op, LOCAL_OP_SYNC) == 0;
}

static void __attribute__((noreturn))
kept_main(const struct local_job *base, int sock, gid_t extra_gid, pid_t parent)
{
	int idle = (int)param_int("local_child_idle_time") + LOCAL_KEPT_GRACE;
	struct local_result failed, synced, *fail = NULL;
	struct local_job job;
	struct local_msg msg;
	struct ipc_frame f;
	const char *why;

	local_close_fds(sock, -1, -1);
	local_child_become(&base->user, sock, extra_gid, parent);
	if (local_child_landlock(base, &failed) != 0)
		fail = &failed;
	local_child_filter(SANDBOX_LOCAL_CHILD);
	local_child_confine();
	ipc_frame_init(&f);
	while (!local_aborted() && ipc_recv(sock, &f, idle, &why) == 1) {
		if (kept_is_sync(&f)) {
			(void)local_maildir_sync(&synced);
			local_child_reply(sock, &synced, NULL, 0);
			ipc_frame_reset(&f);
			continue;
		}
		job = *base;
		if (kept_job_parse(&f, &job, &msg) != 0)
			_exit(1); /* the parent defers the job */
		kept_job_run(sock, &job, &msg, fail);
		ipc_frame_reset(&f); /* closes the message's descriptor */
	}
	_exit(0);
}

/* --- the parent's side -------------------------------------------------- */

int
local_kept_end(pid_t pid, int sock)
{
	int status = 0;

	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(sock);
	return status;
}

static unsigned
kept_bit(const struct kept *k)
{
	return 1U << (unsigned)(k - kept_pool);
}

static void
kept_late_clear(struct kept *k)
{
	for (size_t i = 0; i < k->nlate; i++) {
		free(k->late[i].queue_id);
		free(k->late[i].key);
	}
	k->nlate = 0;
}

/* {op=delivered, index} at a sync: journal that late file, once. */
static void
kept_late_told(struct kept *k, const struct ipc_frame *f)
{
	long long i;
	struct kept_late *l;

	if (ipc_get_int(f, LOCAL_ATTR_INDEX, 0, (long long)k->nlate - 1, &i) !=
		0 ||
	    k->late[i].told)
		return;
	l = &k->late[i];
	l->told = 1;
	if (l->key != NULL)
		local_journal_add(l->queue_id, l->key);
}

/* The slot's deliveries since its last sync are deferred. */
static void
kept_sync_failed(struct kept *k, const char *why)
{
	log_warn("delivery process pid=%ld user=%s: the batch's directory "
		 "sync failed: %s; deferring what it delivered in the batch",
		 (long)k->pid, k->user.name, why);
	kept_failed |= kept_bit(k);
	k->owed = 0;
}

/*
 * {op=sync} to k's child and its answer: before it, the child may ask its
 * commit question (answered from qmgr's connection) and tell which late
 * files it renamed (each journalled, then answered as a commit question
 * for the next); a failure is noted for the batch, and a
 * child that does not answer properly is ended.
 */
static void
kept_sync(struct kept *k)
{
	int timeout = (int)param_int("ipc_timeout"), rc;
	const char *why = "cannot send the request", *op;
	size_t frames = 0;
	struct local_result r;
	struct ipc_frame f;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, LOCAL_OP_SYNC);
	rc = ipc_send(k->sock, &f, -1, timeout);
	ipc_frame_free(&f);
	ipc_frame_init(&f);
	while (rc == 0 || rc == 1) {
		if ((rc = ipc_recv(k->sock, &f, timeout, &why)) != 1)
			break;
		op = f.fd < 0 ? ipc_get_str(&f, IPC_OP) : NULL;
		if (op == NULL || ++frames > k->nlate + 1)
			break;
		if (strcmp(op, LOCAL_OP_COMMIT) == 0)
			local_child_answer_commit(k->sock, k->client_fd);
		else if (strcmp(op, LOCAL_OP_DELIVERED) == 0) {
			kept_late_told(k, &f);
			local_child_answer_commit(k->sock, k->client_fd);
		} else
			break;
		ipc_frame_reset(&f);
	}
	if (rc == 1 && (f.fd >= 0 || local_result_parse(&f, &r) != 0)) {
		rc = -1;
		why = "malformed answer";
	}
	ipc_frame_free(&f);
	if (rc != 1) {
		kept_sync_failed(k, rc == 0 ? "it exited" : why);
		(void)local_kept_end(k->pid, k->sock);
		k->pid = 0;
		k->sock = -1;
	} else if (r.status != LOCAL_SENT)
		kept_sync_failed(k, r.text);
	else
		kept_synced |= kept_bit(k);
	k->owed = 0;
	kept_late_clear(k);
}

static void
kept_retire(struct kept *k)
{
	if (k->owed)
		kept_sync(k);
	if (k->pid > 0)
		(void)local_kept_end(k->pid, k->sock);
	k->pid = 0;
	k->sock = -1;
	kept_late_clear(k);
}

void
local_kept_group_begin(void)
{
	kept_group = 1;
	kept_deps = kept_synced = kept_failed = 0;
}

void
local_kept_group_take(unsigned *deps, unsigned *synced, unsigned *failed)
{
	*deps = kept_deps;
	*synced = kept_synced;
	*failed = kept_failed;
	kept_deps = kept_synced = kept_failed = 0;
}

void
local_kept_group_end(void)
{
	for (size_t i = 0; i < KEPT_MAX; i++)
		if (kept_pool[i].pid > 0 && kept_pool[i].owed)
			kept_sync(&kept_pool[i]);
	kept_group = 0;
}

/* Retire the children idle too long. */
static void
kept_sweep(void)
{
	time_t now = time(NULL);
	long long idle = param_int("local_child_idle_time");

	for (size_t i = 0; i < KEPT_MAX; i++)
		if (kept_pool[i].pid > 0 && now - kept_pool[i].last >= idle)
			kept_retire(&kept_pool[i]);
}

static int
kept_same(const struct kept *k, const struct local_user *u, gid_t extra_gid)
{
	return k->pid > 0 && k->user.uid == u->uid && k->user.gid == u->gid &&
	       k->extra_gid == extra_gid &&
	       strcmp(k->user.name, u->name) == 0 &&
	       strcmp(k->user.home, u->home) == 0;
}

/* A new child for job's account in slot k; 0, or -1 with errno. */
static int
kept_start(struct kept *k, const struct local_job *job, gid_t extra_gid)
{
	struct local_job base = {.type = JOB_MAILBOX,
				 .user = job->user,
				 .source = SOURCE_NONE,
				 .journal_fd = -1};
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	k->pid = fork();
	if (k->pid == 0) {
		close(sv[0]);
		kept_main(&base, sv[1], extra_gid, parent);
	}
	close(sv[1]);
	if (k->pid < 0) {
		k->pid = 0;
		close(sv[0]);
		return -1;
	}
	k->sock = sv[0];
	k->user = job->user;
	k->extra_gid = extra_gid;
	k->uses = 0;
	k->last = time(NULL);
	return 0;
}

/* The kept child for job's account, started when there is none. */
static struct kept *
kept_find(const struct local_job *job, gid_t extra_gid, int *fresh)
{
	struct kept *k = NULL, *free_slot = NULL, *oldest = NULL;

	kept_sweep();
	for (size_t i = 0; i < KEPT_MAX; i++) {
		struct kept *c = &kept_pool[i];
		if (kept_same(c, &job->user, extra_gid))
			k = c;
		else if (c->pid == 0 && free_slot == NULL)
			free_slot = c;
		else if (c->pid > 0 &&
			 (oldest == NULL || c->last < oldest->last))
			oldest = c;
	}
	*fresh = k == NULL;
	if (k != NULL)
		return k;
	k = free_slot != NULL ? free_slot : oldest;
	if (k->pid > 0)
		kept_retire(k);
	return kept_start(k, job, extra_gid) == 0 ? k : NULL;
}

static void
kept_put_job(struct ipc_frame *f, const struct local_job *job,
	     const struct local_msg *msg)
{
	ipc_put_str(f, IPC_OP, LOCAL_OP_JOB);
	ipc_put_str(f, LOCAL_ATTR_JOB,
		    job->type == JOB_FORWARD ? "forward" : "mailbox");
	local_msg_put(f, msg, job->rcpt, job->rcpt);
	if (kept_group && job->type == JOB_MAILBOX)
		ipc_put_str(f, LOCAL_ATTR_GROUP, "1");
}

/*
 * Hand the job to k; 0 when the frame went out.  A child that left (its
 * own idle time, a crash) before the frame could be sent never saw it.
 */
static int
kept_send(struct kept *k, const struct local_job *job,
	  const struct local_msg *msg)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	kept_put_job(&f, job, msg);
	rc = ipc_send(k->sock, &f, msg->fd, (int)param_int("ipc_timeout"));
	ipc_frame_free(&f);
	return rc;
}

int
local_kept_run(const struct local_job *job, const struct local_msg *msg,
	       struct local_result *r, struct local_items *items)
{
	gid_t extra_gid = local_child_extra_gid(job);
	struct kept *k;
	const char *why;
	int fresh, rc, err, status, late = 0;

	k = kept_find(job, extra_gid, &fresh);
	if (k != NULL && kept_send(k, job, msg) != 0) {
		/* It never saw the job; a kept one may just have left. */
		kept_retire(k);
		k = fresh ? NULL : kept_find(job, extra_gid, &fresh);
		if (k != NULL && kept_send(k, job, msg) != 0) {
			kept_retire(k);
			k = NULL;
		}
	}
	if (k == NULL) {
		err = errno;
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "cannot start the delivery process: %s",
				 strerror(err));
		return -1;
	}
	rc = local_child_talk(k->sock, job, msg, r, items, &late, &why);
	if (rc == 1 && late &&
	    (!kept_group || job->type != JOB_MAILBOX ||
	     r->status != LOCAL_SENT || k->nlate == LOCAL_LATE_MAX)) {
		rc = -1; /* a late file outside a batch: a lie */
		why = "a file left for a sync that was not asked for";
	}
	if (rc == 1) {
		k->last = time(NULL);
		if (kept_group && job->type == JOB_MAILBOX &&
		    r->status == LOCAL_SENT) {
			k->owed = 1;
			kept_deps |= kept_bit(k);
		}
		if (late) {
			k->late[k->nlate].queue_id = xstrdup(msg->queue_id);
			k->late[k->nlate].key = job->journal_key != NULL
						    ? xstrdup(job->journal_key)
						    : NULL;
			k->late[k->nlate++].told = 0;
			k->client_fd = msg->client_fd;
		}
		if (++k->uses >= (unsigned)param_int("local_child_max_use"))
			kept_retire(k);
		return 0;
	}
	if (k->owed)
		kept_sync_failed(k, "it failed before the sync");
	status = local_kept_end(k->pid, k->sock);
	local_child_failed(k->pid, rc, status, job, why, r, items);
	k->pid = 0;
	k->sock = -1;
	kept_late_clear(k);
	return -1;
}
