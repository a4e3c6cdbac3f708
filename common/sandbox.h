/*
 * sandbox: the hook where each daemon installs its system call allowlist.
 * The server skeleton calls sandbox_enter() right after privilege_drop()
 * and before the first byte from a client.  Today it sets
 * PR_SET_NO_NEW_PRIVS and records the profile name; the seccomp allowlists
 * (libseccomp) per profile are a later issue.
 * XXX no seccomp filter is installed yet.
 */
#ifndef MOAT_SANDBOX_H
#define MOAT_SANDBOX_H

enum sandbox_profile {
	SANDBOX_NONE, /* local's root parent, the master */
	SANDBOX_SMTPD,
	SANDBOX_CLEANUP,
	SANDBOX_QMGR,
	SANDBOX_LOCAL_CHILD,
	SANDBOX_PICKUP,
	SANDBOX_ANVIL,
	SANDBOX_REMOTE,
};

/* Fatal on failure. */
void sandbox_enter(enum sandbox_profile profile);
/* The profile's name as `PROG -S` and moat audit print it ("smtpd"). */
const char *sandbox_profile_name(enum sandbox_profile profile);

#endif
