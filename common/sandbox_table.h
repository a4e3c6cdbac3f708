/*
 * sandbox_table: the shape of the allowlists in sandbox_profiles.c, read by
 * sandbox.c, which turns them into a libseccomp filter.  Private to those
 * two files (and the unit test).
 */
#ifndef MOAT_SANDBOX_TABLE_H
#define MOAT_SANDBOX_TABLE_H

#include <stddef.h>

#include "sandbox.h"

/* What a rule allows of a call's arguments (sandbox.c: sandbox_conds). */
enum sandbox_arg {
	SB_ANY,        /* any arguments */
	SB_SELF,       /* arg0 is the process's own pid: kill, tgkill */
	SB_NOEXEC,     /* arg2 (prot) without PROT_EXEC: mmap, mprotect */
	SB_UNIX,       /* socket(AF_UNIX, ...) */
	SB_INET,       /* socket(AF_INET or AF_INET6, ...): remote's */
	SB_INET_TCP,   /* socket(AF_INET or AF_INET6, SOCK_STREAM): TCP only */
	SB_OPEN_READ,  /* openat read-only: no write access, create, truncate */
	SB_OPEN_RW,    /* openat of an existing file: no create, truncate */
	SB_OPEN_NEW,   /* openat O_WRONLY|O_CREAT|O_EXCL: a new file only */
	SB_FCNTL,      /* fcntl: descriptor and status flags only */
	SB_FCNTL_LOCK, /* fcntl: record locks (F_GETLK, F_SETLK, F_SETLKW) */
	SB_PRCTL_GET,  /* prctl: PR_GET_SECCOMP, PR_GET_NO_NEW_PRIVS */
	SB_THREAD,     /* clone with CLONE_THREAD: a thread, never a process */
	SB_ENOSYS,     /* not allowed, but fails with ENOSYS instead of
			  killing: clone3, so that glibc falls back to clone,
			  whose flags a filter can read */
	SB_OPEN_NOTRUNC, /* openat that may create and write, never
			    truncate, append or make a tmpfile: LMDB's */
};

struct sandbox_rule {
	int nr; /* SCMP_SYS(name); SANDBOX_END's -1 ends a table */
	enum sandbox_arg arg;
};

#define SANDBOX_GROUPS_MAX 7

/* A profile: its name and the tables (groups of rules) it allows. */
struct sandbox_def {
	const char *name;
	const struct sandbox_rule *groups[SANDBOX_GROUPS_MAX]; /* NULL-ended */
};

extern const struct sandbox_def sandbox_defs[SANDBOX_PROFILE_COUNT];

#endif
