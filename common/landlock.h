/*
 * landlock: confine what a process may open in the file system with
 * Linux's Landlock (5.13 and later), under its uid drop and seccomp
 * filter.  Used by local's resolver and delivery children.  After
 * landlock_confine() the process may open files and directories only
 * beneath the granted paths, with the access granted there; descriptors it
 * already holds keep working.  It also loses TCP bind and connect (Landlock
 * ABI 4) and the right to signal processes or reach abstract UNIX sockets
 * outside its own domain (ABI 6), where the kernel knows them.
 */
#ifndef MOAT_LANDLOCK_H
#define MOAT_LANDLOCK_H

#include <stddef.h>

enum landlock_grant {
	LANDLOCK_GRANT_READ,  /* read files, list directories */
	LANDLOCK_GRANT_WRITE, /* that, and create, write, truncate, rename and
				 remove regular files and directories */
};

struct landlock_path {
	const char *path; /* a directory; one that does not exist is skipped */
	enum landlock_grant grant;
};

/*
 * Confine the calling process to paths[0..n) (n = 0: no file system at
 * all).  Sets PR_SET_NO_NEW_PRIVS first.  0 when enforced; 1 when the
 * kernel has no Landlock, or only ABI 1 and a write grant (ABI 1 cannot
 * allow a rename between directories, which Maildir needs): nothing
 * changes; -1 with errno on failure.
 */
int landlock_confine(const struct landlock_path *paths, size_t n);
/*
 * Confine the calling thread and the threads it starts later to TCP
 * connects to ports[0..n) (its resolvers') and no TCP bind, leaving the
 * file system alone: 0 when enforced, 1 when the kernel has no Landlock
 * network rules (ABI < 4), -1 with errno on failure.  Sets
 * PR_SET_NO_NEW_PRIVS first.  UDP and UNIX sockets are not Landlock's.
 */
int landlock_confine_tcp(const unsigned short *ports, size_t n);
/* The running kernel's Landlock ABI version; 0 when it has none. */
int landlock_abi(void);

#endif
