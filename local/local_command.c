/*
 * local_command: delivery to a |command from an alias or a .forward.  The
 * program must be a root-owned file directly inside the root-owned
 * allowed_commands_directory (the smrsh idea, built in); the command line
 * is split into words without a shell and run with execve, a clean
 * environment, the message on stdin, stdout and stderr captured up to
 * command_output_limit, and SIGKILL to its process group after
 * command_time_limit.  Hostile: the command line (a user's .forward), the
 * program's output and its exit status.  Runs in local's delivery child,
 * already running as the user (or default_privs for aliases), never root;
 * the child enters its seccomp filter right after the fork, so the
 * command's process is the only one that can exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
#include "params.h"

#define COMMAND_EX_TEMPFAIL 75 /* sysexits.h: try again later */
#define COMMAND_ENV_MAX 16

static int
command_has_dotdot(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == path || p[-1] == '/') &&
		    (p[2] == '/' || p[2] == '\0'))
			return 1;
		p += 2;
	}
	return 0;
}

/* The allowed directory's real path, if it is root's alone. */
static int
command_dir(const char *dir, char *real, struct buf *why)
{
	struct stat st;

	if (dir[0] != '/' || realpath(dir, real) == NULL) {
		buf_printf(why, "allowed_commands_directory %s: %s", dir,
			   dir[0] != '/' ? "not set" : strerror(errno));
		return -2;
	}
	if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		buf_printf(why,
			   "allowed_commands_directory %s is not a directory "
			   "that only root can write",
			   dir);
		return -2;
	}
	return 0;
}

int
local_command_allowed(const char *program, const char *dir, char *resolved,
		      size_t size, struct buf *why)
{
	char realdir[PATH_MAX], path[PATH_MAX], real[PATH_MAX], *slash;
	struct stat st;
	int rc;

	if ((rc = command_dir(dir, realdir, why)) != 0)
		return rc;
	if (strchr(program, '/') == NULL && strcmp(program, ".") != 0 &&
	    strcmp(program, "..") != 0)
		rc = snprintf(path, sizeof(path), "%s/%s", realdir, program);
	else if (program[0] == '/' && !command_has_dotdot(program))
		rc = snprintf(path, sizeof(path), "%s", program);
	else
		rc = -1;
	if (rc < 0 || (size_t)rc >= sizeof(path) ||
	    realpath(path, real) == NULL ||
	    (slash = strrchr(real, '/')) == NULL ||
	    (size_t)(slash - real) != strlen(realdir) ||
	    strncmp(real, realdir, (size_t)(slash - real)) != 0) {
		buf_printf(why, "%s is not in allowed_commands_directory",
			   program);
		return -1;
	}
	if (stat(real, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) || !(st.st_mode & 0111)) {
		buf_printf(why,
			   "%s is not an executable file that only root can "
			   "write",
			   real);
		return -1;
	}
	if (strlcpy(resolved, real, size) >= size) {
		buf_printf(why, "%s: path too long", real);
		return -1;
	}
	return 0;
}

/* "NAME=value" strings for execve; the array holds buf-owned strings. */
static void
command_env(const struct local_command *c, const struct local_msg *msg,
	    struct buf *store, char **envp)
{
	const char *at = strrchr(c->rcpt, '@');
	size_t llen = at != NULL ? (size_t)(at - c->rcpt) : strlen(c->rcpt);
	size_t offs[COMMAND_ENV_MAX], n = 0;

#define ENV_ADD(...)                                                           \
	do {                                                                   \
		offs[n++] = store->len;                                        \
		buf_printf(store, __VA_ARGS__);                                \
		buf_append_char(store, '\0');                                  \
	} while (0)
	ENV_ADD("HOME=%s", c->user->home);
	ENV_ADD("USER=%s", c->user->name);
	ENV_ADD("LOGNAME=%s", c->user->name);
	ENV_ADD("PATH=/usr/bin:/bin");
	ENV_ADD("SENDER=%s", msg->sender);
	ENV_ADD("RECIPIENT=%s", c->rcpt);
	ENV_ADD("ORIGINAL_RECIPIENT=%s", msg->orig_rcpt);
	ENV_ADD("LOCAL=%.*s", (int)llen, c->rcpt);
	ENV_ADD("DOMAIN=%s", at != NULL ? at + 1 : "");
	ENV_ADD("EXTENSION=%s", c->extension);
#undef ENV_ADD
	for (size_t i = 0; i < n; i++)
		envp[i] = store->data + offs[i];
	envp[n] = NULL;
}

/* In the command's process: never returns. */
static void __attribute__((noreturn))
command_exec(const char *path, char **argv, char **envp, int in, int out)
{
	sigset_t none;

	(void)setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(COMMAND_EX_TEMPFAIL);
	(void)close_range(3, ~0U, 0);
	execve(path, argv, envp);
	dprintf(2, "cannot execute: %s", strerror(errno));
	_exit(126);
}

/* The state of feeding stdin and collecting output. */
struct command_io {
	int in, out;        /* our ends; -1 when closed */
	struct buf pending; /* bytes not yet written to in */
	off_t done;         /* message bytes read so far */
	const struct local_msg *msg;
	struct buf output; /* captured, up to limit */
	size_t limit;
};

static void
command_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Write what stdin can take now; refill from the message. */
static void
command_feed(struct command_io *io)
{
	char chunk[LOCAL_CHUNK];
	ssize_t n;

	if (io->pending.len == 0 && io->done < io->msg->length) {
		size_t want = io->msg->length - io->done < (off_t)sizeof(chunk)
				  ? (size_t)(io->msg->length - io->done)
				  : sizeof(chunk);
		n = pread(io->msg->fd, chunk, want, io->msg->offset + io->done);
		if (n <= 0) {
			command_close(&io->in);
			return;
		}
		buf_append(&io->pending, chunk, (size_t)n);
		io->done += n;
	}
	if (io->pending.len == 0) {
		command_close(&io->in);
		return;
	}
	n = write(io->in, io->pending.data, io->pending.len);
	if (n > 0)
		buf_consume(&io->pending, (size_t)n);
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		command_close(&io->in); /* EPIPE: the command stopped reading */
}

/* Read what output is there; 0 at end of file. */
static int
command_drain(struct command_io *io)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(io->out, chunk, sizeof(chunk))) > 0) {
		size_t room = io->limit - io->output.len;
		buf_append(&io->output, chunk,
			   (size_t)n < room ? (size_t)n : room);
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		command_close(&io->out);
		return 0;
	}
	return 1;
}

/* Run the I/O until the command exits or time runs out; -1 on timeout. */
static int
command_wait(pid_t pid, struct command_io *io, time_t deadline, int *status)
{
	struct pollfd pfd[2];
	nfds_t n;

	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid) {
			if (io->out >= 0)
				(void)command_drain(io);
			return 0;
		}
		if (time(NULL) >= deadline || local_aborted())
			return -1;
		n = 0;
		if (io->in >= 0)
			pfd[n++] = (struct pollfd){io->in, POLLOUT, 0};
		if (io->out >= 0)
			pfd[n++] = (struct pollfd){io->out, POLLIN, 0};
		if (poll(pfd, n, 200) <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == io->in)
				command_feed(io);
			else
				(void)command_drain(io);
		}
	}
}

static void
command_result(const char *path, int status, struct command_io *io,
	       struct local_result *r)
{
	char *out;

	buf_append_char(&io->output, '\0');
	out = io->output.data;
	local_text_clean(out);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		local_result_set(r, LOCAL_SENT, "2.0.0",
				 "delivered to command: %s", path);
	else if (WIFEXITED(status))
		local_result_set(
		    r,
		    WEXITSTATUS(status) == COMMAND_EX_TEMPFAIL ? LOCAL_DEFER
							       : LOCAL_BOUNCE,
		    WEXITSTATUS(status) == COMMAND_EX_TEMPFAIL ? "4.3.0"
							       : "5.3.0",
		    "command %s exit %d: %s", path, WEXITSTATUS(status), out);
	else
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "command %s killed by signal %d: %s", path,
				 WTERMSIG(status), out);
}

/* Fork the program and talk to it; 0 or -1 with r set. */
static int
command_run(const char *path, char **argv, char **envp, const char *rcpt,
	    const struct local_msg *msg, struct local_result *r)
{
	int in[2], out[2], status = 0, rc;
	long long limit = param_int("command_time_limit");
	struct command_io io = {
	    .msg = msg, .limit = (size_t)param_int("command_output_limit")};
	pid_t pid;

	if (!local_commit_ok())
		return local_abort_result(r);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0", "pipe: %s",
				 strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0", "fork: %s",
				 strerror(errno));
		return -1;
	}
	if (pid == 0)
		command_exec(path, argv, envp, in[0], out[1]);
	(void)setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	io.in = in[1];
	io.out = out[0];
	fcntl(io.in, F_SETFL, O_NONBLOCK);
	fcntl(io.out, F_SETFL, O_NONBLOCK);
	/* From here on this process can no longer exec; the command can. */
	local_child_confine();
	local_msg_prefix(&io.pending, msg->sender, rcpt);
	if (limit > msg->deadline - 5 - time(NULL))
		limit = msg->deadline - 5 - time(NULL);
	rc = command_wait(pid, &io, time(NULL) + limit, &status);
	if (rc != 0) {
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		if (local_aborted())
			(void)local_abort_result(r);
		else
			local_result_set(r, LOCAL_DEFER, "4.3.0",
					 "command %s killed: time limit of "
					 "%lld seconds exceeded",
					 path, limit);
	} else
		command_result(path, status, &io, r);
	command_close(&io.in);
	command_close(&io.out);
	buf_free(&io.pending);
	buf_free(&io.output);
	return r->status == LOCAL_SENT ? 0 : -1;
}

int
local_command_deliver(const struct local_command *c,
		      const struct local_msg *msg, struct local_result *r)
{
	struct local_argv *av = xmalloc(sizeof(*av));
	char path[PATH_MAX], *envp[COMMAND_ENV_MAX + 1];
	struct buf why = BUF_INIT, env = BUF_INIT;
	const char *err;
	int rc = -1;

	if (local_command_split(c->line, strlen(c->line), av, &err) != 0)
		local_result_set(r, LOCAL_BOUNCE, "5.3.0",
				 "bad command \"%s\": %s", c->line, err);
	else if ((rc = local_command_allowed(
		      av->argv[0], param_str("allowed_commands_directory"),
		      path, sizeof(path), &why)) != 0)
		local_result_set(r, rc == -2 ? LOCAL_DEFER : LOCAL_BOUNCE,
				 rc == -2 ? "4.3.0" : "5.7.1",
				 "command not allowed: %s", buf_cstr(&why));
	else {
		command_env(c, msg, &env, envp);
		rc = command_run(path, av->argv, envp, c->rcpt, msg, r);
	}
	buf_free(&why);
	buf_free(&env);
	free(av);
	return rc == 0 ? 0 : -1;
}
