/*
 * moat_users: create the system users and groups an instance needs when
 * they are missing, with useradd and groupadd run directly (fork and
 * execve, never a shell) with a clean environment.  Input: names from the
 * root-owned master.conf and main.conf, checked again here.  Runs in
 * `moat init`.
 */
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "moat.h"

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
