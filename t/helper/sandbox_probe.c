/*
 * sandbox_probe: a test-only daemon on the server skeleton, never
 * installed, that makes a forbidden system call on request, so that
 * t/integration/74-seccomp.t can see a real seccomp kill travel from the
 * kernel to the master's log and `moat status`, without a backdoor in any
 * real daemon.  master.conf runs it as
 *
 *   private/probe unix moat-smtpd y 1 sandbox_probe PROFILE
 *
 * It enters sandbox PROFILE (a name as `PROG -S` prints it, smtpd when
 * none), accepts one client at a time, reads one word and answers: "ping"
 * gets "pong"; "execve" makes that call, which the profile forbids.
 * Hostile input: none (a test's words); runs only in the test suite.
 */
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

static struct server_stance probe_stance = {
    .user = "moat-smtpd",
    .chroot = 1,
    .sandbox = SANDBOX_SMTPD,
    .peers = NULL,
};

static void
probe_pre_drop(int argc, char **argv)
{
	int p;

	for (p = 0; argc > 0 && p < SANDBOX_PROFILE_COUNT; p++)
		if (strcmp(argv[0], sandbox_profile_name(p)) == 0)
			break;
	if (argc > 0 && p == SANDBOX_PROFILE_COUNT)
		log_fatal("unknown sandbox profile %s", argv[0]);
	if (argc > 0)
		probe_stance.sandbox = p;
}

static void
probe_serve(int fd)
{
	char word[16] = {0};
	char *argv[] = {(char *)"true", NULL}, *envp[] = {NULL};

	if (read(fd, word, sizeof(word) - 1) <= 0)
		return;
	if (strncmp(word, "ping", 4) == 0)
		(void)!write(fd, "pong\n", 5);
	else if (strncmp(word, "execve", 6) == 0)
		execve("/bin/true", argv, envp);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &probe_stance,
	    .pre_drop = probe_pre_drop,
	    .serve = probe_serve,
	};

	return single_server_main(argc, argv, &ops);
}
