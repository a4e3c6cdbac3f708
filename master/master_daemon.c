/*
 * master_daemon: detach from the terminal and hold the pid file lock.
 * The parent of the fork waits on a pipe until the daemon says "ok" after
 * it locked the pid file and opened every listener, so `moat start` sees
 * a failure (already running, port in use) in the exit status and on its
 * terminal, which is still the daemon's stderr until then.  The lock is an
 * fcntl lock on queue_directory/pid/master.pid held for the master's life;
 * `moat status` and `moat stop` ask F_GETLK who holds it.  No input.
 * Runs in the master.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

static int master_pid_fd = -1;

/* Returns, in the daemon, the fd to report readiness on. */
int
master_daemonize(void)
{
	char answer[2];
	size_t got = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		log_fatal("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		if (setsid() < 0)
			log_fatal("setsid: %s", strerror(errno));
		return p[1];
	}
	close(p[1]);
	while (got < sizeof(answer)) {
		n = read(p[0], answer + got, sizeof(answer) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == sizeof(answer) && memcmp(answer, "ok", 2) == 0)
		_exit(0);
	/* The daemon printed its reason on our shared stderr. */
	(void)waitpid(pid, &status, 0);
	_exit(1);
}

void
master_daemon_ready(int fd)
{
	if (write(fd, "ok", 2) != 2)
		log_warn("start-up pipe: %s", strerror(errno));
	close(fd);
}

void
master_pid_lock(void)
{
	struct flock fl;
	struct stat st;
	char text[32];
	int fd, n;

	fd = open(MASTER_PID_FILE,
		  O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		log_fatal("open %s: %s", MASTER_PID_FILE, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
		log_fatal("%s is not a regular file owned by root",
			  MASTER_PID_FILE);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		if (errno != EAGAIN && errno != EACCES)
			log_fatal("lock %s: %s", MASTER_PID_FILE,
				  strerror(errno));
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			log_fatal("the mail system is already running (pid "
				  "%ld)",
				  (long)fl.l_pid);
		log_fatal("the mail system is already running");
	}
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || n < 0 ||
	    pwrite(fd, text, (size_t)n, 0) != n)
		log_fatal("write %s: %s", MASTER_PID_FILE, strerror(errno));
	/* Closing any descriptor of this file would drop the lock: keep it. */
	master_pid_fd = fd;
}

/* At stop, still holding the lock. */
void
master_pid_remove(void)
{
	if (master_pid_fd >= 0 && unlink(MASTER_PID_FILE) != 0)
		log_warn("unlink %s: %s", MASTER_PID_FILE, strerror(errno));
}
