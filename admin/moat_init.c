/*
 * moat_init: `moat init DIR [--listen ADDR:PORT]...` makes a new instance:
 * DIR/conf (main.conf, master.conf, aliases and its map, commands/,
 * tls/ with a self-signed certificate per key type for STARTTLS),
 * DIR/log, DIR/mail and the spool tree of spool.h, and the system users
 * and groups it needs; it makes daemon_directory/postdrop setgid
 * moat-drop, so local users can submit mail.  The files are the defaults
 * of conf_defaults.h (conf/, compiled in) with this instance's paths and
 * listening addresses filled in.  Input: the administrator's arguments (root
 * only), checked before anything is created; never overwrites an existing
 * configuration. Runs in the moat command.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
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

#define MOAT_LISTEN_MAX 16

struct moat_init_args {
	const char *dir;
	const char *listen[MOAT_LISTEN_MAX];
	size_t nlisten;
};

static int
moat_init_usage(void)
{
	moat_error("usage: moat init DIR [--listen ADDR:PORT]...");
	return 2;
}

static int
moat_init_parse(int argc, char **argv, struct moat_init_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *v = NULL;

		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--listen=", 9) == 0)
			v = argv[i] + 9;
		else if (argv[i][0] == '-' || a->dir != NULL)
			return -1;
		else
			a->dir = argv[i];
		if (v == NULL)
			continue;
		if (a->nlisten == MOAT_LISTEN_MAX) {
			moat_error("at most %d --listen addresses",
				   MOAT_LISTEN_MAX);
			return -1;
		}
		a->listen[a->nlisten++] = v;
	}
	if (a->dir == NULL || a->dir[0] == '\0')
		return -1;
	if (a->nlisten == 0)
		a->listen[a->nlisten++] = CONF_DEFAULT_LISTEN;
	return 0;
}

/*
 * master.conf: the default table with its screen line repeated once per
 * listening address.  The result is parsed, so a bad address is refused
 * with the parser's own words before anything is written.
 */
static int
moat_master_text(const struct moat_init_args *a, struct buf *out)
{
	const char *p = conf_default_master, *nl, *rest;
	size_t n = strlen(CONF_DEFAULT_LISTEN), i, len;
	struct service_table t;
	struct buf err = BUF_INIT;
	int rc;

	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		len = (size_t)(nl - p);
		if (strncmp(p, CONF_DEFAULT_LISTEN, n) != 0 ||
		    (p[n] != ' ' && p[n] != '\t')) {
			buf_append(out, p, len + 1);
			continue;
		}
		for (rest = p + n; *rest == ' ' || *rest == '\t'; rest++)
			;
		for (i = 0; i < a->nlisten; i++)
			buf_printf(out, "%-17s %.*s\n", a->listen[i],
				   (int)(nl - rest), rest);
	}
	rc = service_table_parse(out->data, out->len, "master.conf", &t, &err);
	if (rc != 0)
		moat_error("--listen: %s", buf_cstr(&err));
	else
		service_table_free(&t);
	buf_free(&err);
	return rc;
}

/* The person who reads root's mail: the sudo caller or the login name. */
static const char *
moat_person(void)
{
	const char *names[2] = {getenv("SUDO_USER"), getlogin()};
	struct passwd *pw;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (names[i] == NULL || names[i][0] == '\0')
			continue;
		pw = getpwnam(names[i]);
		if (pw != NULL && pw->pw_uid != 0)
			return names[i];
	}
	return NULL;
}

static void
moat_aliases_text(const char *person, struct buf *out)
{
	const char *line = "\n" CONF_DEFAULT_ROOT_ALIAS "\n";
	const char *at = strstr(conf_default_aliases, line);

	if (person == NULL || at == NULL) {
		buf_append_str(out, conf_default_aliases);
		return;
	}
	buf_append(out, conf_default_aliases,
		   (size_t)(at - conf_default_aliases) + 1);
	buf_printf(out, "root:\t\t%s\n", person);
	buf_append_str(out, at + strlen(line));
}

/*
 * The daemons next to this program: DIR/../libexec/moat when installed
 * (sbin/moat), DIR/../libexec in the build tree (build/bin/moat).
 */
static void
moat_daemon_dir(struct buf *out)
{
	static const char *const tries[] = {"/../libexec/moat/master",
					    "/../libexec/master"};
	char self[PATH_MAX], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct buf path = BUF_INIT;
	size_t i;

	if (n <= 0) {
		moat_error("warning: /proc/self/exe: %s; daemon_directory "
			   "keeps its default",
			   strerror(errno));
		return;
	}
	self[n] = '\0';
	dirname(self);
	for (i = 0; i < 2; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s%s", self, tries[i]);
		if (realpath(buf_cstr(&path), real) != NULL) {
			buf_set_str(out, dirname(real));
			buf_free(&path);
			return;
		}
	}
	buf_reset(&path);
	buf_printf(&path, "%s/../libexec", self);
	moat_error("warning: no master program in %s: build the daemons "
		   "before you start this instance",
		   buf_cstr(&path));
	buf_set_str(out,
		    realpath(buf_cstr(&path), real) ? real : buf_cstr(&path));
	buf_free(&path);
}

static int
moat_set(const char *conf, const char *name, const char *dir, const char *sub)
{
	struct buf value = BUF_INIT, err = BUF_INIT;
	int rc;

	if (sub != NULL)
		buf_printf(&value, "%s/%s", dir, sub);
	else
		buf_set_str(&value, dir);
	rc = params_write_setting(conf, name, buf_cstr(&value), &err);
	if (rc != 0)
		moat_error("%s", buf_cstr(&err));
	buf_free(&value);
	buf_free(&err);
	return rc;
}

static int
moat_init_main_conf(const char *dir, const char *conf)
{
	struct buf path = BUF_INIT, daemons = BUF_INIT;
	int rc;

	buf_printf(&path, "%s/main.conf", conf);
	rc = moat_write_file(buf_cstr(&path), conf_default_main,
			     strlen(conf_default_main), 0644);
	moat_daemon_dir(&daemons);
	if (rc == 0)
		rc = moat_set(conf, "queue_directory", dir, "spool");
	if (rc == 0 && daemons.len > 0)
		rc = moat_set(conf, "daemon_directory", buf_cstr(&daemons),
			      NULL);
	if (rc == 0)
		rc = moat_set(conf, "maillog_file", dir, "log/maillog");
	if (rc == 0)
		rc = moat_set(conf, "mail_spool_directory", dir, "mail");
	if (rc == 0)
		rc = moat_load_params(conf);
	buf_free(&path);
	buf_free(&daemons);
	return rc;
}

static int
moat_init_aliases(const char *conf)
{
	struct buf path = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
	const char *person = moat_person();
	int rc;

	buf_printf(&path, "%s/aliases", conf);
	moat_aliases_text(person, &text);
	rc = moat_write_file(buf_cstr(&path), text.data, text.len, 0644);
	if (rc == 0 && (rc = map_build(buf_cstr(&path), MAP_ALIASES, &err)))
		moat_error("%s", buf_cstr(&err));
	if (rc == 0 && person == NULL)
		moat_error("warning: mail for root goes nowhere until root is "
			   "aliased to a person in %s (then run moat map "
			   "build %s)",
			   buf_cstr(&path), buf_cstr(&path));
	buf_free(&path);
	buf_free(&text);
	buf_free(&err);
	return rc;
}

static int
moat_init_conf(const struct moat_init_args *a, const char *dir,
	       const char *conf)
{
	struct buf master = BUF_INIT, path = BUF_INIT;
	int rc;

	if ((rc = moat_master_text(a, &master)) != 0)
		goto done;
	if ((rc = moat_mkdir(conf, 0755, "root", "root")) != 0 ||
	    (rc = moat_init_main_conf(dir, conf)) != 0 ||
	    (rc = moat_tls_demo(conf)) != 0)
		goto done;
	buf_printf(&path, "%s/master.conf", conf);
	if ((rc = moat_write_file(buf_cstr(&path), master.data, master.len,
				  0644)) != 0 ||
	    (rc = moat_ensure_system_users(conf)) != 0 ||
	    (rc = moat_init_aliases(conf)) != 0)
		goto done;
	buf_reset(&path);
	buf_printf(&path, "%s/commands", conf);
	rc = moat_mkdir(buf_cstr(&path), 0755, "root", "root");
done:
	buf_free(&master);
	buf_free(&path);
	return rc;
}

/* daemon_directory/postdrop setgid moat-drop, when it is there. */
static int
moat_init_postdrop(void)
{
	struct buf path = BUF_INIT;
	int rc;

	buf_printf(&path, "%s/postdrop", param_str("daemon_directory"));
	rc = moat_make_postdrop_setgid(buf_cstr(&path), 1);
	buf_free(&path);
	return rc;
}

/* DIR itself: created, or an existing directory with no configuration. */
static int
moat_init_top(const char *given, char *dir, size_t size)
{
	struct buf main_conf = BUF_INIT;
	struct stat st;
	int rc = 0;

	if (mkdir(given, 0755) != 0 && errno != EEXIST) {
		moat_error("mkdir %s: %s", given, strerror(errno));
		return -1;
	}
	if (size < PATH_MAX || realpath(given, dir) == NULL) {
		moat_error("%s: %s", given, strerror(errno));
		return -1;
	}
	buf_printf(&main_conf, "%s/conf/main.conf", dir);
	if (lstat(buf_cstr(&main_conf), &st) == 0 || errno != ENOENT) {
		moat_error("%s exists: this instance is already initialised",
			   buf_cstr(&main_conf));
		rc = -1;
	}
	buf_free(&main_conf);
	return rc;
}

int
moat_init(int argc, char **argv)
{
	struct moat_init_args a;
	char dir[PATH_MAX];
	struct buf conf = BUF_INIT;
	int rc;

	if (moat_init_parse(argc, argv, &a) != 0)
		return moat_init_usage();
	if (moat_need_root("init") != 0 ||
	    moat_init_top(a.dir, dir, sizeof(dir)) != 0)
		return 1;
	buf_printf(&conf, "%s/conf", dir);
	rc = moat_init_conf(&a, dir, buf_cstr(&conf));
	if (rc == 0)
		rc = moat_init_dirs(dir, param_str("queue_directory"));
	if (rc == 0 && geteuid() == 0)
		rc = moat_init_postdrop();
	if (rc == 0)
		moat_say("instance ready in %s; start it with: moat -c %s "
			 "start",
			 dir, buf_cstr(&conf));
	buf_free(&conf);
	return rc == 0 ? 0 : 1;
}
