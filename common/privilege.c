/*
 * privilege: give up root for good.  Every daemon goes through here (via
 * server.c) before it reads a byte from a client, and local's delivery
 * children before they open anything a user controls.  Input: the user
 * name from master.conf (root-owned) or a uid/gid from the password
 * database; nothing hostile.  Any failure is fatal: a process that cannot
 * prove it dropped must not run.
 *
 * Contract of the chroot: privilege_drop(user, dir) does chdir(dir),
 * chroot("."), chdir("/"), so dir may be relative; the server skeleton
 * changes to queue_directory first and passes ".".
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privilege.h"

#define PRIVILEGE_PW_BUF 16384 /* one passwd entry, with room */

/*
 * In a buffer of our own, wiped afterwards: the lookup leaves no lines of
 * the password file behind in a daemon's memory (smtpd keeps none).
 */
int
privilege_user_ids(const char *user, uid_t *uid, gid_t *gid)
{
	char buf[PRIVILEGE_PW_BUF];
	struct passwd pwbuf, *pw = NULL;
	int rc;

	rc = getpwnam_r(user, &pwbuf, buf, sizeof(buf), &pw);
	if (rc == 0 && pw != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&pwbuf, sizeof(pwbuf));
	if (pw == NULL) {
		errno = rc;
		return -1;
	}
	return 0;
}

/* Prove the drop: every id is the target and root cannot come back. */
static void
privilege_verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid ||
	    su != uid)
		log_fatal("privilege: uid is not %lu after the drop",
			  (unsigned long)uid);
	if (getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid ||
	    sg != gid)
		log_fatal("privilege: gid is not %lu after the drop",
			  (unsigned long)gid);
	if (setuid(0) != -1)
		log_fatal("privilege: setuid(0) succeeded after the drop");
	/* A gid of 0 is the process's own gid: setgid(0) would succeed. */
	if (gid != 0 && setgid(0) != -1)
		log_fatal("privilege: setgid(0) succeeded after the drop");
}

static void
privilege_set_ids(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	if (uid == 0)
		log_fatal("privilege: refusing to run as uid 0");
	if (setgroups(ngroups, groups) != 0)
		log_fatal("privilege: setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid) != 0)
		log_fatal("privilege: setresgid(%lu): %s", (unsigned long)gid,
			  strerror(errno));
	if (setresuid(uid, uid, uid) != 0)
		log_fatal("privilege: setresuid(%lu): %s", (unsigned long)uid,
			  strerror(errno));
	privilege_verify(uid, gid);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_fatal("privilege: PR_SET_NO_NEW_PRIVS: %s",
			  strerror(errno));
}

void
privilege_drop(const char *user, const char *chroot_dir)
{
	uid_t uid;
	gid_t gid;

	if (privilege_user_ids(user, &uid, &gid) != 0)
		log_fatal("privilege: unknown user %s", user);
	if (uid == 0)
		log_fatal("privilege: refusing to drop to %s: uid 0", user);
	/* Time zone data lives outside the chroot: load it now. */
	tzset();
	if (chroot_dir != NULL) {
		if (chdir(chroot_dir) != 0)
			log_fatal("privilege: chdir %s: %s", chroot_dir,
				  strerror(errno));
		if (chroot(".") != 0)
			log_fatal("privilege: chroot %s: %s", chroot_dir,
				  strerror(errno));
		if (chdir("/") != 0)
			log_fatal("privilege: chdir / in chroot: %s",
				  strerror(errno));
	}
	privilege_set_ids(uid, gid, &gid, 1);
}

void
privilege_drop_ids(uid_t uid, gid_t gid, gid_t extra_gid)
{
	gid_t groups[2] = {gid, extra_gid};

	privilege_set_ids(uid, gid, groups, extra_gid == (gid_t)-1 ? 1 : 2);
}
