/*
 * master_conf: read main.conf and master.conf into the snapshot the master
 * runs with, at start and on SIGHUP.  Input: root-owned files, trusted but
 * checked: the master refuses files (or a directory) that anyone but root
 * could change, a -o override that names no parameter or gives a bad
 * value, and TLS certificate and key files that are not root's (a key
 * readable by others), every error naming the file (and line); a failed
 * reload keeps the old snapshot.  Runs in the master.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "params.h"
#include "privilege.h"
#include "safe_open.h"
#include "tls_files.h"

/* A command is a plain file name inside daemon_directory. */
static int
master_command_ok(const char *command)
{
	return command[0] != '\0' && strchr(command, '/') == NULL &&
	       strcmp(command, ".") != 0 && strcmp(command, "..") != 0;
}

static int
master_check_service(const struct master_conf *mc, const struct service *s,
		     struct buf *err)
{
	char path[PATH_MAX];
	struct buf b = BUF_INIT;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int n, rc;

	if (!master_command_ok(s->command)) {
		buf_printf(err, "%s/master.conf:%u: bad command name \"%s\"",
			   mc->conf_dir, s->lineno, s->command);
		return -1;
	}
	buf_printf(&b, "%s/master.conf", mc->conf_dir);
	rc = service_check_options(s, buf_cstr(&b), err);
	buf_free(&b);
	if (rc != 0)
		return -1;
	if (privilege_user_ids(s->user, &uid, &gid) != 0) {
		buf_printf(err, "%s/master.conf:%u: unknown user %s",
			   mc->conf_dir, s->lineno, s->user);
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/%s", mc->daemon_dir, s->command);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		buf_printf(err, "%s/master.conf:%u: program path too long",
			   mc->conf_dir, s->lineno);
		return -1;
	}
	if (stat(path, &st) != 0 || access(path, X_OK) != 0) {
		buf_printf(err, "%s/master.conf:%u: %s: %s", mc->conf_dir,
			   s->lineno, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		buf_printf(err, "%s/master.conf:%u: %s: not a regular file",
			   mc->conf_dir, s->lineno, path);
		return -1;
	}
	return 0;
}

static void
master_conf_snapshot(struct master_conf *mc, const char *conf_dir)
{
	mc->conf_dir = xstrdup(conf_dir);
	mc->queue_dir = xstrdup(param_str("queue_directory"));
	mc->daemon_dir = xstrdup(param_str("daemon_directory"));
	mc->maillog = xstrdup(param_str("maillog_file"));
	mc->syslog_name = xstrdup(param_str("syslog_name"));
	mc->syslog_socket = xstrdup(param_str("syslog_socket"));
}

/* The log parameters logd would refuse, refused here with their names. */
static int
master_check_log_params(const struct master_conf *mc, struct buf *err)
{
	const char *facility = param_str("syslog_facility");

	if (!log_syslog_name_ok(mc->syslog_name)) {
		buf_printf(err,
			   "%s/main.conf: syslog_name %s: expected 1 to %d "
			   "of [A-Za-z0-9._+-/]",
			   mc->conf_dir, mc->syslog_name, LOG_NAME_MAX);
		return -1;
	}
	if (log_facility_code(facility) < 0) {
		buf_printf(err,
			   "%s/main.conf: syslog_facility %s: expected mail, "
			   "daemon, user or local0 to local7",
			   mc->conf_dir, facility);
		return -1;
	}
	if (mc->maillog[0] == '\0' && mc->syslog_socket[0] == '\0') {
		buf_printf(err,
			   "%s/main.conf: maillog_file is empty (syslog), "
			   "so syslog_socket must be set",
			   mc->conf_dir);
		return -1;
	}
	return 0;
}

/*
 * Exactly one logd, of one process, on a unix socket: the master hands it
 * the log and every daemon's channel; without it no line is written.
 */
static int
master_check_logd(const struct master_conf *mc, struct buf *err)
{
	const struct service *logd = NULL, *s;
	size_t i;

	for (i = 0; i < mc->table.count; i++) {
		s = &mc->table.svc[i];
		if (strcmp(s->command, "logd") != 0)
			continue;
		if (logd != NULL || s->maxproc != 1 ||
		    s->type != SERVICE_UNIX) {
			buf_printf(err,
				   "%s/master.conf:%u: logd must be one unix "
				   "service of maxproc 1",
				   mc->conf_dir, s->lineno);
			return -1;
		}
		logd = s;
	}
	if (logd == NULL) {
		buf_printf(err,
			   "%s/master.conf: no logd service, so nothing "
			   "could be logged; add: private/logd unix moat-log "
			   "y 1 logd",
			   mc->conf_dir);
		return -1;
	}
	return 0;
}

/*
 * The configuration directory and its two files must be root's alone: a
 * file anyone else can change is a way to root (the master runs what
 * master.conf names, as the users it names).  `moat check` says the same.
 */
static int
master_conf_owned(const char *conf_dir, struct buf *err)
{
	static const char *const files[] = {"main.conf", "master.conf"};
	struct buf path = BUF_INIT, why = BUF_INIT;
	struct stat st;
	size_t i;
	int fd, rc = 0;

	if (stat(conf_dir, &st) != 0 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		buf_printf(err, "%s: must be a directory owned by root and "
				"writable by no one else (see moat check)",
			   conf_dir);
		return -1;
	}
	for (i = 0; i < 2 && rc == 0; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", conf_dir, files[i]);
		fd = safe_open(AT_FDCWD, buf_cstr(&path), O_RDONLY, 0, 0,
			       SAFE_NOT_GROUP_WRITABLE, &st, &why);
		if (fd >= 0)
			close(fd);
		else if (errno != ENOENT) {
			buf_printf(err, "%s: %s: refusing to run with it (see "
					"moat check)",
				   buf_cstr(&path), buf_cstr(&why));
			rc = -1;
		}
	}
	buf_free(&path);
	buf_free(&why);
	return rc;
}

/* The first TLS problem is the one the master refuses to start with. */
static void
master_tls_problem(void *ctx, const char *what)
{
	struct buf *err = ctx;

	if (err->len == 0)
		buf_printf(err, "%s (see moat check)", what);
}

int
master_conf_load(const char *conf_dir, struct master_conf *mc, struct buf *err)
{
	size_t i;

	memset(mc, 0, sizeof(*mc));
	buf_reset(err);
	if (master_conf_owned(conf_dir, err) != 0 ||
	    params_load(conf_dir, err) != 0)
		return -1;
	master_conf_snapshot(mc, conf_dir);
	if (mc->queue_dir[0] == '\0' || mc->daemon_dir[0] == '\0') {
		buf_printf(err,
			   "%s/main.conf: queue_directory and "
			   "daemon_directory must be set",
			   conf_dir);
		goto fail;
	}
	if (master_check_log_params(mc, err) != 0 ||
	    service_table_load(conf_dir, &mc->table, err) != 0 ||
	    master_check_logd(mc, err) != 0)
		goto fail;
	for (i = 0; i < mc->table.count; i++)
		if (master_check_service(mc, &mc->table.svc[i], err) != 0)
			goto fail;
	if (tls_check_services(&mc->table, 0, master_tls_problem, err) > 0)
		goto fail;
	return 0;
fail:
	master_conf_free(mc);
	return -1;
}

void
master_conf_free(struct master_conf *mc)
{
	free(mc->conf_dir);
	free(mc->queue_dir);
	free(mc->daemon_dir);
	free(mc->maillog);
	free(mc->syslog_name);
	free(mc->syslog_socket);
	if (mc->table.svc != NULL)
		service_table_free(&mc->table);
	memset(mc, 0, sizeof(*mc));
}
