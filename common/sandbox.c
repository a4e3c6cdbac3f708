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
