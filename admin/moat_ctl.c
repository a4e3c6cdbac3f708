/*
 * moat_ctl: `moat start`, `stop`, `reload` and `status`.  The master is
 * found through the fcntl lock it holds on queue_directory/pid/master.pid:
 * F_GETLK names the process holding it, so a stale pid file never makes
 * moat signal an unrelated process.  Input: the root-owned configuration;
 * the pid file is only ever locked-tested, never trusted for its content.
 * Runs in the moat command.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "moat.h"
#include "params.h"
#include "service_table.h"
#include "tls_files.h"

#define MOAT_PID_FILE "pid/master.pid"

long
moat_master_pid(const char *queue_dir)
{
	char path[PATH_MAX];
	struct flock fl;
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", queue_dir, MOAT_PID_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		moat_error("%s: path too long", queue_dir);
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		moat_error("%s: %s", path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) != 0) {
		moat_error("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return fl.l_type == F_UNLCK ? 0 : (long)fl.l_pid;
}

/*
 * stop and status need queue_directory, so a main.conf that does not load
 * is reported and nothing is signalled: guessing could hit another
 * instance.
 */
static long
moat_find_master(const char *conf_dir)
{
	if (moat_load_params(conf_dir) != 0)
		return -1;
	return moat_master_pid(param_str("queue_directory"));
}

static void
moat_startable_problem(void *ctx, const char *what)
{
	(void)ctx;
	moat_error("%s", what);
}

/* The configuration the master will read, checked the way it reads it. */
static int
moat_check_startable(const char *conf_dir)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	size_t i;
	int rc;

	if (moat_load_params(conf_dir) != 0)
		return -1;
	rc = service_table_load(conf_dir, &t, &err);
	if (rc != 0) {
		moat_error("%s", buf_cstr(&err));
		buf_free(&err);
		return rc;
	}
	for (i = 0; i < t.count && rc == 0; i++)
		if ((rc = service_check_options(&t.svc[i], "master.conf",
						&err)) != 0)
			moat_error("%s", buf_cstr(&err));
	if (rc == 0 &&
	    tls_check_services(&t, 0, moat_startable_problem, NULL) > 0)
		rc = -1;
	service_table_free(&t);
	buf_free(&err);
	return rc;
}

int
moat_start(const char *conf_dir, int argc, char **argv)
{
	char path[PATH_MAX];
	char *args[5];
	int foreground = 0, c, n;
	long pid;

	while ((c = getopt(argc, argv, "f")) != -1) {
		if (c != 'f') {
			moat_error("usage: moat start [-f]");
			return 2;
		}
		foreground = 1;
	}
	if (moat_need_root("start") != 0 || moat_check_startable(conf_dir))
		return 1;
	pid = moat_master_pid(param_str("queue_directory"));
	if (pid != 0) {
		if (pid > 0)
			moat_error("the mail system is already running (pid "
				   "%ld)",
				   pid);
		return 1;
	}
	n = snprintf(path, sizeof(path), "%s/master",
		     param_str("daemon_directory"));
	if (n < 0 || (size_t)n >= sizeof(path)) {
		moat_error("daemon_directory: path too long");
		return 1;
	}
	args[0] = (char *)"master";
	args[1] = (char *)"-c";
	args[2] = (char *)conf_dir;
	args[3] = foreground ? (char *)"-f" : NULL;
	args[4] = NULL;
	if (!foreground)
		moat_say("starting the mail system");
	fflush(NULL);
	execve(path, args, moat_clean_env());
	moat_error("%s: %s", path, strerror(errno));
	return 1;
}

static void
moat_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
moat_stop(const char *conf_dir, int argc, char **argv)
{
	long pid, now;
	int i;

	(void)argc;
	(void)argv;
	if (moat_need_root("stop") != 0 ||
	    (pid = moat_find_master(conf_dir)) < 0)
		return 1;
	if (pid == 0) {
		moat_error("the mail system is not running");
		return 1;
	}
	moat_say("stopping the mail system (pid %ld)", pid);
	if (kill((pid_t)pid, SIGTERM) != 0) {
		moat_error("kill %ld: %s", pid, strerror(errno));
		return 1;
	}
	for (i = 0; i < MOAT_STOP_WAIT * 10; i++) {
		now = moat_master_pid(param_str("queue_directory"));
		if (now < 0)
			return 1;
		if (now == 0) {
			moat_say("the mail system is stopped");
			return 0;
		}
		moat_sleep_ms(100);
	}
	moat_error("the master (pid %ld) did not stop in %d seconds", pid,
		   MOAT_STOP_WAIT);
	return 1;
}

int
moat_reload(const char *conf_dir, int argc, char **argv)
{
	long pid;

	(void)argc;
	(void)argv;
	if (moat_need_root("reload") != 0)
		return 1;
	if (moat_check_startable(conf_dir) != 0) {
		moat_error("not reloading: the master would refuse this "
			   "configuration");
		return 1;
	}
	if ((pid = moat_master_pid(param_str("queue_directory"))) < 0)
		return 1;
	if (pid == 0) {
		moat_error("the mail system is not running");
		return 1;
	}
	if (kill((pid_t)pid, SIGHUP) != 0) {
		moat_error("kill %ld: %s", pid, strerror(errno));
		return 1;
	}
	moat_say("refreshing the mail system (pid %ld)", pid);
	return 0;
}

int
moat_reload_if_running(const char *conf_dir)
{
	long pid;

	if (moat_load_params(conf_dir) != 0 ||
	    (pid = moat_master_pid(param_str("queue_directory"))) < 0)
		return -1;
	if (pid == 0)
		return 0;
	return moat_reload(conf_dir, 1, NULL);
}

int
moat_status(const char *conf_dir, int argc, char **argv)
{
	long pid;

	(void)argc;
	(void)argv;
	if ((pid = moat_find_master(conf_dir)) < 0)
		return 1;
	if (pid == 0) {
		moat_say("the mail system is not running");
		return 1;
	}
	moat_say("the mail system is running: PID %ld", pid);
	moat_state_show(param_str("queue_directory"));
	return 0;
}
