/*
 * local_child: every delivery runs in a child of local's root parent.  The
 * child closes all but the descriptors it needs, drops to the job's user
 * with privilege_drop_ids (never uid 0), enters SANDBOX_LOCAL_CHILD, and
 * only then touches what the user controls: the mailbox, ~/.forward.  For
 * a |command it forks the command first and enters SANDBOX_LOCAL_COMMAND
 * right after, so that only the command's process can exec (the program
 * runs with NO_NEW_PRIVS but no filter: it may be any allowed program).
 * XXX until that fork the child runs unfiltered (as the user) while it
 * splits the command line and checks the program (local_command.c).
 * It reports one small ipc frame back over a socket pair:
 * {status, dsn, text} and, for a .forward, one "target" per item.  The
 * parent treats that frame as hostile: bounded in size and time, every
 * field validated, a child that misbehaves yields a deferral.
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
#include "local.h"
#include "log.h"
#include "params.h"
#include "privilege.h"
#include "safe_open.h"
#include "sandbox.h"

#define CHILD_COMMITS_MAX 8 /* commit questions from one child */
#define CHILD_TIMEOUT 900   /* seconds for a mailbox or .forward job */

/* Close every descriptor from 3 up except the (at most three) kept ones. */
static void
child_close_fds(int keep1, int keep2, int keep3)
{
	int keep[3] = {keep1, keep2, keep3}, t;
	unsigned from = 3;
	size_t i, j;

	for (i = 0; i < 3; i++) /* sort the three */
		for (j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (i = 0; i < 3; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned)keep[i] > from)
			(void)close_range(from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	(void)close_range(from, ~0U, 0);
}

/* Read ~/.forward as its owner; items filled, r sent when all is well. */
static void
child_forward(const struct local_job *job, struct local_result *r,
	      struct local_items *items)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	char chunk[4096];
	struct stat st;
	const char *err;
	ssize_t n;
	int homefd, fd;

	local_result_set(r, LOCAL_SENT, "2.0.0", "no .forward");
	homefd = open(job->user.home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (homefd < 0 ||
	    fstatat(homefd, ".forward", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (homefd >= 0)
			close(homefd);
		return;
	}
	fd = safe_open(homefd, ".forward", O_RDONLY, 0, job->user.uid,
		       SAFE_NOT_GROUP_WRITABLE, &st, &why);
	close(homefd);
	if (fd < 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "~%s/.forward is not safe to use: it %s",
				 job->user.name, buf_cstr(&why));
		buf_free(&why);
		return;
	}
	while (text.len <= LOCAL_FORWARD_MAX &&
	       (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&text, chunk, (size_t)n);
	close(fd);
	if (text.len > LOCAL_FORWARD_MAX)
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "~%s/.forward is larger than %d bytes",
				 job->user.name, LOCAL_FORWARD_MAX);
	else if (local_targets_split(text.data ? text.data : "", text.len,
				     items, &err) != 0)
		local_result_set(r, LOCAL_BOUNCE, "5.3.0", "~%s/.forward: %s",
				 job->user.name, err);
	buf_free(&text);
	buf_free(&why);
}

static void
child_reply(int sock, const struct local_result *r,
	    const struct local_items *items)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_STATUS, local_status_name(r->status));
	ipc_put_str(&f, IPC_DSN, r->dsn);
	ipc_put_str(&f, IPC_TEXT, r->text);
	for (size_t i = 0; items != NULL && i < items->count; i++)
		ipc_put_str(&f, LOCAL_ATTR_TARGET, local_item(items, i));
	(void)ipc_send(sock, &f, -1, 60);
	ipc_frame_free(&f);
}

/* What the child journals once its destination has the message. */
static const struct local_job *child_job;
static const struct local_msg *child_msg;
/* The filter the child still has to enter; none outside a child. */
static enum sandbox_profile child_profile = SANDBOX_NONE;

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
local_child_delivered(void)
{
	if (child_job == NULL || child_job->journal_key == NULL)
		return;
	local_journal_write(child_job->journal_fd, child_msg,
			    child_job->journal_key);
	child_job = NULL; /* once */
}

static void __attribute__((noreturn))
child_main(const struct local_job *job, const struct local_msg *msg, int sock,
	   gid_t extra_gid, pid_t parent)
{
	struct local_result r;
	struct local_items items;

	child_close_fds(sock, job->type == JOB_FORWARD ? -1 : msg->fd,
			job->journal_fd);
	child_job = job;
	child_msg = msg;
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);  /* a reload must not cut a delivery short */
	signal(SIGPIPE, SIG_IGN); /* a command may stop reading its input */
	privilege_drop_ids(job->user.uid, job->user.gid, extra_gid);
	local_abort_arm(parent);
	local_commit_arm(sock);
	umask(077);
	if (chdir(job->user.home) != 0 && chdir("/") != 0)
		_exit(1);
	child_profile = job->type == JOB_COMMAND ? SANDBOX_LOCAL_COMMAND
						 : SANDBOX_LOCAL_CHILD;
	if (job->type != JOB_COMMAND)
		local_child_confine();
	local_items_init(&items);
	local_result_set(&r, LOCAL_DEFER, "4.3.0", "unknown job");
	if (job->type == JOB_MAILBOX)
		local_mailbox_deliver(job, msg, &r);
	else if (job->type == JOB_FILE)
		local_file_deliver(job, msg, &r);
	else if (job->type == JOB_FORWARD)
		child_forward(job, &r, &items);
	else {
		struct local_command c = {job->target, &job->user, job->rcpt,
					  job->extension};
		(void)local_command_deliver(&c, msg, &r);
		local_child_confine(); /* no-op once a command was forked */
	}
	if (r.status == LOCAL_SENT)
		local_child_delivered();
	child_reply(sock, &r, &items);
	_exit(0);
}

/* The group of a group-writable mail spool, for mbox jobs there. */
static gid_t
child_extra_gid(const struct local_job *job)
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
	const char *status = ipc_get_str(f, IPC_STATUS);
	const char *dsn = ipc_get_str(f, IPC_DSN);
	const char *text = ipc_get_str(f, IPC_TEXT);
	enum local_status st;

	if (status == NULL || dsn == NULL || text == NULL ||
	    local_status_parse(status, &st) != 0 ||
	    strlen(dsn) >= sizeof(r->dsn) || !local_dsn_valid(dsn, st) ||
	    strlen(text) >= sizeof(r->text))
		return -1;
	local_result_set(r, st, dsn, "%s", text);
	for (size_t i = 0; i < f->count; i++) {
		if (strcmp(f->attr[i].name, LOCAL_ATTR_TARGET) != 0)
			continue;
		if (items == NULL || local_items_add(items, f->attr[i].value,
						     f->attr[i].value_len) != 0)
			return -1;
	}
	return 0;
}

/* A child's question: {op=commit} and nothing else. */
static int
child_is_commit(const struct ipc_frame *f)
{
	const char *op = ipc_get_str(f, IPC_OP);

	return f->count == 1 && f->fd < 0 && op != NULL &&
	       strcmp(op, LOCAL_OP_COMMIT) == 0;
}

/* Go ahead only while qmgr still waits for the answer. */
static void
child_answer_commit(int sock, int client_fd)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	ipc_put_str(&f, LOCAL_ATTR_GO,
		    local_client_alive(client_fd) ? "yes" : "no");
	(void)ipc_send(sock, &f, -1, 10);
	ipc_frame_free(&f);
}

/*
 * Answer the child's commit questions, then take its one result frame;
 * kill it when it is late or sends anything else.
 */
static int
child_collect(pid_t pid, int sock, const struct local_job *job,
	      time_t msg_deadline, int client_fd, struct local_result *r,
	      struct local_items *items)
{
	long long timeout = job->type == JOB_COMMAND
				? param_int("command_time_limit") + 30
				: CHILD_TIMEOUT;
	time_t until = time(NULL) + timeout;
	const char *why = "no result";
	int rc, status = 0, commits = 0;
	struct ipc_frame f;

	if (until > msg_deadline)
		until = msg_deadline;
	ipc_frame_init(&f);
	for (;;) {
		timeout = until - time(NULL);
		rc = timeout > 0 ? ipc_recv(sock, &f, (int)timeout, &why) : -1;
		if (rc == -1 && timeout <= 0)
			why = "the time for this recipient ran out";
		if (rc != 1 || !child_is_commit(&f) ||
		    ++commits > CHILD_COMMITS_MAX)
			break;
		child_answer_commit(sock, client_fd);
		ipc_frame_reset(&f);
	}
	if (rc == 1 && (f.fd >= 0 || child_parse_reply(&f, r, items) != 0)) {
		rc = -1;
		why = "malformed result";
	}
	if (rc != 1)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ipc_frame_free(&f);
	if (rc == 1)
		return 0;
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
	return -1;
}

int
local_child_run(const struct local_job *job, const struct local_msg *msg,
		struct local_result *r, struct local_items *items)
{
	gid_t extra_gid = child_extra_gid(job);
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
	rc = child_collect(pid, sv[0], job, msg->deadline, msg->client_fd, r,
			   items);
	close(sv[0]);
	return rc;
}
