/*
 * master_signal: the master's signals arrive through a signalfd that the
 * main loop polls, so no work is done in a signal handler.  SIGCHLD: reap;
 * SIGHUP: reload; SIGTERM and SIGINT: stop.  Children get every signal
 * back at its default and an empty mask before exec.  No input but the
 * kernel's.  Runs in the master.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

static void
master_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

int
master_signal_init(void)
{
	sigset_t set;
	int fd;

	master_signal_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	return fd;
}

/* The signals that arrived, as MASTER_SIG_* bits; *term_sig: which stop. */
unsigned
master_signal_read(int fd, int *term_sig)
{
	struct signalfd_siginfo si[16];
	unsigned bits = 0;
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(fd, si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			switch (si[i].ssi_signo) {
			case SIGCHLD:
				bits |= MASTER_SIG_CHLD;
				break;
			case SIGHUP:
				bits |= MASTER_SIG_HUP;
				break;
			case SIGTERM:
			case SIGINT:
				bits |= MASTER_SIG_TERM;
				*term_sig = (int)si[i].ssi_signo;
				break;
			}
		}
	}
	return bits;
}

/* In a forked child, before exec. */
void
master_signal_child_reset(void)
{
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}
