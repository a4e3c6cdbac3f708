/*
 * moat: the administrator's command.  `moat [-c CONFDIR] COMMAND ...`
 * dispatches to init, start, stop, reload, status, check, config, map,
 * passwd, queue and audit.  Runs as the invoking user: root for everything that
 * changes the system, members of moat-admin may look (status, config); for
 * queue, qmgr decides who may do what (admin_group, restrict_mailq,
 * restrict_qrun).  Input: its arguments and the root-owned configuration; the
 * pid file's lock tells it who the master is.  It never runs a shell; the
 * programs it starts (the master, useradd, groupadd) get a clean environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "moat.h"
#include "params.h"

/* needs_conf: MOAT_CONF_OPTIONAL passes "" when there is none. */
#define MOAT_CONF_OPTIONAL 2

struct moat_command {
	const char *name;
	int needs_conf;
	int (*run)(const char *conf_dir, int argc, char **argv);
};

static int
moat_init_cmd(const char *conf_dir, int argc, char **argv)
{
	(void)conf_dir;
	return moat_init(argc, argv);
}

static const struct moat_command moat_commands[] = {
    {"init", 0, moat_init_cmd}, {"start", 1, moat_start},
    {"stop", 1, moat_stop},     {"reload", 1, moat_reload},
    {"status", 1, moat_status}, {"check", 1, moat_check},
    {"config", 1, moat_config}, {"map", MOAT_CONF_OPTIONAL, moat_map},
    {"setup", 1, moat_setup},   {"queue", 1, moat_queue},
    {"audit", 1, moat_audit},   {"passwd", 1, moat_passwd},
};

static void __attribute__((format(printf, 2, 0)))
moat_vmessage(FILE *f, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(f, "moat: %s\n", line);
	fflush(f);
}

void
moat_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	moat_vmessage(stderr, fmt, ap);
	va_end(ap);
}

void
moat_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	moat_vmessage(stdout, fmt, ap);
	va_end(ap);
}

int
moat_need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	moat_error("%s: only root may do this", what);
	return -1;
}

int
moat_load_params(const char *conf_dir)
{
	struct buf err = BUF_INIT;
	int rc = params_load(conf_dir, &err);

	if (rc != 0)
		moat_error("%s", buf_cstr(&err));
	buf_free(&err);
	return rc;
}

char **
moat_clean_env(void)
{
	static char *env[3];
	static char tz[256];
	const char *v = getenv("TZ");
	size_t n = 0;
	int len;

	env[n++] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	if (v != NULL) {
		len = snprintf(tz, sizeof(tz), "TZ=%s", v);
		if (len > 0 && (size_t)len < sizeof(tz))
			env[n++] = tz;
	}
	env[n] = NULL;
	return env;
}

/* Read the child's output into out, at most max bytes (the rest drained). */
static void
moat_read_output(int fd, struct buf *out, size_t max)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (out->len < max)
			buf_append(out, chunk,
				   (size_t)n < max - out->len ? (size_t)n
							      : max - out->len);
	}
}

int
moat_run_output(const char *path, char *const argv[], struct buf *out,
		size_t max)
{
	int status, pfd[2] = {-1, -1};
	pid_t pid;

	fflush(NULL);
	if (out != NULL && pipe2(pfd, O_CLOEXEC) != 0) {
		moat_error("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		moat_error("fork: %s", strerror(errno));
		if (out != NULL) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (out != NULL && dup2(pfd[1], 1) < 0)
			_exit(127);
		execve(path, argv, moat_clean_env());
		moat_error("%s: %s", path, strerror(errno));
		_exit(127);
	}
	if (out != NULL) {
		close(pfd[1]);
		moat_read_output(pfd[0], out, max);
		close(pfd[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

int
moat_run(const char *path, char *const argv[])
{
	return moat_run_output(path, argv, NULL, 0);
}

static void
moat_usage(void)
{
	fprintf(
	    stderr,
	    "usage: moat [-c CONFDIR] COMMAND [ARGS]\n"
	    "  init DIR [--listen ADDR:PORT]...  create an instance\n"
	    "  start [-f] | stop | reload | status\n"
	    "  check                             verify files and settings\n"
	    "  config [-d] [-e] [name[=value]...] show or edit main.conf\n"
	    "  map build FILE [--format aliases|table]\n"
	    "  passwd [-d] [-s SCHEME] USER      set an AUTH password\n"
	    "  setup [--destdir=DIR] [--daemon-directory=DIR]\n"
	    "  queue list [--json|--mailq]       list the queue (as mailq)\n"
	    "  queue show [--raw] ID             print a queued message\n"
	    "  queue flush                       retry deferred mail now\n"
	    "  queue hold|release|requeue|delete ID...\n"
	    "  audit [--json]                    compare the running "
	    "processes\n"
	    "                                    with their declared "
	    "stances\n");
}

/* -c, else $MOAT_CONFIG, else /etc/moat; made absolute. */
static int
moat_conf_dir(const char *given, char *out, size_t size, int quiet)
{
	const char *dir = given;

	if (dir == NULL)
		dir = getenv("MOAT_CONFIG");
	if (dir == NULL || dir[0] == '\0')
		dir = MOAT_DEFAULT_CONFIG;
	if (size < PATH_MAX || realpath(dir, out) == NULL) {
		if (!quiet)
			moat_error("configuration directory %s: %s", dir,
				   strerror(errno));
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char conf_dir[PATH_MAX] = "";
	const char *given = NULL;
	size_t i;
	int c;

	log_init("moat");
	umask(022);
	while ((c = getopt(argc, argv, "+c:h")) != -1) {
		if (c != 'c') {
			moat_usage();
			return 2;
		}
		given = optarg;
	}
	if (optind >= argc) {
		moat_usage();
		return 2;
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < sizeof(moat_commands) / sizeof(moat_commands[0]); i++) {
		if (strcmp(argv[0], moat_commands[i].name) != 0)
			continue;
		if (moat_commands[i].needs_conf == MOAT_CONF_OPTIONAL)
			(void)moat_conf_dir(given, conf_dir, sizeof(conf_dir),
					    1);
		else if (moat_commands[i].needs_conf &&
			 moat_conf_dir(given, conf_dir, sizeof(conf_dir), 0) !=
			     0)
			return 1;
		optind = 0; /* glibc: start afresh on the new argv */
		return moat_commands[i].run(conf_dir, argc, argv);
	}
	moat_error("unknown command %s", argv[0]);
	moat_usage();
	return 2;
}
