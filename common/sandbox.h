/*
 * sandbox: each daemon's system call allowlist (seccomp, via libseccomp).
 * The server skeleton calls sandbox_enter() right after privilege_drop()
 * and before the first byte from a client, then sandbox_verify(); local's
 * delivery child does the same after privilege_drop_ids.  A profile is a
 * list of allowed calls, some narrowed by their arguments (socket families,
 * open flags, signals only to itself); anything else kills the whole
 * process (SECCOMP_RET_KILL_PROCESS), and the master logs the call's name.
 * SANDBOX_NONE (the master, local's root parent) sets only
 * PR_SET_NO_NEW_PRIVS.  The tables are in sandbox_profiles.c, which also
 * says how to add a profile.
 */
#ifndef MOAT_SANDBOX_H
#define MOAT_SANDBOX_H

struct buf;

enum sandbox_profile {
	SANDBOX_NONE, /* local's root parent, the master */
	SANDBOX_SMTPD,
	SANDBOX_CLEANUP,
	SANDBOX_QMGR,
	SANDBOX_LOCAL_CHILD,
	SANDBOX_PICKUP,
	SANDBOX_ANVIL,
	SANDBOX_LOCAL_COMMAND, /* local's child feeding a |command */
	SANDBOX_LOGD,
	SANDBOX_LOCAL_RESOLVER, /* local's resolver, as moat-local */
	SANDBOX_RCPTMAP,
	SANDBOX_REMOTE,
	SANDBOX_TLSSIGN,
	SANDBOX_AUTH,
	SANDBOX_SCREEN,
	/* New profiles go here, at the end (see sandbox_profiles.c). */
	SANDBOX_PROFILE_COUNT
};

/*
 * PR_SET_NO_NEW_PRIVS, then the profile's filter; fatal on failure.  The
 * filter lasts for the life of the process and its children.
 */
void sandbox_enter(enum sandbox_profile profile);
/*
 * 0 when the process is what the profile promises: NO_NEW_PRIVS set and,
 * unless SANDBOX_NONE, a seccomp filter on (PR_GET_SECCOMP is 2); else -1
 * with the reason in why.
 */
int sandbox_verify(enum sandbox_profile profile, struct buf *why);
/* The profile's name as `PROG -S` and moat audit print it ("smtpd"). */
const char *sandbox_profile_name(enum sandbox_profile profile);
/* How many calls (table rows) a profile allows; 0 for SANDBOX_NONE. */
unsigned sandbox_profile_size(enum sandbox_profile profile);

#endif
