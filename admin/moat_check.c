/*
 * moat_check: `moat check` verifies an instance and says what is wrong:
 * configuration, map sources, allowed commands and daemon programs that
 * anyone but root could change; parameters and master.conf that would not
 * load, -o overrides included; an smtpd without the rcptmap that keeps
 * its recipients map; a screen without the pass service it hands its
 * clients to; TLS and AUTH settings and files (moat_check_tls.c); the
 * spool tree against spool.h; a stale or incomplete aliases map; a
 * postdrop that is not setgid moat-drop or that others could change.  It
 * prints nothing and exits 0 when all is well.  It only reports, it
 * changes nothing.  Input: the instance's files, looked at without
 * following links where a link would hide the real owner.  Runs in the
 * moat command.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "maps.h"
#include "moat.h"
#include "moat_audit.h"
#include "params.h"
#include "safe_open.h"
#include "service_table.h"
#include "spool.h"

#define MOAT_MAIN_CONF_MAX (1024 * 1024) /* as the loader allows */

static unsigned moat_problems;

void
moat_problem(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	moat_error("%s", line);
	moat_problems++;
}

/* dir/name in b, returned as a C string (no length limit to overflow). */
static const char *
moat_join(struct buf *b, const char *dir, const char *name)
{
	buf_reset(b);
	buf_printf(b, "%s/%s", dir, name);
	return buf_cstr(b);
}

/* A file only root may change: root's, one link, mode not g/o writable. */
static void
moat_check_root_file(const char *path)
{
	struct buf why = BUF_INIT;
	int fd;

	fd = safe_open(AT_FDCWD, path, O_RDONLY, 0, 0, SAFE_NOT_GROUP_WRITABLE,
		       NULL, &why);
	if (fd >= 0)
		close(fd);
	else if (errno == EPERM || errno == EMLINK || errno == EINVAL ||
		 errno == ELOOP)
		moat_problem("%s %s", path, buf_cstr(&why));
	else
		moat_problem("%s: %s", path, buf_cstr(&why));
	buf_free(&why);
}

/* Follows no link; mode_bits: file type the entry must have. */
static int
moat_check_root_owned(const char *path, mode_t type, const char *what)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		moat_problem("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_mode & S_IFMT) != type) {
		moat_problem("%s is not %s", path, what);
		return -1;
	}
	if (st.st_uid != 0)
		moat_problem("%s is owned by uid %lu, not root", path,
			     (unsigned long)st.st_uid);
	if (st.st_mode & 022)
		moat_problem("%s is writable by group or others", path);
	return 0;
}

static void
moat_check_conf(const char *conf_dir)
{
	struct buf path = BUF_INIT;

	moat_check_root_owned(conf_dir, S_IFDIR, "a directory");
	moat_check_root_file(moat_join(&path, conf_dir, "main.conf"));
	moat_check_root_file(moat_join(&path, conf_dir, "master.conf"));
	buf_free(&path);
}

/* Every program in the allowed commands directory is root's alone. */
static void
moat_check_commands(void)
{
	const char *dir = param_str("allowed_commands_directory");
	struct buf path = BUF_INIT;
	struct dirent *d;
	struct stat st;
	DIR *dp;

	if (dir[0] == '\0' ||
	    moat_check_root_owned(dir, S_IFDIR, "a directory") != 0)
		return;
	if ((dp = opendir(dir)) == NULL) {
		moat_problem("%s: %s", dir, strerror(errno));
		return;
	}
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		moat_join(&path, dir, d->d_name);
		/* A link may name a system program: judge what it names. */
		if (stat(buf_cstr(&path), &st) != 0)
			moat_problem("%s: %s", buf_cstr(&path),
				     strerror(errno));
		else if (st.st_uid != 0 || (st.st_mode & 022))
			moat_problem("%s is writable by someone other than "
				     "root",
				     buf_cstr(&path));
	}
	closedir(dp);
	buf_free(&path);
}

static void
moat_check_daemon(const char *command)
{
	struct buf b = BUF_INIT;
	const char *path =
	    moat_join(&b, param_str("daemon_directory"), command);

	if (moat_check_root_owned(path, S_IFREG, "a regular file") == 0 &&
	    access(path, X_OK) != 0)
		moat_problem("%s is not executable", path);
	buf_free(&b);
}

/* postdrop: root's, group moat-drop, setgid, writable by root alone. */
static void
moat_check_postdrop(void)
{
	struct buf b = BUF_INIT;
	const char *path =
	    moat_join(&b, param_str("daemon_directory"), "postdrop");
	struct group *gr = getgrnam("moat-drop");
	struct stat st;

	if (lstat(path, &st) != 0)
		moat_problem("%s: %s: local submission (sendmail) cannot work",
			     path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		moat_problem("%s is not a regular file", path);
	else if (st.st_uid != 0 || gr == NULL || st.st_gid != gr->gr_gid ||
		 !(st.st_mode & S_ISGID))
		moat_problem("%s is not root:moat-drop and setgid: run chown "
			     "root:moat-drop %s; chmod 2755 %s",
			     path, path, path);
	else if (st.st_mode & (S_ISUID | 022))
		moat_problem("%s is set-uid or writable by group or others",
			     path);
	buf_free(&b);
}

/* Every screen must have a pass service to hand its clients to. */
static void
moat_check_screens(const struct service_table *t)
{
	const char *target;
	size_t i, k;

	for (i = 0; i < t->count; i++) {
		if (strcmp(t->svc[i].command, "screen") != 0)
			continue;
		target = t->svc[i].args[0] != NULL ? t->svc[i].args[0]
						   : "private/smtpd";
		for (k = 0; k < t->count; k++)
			if (strcmp(t->svc[k].name, target) == 0 &&
			    t->svc[k].type == SERVICE_PASS)
				break;
		if (k == t->count)
			moat_problem(
			    "master.conf line %u: screen hands clients "
			    "to %s, which is no pass service: they "
			    "would wait and get 421; add "
			    "\"private/smtpd pass moat-smtpd y 10 "
			    "smtpd\"",
			    t->svc[i].lineno, target);
	}
}

static void
moat_check_services(const char *conf_dir)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	uid_t uid;
	gid_t gid;
	size_t i;

	moat_check_root_owned(param_str("daemon_directory"), S_IFDIR,
			      "a directory");
	moat_check_daemon("master");
	if (service_table_load(conf_dir, &t, &err) != 0) {
		moat_problem("%s", buf_cstr(&err));
		buf_free(&err);
		return;
	}
	for (i = 0; i < t.count; i++) {
		if (moat_owner_ids(t.svc[i].user, "root", &uid, &gid) != 0)
			moat_problems++;
		if (service_find_command(&t, t.svc[i].command) == &t.svc[i])
			moat_check_daemon(t.svc[i].command);
		buf_reset(&err);
		if (audit_service_stance(&t.svc[i], &err) != 0)
			moat_problem("%s", buf_cstr(&err));
		buf_reset(&err);
		if (service_check_options(&t.svc[i], "master.conf", &err) != 0)
			moat_problem("%s", buf_cstr(&err));
	}
	moat_check_security(&t);
	moat_check_screens(&t);
	if (service_find_command(&t, "smtpd") != NULL &&
	    service_find_command(&t, "rcptmap") == NULL)
		moat_problem("master.conf runs smtpd but no rcptmap: every "
			     "local recipient gets 451; add the line "
			     "\"private/rcptmap unix moat-rcptmap n 1 "
			     "rcptmap\"");
	service_table_free(&t);
	buf_free(&err);
}

void
moat_spool_verify(void (*report)(void *ctx, const char *what), void *ctx)
{
	const char *queue = param_str("queue_directory");
	const struct spool_entry *e;
	struct buf b = BUF_INIT, what = BUF_INIT;
	const char *path;
	struct stat st;
	uid_t uid;
	gid_t gid;
	size_t i;

	for (i = 0; i < spool_layout_count; i++) {
		e = &spool_layout[i];
		path = moat_join(&b, queue, e->name);
		buf_reset(&what);
		if (moat_owner_ids(e->owner, e->group, &uid, &gid) != 0)
			buf_printf(&what, "%s: no user %s or group %s", path,
				   e->owner, e->group);
		else if (lstat(path, &st) != 0)
			buf_printf(&what, "%s: %s", path, strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			buf_printf(&what, "%s is not a directory", path);
		else if (st.st_uid != uid || st.st_gid != gid)
			buf_printf(&what,
				   "%s is owned by %lu:%lu, expected %lu:%lu "
				   "(%s:%s)",
				   path, (unsigned long)st.st_uid,
				   (unsigned long)st.st_gid, (unsigned long)uid,
				   (unsigned long)gid, e->owner, e->group);
		else if ((st.st_mode & 07777) != e->mode)
			buf_printf(&what, "%s has mode %04o, expected %04o",
				   path, (unsigned)(st.st_mode & 07777),
				   (unsigned)e->mode);
		if (what.len > 0)
			report(ctx, buf_cstr(&what));
	}
	buf_free(&b);
	buf_free(&what);
}

static void
moat_check_spool_report(void *ctx, const char *what)
{
	(void)ctx;
	moat_problem("%s", what);
}

static int
moat_newer(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

static void
moat_check_alias(struct map *m, const char *source, const char *name)
{
	struct buf value = BUF_INIT;
	int rc = map_lookup(m, name, &value);

	if (rc < 0)
		moat_problem("%s.lmdb: lookup of %s failed", source, name);
	else if (rc == 0)
		moat_problem("%s: %s has no alias: its mail must go to a "
			     "person",
			     source, name);
	buf_free(&value);
}

static void
moat_check_aliases(void)
{
	const char *source = param_str("alias_maps");
	struct buf err = BUF_INIT, b = BUF_INIT;
	const char *lmdb;
	struct stat src, map;
	struct map *m;

	if (source[0] == '\0')
		return;
	moat_check_root_file(source);
	buf_printf(&b, "%s.lmdb", source);
	lmdb = buf_cstr(&b);
	if (stat(source, &src) != 0 || stat(lmdb, &map) != 0) {
		moat_problem("%s: %s: run moat map build %s", lmdb,
			     strerror(errno), source);
		buf_free(&b);
		return;
	}
	moat_check_root_file(lmdb);
	if (moat_newer(&src, &map))
		moat_problem("%s is older than %s: run moat map build %s", lmdb,
			     source, source);
	if ((m = map_open(source, &err)) == NULL) {
		moat_problem("%s", buf_cstr(&err));
	} else {
		moat_check_alias(m, source, "postmaster");
		moat_check_alias(m, source, "root");
		map_close(m);
	}
	buf_free(&err);
	buf_free(&b);
}

/* The places the daemons write to must exist. */
static void
moat_check_dirs(void)
{
	char log_dir[PATH_MAX], *slash;
	struct stat st;

	if (param_str("home_mailbox")[0] == '\0' &&
	    stat(param_str("mail_spool_directory"), &st) != 0)
		moat_problem("mail_spool_directory %s: %s",
			     param_str("mail_spool_directory"),
			     strerror(errno));
	if (strlcpy(log_dir, param_str("maillog_file"), sizeof(log_dir)) >=
	    sizeof(log_dir)) {
		moat_problem("maillog_file is too long");
		return;
	}
	if ((slash = strrchr(log_dir, '/')) != NULL && slash != log_dir) {
		*slash = '\0';
		if (stat(log_dir, &st) != 0 || !S_ISDIR(st.st_mode))
			moat_problem("the directory of maillog_file, %s, does "
				     "not exist",
				     log_dir);
	}
}

static int
moat_check_name(const char *name, const char *value, unsigned lineno, void *ctx,
		struct buf *err)
{
	(void)value;
	(void)err;
	if (param_find(name) == NULL)
		moat_problem("%s:%u: unknown parameter %s", (const char *)ctx,
			     lineno, name);
	return 0;
}

/*
 * Unknown names are problems here, not warnings; the loader's own log
 * lines are silenced so each is reported once, in moat's words.
 */
static int
moat_check_params(const char *conf_dir)
{
	struct buf path = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
	int rc;

	moat_join(&path, conf_dir, "main.conf");
	if (config_read_file(buf_cstr(&path), MOAT_MAIN_CONF_MAX, &text,
			     &err) == 0)
		(void)config_parse(text.data ? text.data : "", text.len,
				   buf_cstr(&path), moat_check_name,
				   (void *)buf_cstr(&path), &err);
	log_set_fd(-1);
	rc = moat_load_params(conf_dir);
	log_set_fd(2);
	buf_free(&path);
	buf_free(&text);
	buf_free(&err);
	return rc;
}

int
moat_check(const char *conf_dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	moat_check_conf(conf_dir);
	if (moat_check_params(conf_dir) != 0)
		return 1;
	moat_check_services(conf_dir);
	moat_check_postdrop();
	moat_spool_verify(moat_check_spool_report, NULL);
	moat_check_aliases();
	moat_check_commands();
	moat_check_dirs();
	return moat_problems == 0 ? 0 : 1;
}
