/*
 * test_privilege: the one drop path, for real.  As root, children drop to
 * "nobody" and report what they became: every uid and gid the target,
 * setuid(0) failing, no-new-privs set, the chroot in place; a drop to
 * uid 0 is fatal.  Without root these checks are skipped.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privilege.h"
#include "tap.h"

#define NCHECKS 7

static uid_t nobody_uid;
static gid_t nobody_gid;

static void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
}

/* Runs in the child after the drop: one bit per failed check. */
static int
child_checks(gid_t extra)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[8];
	int n, i, bad = 0, has_extra = extra == (gid_t)-1;

	if (getresuid(&ru, &eu, &su) != 0 || ru != nobody_uid ||
	    eu != nobody_uid || su != nobody_uid)
		bad |= 1;
	if (getresgid(&rg, &eg, &sg) != 0 || rg != nobody_gid ||
	    eg != nobody_gid || sg != nobody_gid)
		bad |= 2;
	if (setuid(0) != -1 || seteuid(0) != -1)
		bad |= 4;
	if (setgid(0) != -1)
		bad |= 8;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		bad |= 16;
	n = getgroups(8, groups);
	for (i = 0; i < n; i++) {
		if (groups[i] == 0)
			bad |= 32; /* root's group kept */
		if (groups[i] == extra)
			has_extra = 1;
	}
	if (!has_extra)
		bad |= 64;
	return bad;
}

static void
report(int status, const char *what)
{
	static const char *names[NCHECKS] = {
	    "getresuid is nobody's uid three times",
	    "getresgid is nobody's gid three times",
	    "setuid(0) and seteuid(0) fail",
	    "setgid(0) fails",
	    "PR_SET_NO_NEW_PRIVS is set",
	    "no supplementary group 0 is kept",
	    "the extra group is kept when asked"};
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255, i;

	ok(WIFEXITED(status) && code < 128, "%s: child exited normally", what);
	for (i = 0; i < NCHECKS; i++)
		ok(code < 128 && !(code & (1 << i)), "%s: %s", what, names[i]);
}

static int
run_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		log_set_fd(-1);
		_exit(fn());
	}
	waitpid(pid, &status, 0);
	return status;
}

static int
drop_ids(void)
{
	privilege_drop_ids(nobody_uid, nobody_gid, (gid_t)-1);
	return child_checks((gid_t)-1);
}

static int
drop_ids_extra(void)
{
	privilege_drop_ids(nobody_uid, nobody_gid, 12345);
	return child_checks(12345);
}

static char chroot_dir[64];

static int
drop_chroot(void)
{
	char cwd[64];

	privilege_drop("nobody", chroot_dir);
	if (access("/marker", F_OK) != 0 || getcwd(cwd, sizeof(cwd)) == NULL ||
	    strcmp(cwd, "/") != 0)
		return 127; /* every check fails: chroot not in place */
	return child_checks((gid_t)-1);
}

static int
drop_to_root(void)
{
	privilege_drop_ids(0, 0, (gid_t)-1);
	return 0; /* reached only when uid 0 was accepted */
}

static int
drop_to_root_user(void)
{
	privilege_drop("root", NULL);
	return 0;
}

static void
test_user_ids(void)
{
	uid_t uid;
	gid_t gid;

	is_int(privilege_user_ids("nobody", &uid, &gid), 0,
	       "privilege_user_ids knows nobody");
	ok(uid == nobody_uid && gid == nobody_gid,
	   "with its uid %lu and gid %lu", (unsigned long)uid,
	   (unsigned long)gid);
	is_int(privilege_user_ids("no-such-user-h2x", &uid, &gid), -1,
	       "an unknown user is -1");
}

static void
test_chroot(void)
{
	char marker[96];
	int fd;

	snprintf(chroot_dir, sizeof(chroot_dir), "/tmp/h2-priv-XXXXXX");
	if (mkdtemp(chroot_dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(marker, sizeof(marker), "%s/marker", chroot_dir);
	fd = open(marker, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	chmod(chroot_dir, 0755);
	report(run_child(drop_chroot), "privilege_drop with chroot");
	unlink(marker);
	rmdir(chroot_dir);
}

int
main(void)
{
	struct passwd *pw = getpwnam("nobody");
	int status;

	if (pw == NULL) {
		printf("1..0 # SKIP no user nobody\n");
		return 0;
	}
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	test_user_ids();
	if (geteuid() != 0) {
		skip(3 * (NCHECKS + 1) + 2, "not root");
		return done_testing();
	}
	report(run_child(drop_ids), "privilege_drop_ids");
	report(run_child(drop_ids_extra), "privilege_drop_ids with extra gid");
	test_chroot();
	status = run_child(drop_to_root);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	   "privilege_drop_ids to uid 0 is fatal (status %#x)", status);
	status = run_child(drop_to_root_user);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	   "privilege_drop to root is fatal (status %#x)", status);
	return done_testing();
}
