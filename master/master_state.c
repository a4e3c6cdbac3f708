/*
 * master_state: how a child died, said in the log and kept for `moat
 * status`.  A death by SIGSYS is a seccomp kill when the kernel's audit
 * record names the call (master_seccomp.c); without a record the line says
 * so rather than guess.  The last failure of each service, its time and
 * the time of the next start go to MASTER_STATE_FILE (pid/master.state,
 * root's, 0644), rewritten whole through a temporary file and rename(2),
 * so a reader sees the old file or the new one:
 *
 *   moat-state 1
 *   SERVICE <TAB> COMMAND <TAB> FAILED_AT <TAB> RESTART_AT <TAB> HOW
 *
 * (times in seconds since the epoch; HOW as in the log, "killed by seccomp
 * (execve, system call 59)").  Input: exit statuses and kernel records;
 * the names come from the root-owned master.conf, and control bytes and
 * tabs are replaced anyway.  Runs in the master.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "master.h"

#define MASTER_STATE_TMP MASTER_STATE_FILE ".tmp"

/* A death in words, for the log and moat status. */
static void
master_death_text(pid_t pid, int status, char *text, size_t size)
{
	char call[64];
	long nr;

	if (WIFEXITED(status))
		snprintf(text, size, "exit status %d", WEXITSTATUS(status));
	else if (WTERMSIG(status) != SIGSYS)
		snprintf(text, size, "killed by signal %d", WTERMSIG(status));
	else if (master_seccomp_lookup(pid, call, sizeof(call), &nr) == 0)
		snprintf(text, size, "killed by seccomp (%s, system call %ld)",
			 call, nr);
	else
		snprintf(text, size,
			 "killed by signal %d (SIGSYS) with no seccomp audit "
			 "record in /dev/kmsg: the system call is unknown",
			 SIGSYS);
}

/* Tabs, newlines and other control bytes would break a line: spaces. */
static void
master_state_field(struct buf *b, const char *s, char end)
{
	for (; *s != '\0'; s++)
		buf_append_char(b, (unsigned char)*s < 0x20 ? ' ' : *s);
	buf_append_char(b, end);
}

static void
master_state_write(void)
{
	struct buf b = BUF_INIT;
	struct master_service *s;
	int fd;

	buf_append_str(&b, "moat-state 1\n");
	for (s = master_services(); s != NULL; s = s->next) {
		if (s->failed_at == 0 || s->removed)
			continue;
		master_state_field(&b, s->svc.name, '\t');
		master_state_field(&b, s->svc.command, '\t');
		buf_printf(&b, "%lld\t%lld\t", s->failed_at, s->restart_at);
		master_state_field(&b, s->failure, '\n');
	}
	fd = open(MASTER_STATE_TMP,
		  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len ||
	    fchmod(fd, 0644) != 0 || close(fd) != 0 ||
	    rename(MASTER_STATE_TMP, MASTER_STATE_FILE) != 0) {
		log_warn("%s: %s", MASTER_STATE_FILE, strerror(errno));
		(void)unlink(MASTER_STATE_TMP);
	}
	buf_free(&b);
}

void
master_state_death(const struct master_child *c, int status, int failed)
{
	struct master_service *s = c->svc;
	char text[sizeof(s->failure)];
	long long wait_ms;

	if (!failed)
		return;
	master_death_text(c->pid, status, text, sizeof(text));
	log_warn("process %s pid %ld %s", c->path, (long)c->pid, text);
	if (s->removed)
		return;
	wait_ms = s->throttle_until - event_now_ms();
	snprintf(s->failure, sizeof(s->failure), "%s", text);
	s->failed_at = (long long)time(NULL);
	s->restart_at =
	    s->failed_at + (wait_ms > 0 ? (wait_ms + 999) / 1000 : 0);
	master_state_write();
}

void
master_state_remove(void)
{
	if (unlink(MASTER_STATE_FILE) != 0 && errno != ENOENT)
		log_warn("unlink %s: %s", MASTER_STATE_FILE, strerror(errno));
}
