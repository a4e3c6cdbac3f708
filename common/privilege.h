/*
 * privilege: the one path by which a process gives up root.  Used by every
 * daemon (through server.c) and by local's delivery children.
 *
 * privilege_drop: look up user, optionally chroot to dir (after tzset and
 * anything else that needs files outside), then setgroups to the user's
 * primary group only, setresgid, setresuid, and prove that setuid(0) now
 * fails; finally PR_SET_NO_NEW_PRIVS.  Refuses uid 0 as a target.  Any
 * failure is fatal: a daemon that cannot drop must not run.
 */
#ifndef MOAT_PRIVILEGE_H
#define MOAT_PRIVILEGE_H

#include <sys/types.h>

/*
 * chroot_dir NULL: no chroot.  Otherwise chdir(chroot_dir), chroot("."),
 * chdir("/"): a relative name works, and the server skeleton passes "."
 * after changing to queue_directory.
 */
void privilege_drop(const char *user, const char *chroot_dir);
/*
 * Drop to a uid/gid pair (local's per-recipient child), keeping extra_gid
 * as the only supplementary group unless it is (gid_t)-1 (the group of a
 * group-writable mail spool such as Debian's /var/mail).  Refuses uid 0.
 * Fatal on failure.
 */
void privilege_drop_ids(uid_t uid, gid_t gid, gid_t extra_gid);
/* Look up a user's uid and gid; -1 when unknown. */
int privilege_user_ids(const char *user, uid_t *uid, gid_t *gid);

#endif
