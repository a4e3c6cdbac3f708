/*
 * moat_users: create the system users and groups an instance needs when
 * they are missing, with useradd and groupadd run directly (fork and
 * execve, never a shell) with a clean environment.  Input: names from the
 * root-owned master.conf and main.conf, checked again here.  Also makes
 * postdrop setgid moat-drop.  Runs in `moat init` and `moat setup`.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat.h"
#include "params.h"
#include "service_table.h"

#define MOAT_USERADD "/usr/sbin/useradd"
#define MOAT_GROUPADD "/usr/sbin/groupadd"

/* The names useradd accepts without surprises: [a-z_][a-z0-9_-]*. */
static int
moat_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

int
moat_ensure_group(const char *name)
{
	char *argv[] = {(char *)"groupadd", (char *)"--system", (char *)name,
			NULL};

	if (getgrnam(name) != NULL)
		return 0;
	if (!moat_name_ok(name)) {
		moat_error("bad group name \"%s\"", name);
		return -1;
	}
	if (moat_run(MOAT_GROUPADD, argv) != 0 || getgrnam(name) == NULL) {
		moat_error("could not create group %s", name);
		return -1;
	}
	moat_say("created group %s", name);
	return 0;
}

int
moat_ensure_user(const char *name)
{
	char *argv[12];
	size_t n = 0;

	if (getpwnam(name) != NULL)
		return 0;
	if (!moat_name_ok(name)) {
		moat_error("bad user name \"%s\"", name);
		return -1;
	}
	argv[n++] = (char *)"useradd";
	argv[n++] = (char *)"--system";
	argv[n++] = (char *)"--no-create-home";
	argv[n++] = (char *)"--home-dir";
	argv[n++] = (char *)"/nonexistent";
	argv[n++] = (char *)"--shell";
	argv[n++] = (char *)"/usr/sbin/nologin";
	/* With a group of that name already there, join it instead. */
	if (getgrnam(name) != NULL) {
		argv[n++] = (char *)"--gid";
		argv[n++] = (char *)name;
	} else {
		argv[n++] = (char *)"--user-group";
	}
	argv[n++] = (char *)name;
	argv[n] = NULL;
	if (moat_run(MOAT_USERADD, argv) != 0 || getpwnam(name) == NULL) {
		moat_error("could not create user %s", name);
		return -1;
	}
	moat_say("created user %s", name);
	return 0;
}

/*
 * The daemon groups, the fixed users (the owners of spool directories, even
 * where master.conf lacks their service), mail_owner, local_resolver_user
 * and master.conf's users.
 */
int
moat_ensure_system_users(const char *conf)
{
	static const char *const users[] = {"moat-queue", "moat-smtpd",
					    "moat-rcptmap", "moat-remote",
					    "moat-screen"};
	static const char *const groups[] = {"moat-drop", "moat-admin"};
	struct service_table t = {NULL, 0};
	struct buf err = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < 2 && rc == 0; i++)
		rc = moat_ensure_group(groups[i]);
	for (i = 0; i < sizeof(users) / sizeof(users[0]) && rc == 0; i++)
		rc = moat_ensure_user(users[i]);
	if (rc == 0)
		rc = moat_ensure_user(param_str("mail_owner"));
	if (rc == 0) /* local's resolver: no service of its own */
		rc = moat_ensure_user(param_str("local_resolver_user"));
	if (rc == 0 && (rc = service_table_load(conf, &t, &err)) != 0)
		moat_error("%s", buf_cstr(&err));
	for (i = 0; rc == 0 && i < t.count; i++)
		if (strcmp(t.svc[i].user, "root") != 0)
			rc = moat_ensure_user(t.svc[i].user);
	service_table_free(&t);
	buf_free(&err);
	return rc;
}

/*
 * postdrop at path, when it is there: root:moat-drop 02755, the one set-id
 * program.  Only a regular file with one link is touched, and it becomes
 * root's before it becomes setgid.  Not as root (a staging tree): say so.
 */
int
moat_make_postdrop_setgid(const char *path, int as_root)
{
	struct group *gr = getgrnam("moat-drop");
	struct stat st;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) != 0)
		moat_error("%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		moat_error("%s is not a regular file with one link; not made "
			   "setgid",
			   path);
	else if (!as_root || gr == NULL) {
		moat_say("%s: not made setgid moat-drop (%s)", path,
			 as_root ? "no group moat-drop" : "not root");
		rc = 0;
	} else if (fchown(fd, 0, gr->gr_gid) != 0 || fchmod(fd, 02755) != 0)
		moat_error("%s: %s", path, strerror(errno));
	else {
		moat_say("%s: root:moat-drop mode 2755 (setgid, for local "
			 "submission)",
			 path);
		rc = 0;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
