/*
 * local_child: every job runs in a child of local's root parent: a
 * mailbox job (and a .forward job with home_mailbox) in one kept for a
 * batch of jobs of that account (local_kept.c), any other in a child of
 * its own, made here.  The child closes all but the descriptors it needs, drops
 * to the job's user with privilege_drop_ids (never uid 0), opens what the job
 * reads (local_source.c: ~/.forward, the aliases map), confines itself with
 * Landlock, enters SANDBOX_LOCAL_CHILD, and only then reads or writes what
 * the user controls.  For a |command it forks the command first and enters
 * SANDBOX_LOCAL_COMMAND right after, so that only the command's process
 * can exec (the program runs with NO_NEW_PRIVS but no filter: it may be
 * any allowed program).
 * XXX until that fork a command child runs without its filter (as the
 * user, under Landlock) while it checks the source, splits the command
 * line and checks the program (local_command.c).
 * Landlock: a mailbox job may open files only below the home directory
 * (home_mailbox) or the mail spool, a /file job only in that file's
 * directory, a .forward job nowhere (in a kept child: where its mailbox
 * is, the home directory); a command is not confined, since the
 * programs of allowed_commands_directory write where their user may (a
 * filter's own files, /tmp, ...).  A command or file job first checks
 * that its source (the alias the resolver named, or the user's own
 * .forward) names the target: a lying resolver cannot make it run or
 * write anything else.  The child says {op=delivered} as soon as the
 * destination has the message (the parent journals it) and reports one
 * small ipc frame back over a socket pair: {status, dsn, text} and, for a
 * .forward, one "target" per item.  The parent treats that frame as hostile:
 * bounded in size and time, every field validated, a child that misbehaves
 * yields a deferral.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "landlock.h"
#include "local.h"
#include "log.h"
#include "params.h"
#include "privilege.h"
#include "sandbox.h"

#define CHILD_COMMITS_MAX 8 /* commit questions from one child */
#define CHILD_TIMEOUT 900   /* seconds for a mailbox or .forward job */

/*
 * Landlock: where this job may write.  Commands get none: the allowed
 * programs decide where they write, as their user.
 */
void
local_child_become(const struct local_user *user, int sock, gid_t extra_gid,
		   pid_t parent)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);  /* a reload must not cut a delivery short */
	signal(SIGPIPE, SIG_IGN); /* a command may stop reading its input */
	privilege_drop_ids(user->uid, user->gid, extra_gid);
	local_abort_arm(parent);
	local_commit_arm(sock);
	umask(077);
	if (chdir(user->home) != 0 && chdir("/") != 0)
		_exit(1);
}

static int
child_landlock(const struct local_job *job)
{
	struct landlock_path paths[1];
	char dir[PATH_MAX];
	const char *slash;
	size_t n = 0;

	if (job->type == JOB_COMMAND)
		return 0;
	if (job->type == JOB_MAILBOX)
		paths[n++] = (struct landlock_path){
		    param_str("home_mailbox")[0] != '\0'
			? job->user.home
			: param_str("mail_spool_directory"),
		    LANDLOCK_GRANT_WRITE};
	else if (job->type == JOB_FILE &&
		 (slash = strrchr(job->target, '/')) != NULL &&
		 (size_t)(slash - job->target) + 2 <= sizeof(dir)) {
		strlcpy(dir, job->target, (size_t)(slash - job->target) + 2);
		paths[n++] = (struct landlock_path){dir, LANDLOCK_GRANT_WRITE};
	}
	return landlock_confine(paths, n) < 0 ? -1 : 0;
}

int
local_child_landlock(const struct local_job *job, struct local_result *r)
{
	if (child_landlock(job) == 0)
		return 0;
	log_warn("delivery process for %s: Landlock: %s", job->user.name,
		 strerror(errno));
	local_result_set(r, LOCAL_DEFER, "4.3.0",
			 "cannot confine the delivery process: %s",
			 strerror(errno));
	return -1;
}

void
local_child_reply(int sock, const struct local_result *r,
		  const struct local_items *items, int late)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	local_result_put(&f, r);
	if (late)
		ipc_put_str(&f, LOCAL_ATTR_LATE, "1");
	for (size_t i = 0; items != NULL && i < items->count; i++)
		ipc_put_str(&f, LOCAL_ATTR_TARGET, local_item(items, i));
	(void)ipc_send(sock, &f, -1, 60);
	ipc_frame_free(&f);
}

/* The job whose delivery the parent still has to hear of (once). */
static const struct local_job *child_job;
/* The filter the child still has to enter; none outside a child. */
static enum sandbox_profile child_profile = SANDBOX_NONE;

void
local_child_filter(enum sandbox_profile p)
{
	child_profile = p;
}

void
local_child_confine(void)
{
	struct buf why = BUF_INIT;
	enum sandbox_profile p = child_profile;

	if (p == SANDBOX_NONE)
		return;
	child_profile = SANDBOX_NONE;
	sandbox_enter(p);
	if (sandbox_verify(p, &why) != 0) {
		log_error("delivery process: sandbox %s: %s",
			  sandbox_profile_name(p), buf_cstr(&why));
		_exit(1);
	}
	buf_free(&why);
}

void
local_child_begin(const struct local_job *job)
{
	child_job = job;
}

void
local_child_delivered(void)
{
	if (child_job == NULL)
		return;
	child_job = NULL; /* once */
	local_commit_delivered();
}

void
local_child_delivered_later(void)
{
	child_job = NULL;
}

void
local_child_work(const struct local_job *job, const struct local_msg *msg,
		 struct local_source_handle *h, struct local_result *r,
		 struct local_items *items)
{
	if (job->type == JOB_FORWARD) {
		if (h->failed)
			*r = h->r;
		else if (h->forward_fd >= 0)
			local_source_forward_read(job, h->forward_fd, r, items);
		else
			local_result_set(r, LOCAL_SENT, "2.0.0", "no .forward");
		return;
	}
	if (job->source != SOURCE_NONE && !local_source_ok(job, msg, h, r))
		return;
	if (job->type == JOB_MAILBOX)
		local_mailbox_deliver(job, msg, r);
	else if (job->type == JOB_FILE)
		local_file_deliver(job, msg, r);
	else {
		struct local_command c = {job->target, &job->user, job->rcpt,
					  job->extension};
		(void)local_command_deliver(&c, msg, r);
	}
}

static void __attribute__((noreturn))
child_main(const struct local_job *job, const struct local_msg *msg, int sock,
	   gid_t extra_gid, pid_t parent)
{
	struct local_source_handle h;
	struct local_result r;
	struct local_items items;

	local_close_fds(sock, job->type == JOB_FORWARD ? -1 : msg->fd, -1);
	local_child_begin(job);
	local_child_become(&job->user, sock, extra_gid, parent);
	local_source_open(job, &h);
	local_result_set(&r, LOCAL_DEFER, "4.3.0", "unknown job");
	if (local_child_landlock(job, &r) != 0) {
		local_child_reply(sock, &r, NULL, 0);
		_exit(0);
	}
	/* A |command child enters its filter once it forked the command. */
	child_profile = job->type == JOB_COMMAND ? SANDBOX_LOCAL_COMMAND
						 : SANDBOX_LOCAL_CHILD;
	if (job->type != JOB_COMMAND)
		local_child_confine();
	local_items_init(&items);
	local_child_work(job, msg, &h, &r, &items);
	local_child_confine(); /* no-op once a command was forked */
	if (r.status == LOCAL_SENT)
		local_child_delivered();
	local_child_reply(sock, &r, &items, 0);
	_exit(0);
}

gid_t
local_child_extra_gid(const struct local_job *job)
{
	struct stat st;

	if (job->type != JOB_MAILBOX || param_str("home_mailbox")[0] != '\0' ||
	    stat(param_str("mail_spool_directory"), &st) != 0)
		return (gid_t)-1;
	if ((st.st_mode & S_IWGRP) && !(st.st_mode & S_IWOTH) &&
	    st.st_gid != job->user.gid && st.st_gid != 0)
		return st.st_gid;
	return (gid_t)-1;
}

/* Check the child's frame and copy it out; -1 when it is malformed. */
static int
child_parse_reply(const struct ipc_frame *f, struct local_result *r,
		  struct local_items *items)
{
	if (local_result_parse(f, r) != 0)
		return -1;
	for (size_t i = 0; i < f->count; i++) {
		if (strcmp(f->attr[i].name, LOCAL_ATTR_TARGET) != 0)
			continue;
		if (items == NULL || local_items_add(items, f->attr[i].value,
						     f->attr[i].value_len) != 0)
			return -1;
	}
	return 0;
}

/* A child's question or notice: {op=NAME} and nothing else. */
static int
child_is_op(const struct ipc_frame *f, const char *name)
{
	const char *op = ipc_get_str(f, IPC_OP);

	return f->count == 1 && f->fd < 0 && op != NULL &&
	       strcmp(op, name) == 0;
}

/* Go ahead only while qmgr still waits for the answer. */
void
local_child_answer_commit(int sock, int client_fd)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	ipc_put_str(&f, LOCAL_ATTR_GO,
		    local_client_alive(client_fd) ? "yes" : "no");
	(void)ipc_send(sock, &f, -1, 10);
	ipc_frame_free(&f);
}

int
local_child_talk(int sock, const struct local_job *job,
		 const struct local_msg *msg, struct local_result *r,
		 struct local_items *items, int *late, const char **why)
{
	long long timeout = job->type == JOB_COMMAND
				? param_int("command_time_limit") + 30
				: CHILD_TIMEOUT;
	time_t until = time(NULL) + timeout;
	int rc, commits = 0, delivered = 0;
	struct ipc_frame f;

	*why = "no result";
	if (until > msg->deadline)
		until = msg->deadline;
	ipc_frame_init(&f);
	for (;;) {
		timeout = until - time(NULL);
		rc = timeout > 0 ? ipc_recv(sock, &f, (int)timeout, why) : -1;
		if (rc == -1 && timeout <= 0)
			*why = "the time for this recipient ran out";
		if (rc != 1)
			break;
		if (child_is_op(&f, LOCAL_OP_COMMIT) &&
		    ++commits <= CHILD_COMMITS_MAX)
			local_child_answer_commit(sock, msg->client_fd);
		else if (child_is_op(&f, LOCAL_OP_DELIVERED) &&
			 delivered++ == 0) {
			/* The destination has it: a retry must skip it. */
			if (job->journal_key != NULL)
				local_journal_write(job->journal_fd,
						    msg->queue_id,
						    job->journal_key);
		} else
			break;
		ipc_frame_reset(&f);
	}
	if (rc == 1 && (f.fd >= 0 || child_parse_reply(&f, r, items) != 0)) {
		rc = -1;
		*why = "malformed result";
	}
	if (late != NULL)
		*late = rc == 1 && ipc_get(&f, LOCAL_ATTR_LATE) != NULL;
	ipc_frame_free(&f);
	return rc;
}

void
local_child_failed(pid_t pid, int rc, int status, const struct local_job *job,
		   const char *why, struct local_result *r,
		   struct local_items *items)
{
	if (items != NULL)
		local_items_reset(items);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		why = "killed by seccomp (SIGSYS; the kernel's audit record "
		      "names the call)";
	else if (rc == 0)
		why = "exited early";
	log_warn("delivery process pid=%ld user=%s: %s (wait status %d)",
		 (long)pid, job->user.name, why, status);
	local_result_set(r, LOCAL_DEFER, "4.3.0",
			 "delivery process for %s failed: %s", job->user.name,
			 rc == 0 ? "exited without a result" : why);
}

/*
 * Answer the child's commit questions and journal its delivery, then
 * take its one result frame; kill it when it is late or sends anything
 * else.
 */
static int
child_collect(pid_t pid, int sock, const struct local_job *job,
	      const struct local_msg *msg, struct local_result *r,
	      struct local_items *items)
{
	const char *why;
	int rc = local_child_talk(sock, job, msg, r, items, NULL, &why);
	int status = 0;

	if (rc != 1)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 1)
		return 0;
	local_child_failed(pid, rc, status, job, why, r, items);
	return -1;
}

int
local_child_run(const struct local_job *job, const struct local_msg *msg,
		struct local_result *r, struct local_items *items)
{
	gid_t extra_gid = local_child_extra_gid(job);
	int sv[2], rc;
	pid_t pid, parent;

	if (time(NULL) >= msg->deadline) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "time for this recipient ran out");
		return -1;
	}
	if (job->user.uid == 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "refusing to deliver as uid 0");
		return -1;
	}
	if (local_kept_serves(job))
		return local_kept_run(job, msg, r, items);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0", "socketpair: %s",
				 strerror(errno));
		return -1;
	}
	parent = getpid();
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child_main(job, msg, sv[1], extra_gid, parent);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		local_result_set(r, LOCAL_DEFER, "4.3.0", "fork: %s",
				 strerror(errno));
		return -1;
	}
	rc = child_collect(pid, sv[0], job, msg, r, items);
	close(sv[0]);
	return rc;
}
