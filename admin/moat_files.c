/*
 * moat_files: the files and directories `moat init` creates, with their
 * owners and modes: the spool tree comes from the one list in spool.h.
 * Nothing is followed through a symbolic link; an existing directory gets
 * its owner and mode fixed.  Input: paths built from the administrator's
 * instance directory.  Runs in the moat command (as root).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat.h"
#include "params.h"
#include "spool.h"

int
moat_write_file(const char *path, const void *text, size_t len, mode_t mode)
{
	const char *p = text;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0) {
		moat_error("create %s: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	if (len > 0 || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		moat_error("write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return close(fd);
}

int
moat_owner_ids(const char *owner, const char *group, uid_t *uid, gid_t *gid)
{
	const char *user =
	    strcmp(owner, "$mail_owner") == 0 ? param_str("mail_owner") : owner;
	const char *gname =
	    strcmp(group, "$mail_owner") == 0 ? param_str("mail_owner") : group;
	struct passwd *pw = getpwnam(user);
	struct group *gr;

	if (pw == NULL) {
		moat_error("unknown user %s", user);
		return -1;
	}
	*uid = pw->pw_uid;
	if (strcmp(group, "$mail_owner") == 0) {
		*gid = pw->pw_gid;
		return 0;
	}
	if ((gr = getgrnam(gname)) == NULL) {
		moat_error("unknown group %s", gname);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

int
moat_mkdir(const char *path, mode_t mode, const char *owner, const char *group)
{
	uid_t uid;
	gid_t gid;
	int fd;

	if (moat_owner_ids(owner, group, &uid, &gid) != 0)
		return -1;
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		moat_error("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		moat_error("%s: %s", path, strerror(errno));
		return -1;
	}
	/* Owner first: fchown clears the set-id bits that fchmod sets. */
	if (fchown(fd, uid, gid) != 0 || fchmod(fd, mode) != 0) {
		moat_error("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return close(fd);
}

static int
moat_subdir(const char *top, const char *name, mode_t mode, const char *owner,
	    const char *group)
{
	char path[4096];
	int n;

	if (strcmp(name, ".") == 0)
		n = snprintf(path, sizeof(path), "%s", top);
	else
		n = snprintf(path, sizeof(path), "%s/%s", top, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		moat_error("%s: path too long", top);
		return -1;
	}
	return moat_mkdir(path, mode, owner, group);
}

int
moat_init_dirs(const char *dir, const char *queue_dir)
{
	size_t i;

	if (moat_subdir(dir, "log", 0755, "root", "root") != 0 ||
	    moat_subdir(dir, "mail", 01777, "root", "root") != 0)
		return -1;
	for (i = 0; i < spool_layout_count; i++)
		if (moat_subdir(queue_dir, spool_layout[i].name,
				spool_layout[i].mode, spool_layout[i].owner,
				spool_layout[i].group) != 0)
			return -1;
	return 0;
}
