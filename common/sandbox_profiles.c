/*
 * sandbox_profiles: the system calls each daemon may make once it is in its
 * sandbox; anything else kills it (sandbox.c builds the filter).  The lists
 * come from what the code calls after sandbox_enter(), through glibc 2.36's
 * wrappers (openat, never open; newfstatat for stat and fstat; poll and
 * epoll_wait; clock_nanosleep for usleep and sleep; clock_gettime and time
 * only when the vDSO falls back), taken with strace from the integration
 * suite and checked by running it with every filter in log mode.
 * A profile is a few groups: the shared ones (base: every process; ipc:
 * frames on a socket it holds; server: the skeleton; client: connecting to
 * another daemon's socket) and its own table.  No input; data only.
 *
 * How to add a profile (a new daemon such as logd or rcptmap):
 *  1. add SANDBOX_NAME before SANDBOX_PROFILE_COUNT in sandbox.h;
 *  2. write rules_name[] below: the calls the daemon makes after the drop
 *     that the shared groups do not cover, a comment per group, each call
 *     narrowed by the tightest enum sandbox_arg that lets it work (add a
 *     kind to sandbox_table.h and sandbox.c's sandbox_conds when none fits);
 *  3. add its line to sandbox_defs[]: the name `PROG -S` prints, then its
 *     groups, NULL-ended;
 *  4. set .sandbox = SANDBOX_NAME in the daemon's stance, add a case to
 *     t/unit/test_sandbox.c (what it needs works, what it must not do
 *     kills it), run the integration suite and grep the logs for
 *     "killed by seccomp": the master names the missing call.
 * Never allow execve, execveat, ptrace, process_vm_*, mount, bpf, keyctl,
 * the set*id family or socket families a daemon does not use.  The SMTP
 * client (remote) is the one that needs the network: it takes
 * ALLOW_IF(socket, SB_INET) (AF_INET and AF_INET6 only) where the others
 * have rules_client (smtpd: SB_INET_TCP, its resolver's TCP only), and threads
 * (SB_THREAD) for libunbound (the screen has it too, for DNS lists); a TLS or
 * auth helper needs little beyond rules_base and rules_ipc.
 */
#include <seccomp.h>

#include "sandbox_table.h"

#define ALLOW(call)                                                            \
	{                                                                      \
		SCMP_SYS(call), SB_ANY                                         \
	}
#define ALLOW_IF(call, arg)                                                    \
	{                                                                      \
		SCMP_SYS(call), arg                                            \
	}
#define SANDBOX_END                                                            \
	{                                                                      \
		-1, SB_ANY                                                     \
	}

/* Every confined process. */
static const struct sandbox_rule rules_base[] = {
    /* ending: exit, a handler's return, abort() and raise() on itself;
     * restart_syscall after SIGSTOP/SIGCONT in a sleep */
    ALLOW(exit_group),
    ALLOW(rt_sigreturn),
    ALLOW(restart_syscall),
    ALLOW(rt_sigprocmask),
    ALLOW_IF(tgkill, SB_SELF),
    ALLOW(gettid), /* glibc's raise() asks for its own tid */
    ALLOW(getpid),
    /* memory: malloc (brk, and mmap/mremap for large blocks); never
     * executable */
    ALLOW(brk),
    ALLOW_IF(mmap, SB_NOEXEC),
    ALLOW_IF(mprotect, SB_NOEXEC),
    ALLOW(mremap),
    ALLOW(munmap),
    /* time, when the vDSO falls back to the kernel; usleep and sleep */
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),
    ALLOW(clock_nanosleep),
    /* descriptors it holds: the log on 2, the status pipe on 4; fstat
     * (glibc 2.33+ makes it newfstatat) */
    ALLOW(read),
    ALLOW(write),
    ALLOW(close),
    ALLOW(newfstatat),
    /* sandbox_verify: is the filter on? */
    ALLOW_IF(prctl, SB_PRCTL_GET),
    SANDBOX_END,
};

/* Frames on a socket it already holds (ipc.h), with timeouts. */
static const struct sandbox_rule rules_ipc[] = {
    /* frames, and descriptors with SCM_RIGHTS */
    ALLOW(sendmsg),
    ALLOW(recvmsg),
    /* send() and recv() */
    ALLOW(sendto),
    ALLOW(recvfrom),
    /* timeouts; O_NONBLOCK and FD_CLOEXEC */
    ALLOW(poll),
    ALLOW_IF(fcntl, SB_FCNTL),
    SANDBOX_END,
};

/* The skeleton (server*.c): accept, check the peer, wait in epoll. */
static const struct sandbox_rule rules_server[] = {
    /* a client, and who it is: SO_PEERCRED, the socket's family */
    ALLOW(accept4),
    ALLOW(getsockopt),
    ALLOW(getsockname),
    /* event_server's loop */
    ALLOW(epoll_wait),
    ALLOW(epoll_ctl),
    SANDBOX_END,
};

/* Connecting to another daemon's socket in private/ (ipc_connect). */
static const struct sandbox_rule rules_client[] = {
    ALLOW_IF(socket, SB_UNIX),
    ALLOW(connect),
    SANDBOX_END,
};

/*
 * smtpd: the network session.  The only file it opens after the drop is
 * rcptmap's map of recipients (maps/, read-only), reopened when rebuilt;
 * the client's reverse DNS name and the answers of the DNS lists of its
 * restrictions come through libunbound's resolver thread
 * (rules_resolver), which asks over TCP only (dns_open_tcp): smtpd may
 * make TCP sockets and no UDP one, and Landlock holds its TCP connects to
 * the resolvers' ports.
 */
static const struct sandbox_rule rules_smtpd[] = {
    /* the resolver's TCP connections (never UDP) */
    ALLOW_IF(socket, SB_INET_TCP),
    /* the recipients map: open read-only, LMDB maps it and reads its
     * header */
    ALLOW_IF(openat, SB_OPEN_READ),
    ALLOW(fstatfs),
    ALLOW(pread64),
    ALLOW(madvise),
    ALLOW(uname), /* LMDB checks the kernel's version at open */
    /* the client's address; closing its side */
    ALLOW(getpeername),
    ALLOW(shutdown),
    /* SIGHUP to itself: the alias map or passwd changed, wind down */
    ALLOW_IF(kill, SB_SELF),
    /* TLS: OpenSSL's random generator (session keys, tickets, IVs) and
     * its locks (futex, when a lock's word says so) */
    ALLOW(getrandom),
    ALLOW(futex),
    /* libunbound writes its TCP queries (smtpd asks over TCP) with writev */
    ALLOW(writev),
    SANDBOX_END,
};

/* cleanup: writes new queue files in active/, partial until complete. */
static const struct sandbox_rule rules_cleanup[] = {
    /* incoming/ and active/ (post_drop), then each new file */
    ALLOW_IF(openat, SB_OPEN_READ),
    ALLOW_IF(openat, SB_OPEN_NEW),
    ALLOW(pwrite64),
    ALLOW(fchmod), /* QUEUE_MODE_PARTIAL to QUEUE_MODE, once complete */
    ALLOW(fsync),
    ALLOW(fdatasync),       /* the spares' zeros; a sealed file */
    ALLOW(sync_file_range), /* the spares' writeback, started together */
    ALLOW(flock),           /* each file it makes, while it holds it */
    ALLOW(unlinkat),
    /* incoming/.active-sync: created (OPEN_NEW, then OPEN_RW), sized,
     * mapped shared (base's mmap); its waiters sleep on a futex in it */
    ALLOW_IF(openat, SB_OPEN_RW),
    ALLOW(ftruncate),
    ALLOW(futex),
    SANDBOX_END,
};

/* qmgr: reads queue files, updates their status bytes, moves them. */
static const struct sandbox_rule rules_qmgr[] = {
    /* queue files and directories: read, or read-write for status */
    ALLOW_IF(openat, SB_OPEN_RW),
    ALLOW(getdents64),
    ALLOW(pread64),
    ALLOW(pwrite64),
    ALLOW(fdatasync),
    /* a partial file without its writer: sealed, it is given its mode */
    ALLOW(flock),
    ALLOW(fchmod),
    /* between active/, deferred/, hold/; next-try times; removal */
    ALLOW(rename),
    ALLOW(renameat),
    ALLOW(unlink),
    ALLOW(unlinkat),
    ALLOW(utimensat),
    ALLOW(geteuid), /* a queue file must be its own */
    /* arc4random, for a DSN's MIME boundary */
    ALLOW(getrandom),
    SANDBOX_END,
};

/* pickup: reads maildrop/ files, removes them or moves them to corrupt/. */
static const struct sandbox_rule rules_pickup[] = {
    /* maildrop/ and its files, read-only; corrupt/ as O_PATH */
    ALLOW_IF(openat, SB_OPEN_READ),
    ALLOW(getdents64),
    ALLOW(lseek), /* rewinddir */
    ALLOW(dup),   /* fdopendir on a copy */
    /* done with a file: unlink, or rename into corrupt/ */
    ALLOW(renameat2),
    ALLOW(renameat),
    ALLOW(unlinkat),
    /* SIGHUP to itself: an unknown submitter, wind down */
    ALLOW_IF(kill, SB_SELF),
    SANDBOX_END,
};

/* anvil: the shared groups only; it opens nothing, connects nowhere. */

/*
 * local's delivery child, as the recipient, for a mailbox, a /file or a
 * .forward: Maildir and mbox writes, dot and fcntl locks.  The message
 * comes on qmgr's read-only descriptor.
 * XXX openat is not narrowed: the child creates and appends files in the
 * user's own tree; the kernel's permission check, as the user, guards it.
 */
static const struct sandbox_rule rules_local_child[] = {
    /* mailboxes: Maildir tmp/new/cur, mbox and its dot-lock */
    ALLOW(openat),
    ALLOW(mkdirat),
    ALLOW(renameat2),
    ALLOW(unlinkat),
    ALLOW(fsync),
    ALLOW(sync_file_range), /* a batch's Maildir file: start writeback */
    ALLOW(ftruncate),       /* an mbox write that failed is cut back */
    ALLOW_IF(fcntl, SB_FCNTL_LOCK),
    ALLOW(dup),
    ALLOW(uname), /* gethostname, for Maildir names */
    /* the message */
    ALLOW(pread64),
    SANDBOX_END,
};

/*
 * local's delivery child for a |command, entered right after it forked the
 * command (local_command.c), so that only the command's process may exec:
 * it feeds the message to a pipe, reads the output, waits.  No file opens.
 */
static const struct sandbox_rule rules_local_command[] = {
    /* the message into the command's stdin */
    ALLOW(pread64),
    /* the command's end */
    ALLOW(wait4),
    ALLOW(kill), /* the command's process group, at the time limit */
    SANDBOX_END,
};

/*
 * logd: reads the channels the master hands it over its control socket and
 * writes to the sink descriptor the master opened.  Opens nothing.
 */
static const struct sandbox_rule rules_logd[] = {
    /* each new channel: SO_PASSCRED and SO_TIMESTAMP */
    ALLOW(setsockopt),
    /* gethostname, for the host field of each line */
    ALLOW(uname),
    /* SIGHUP to itself: wind down */
    ALLOW_IF(kill, SB_SELF),
    SANDBOX_END,
};

/*
 * local's resolver, as local_resolver_user: reads the header block on
 * qmgr's descriptor, looks up aliases in the map it opened, asks the
 * parent for jobs and forwards through cleanup.  Opens no file.
 */
static const struct sandbox_rule rules_local_resolver[] = {
    /* the message */
    ALLOW(pread64),
    /* is the parent still there? */
    ALLOW(getppid),
    SANDBOX_END,
};

/*
 * rcptmap: reads the password database (NSS, through files or a daemon's
 * socket) and the alias map, writes maps/recipients.lmdb by a new file and
 * a rename, answers wake-ups.
 * XXX openat is not narrowed: LMDB creates its new file O_RDWR|O_CREAT
 * (not O_EXCL); rcptmap's user owns nothing but maps/, and it reads only
 * root's files (passwd, aliases).
 */
static const struct sandbox_rule rules_rcptmap[] = {
    /* the password database, the alias map, the new map and its dir */
    ALLOW(openat),
    ALLOW(fstatfs),
    ALLOW(lseek),
    ALLOW(pread64),
    ALLOW(pwrite64),
    ALLOW(ftruncate),
    ALLOW(fsync),
    ALLOW(fdatasync),
    ALLOW(fchmod),
    ALLOW(madvise),
    ALLOW(msync),
    /* into place */
    ALLOW(rename),
    ALLOW(renameat),
    ALLOW(unlink),
    ALLOW(unlinkat),
    ALLOW(readlinkat),
    /* gethostname, for the log; a random name for the new file */
    ALLOW(uname),
    ALLOW(getrandom),
    /* LMDB's and glibc's locks */
    ALLOW(futex),
    ALLOW_IF(kill, SB_SELF),
    SANDBOX_END,
};

/*
 * remote: the SMTP client.  Connects to mail servers (and MTA-STS policy
 * servers) over IPv4 and IPv6, with TLS (OpenSSL: all in memory, the CA
 * store loaded before the chroot), streams the message from qmgr's
 * read-only descriptor; libunbound's resolver thread asks the DNS
 * resolvers over UDP and TCP.  The only files it opens are those of its
 * MTA-STS cache (mta-sts/, its own): read, or a new one renamed into
 * place.  Creates no process.
 */
static const struct sandbox_rule rules_remote[] = {
    /* mail servers, MTA-STS servers and resolvers: TCP and UDP */
    ALLOW_IF(socket, SB_INET),
    ALLOW(getpeername),
    ALLOW(shutdown),
    /* the message */
    ALLOW(pread64),
    ALLOW(madvise),
    /* SIGHUP to itself: wind down */
    ALLOW_IF(kill, SB_SELF),
    /* the MTA-STS cache: read a policy; write a new file, sync it,
     * rename it over the old one (or remove it after a failure) */
    ALLOW_IF(openat, SB_OPEN_READ),
    ALLOW_IF(openat, SB_OPEN_NEW),
    ALLOW(fsync),
    ALLOW(renameat),
    ALLOW(unlinkat),
    SANDBOX_END,
};

/*
 * DNS through libunbound (common/dns.h), for remote, screen and smtpd: IP
 * sockets to the resolvers (remote's mail servers use them too) and
 * libunbound's resolver thread.
 */
static const struct sandbox_rule rules_resolver[] = {
    /* libunbound binds a random port; which sockets it may make is
     * each daemon's own rule (socket: SB_INET, or smtpd's SB_INET_TCP) */
    ALLOW(connect),
    ALLOW(bind),
    ALLOW(setsockopt),
    /* libunbound's thread and its event loop: a thread, not a process */
    ALLOW_IF(clone3, SB_ENOSYS),
    ALLOW_IF(clone, SB_THREAD),
    ALLOW(rt_sigaction), /* glibc's first thread: its cancel handler */
    ALLOW(futex),
    ALLOW(set_robust_list),
    ALLOW(rseq),
    ALLOW(exit),
    ALLOW(epoll_create1),
    ALLOW(pipe2),
    /* DNS query ids and ports, TLS */
    ALLOW(getrandom),
    /* libunbound asks who it runs as */
    ALLOW(getuid),
    ALLOW(geteuid),
    ALLOW(getgid),
    ALLOW(getegid),
    SANDBOX_END,
};

/*
 * screen: holds the SMTP port, peeks at early talkers, hands clients to
 * smtpd over private/smtpd (rules_client, SCM_RIGHTS), keeps its cache of
 * clients that passed in screen/cache.lmdb (LMDB, read-write, with its
 * lock file), and, with postscreen_dnsbl_sites, asks DNS lists through
 * libunbound's resolver thread (rules_resolver).
 * XXX the DNS calls (IP sockets, a thread) are there even when no list is
 * set: one profile per daemon.
 */
static const struct sandbox_rule rules_screen[] = {
    /* the DNS lists' resolvers: UDP and TCP */
    ALLOW_IF(socket, SB_INET),
    /* clients: who they are, closing our side */
    ALLOW(getpeername),
    ALLOW(shutdown),
    /* the cache: created if missing, never truncated; LMDB maps it,
     * writes pages, checks the kernel's version, locks its lock file */
    ALLOW_IF(openat, SB_OPEN_NOTRUNC),
    ALLOW(pread64),
    ALLOW(pwrite64),
    ALLOW(pwritev),
    ALLOW(writev),
    ALLOW(fdatasync),
    ALLOW(fsync),
    ALLOW(msync),
    ALLOW(madvise),
    ALLOW(fstatfs),
    ALLOW(lseek),
    ALLOW(uname),
    ALLOW(ftruncate), /* LMDB sizes its lock file */
    ALLOW_IF(fcntl, SB_FCNTL_LOCK),
    ALLOW(unlink), /* a cache LMDB cannot open is replaced */
    /* the cache must be our own file: geteuid (in rules_resolver) */
    SANDBOX_END,
};

/*
 * tlssign: holds the TLS private keys, signs for smtpd over the sockets it
 * accepted.  Opens nothing, connects nowhere.
 */
static const struct sandbox_rule rules_tlssign[] = {
    /* RSA blinding and ECDSA nonces; OpenSSL's locks */
    ALLOW(getrandom),
    ALLOW(futex),
    /* SIGHUP to itself: wind down */
    ALLOW_IF(kill, SB_SELF),
    SANDBOX_END,
};

/*
 * auth: checks one password per connection from smtpd, against the map it
 * opened before the drop (crypt_r: yescrypt's memory comes from mmap) or
 * by asking Dovecot's auth socket inside the spool.
 */
static const struct sandbox_rule rules_auth[] = {
    /* yescrypt's and bcrypt's working memory */
    ALLOW(madvise),
    /* is the password map still the one built? (fstat is base's) */
    ALLOW_IF(kill, SB_SELF),
    SANDBOX_END,
};

const struct sandbox_def sandbox_defs[SANDBOX_PROFILE_COUNT] = {
    [SANDBOX_NONE] = {"none", {NULL}},
    [SANDBOX_SMTPD] = {"smtpd",
		       {rules_base, rules_ipc, rules_server, rules_client,
			rules_smtpd, rules_resolver, NULL}},
    [SANDBOX_CLEANUP] = {"cleanup",
			 {rules_base, rules_ipc, rules_server, rules_client,
			  rules_cleanup, NULL}},
    [SANDBOX_QMGR] = {"qmgr",
		      {rules_base, rules_ipc, rules_server, rules_client,
		       rules_qmgr, NULL}},
    [SANDBOX_LOCAL_CHILD] = {"local-child",
			     {rules_base, rules_ipc, rules_local_child, NULL}},
    [SANDBOX_PICKUP] = {"pickup",
			{rules_base, rules_ipc, rules_server, rules_client,
			 rules_pickup, NULL}},
    [SANDBOX_ANVIL] = {"anvil", {rules_base, rules_ipc, rules_server, NULL}},
    [SANDBOX_LOCAL_COMMAND] = {"local-command",
			       {rules_base, rules_ipc, rules_local_command,
				NULL}},
    [SANDBOX_LOGD] = {"logd",
		      {rules_base, rules_ipc, rules_server, rules_logd, NULL}},
    [SANDBOX_LOCAL_RESOLVER] = {"local-resolver",
				{rules_base, rules_ipc, rules_client,
				 rules_local_resolver, NULL}},
    [SANDBOX_RCPTMAP] = {"rcptmap",
			 {rules_base, rules_ipc, rules_server, rules_client,
			  rules_rcptmap, NULL}},
    [SANDBOX_REMOTE] = {"remote",
			{rules_base, rules_ipc, rules_server, rules_remote,
			 rules_resolver, NULL}},
    [SANDBOX_TLSSIGN] = {"tlssign",
			 {rules_base, rules_ipc, rules_server, rules_tlssign,
			  NULL}},
    [SANDBOX_AUTH] = {"auth",
		      {rules_base, rules_ipc, rules_server, rules_client,
		       rules_auth, NULL}},
    [SANDBOX_SCREEN] = {"screen",
			{rules_base, rules_ipc, rules_server, rules_client,
			 rules_screen, rules_resolver, NULL}},
};
