/*
 * sendmail: the command every program calls to send mail, and mailq and
 * newaliases by the name it is called with.  It reads a message (or an
 * SMTP dialogue with -bs) from stdin and hands each message to postdrop,
 * which drops it into maildrop/; pickup takes it from there, so mail can
 * be submitted while the mail system is stopped.  -bp, -q and -bi run the
 * moat command that sits beside it.
 *
 * Security stance: runs as the invoking user with no privilege of its
 * own; the one privileged step is postdrop (setgid moat-drop), which
 * checks everything again.  It reads main.conf, never the queue.  Its
 * arguments and stdin are the caller's, and often carry someone else's
 * data: options come from one table, addresses go through the one address
 * parser.  No shell: postdrop and moat are started with execve and an
 * empty environment.  Exit codes are those of <sysexits.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "sendmail.h"

/* Descriptors 0-2 open, so nothing we open can become one of them. */
static void
sendmail_sanitize(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(EX_OSERR);
	signal(SIGPIPE, SIG_IGN);
	log_init("sendmail");
	log_set_fd(-1); /* params_load's warnings are the admin's business */
}

static void
sendmail_warnings(const struct buf *warn)
{
	const char *p = buf_cstr(warn), *nl;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		sendmail_say("warning: %.*s", (int)(nl - p), p);
}

static int
sendmail_usage(const struct buf *err)
{
	sendmail_say("%s", buf_cstr(err));
	fprintf(stderr, "usage: sendmail [-t] [-i] [-f sender] [-F name] "
			"[-C confdir] [-v] [recipient ...]\n"
			"       sendmail -bs | -bp | -bi | -q\n");
	return EX_USAGE;
}

/* -C, else $MOAT_CONFIG, else /etc/moat; made absolute, then loaded. */
static int
sendmail_config(const char *given, char *out, size_t size)
{
	struct buf err = BUF_INIT;
	const char *dir = given;

	if (dir == NULL)
		dir = getenv("MOAT_CONFIG");
	if (dir == NULL || dir[0] == '\0')
		dir = SENDMAIL_DEFAULT_CONFIG;
	if (size < PATH_MAX || realpath(dir, out) == NULL) {
		sendmail_say("configuration directory %s: %s", dir,
			     strerror(errno));
		return EX_CONFIG;
	}
	if (params_load(out, &err) != 0) {
		sendmail_say("%s", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	return 0;
}

/* The moat command: beside this program, else where it is installed. */
static int
sendmail_find_moat(struct buf *path)
{
	/* build/bin/moat beside us, or PREFIX/sbin from PREFIX/libexec/moat. */
	static const char *const near[] = {"/moat", "/../../sbin/moat"};
	static const char *const installed[] = {"/usr/local/sbin/moat",
						"/usr/sbin/moat"};
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t i;

	if (n > 0) {
		self[n] = '\0';
		dirname(self);
		for (i = 0; i < 2; i++) {
			buf_reset(path);
			buf_printf(path, "%s%s", self, near[i]);
			if (access(buf_cstr(path), X_OK) == 0)
				return 0;
		}
	}
	for (i = 0; i < 2; i++) {
		buf_set_str(path, installed[i]);
		if (access(buf_cstr(path), X_OK) == 0)
			return 0;
	}
	sendmail_say("cannot find the moat command");
	return -1;
}

/* Replace this process with `moat -c CONF args...`. */
static int
sendmail_exec_moat(const struct sendmail_ctx *c, const char *const args[])
{
	static char *const env[] = {
	    (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	const char *argv[12];
	struct buf path = BUF_INIT;
	size_t n = 0, i;

	if (sendmail_find_moat(&path) != 0)
		return EX_UNAVAILABLE;
	argv[n++] = "moat";
	argv[n++] = "-c";
	argv[n++] = c->conf_dir;
	for (i = 0; args[i] != NULL && n < 11; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (c->verbose)
		sendmail_say("running %s", buf_cstr(&path));
	fflush(NULL);
	execve(buf_cstr(&path), (char *const *)argv, env);
	sendmail_say("%s: %s", buf_cstr(&path), strerror(errno));
	buf_free(&path);
	return EX_UNAVAILABLE;
}

static int
sendmail_newaliases(const struct sendmail_ctx *c)
{
	const char *aliases = param_str("alias_maps");
	const char *args[] = {"map",      "build",   aliases,
			      "--format", "aliases", NULL};

	if (aliases[0] == '\0') {
		sendmail_say("alias_maps is empty: no aliases to build");
		return EX_CONFIG;
	}
	return sendmail_exec_moat(c, args);
}

/* Who is sending: the login name and a full name from the password file. */
static int
sendmail_identity(struct sendmail_ctx *c, struct buf *login, struct buf *gecos)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw == NULL) {
		sendmail_say("no user name for uid %lu",
			     (unsigned long)getuid());
		return EX_NOUSER;
	}
	buf_set_str(login, pw->pw_name);
	sendmail_gecos_name(pw->pw_gecos, pw->pw_name, gecos);
	c->login = buf_cstr(login);
	c->gecos_name = buf_cstr(gecos);
	return 0;
}

static void
sendmail_ctx_init(struct sendmail_ctx *c, const char *conf_dir, int verbose)
{
	memset(c, 0, sizeof(*c));
	c->conf_dir = conf_dir;
	c->origin = param_str("myorigin");
	c->hostname = param_str("myhostname");
	c->daemon_dir = param_str("daemon_directory");
	c->header_limit = (size_t)param_int("header_size_limit");
	c->size_limit = (size_t)param_int("message_size_limit");
	c->line_limit = (size_t)param_int("line_length_limit");
	c->command_limit = (size_t)param_int("smtpd_command_line_limit");
	c->verbose = verbose;
}

static int
sendmail_deliver(const struct sendmail_opts *o, const struct sendmail_ctx *c)
{
	struct buf sender = BUF_INIT, err = BUF_INIT;
	int rc;

	if (o->sender != NULL)
		rc = sendmail_sender_parse(o->sender, c->origin, &sender, &err);
	else
		rc = sendmail_sender_parse(c->login, c->origin, &sender, &err);
	if (rc != 0) {
		sendmail_say("%s", buf_cstr(&err));
		rc = EX_DATAERR;
	} else {
		rc = sendmail_submit(o, c, buf_cstr(&sender));
	}
	buf_free(&sender);
	buf_free(&err);
	return rc;
}

static int
sendmail_run(const struct sendmail_opts *o, struct sendmail_ctx *c)
{
	static const char *const mailq[] = {"queue", "list", "--mailq", NULL};
	static const char *const flush[] = {"queue", "flush", NULL};
	struct buf login = BUF_INIT, gecos = BUF_INIT;
	int rc;

	switch (o->mode) {
	case SENDMAIL_MODE_MAILQ:
		return sendmail_exec_moat(c, mailq);
	case SENDMAIL_MODE_FLUSH:
		return sendmail_exec_moat(c, flush);
	case SENDMAIL_MODE_ALIASES:
		return sendmail_newaliases(c);
	case SENDMAIL_MODE_SMTP:
	case SENDMAIL_MODE_DELIVER:
		break;
	}
	if ((rc = sendmail_identity(c, &login, &gecos)) == 0)
		rc = o->mode == SENDMAIL_MODE_SMTP ? sendmail_smtp(o, c)
						   : sendmail_deliver(o, c);
	buf_free(&login);
	buf_free(&gecos);
	return rc;
}

int
main(int argc, char **argv)
{
	struct buf warn = BUF_INIT, err = BUF_INIT;
	struct sendmail_opts o;
	struct sendmail_ctx c;
	char conf[PATH_MAX];
	int rc;

	sendmail_sanitize();
	rc = sendmail_args_parse(argc, argv, &o, &warn, &err);
	sendmail_warnings(&warn);
	if (rc != 0)
		return sendmail_usage(&err);
	if ((rc = sendmail_config(o.conf_dir, conf, sizeof(conf))) != 0)
		return rc;
	sendmail_ctx_init(&c, conf, o.verbose);
	c.dsn_notify = o.dsn_notify;
	c.dsn_ret = o.dsn_ret;
	c.dsn_envid = o.dsn_envid;
	rc = sendmail_run(&o, &c);
	sendmail_opts_free(&o);
	buf_free(&warn);
	buf_free(&err);
	return rc;
}
