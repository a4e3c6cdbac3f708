/*
 * server_stance: the skeleton's enforcement of a daemon's declared stance
 * (server.h): the master's -u and -r must agree with it before anything
 * is opened, and after the drop the process must be what it says before
 * it reads a byte of input, its seccomp filter on.  `PROG -S` prints it
 * as name=value lines.
 * Input: the master's arguments and the root-owned configuration; nothing
 * hostile.  Runs in every daemon, in server_setup().
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "params.h"
#include "server.h"
#include "server_state.h"

const char *
server_stance_user(const struct server_stance *st)
{
	const char *v;

	if (st->user[0] != '$')
		return st->user;
	if (param_find(st->user + 1) == NULL)
		return NULL;
	v = param_str(st->user + 1);
	return v[0] != '\0' ? v : NULL;
}

void
server_stance_check_args(const struct server_stance *st, const char *service,
			 const char *user, int chroot)
{
	const char *want = server_stance_user(st);

	if (want == NULL)
		log_fatal("service=%s: the stance names user %s, which is not "
			  "set",
			  service, st->user);
	if (strcmp(user, want) != 0)
		log_fatal("service=%s: master.conf runs it as %s, but its "
			  "stance is user %s: refusing to start",
			  service, user, want);
	if (chroot != st->chroot)
		log_fatal("service=%s: master.conf says chroot %s, but its "
			  "stance is chroot %s: refusing to start",
			  service, chroot ? "y" : "n", st->chroot ? "y" : "n");
}

/* The ids must all be uid/gid, and the groups only gid (or none). */
static void
server_stance_check_ids(const char *service, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[8];
	int n, i;

	if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid ||
	    su != uid)
		log_fatal("service=%s: running as uid %lu/%lu/%lu, not the "
			  "stance's %lu: refusing to serve",
			  service, (unsigned long)ru, (unsigned long)eu,
			  (unsigned long)su, (unsigned long)uid);
	if (getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid ||
	    sg != gid)
		log_fatal("service=%s: running as gid %lu/%lu/%lu, not the "
			  "stance's %lu: refusing to serve",
			  service, (unsigned long)rg, (unsigned long)eg,
			  (unsigned long)sg, (unsigned long)gid);
	if (uid == 0)
		return; /* root keeps what the master gave it */
	n = getgroups(8, groups);
	if (n < 0)
		log_fatal("service=%s: getgroups: %s", service,
			  strerror(errno));
	for (i = 0; i < n; i++)
		if (groups[i] != gid)
			log_fatal("service=%s: keeps supplementary group %lu: "
				  "refusing to serve",
				  service, (unsigned long)groups[i]);
}

/*
 * After the drop: ids and groups are the stance user's (uid and gid,
 * looked up before the chroot), and "/" is the spool (whose identity
 * spool_st was taken before the chroot) exactly when the stance says
 * chroot.
 */
void
server_stance_verify(const struct server_stance *st, const char *service,
		     uid_t uid, gid_t gid, const struct stat *spool_st)
{
	struct stat root;
	int chrooted;

	server_stance_check_ids(service, uid, gid);
	if (stat("/", &root) != 0)
		log_fatal("service=%s: stat /: %s", service, strerror(errno));
	chrooted =
	    root.st_dev == spool_st->st_dev && root.st_ino == spool_st->st_ino;
	if (chrooted != st->chroot)
		log_fatal("service=%s: the root directory is %s the spool, "
			  "against its stance: refusing to serve",
			  service, chrooted ? "" : "not");
}

/* After sandbox_enter: the filter must be on, as the stance says. */
void
server_stance_verify_sandbox(const struct server_stance *st,
			     const char *service)
{
	struct buf why = BUF_INIT;

	if (sandbox_verify(st->sandbox, &why) != 0)
		log_fatal("service=%s: sandbox %s: %s: refusing to serve",
			  service, sandbox_profile_name(st->sandbox),
			  buf_cstr(&why));
	buf_free(&why);
}

void
server_stance_print(const struct server_stance *st, const char *program)
{
	const char *const *p;
	const char *slash = strrchr(program, '/');

	printf("program=%s\n", slash != NULL ? slash + 1 : program);
	printf("user=%s\n", st->user);
	printf("chroot=%s\n", st->chroot ? "y" : "n");
	printf("sandbox=%s\n", sandbox_profile_name(st->sandbox));
	printf("peers=");
	if (st->peers == NULL)
		printf("*");
	for (p = st->peers; p != NULL && *p != NULL; p++)
		printf("%s%s", p == st->peers ? "" : ",", *p);
	printf("\n");
	if (st->pass_peers != NULL) {
		printf("pass_peers=");
		for (p = st->pass_peers; *p != NULL; p++)
			printf("%s%s", p == st->pass_peers ? "" : ",", *p);
		printf("\n");
	}
	fflush(stdout);
}
