/*
 * landlock: the file system confinement of local's unprivileged processes
 * (landlock.h), through the three Landlock system calls (glibc has no
 * wrappers).  Every access right the running kernel knows is handled, so a
 * right that is not granted is denied; newer rights are used only when the
 * kernel reports the ABI that has them.  Input: paths from the root-owned
 * configuration and the password database, opened O_PATH only to name
 * them to the kernel.  Runs in local's resolver and delivery children,
 * after the uid drop and before the seccomp filter.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"

/* Rights of ABIs newer than some kernel headers. */
#define LL_FS_REFER (1ULL << 13)     /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

#define LL_FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_FS_WRITE                                                            \
	(LL_FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE |                          \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |      \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |           \
	 LL_FS_REFER | LL_FS_TRUNCATE)
#define LL_FS_FILE_RIGHTS                                                      \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |          \
	 LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* struct landlock_ruleset_attr as of ABI 6; older ABIs take a prefix. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int
landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
			 LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

/* Every file system right the kernel's ABI knows. */
static uint64_t
ll_fs_handled(int abi)
{
	uint64_t fs = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */

	if (abi >= 2)
		fs |= LL_FS_REFER;
	if (abi >= 3)
		fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LL_FS_IOCTL_DEV;
	return fs;
}

static int
ll_add_path(int ruleset, const struct landlock_path *p, uint64_t handled)
{
	struct landlock_path_beneath_attr rule;
	struct stat st;
	int fd = open(p->path, O_PATH | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	rule.parent_fd = fd;
	rule.allowed_access =
	    (p->grant == LANDLOCK_GRANT_WRITE ? LL_FS_WRITE : LL_FS_READ) &
	    handled;
	/* A rule on a file may hold only the rights that apply to files. */
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		rule.allowed_access &= LL_FS_FILE_RIGHTS;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
			  LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * Enter the ruleset when its rules were all added (ok): 0, or -1 with
 * errno.  The ruleset's descriptor is closed either way.
 */
static int
ll_enforce(int ruleset, int ok)
{
	int saved;

	if (ok && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	    syscall(SYS_landlock_restrict_self, ruleset, 0) == 0) {
		close(ruleset);
		return 0;
	}
	saved = errno;
	close(ruleset);
	errno = saved;
	return -1;
}

/* struct landlock_net_port_attr (ABI 4). */
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};
#define LL_RULE_NET_PORT 2

int
landlock_confine_tcp(const unsigned short *ports, size_t n)
{
	struct ll_ruleset_attr attr = {0, LL_NET_BIND_TCP | LL_NET_CONNECT_TCP,
				       0};
	struct ll_net_port_attr rule = {LL_NET_CONNECT_TCP, 0};
	int ruleset, ok = 1;

	if (landlock_abi() < 4)
		return 1;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr,
			       offsetof(struct ll_ruleset_attr, scoped), 0);
	if (ruleset < 0)
		return -1;
	for (size_t i = 0; i < n && ok; i++) {
		rule.port = ports[i];
		ok = syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT,
			     &rule, 0) == 0;
	}
	return ll_enforce(ruleset, ok);
}

int
landlock_confine(const struct landlock_path *paths, size_t n)
{
	struct ll_ruleset_attr attr = {0, 0, 0};
	int abi = landlock_abi(), ruleset, ok = 1;
	size_t size = sizeof(attr.handled_access_fs);

	if (abi == 0)
		return 1;
	/* ABI 1 refuses every rename between directories (Maildir's). */
	for (size_t i = 0; abi == 1 && i < n; i++)
		if (paths[i].grant == LANDLOCK_GRANT_WRITE)
			return 1;
	attr.handled_access_fs = ll_fs_handled(abi);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size += sizeof(attr.handled_access_net);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size += sizeof(attr.scoped);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return -1;
	for (size_t i = 0; i < n && ok; i++)
		ok = ll_add_path(ruleset, &paths[i], attr.handled_access_fs) ==
		     0;
	return ll_enforce(ruleset, ok);
}
