/*
 * sendmail_drop: hands one message to postdrop, the setgid program that
 * writes it into maildrop/: fork, execve of daemon_directory/postdrop with
 * an empty environment (never a shell), the message through a pipe, and
 * postdrop's exit status back.  The addresses were parsed before; postdrop
 * checks them again.  Runs in the sendmail command as the invoking user.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "sendmail.h"

void
sendmail_say(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	fprintf(stderr, "sendmail: %s\n", line);
	fflush(stderr);
}

/* postdrop -c CONF [-v] [-N notify] [-R ret] [-V envid] -f SENDER -- RCPT... */
static char **
drop_argv(const struct sendmail_ctx *c, const char *sender,
	  const struct sendmail_rcpts *r)
{
	char **argv = xcalloc(r->count + 14, sizeof(*argv));
	size_t n = 0, i;

	argv[n++] = (char *)"postdrop";
	argv[n++] = (char *)"-c";
	argv[n++] = (char *)c->conf_dir;
	if (c->verbose)
		argv[n++] = (char *)"-v";
	if (c->dsn_notify != NULL) {
		argv[n++] = (char *)"-N";
		argv[n++] = (char *)c->dsn_notify;
	}
	if (c->dsn_ret != NULL) {
		argv[n++] = (char *)"-R";
		argv[n++] = (char *)c->dsn_ret;
	}
	if (c->dsn_envid != NULL) {
		argv[n++] = (char *)"-V";
		argv[n++] = (char *)c->dsn_envid;
	}
	argv[n++] = (char *)"-f";
	argv[n++] = (char *)sender;
	argv[n++] = (char *)"--";
	for (i = 0; i < r->count; i++)
		argv[n++] = r->addr[i];
	argv[n] = NULL;
	return argv;
}

int
sendmail_drop_start(const struct sendmail_ctx *c, const char *sender,
		    const struct sendmail_rcpts *r, struct sendmail_drop *d)
{
	static char *const empty_env[] = {NULL};
	struct buf path = BUF_INIT;
	char **argv = drop_argv(c, sender, r);
	int fds[2];

	d->pid = -1;
	d->fd = -1;
	buf_printf(&path, "%s/postdrop", c->daemon_dir);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		sendmail_say("pipe: %s", strerror(errno));
		free(argv);
		buf_free(&path);
		return EX_OSERR;
	}
	fflush(NULL);
	d->pid = fork();
	if (d->pid == 0) {
		if (dup2(fds[0], 0) < 0)
			_exit(EX_OSERR);
		execve(buf_cstr(&path), argv, empty_env);
		sendmail_say("%s: %s", buf_cstr(&path), strerror(errno));
		_exit(EX_UNAVAILABLE);
	}
	close(fds[0]);
	free(argv);
	buf_free(&path);
	if (d->pid < 0) {
		sendmail_say("fork: %s", strerror(errno));
		close(fds[1]);
		return EX_OSERR;
	}
	d->fd = fds[1];
	return 0;
}

int
sendmail_drop_write(struct sendmail_drop *d, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	while (len > 0 && d->fd >= 0) {
		n = write(d->fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* EPIPE: postdrop refused; its status says why. */
			close(d->fd);
			d->fd = -1;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return d->fd >= 0 ? 0 : -1;
}

int
sendmail_drop_finish(struct sendmail_drop *d)
{
	int status;

	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (d->pid <= 0)
		return EX_SOFTWARE;
	while (waitpid(d->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			sendmail_say("waitpid: %s", strerror(errno));
			return EX_OSERR;
		}
	}
	d->pid = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	sendmail_say("postdrop died with signal %d", WTERMSIG(status));
	return EX_SOFTWARE;
}
