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
 * master_seccomp_parse (pure, fuzzed by fuzz/fuzz_master_seccomp.c)
 * matches fields only as whole space-separated words of the record's first
 * line, the first of each name.  Runs in the master.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* The word [w, w+n) is "key=NUMBER": 0 with the number, else -1. */
static int
master_record_word(const char *w, size_t n, const char *key, unsigned base,
		   unsigned long *value)
{
	static const char digits[] = "0123456789abcdef";
	size_t klen = strlen(key), i;
	unsigned long v = 0;
	const char *d;

	if (n <= klen + 1 || memcmp(w, key, klen) != 0 || w[klen] != '=')
		return -1;
	for (i = klen + 1; i < n; i++) {
		d = memchr(digits, w[i], base);
		if (d == NULL ||
		    v > (ULONG_MAX - (unsigned long)(d - digits)) / base)
			return -1;
		v = v * base + (unsigned long)(d - digits);
	}
	*value = v;
	return 0;
}

int
master_seccomp_parse(const char *rec, size_t len,
		     struct master_seccomp_record *k)
{
	static const char *const keys[] = {"pid", "sig", "syscall", "arch"};
	static const unsigned bases[] = {10, 10, 10, 16};
	const size_t head = strlen(MASTER_AUDIT_SECCOMP);
	const char *p = memchr(rec, ';', len), *end, *w;
	unsigned long v[4] = {0, 0, 0, 0};
	unsigned seen = 0, i;

	/* The first line only: continuation lines are " KEY=value". */
	end = memchr(rec, '\n', len);
	if (end == NULL)
		end = rec + len;
	if (p == NULL || p >= end || (size_t)(end - p - 1) < head ||
	    memcmp(p + 1, MASTER_AUDIT_SECCOMP, head) != 0)
		return -1;
	for (p += 1 + head; p < end; p = w + 1) {
		w = memchr(p, ' ', (size_t)(end - p));
		if (w == NULL)
			w = end;
		for (i = 0; i < 4; i++)
			if (!(seen & 1U << i) &&
			    master_record_word(p, (size_t)(w - p), keys[i],
					       bases[i], &v[i]) == 0)
				seen |= 1U << i;
	}
	/* sig=0: a call logged and allowed, not a kill. */
	if (seen != 15 || v[0] == 0 || v[0] > 0x7fffffffUL || v[1] == 0 ||
	    v[2] > 0xffffUL || v[3] > 0xffffffffUL)
		return -1;
	k->pid = (pid_t)v[0];
	k->nr = (long)v[2];
	k->arch = v[3];
	return 0;
}

void
master_seccomp_drain(void)
{
	static char rec[MASTER_KMSG_RECORD];
	struct master_seccomp_record k;
	ssize_t n;

	if (kmsg_fd < 0)
		return;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec));
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue; /* EPIPE: records were overwritten */
		if (n <= 0)
			return;
		if (master_seccomp_parse(rec, (size_t)n, &k) == 0)
			kmsg_kills[kmsg_next++ % MASTER_SECCOMP_KEEP] = k;
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
