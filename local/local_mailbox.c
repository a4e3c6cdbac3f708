/*
 * local_mailbox: where a user's mailbox is (home_mailbox: a Maildir or an
 * mbox below the home directory; else USER in mail_spool_directory) and
 * where a /file target is, handed to the Maildir and mbox writers.  The
 * paths below home belong to the user.  Runs in local's delivery child,
 * already running as the user (never root).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "params.h"

/* An mbox in a directory: the spool, or one below the home directory. */
static int
mailbox_mbox(const struct local_job *job, int dirfd, const char *name,
	     const struct local_msg *msg, struct local_result *r)
{
	struct local_mbox mb = {
	    dirfd,         name,
	    job->user.uid, (off_t)param_int("mailbox_size_limit"),
	    job->rcpt,     "mailbox"};

	return local_mbox_deliver(&mb, msg, r);
}

/* An mbox in a directory below home ("Mail/inbox"), as the user. */
static void
mailbox_mbox_below(const struct local_job *job, int homefd, const char *hm,
		   const char *slash, const struct local_msg *msg,
		   struct local_result *r)
{
	size_t n = (size_t)(slash - hm);
	char dir[PATH_MAX];
	int dirfd;

	if (n >= sizeof(dir)) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "home_mailbox %s is too long", hm);
		return;
	}
	memcpy(dir, hm, n);
	dir[n] = '\0';
	dirfd = openat(homefd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		local_result_set(r, LOCAL_DEFER, "4.2.0",
				 "mailbox directory %s: %s", dir,
				 strerror(errno));
		return;
	}
	(void)mailbox_mbox(job, dirfd, slash + 1, msg, r);
	close(dirfd);
}

/* home_mailbox: a Maildir (ending in '/') or an mbox below home. */
static void
mailbox_in_home(const struct local_job *job, const char *hm,
		const struct local_msg *msg, struct local_result *r)
{
	const char *slash = strrchr(hm, '/');
	int homefd;

	if (hm[0] == '/' || strstr(hm, "..") != NULL) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "home_mailbox %s must be a relative path "
				 "without ..",
				 hm);
		return;
	}
	homefd = open(job->user.home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (homefd < 0) {
		local_result_set(r, LOCAL_DEFER, "4.2.0",
				 "home directory %s: %s", job->user.home,
				 strerror(errno));
		return;
	}
	if (slash == NULL)
		(void)mailbox_mbox(job, homefd, hm, msg, r);
	else if (slash[1] == '\0')
		(void)local_maildir_deliver(homefd, hm, msg, job->rcpt, r);
	else
		mailbox_mbox_below(job, homefd, hm, slash, msg, r);
	close(homefd);
}

void
local_mailbox_deliver(const struct local_job *job, const struct local_msg *msg,
		      struct local_result *r)
{
	const char *hm = param_str("home_mailbox");
	const char *spool = param_str("mail_spool_directory");
	int dirfd;

	if (hm[0] != '\0') {
		mailbox_in_home(job, hm, msg, r);
		return;
	}
	dirfd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "mail_spool_directory %s: %s", spool,
				 strerror(errno));
		return;
	}
	(void)mailbox_mbox(job, dirfd, job->user.name, msg, r);
	close(dirfd);
}

/* A /file target: appended like an mbox, any owner, as this user. */
void
local_file_deliver(const struct local_job *job, const struct local_msg *msg,
		   struct local_result *r)
{
	char dir[PATH_MAX], what[PATH_MAX + 8];
	const char *slash = strrchr(job->target, '/');
	struct local_mbox mb = {
	    -1,        slash ? slash + 1 : "",
	    (uid_t)-1, (off_t)param_int("mailbox_size_limit"),
	    job->rcpt, what};

	snprintf(what, sizeof(what), "file: %s", job->target);
	if (slash == NULL || slash[1] == '\0' ||
	    (size_t)(slash - job->target) + 2 > sizeof(dir)) {
		local_result_set(r, LOCAL_BOUNCE, "5.3.0", "bad file name %s",
				 job->target);
		return;
	}
	strlcpy(dir, job->target, (size_t)(slash - job->target) + 2);
	mb.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mb.dirfd < 0) {
		local_result_set(r, LOCAL_DEFER, "4.2.0", "directory %s: %s",
				 dir, strerror(errno));
		return;
	}
	(void)local_mbox_deliver(&mb, msg, r);
	close(mb.dirfd);
}
