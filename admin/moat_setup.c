/*
 * moat_setup: `moat [-c CONFDIR] setup [--destdir=DIR]
 * [--daemon-directory=DIR]` finishes a system install (make install runs
 * it): the default main.conf, master.conf and aliases in CONFDIR, each only
 * when missing (an administrator's file is never touched), the compiled
 * aliases map and commands/ when missing, the system users and groups, the
 * spool tree of spool.h with its modes, and daemon_directory/postdrop
 * setgid moat-drop.  With --destdir every path of main.conf is taken
 * inside DIR (a staging tree); there no user is created, and owners are
 * set only when root runs it and the users exist.  Input: the
 * administrator's arguments and the configuration in CONFDIR.  Runs in
 * the moat command.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_defaults.h"
#include "maps.h"
#include "moat.h"
#include "params.h"
#include "service_table.h"
#include "spool.h"

struct moat_setup {
	const char *conf;       /* CONFDIR, absolute */
	char destdir[PATH_MAX]; /* "" for the real system */
	const char *daemon_dir; /* where make install put the programs */
	int root;               /* running as root: owners can be set */
};

static int
moat_setup_usage(void)
{
	moat_error("usage: moat [-c CONFDIR] setup [--destdir=DIR] "
		   "[--daemon-directory=DIR]");
	return 2;
}

/* "--name=value" or "--name value"; NULL when argv[*i] is not --name. */
static const char *
moat_setup_opt(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int
moat_setup_parse(int argc, char **argv, struct moat_setup *s)
{
	const char *destdir = "", *v;
	int i;

	for (i = 1; i < argc; i++) {
		if ((v = moat_setup_opt(argc, argv, &i, "--destdir")) != NULL)
			destdir = v;
		else if ((v = moat_setup_opt(argc, argv, &i,
					     "--daemon-directory")) != NULL)
			s->daemon_dir = v;
		else
			return -1;
	}
	if (s->daemon_dir != NULL && s->daemon_dir[0] != '/') {
		moat_error("--daemon-directory must be an absolute path");
		return -1;
	}
	if (destdir[0] != '\0' && realpath(destdir, s->destdir) == NULL) {
		moat_error("--destdir %s: %s", destdir, strerror(errno));
		return -1;
	}
	if (strcmp(s->destdir, "/") == 0)
		s->destdir[0] = '\0';
	return 0;
}

/* path inside the destination tree. */
static void
moat_setup_path(const struct moat_setup *s, const char *path, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "%s%s", s->destdir, path);
}

static int
moat_setup_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* CONFDIR/name with text, unless there is a file of that name already. */
static int
moat_setup_file(const struct moat_setup *s, const char *name, const char *text,
		int *written)
{
	struct buf path = BUF_INIT;
	int rc = 0;

	buf_printf(&path, "%s/%s", s->conf, name);
	*written = 0;
	if (moat_setup_exists(buf_cstr(&path)))
		moat_say("%s exists: left as it is", buf_cstr(&path));
	else if ((rc = moat_write_file(buf_cstr(&path), text, strlen(text),
				       0644)) == 0) {
		*written = 1;
		moat_say("wrote %s", buf_cstr(&path));
	}
	buf_free(&path);
	return rc;
}

static int
moat_setup_conf(const struct moat_setup *s, int *new_aliases)
{
	struct buf err = BUF_INIT;
	int new_main, new_master, rc;

	if (s->root && moat_mkdir(s->conf, 0755, "root", "root") != 0)
		return -1;
	rc = moat_setup_file(s, "main.conf", conf_default_main, &new_main);
	if (rc == 0 && new_main && s->daemon_dir != NULL &&
	    (rc = params_write_setting(s->conf, "daemon_directory",
				       s->daemon_dir, &err)) != 0)
		moat_error("%s", buf_cstr(&err));
	if (rc == 0)
		rc = moat_setup_file(s, "master.conf", conf_default_master,
				     &new_master);
	if (rc == 0)
		rc = moat_setup_file(s, "aliases", conf_default_aliases,
				     new_aliases);
	if (rc == 0)
		rc = moat_load_params(s->conf);
	if (rc == 0 && new_main && s->root)
		rc = moat_tls_demo(s->conf);
	if (rc == 0 && s->daemon_dir != NULL &&
	    strcmp(param_str("daemon_directory"), s->daemon_dir) != 0)
		moat_error("warning: main.conf says daemon_directory = %s, "
			   "but the programs were installed in %s",
			   param_str("daemon_directory"), s->daemon_dir);
	buf_free(&err);
	return rc;
}

/* The compiled aliases and commands/, when missing. */
static int
moat_setup_maps(const struct moat_setup *s, int new_aliases)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	int rc = 0;

	buf_printf(&path, "%s/aliases.lmdb", s->conf);
	if (!moat_setup_exists(buf_cstr(&path))) {
		buf_reset(&path);
		buf_printf(&path, "%s/aliases", s->conf);
		if ((rc = map_build(buf_cstr(&path), MAP_ALIASES, &err)) != 0)
			moat_error("%s", buf_cstr(&err));
		else
			moat_say("compiled %s.lmdb", buf_cstr(&path));
	}
	if (rc == 0 && new_aliases)
		moat_say("mail for root goes nowhere until root is aliased to "
			 "a person in %s/aliases (then run newaliases)",
			 s->conf);
	buf_reset(&path);
	buf_printf(&path, "%s/commands", s->conf);
	if (rc == 0 && s->root)
		rc = moat_mkdir(buf_cstr(&path), 0755, "root", "root");
	else if (rc == 0 && mkdir(buf_cstr(&path), 0755) != 0 &&
		 errno != EEXIST) {
		moat_error("mkdir %s: %s", buf_cstr(&path), strerror(errno));
		rc = -1;
	}
	buf_free(&path);
	buf_free(&err);
	return rc;
}

/* Every owner and group of the spool list is known (checked silently). */
static int
moat_setup_owners_known(void)
{
	const char *owner = param_str("mail_owner");
	size_t i;

	if (getpwnam(owner) == NULL)
		return 0;
	for (i = 0; i < spool_layout_count; i++) {
		const struct spool_entry *e = &spool_layout[i];

		if ((e->owner[0] != '$' && getpwnam(e->owner) == NULL) ||
		    (e->group[0] != '$' && getgrnam(e->group) == NULL))
			return 0;
	}
	return 1;
}

/* Each missing directory of path, mode 0755 (mkdir -p). */
static int
moat_setup_parents(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		moat_error("%s: path too long", path);
		return -1;
	}
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			moat_error("mkdir %s: %s", dir, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* A spool directory with its mode only: no owners to give in a stage. */
static int
moat_setup_mode_dir(const char *path, mode_t mode)
{
	int fd, rc = 0;

	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		moat_error("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, mode) != 0) {
		moat_error("%s: %s", path, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
moat_setup_spool(const struct moat_setup *s)
{
	struct buf top = BUF_INIT, path = BUF_INIT;
	int owners = s->root && moat_setup_owners_known();
	size_t i;
	int rc;

	moat_setup_path(s, param_str("queue_directory"), &top);
	rc = moat_setup_parents(buf_cstr(&top));
	for (i = 0; rc == 0 && i < spool_layout_count; i++) {
		const struct spool_entry *e = &spool_layout[i];

		buf_set_str(&path, buf_cstr(&top));
		if (strcmp(e->name, ".") != 0)
			buf_printf(&path, "/%s", e->name);
		if (owners)
			rc = moat_mkdir(buf_cstr(&path), e->mode, e->owner,
					e->group);
		else
			rc = moat_setup_mode_dir(buf_cstr(&path), e->mode);
	}
	if (rc == 0)
		moat_say("spool %s ready%s", buf_cstr(&top),
			 owners ? "" : " (modes only: owners not set)");
	buf_free(&top);
	buf_free(&path);
	return rc;
}

/* postdrop setgid moat-drop (as root; a staging tree only says so). */
static int
moat_setup_postdrop(const struct moat_setup *s)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	int rc;

	moat_setup_path(
	    s, s->daemon_dir ? s->daemon_dir : param_str("daemon_directory"),
	    &dir);
	buf_printf(&path, "%s/postdrop", buf_cstr(&dir));
	rc = moat_make_postdrop_setgid(buf_cstr(&path), s->root);
	buf_free(&dir);
	buf_free(&path);
	return rc;
}

int
moat_setup(const char *conf_dir, int argc, char **argv)
{
	struct moat_setup s;
	int new_aliases = 0, rc;

	memset(&s, 0, sizeof(s));
	s.conf = conf_dir;
	s.root = geteuid() == 0;
	if (moat_setup_parse(argc, argv, &s) != 0)
		return moat_setup_usage();
	if (s.destdir[0] == '\0' && moat_need_root("setup") != 0)
		return 1;
	rc = moat_setup_conf(&s, &new_aliases);
	if (rc == 0 && s.destdir[0] == '\0')
		rc = moat_ensure_system_users(s.conf);
	if (rc == 0)
		rc = moat_setup_maps(&s, new_aliases);
	if (rc == 0)
		rc = moat_setup_spool(&s);
	if (rc == 0)
		rc = moat_setup_postdrop(&s);
	return rc == 0 ? 0 : 1;
}
