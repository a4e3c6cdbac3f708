/*
 * master_seccomp: which system call a child's seccomp filter killed it
 * for.  The wait status says only SIGSYS; the kernel's audit record says
 * the call.  Without an audit daemon the kernel prints that record to its
 * log, where root reads it from /dev/kmsg:
 *
 *   audit: type=1326 audit(...): ... pid=N comm="smtpd" exe="..." sig=31
 *   arch=c000003e syscall=59 compat=0 ip=0x... code=0x80000000
 *
 * The master opens /dev/kmsg at start, at its end, and reads it without
 * blocking, one record a read(2), before each fork and after a death by
 * SIGSYS; it keeps the last MASTER_SECCOMP_KEEP kill records.  Records read
 * before a child was forked are forgotten for its pid (a reused pid), so a
 * record found for a dead child is its own.  The kernel prints the record
 * a moment after the kill (kauditd), so a lookup waits up to
 * MASTER_SECCOMP_WAIT_MS; with an audit daemon running, the record goes to
 * it instead and the lookup finds nothing, which the caller says.
 * Input: kernel records; only the kernel and root write /dev/kmsg, but a
 * child picks its own comm and exe, which the kernel quotes or hex-encodes:
 * fields are matched only as whole space-separated words after the record
 * type.  Runs in the master.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "master.h"

#define MASTER_KMSG "/dev/kmsg"
#define MASTER_KMSG_RECORD 16384 /* more than the kernel's longest record */
#define MASTER_SECCOMP_KEEP 32
#define MASTER_SECCOMP_WAIT_MS 500
#define MASTER_AUDIT_SECCOMP "audit: type=1326 "

struct master_seccomp_record {
	pid_t pid; /* 0: empty slot */
	long nr;
	unsigned long arch;
};

static int kmsg_fd = -1;
static struct master_seccomp_record kmsg_kills[MASTER_SECCOMP_KEEP];
static unsigned kmsg_next;

void
master_seccomp_init(void)
{
	kmsg_fd = open(MASTER_KMSG, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0 && lseek(kmsg_fd, 0, SEEK_END) < 0) {
		close(kmsg_fd);
		kmsg_fd = -1;
	}
}

/* The value of the word "key=value" in text, as a number; -1: none. */
static int
master_record_field(const char *text, const char *key, int base,
		    unsigned long *value)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == text || p[-1] == ' ') && p[klen] == '=') {
			errno = 0;
			*value = strtoul(p + klen + 1, &end, base);
			if (errno == 0 && end != p + klen + 1 &&
			    (*end == ' ' || *end == '\n' || *end == '\0'))
				return 0;
			return -1;
		}
		p += klen;
	}
	return -1;
}

/* One kmsg record ("pri,seq,usec,flags;text"): keep it if a kill. */
static void
master_seccomp_parse(const char *rec)
{
	const char *text = strchr(rec, ';');
	unsigned long pid, nr, arch, sig;
	struct master_seccomp_record *k;

	if (text == NULL || strncmp(text + 1, MASTER_AUDIT_SECCOMP,
				    strlen(MASTER_AUDIT_SECCOMP)) != 0)
		return;
	text += 1 + strlen(MASTER_AUDIT_SECCOMP);
	if (master_record_field(text, "pid", 10, &pid) != 0 ||
	    master_record_field(text, "sig", 10, &sig) != 0 ||
	    master_record_field(text, "syscall", 10, &nr) != 0 ||
	    master_record_field(text, "arch", 16, &arch) != 0 || sig == 0 ||
	    pid == 0 || pid > 0x7fffffffUL || nr > 0xffffUL)
		return; /* sig=0: a logged call that was allowed */
	k = &kmsg_kills[kmsg_next++ % MASTER_SECCOMP_KEEP];
	k->pid = (pid_t)pid;
	k->nr = (long)nr;
	k->arch = arch;
}

void
master_seccomp_drain(void)
{
	static char rec[MASTER_KMSG_RECORD];
	ssize_t n;

	if (kmsg_fd < 0)
		return;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue; /* EPIPE: records were overwritten */
		if (n <= 0)
			return;
		rec[n] = '\0';
		master_seccomp_parse(rec);
	}
}

void
master_seccomp_forget(pid_t pid)
{
	size_t i;

	for (i = 0; i < MASTER_SECCOMP_KEEP; i++)
		if (kmsg_kills[i].pid == pid)
			kmsg_kills[i].pid = 0;
}

static const struct master_seccomp_record *
master_seccomp_find(pid_t pid)
{
	size_t i;

	for (i = 0; i < MASTER_SECCOMP_KEEP; i++)
		if (kmsg_kills[i].pid == pid)
			return &kmsg_kills[i];
	return NULL;
}

int
master_seccomp_lookup(pid_t pid, char *name, size_t size, long *nr)
{
	long long deadline = event_now_ms() + MASTER_SECCOMP_WAIT_MS, left;
	const struct master_seccomp_record *k;
	struct pollfd pfd = {kmsg_fd, POLLIN, 0};
	char *resolved;

	if (kmsg_fd < 0)
		return -1;
	master_seccomp_drain();
	while ((k = master_seccomp_find(pid)) == NULL &&
	       (left = deadline - event_now_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		master_seccomp_drain();
	}
	if (k == NULL)
		return -1;
	*nr = k->nr;
	resolved =
	    seccomp_syscall_resolve_num_arch((uint32_t)k->arch, (int)k->nr);
	snprintf(name, size, "%s", resolved != NULL ? resolved : "unknown");
	free(resolved);
	master_seccomp_forget(pid);
	return 0;
}
