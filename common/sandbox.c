/*
 * sandbox: the seam where each daemon's system call allowlist goes.  Called
 * by the server skeleton after privilege_drop() and before the first byte
 * from a client; no input at all.  Today it only sets PR_SET_NO_NEW_PRIVS,
 * so nothing exec'd later can gain privileges through a set-id file.
 * XXX no seccomp filter is installed yet: the per-profile libseccomp
 * allowlists are a later issue; this function is where they go.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include "log.h"
#include "sandbox.h"

void
sandbox_enter(enum sandbox_profile profile)
{
	(void)profile;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_fatal("sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
}

const char *
sandbox_profile_name(enum sandbox_profile profile)
{
	static const char *const names[] = {
	    [SANDBOX_NONE] = "none",
	    [SANDBOX_SMTPD] = "smtpd",
	    [SANDBOX_CLEANUP] = "cleanup",
	    [SANDBOX_QMGR] = "qmgr",
	    [SANDBOX_LOCAL_CHILD] = "local-child",
	    [SANDBOX_PICKUP] = "pickup",
	    [SANDBOX_ANVIL] = "anvil",
	    [SANDBOX_REMOTE] = "remote",
	};

	if ((unsigned)profile >= sizeof(names) / sizeof(names[0]) ||
	    names[profile] == NULL)
		return "unknown";
	return names[profile];
}
