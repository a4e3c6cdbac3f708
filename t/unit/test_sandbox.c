/*
 * test_sandbox: every seccomp profile, for real.  For each profile and each
 * probe (one system call, made the way the daemons make it), a child
 * enters the profile and makes the call: a call the profile needs must
 * work (the child exits 0), a call it must not allow must kill the child
 * with SIGSYS.  Forbidden probes are harmless if a filter let them through
 * (no file outside a scratch directory is written, mount and bpf get bad
 * arguments).  Under ASan (build/san) the profiles carry the runtime's own
 * few calls (sandbox.c), so the same expectations hold there.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "group_sync.h"
#include "sandbox.h"
#include "tap.h"

/* What a child prepares before it enters the profile. */
static struct probe_ctx {
	int dirfd;     /* the scratch directory */
	int filefd;    /* its file "f", read-write */
	int epfd;      /* an epoll instance watching pipefd[0] */
	int pipefd[2]; /* holding one byte */
	int listenfd;  /* a non-blocking unix listener */
	pid_t waitee;  /* a child that has exited: wait, kill-other */
} ctx;
static char scratch[] = "/tmp/test_sandbox.XXXXXX";
static char sock_path[128];

static int
probe_open(const char *name, int flags)
{
	int fd = openat(ctx.dirfd, name, flags, 0600);

	return fd >= 0 ? close(fd) : -1;
}

static int
probe_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc;
}

/* The connect probe may have left a connection waiting, or not. */
static int
probe_accept(void)
{
	int fd = accept4(ctx.listenfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd >= 0)
		return close(fd);
	return errno == EAGAIN ? 0 : -1;
}

static int
probe_epoll(void)
{
	struct epoll_event ev = {.events = EPOLLIN};

	return epoll_ctl(ctx.epfd, EPOLL_CTL_MOD, ctx.pipefd[0], &ev) == 0 &&
		       epoll_wait(ctx.epfd, &ev, 1, 0) == 1
		   ? 0
		   : -1;
}

static int
probe_pipe(void)
{
	char c = 'x';

	return write(ctx.pipefd[1], &c, 1) == 1 &&
		       read(ctx.pipefd[0], &c, 1) == 1
		   ? 0
		   : -1;
}

static int
probe_lock(void)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	return fcntl(ctx.filefd, F_SETLK, &fl);
}

/* Open (create, size, map) a group_sync page and sync through it. */
static int
probe_group_sync(void)
{
	struct group_sync g;
	int r;

	if (group_sync_open(&g, ctx.dirfd, "gs") < 0)
		return -1;
	r = group_sync_dir(&g, ctx.dirfd);
	group_sync_close(&g);
	return r;
}

static int
probe_mmap(int prot)
{
	void *p = mmap(NULL, 1 << 20, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? -1 : munmap(p, 1 << 20);
}

static int
probe_exec(int at)
{
	char *argv[] = {(char *)"true", NULL}, *envp[] = {NULL};

	if (at)
		syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
	else
		execve("/bin/true", argv, envp);
	return -1;
}

static void *
probe_thread_main(void *arg)
{
	return arg;
}

/* A thread, as libunbound makes one: clone3 first, then clone. */
static int
probe_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, probe_thread_main, NULL) != 0)
		return -1;
	return pthread_join(t, NULL) == 0 ? 0 : -1;
}

static int
probe_writev(void)
{
	int p[2];
	struct iovec iov = {"x", 1};
	ssize_t n;

	if (pipe(p) != 0)
		return -1;
	n = writev(p[1], &iov, 1);
	close(p[0]);
	close(p[1]);
	return n == 1 ? 0 : -1;
}

static int
probe_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return pid > 0 ? 0 : -1;
}

/* One probe: 0 when the call did what it should (for allowed ones). */
static int
probe_run(const char *name)
{
	char buf[512];
	struct iovec iov = {buf, sizeof(buf)};

	if (strcmp(name, "unix") == 0)
		return close(socket(AF_UNIX, SOCK_STREAM, 0));
	if (strcmp(name, "connect") == 0)
		return probe_connect();
	if (strcmp(name, "inet") == 0)
		return close(socket(AF_INET, SOCK_STREAM, 0));
	if (strcmp(name, "inet6") == 0)
		return close(socket(AF_INET6, SOCK_DGRAM, 0));
	if (strcmp(name, "tcp6") == 0) /* as libunbound makes them */
		return close(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
	if (strcmp(name, "udp") == 0)
		return close(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (strcmp(name, "netlink") == 0)
		return close(socket(AF_NETLINK, SOCK_RAW, 0));
	if (strcmp(name, "socketpair") == 0)
		return socketpair(AF_UNIX, SOCK_STREAM, 0, (int[2]){0, 0});
	if (strcmp(name, "accept") == 0)
		return probe_accept();
	if (strcmp(name, "epoll") == 0)
		return probe_epoll();
	if (strcmp(name, "pipe") == 0)
		return probe_pipe();
	if (strcmp(name, "mmap") == 0)
		return probe_mmap(PROT_READ | PROT_WRITE);
	if (strcmp(name, "mmap-exec") == 0)
		return probe_mmap(PROT_READ | PROT_EXEC);
	if (strcmp(name, "sleep") == 0)
		return usleep(1000);
	if (strcmp(name, "kill-self") == 0)
		return kill(getpid(), 0);
	if (strcmp(name, "thread") == 0)
		return probe_thread();
	if (strcmp(name, "writev") == 0) /* to a pipe's end, once */
		return probe_writev();
	if (strcmp(name, "raise") == 0) /* glibc: gettid, then tgkill */
		return raise(SIGURG);   /* ignored by default */
	if (strcmp(name, "kill-other") == 0)
		return kill(ctx.waitee, 0);
	if (strcmp(name, "open-read") == 0)
		return probe_open("f", O_RDONLY | O_CLOEXEC);
	if (strcmp(name, "open-dir") == 0)
		return probe_open(".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (strcmp(name, "open-rw") == 0)
		return probe_open("f", O_RDWR | O_NOFOLLOW);
	if (strcmp(name, "open-new") == 0)
		return probe_open("n",
				  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW);
	if (strcmp(name, "open-creat") == 0)
		return probe_open("f", O_WRONLY | O_CREAT);
	if (strcmp(name, "open-trunc") == 0)
		return probe_open("f", O_WRONLY | O_TRUNC);
	if (strcmp(name, "open-append") == 0)
		return probe_open("f", O_WRONLY | O_APPEND);
	if (strcmp(name, "open-shadow") == 0)
		return open("/etc/shadow", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : -1;
	if (strcmp(name, "getdents") == 0)
		return syscall(SYS_getdents64, ctx.dirfd, buf, sizeof(buf)) < 0
			   ? -1
			   : 0;
	if (strcmp(name, "rename") == 0)
		return renameat(ctx.dirfd, "f", ctx.dirfd, "f");
	if (strcmp(name, "rename2") == 0)
		return renameat2(ctx.dirfd, "f", ctx.dirfd, "f",
				 RENAME_NOREPLACE) == 0 ||
			       errno == EEXIST
			   ? 0
			   : -1;
	if (strcmp(name, "unlink") == 0)
		return unlinkat(ctx.dirfd, "absent", 0) < 0 && errno == ENOENT
			   ? 0
			   : -1;
	if (strcmp(name, "mkdir") == 0)
		return mkdirat(ctx.dirfd, "d", 0700) == 0 || errno == EEXIST
			   ? 0
			   : -1;
	if (strcmp(name, "fsync") == 0)
		return fsync(ctx.filefd);
	if (strcmp(name, "fchmod") == 0) /* cleanup marks a file complete */
		return fchmod(ctx.filefd, 0600);
	if (strcmp(name, "sync-range") == 0) /* local's batch: writeback */
		return sync_file_range(ctx.filefd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (strcmp(name, "fdatasync") == 0)
		return fdatasync(ctx.filefd);
	if (strcmp(name, "group-sync") == 0) /* cleanup's shared fsync */
		return probe_group_sync();
	if (strcmp(name, "ftruncate") == 0)
		return ftruncate(ctx.filefd, 1);
	if (strcmp(name, "pwrite") == 0)
		return pwrite(ctx.filefd, "x", 1, 0) == 1 ? 0 : -1;
	if (strcmp(name, "lock") == 0)
		return probe_lock();
	if (strcmp(name, "flock") == 0) /* cleanup holds its files; qmgr asks */
		return flock(ctx.filefd, LOCK_EX | LOCK_NB);
	if (strcmp(name, "wait") == 0)
		return waitpid(ctx.waitee, NULL, 0) == ctx.waitee ? 0 : -1;
	if (strcmp(name, "getrandom") == 0)
		return getrandom(buf, sizeof(buf), 0) == sizeof(buf) ? 0 : -1;
	if (strcmp(name, "execve") == 0)
		return probe_exec(0);
	if (strcmp(name, "execveat") == 0)
		return probe_exec(1);
	if (strcmp(name, "fork") == 0)
		return probe_fork();
	if (strcmp(name, "ptrace") == 0)
		return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	if (strcmp(name, "vm-read") == 0)
		return (int)process_vm_readv(ctx.waitee, &iov, 1, &iov, 1, 0);
	if (strcmp(name, "setuid") == 0)
		return setuid(getuid());
	if (strcmp(name, "mount") == 0)
		return mount(NULL, NULL, NULL, 0, NULL);
	if (strcmp(name, "bpf") == 0)
		return (int)syscall(SYS_bpf, -1, NULL, 0);
	if (strcmp(name, "keyctl") == 0)
		return (int)syscall(SYS_keyctl, -1, 0, 0, 0, 0);
	if (strcmp(name, "prctl-set") == 0)
		return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (strcmp(name, "chdir") == 0)
		return chdir("/");
	fprintf(stderr, "unknown probe %s\n", name);
	return -1;
}

/* In the child: prepare, enter the profile, prove it, probe. */
static void __attribute__((noreturn))
probe_child(enum sandbox_profile p, const char *name)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct buf why = BUF_INIT;

	ctx.dirfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ctx.filefd = openat(ctx.dirfd, "f", O_RDWR | O_CLOEXEC);
	(void)unlinkat(ctx.dirfd, "n", 0); /* for open-new */
	ctx.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx.dirfd < 0 || ctx.filefd < 0 || ctx.epfd < 0 ||
	    pipe(ctx.pipefd) != 0 || write(ctx.pipefd[1], "x", 1) != 1 ||
	    epoll_ctl(ctx.epfd, EPOLL_CTL_ADD, ctx.pipefd[0], &ev) != 0 ||
	    (ctx.waitee = fork()) < 0)
		_exit(3);
	if (ctx.waitee == 0)
		_exit(0);
	sandbox_enter(p);
	if (sandbox_verify(p, &why) != 0)
		_exit(4);
	_exit(probe_run(name) == 0 ? 0 : 1);
}

/* The wait status of a child that entered p and ran the probe. */
static int
probe(enum sandbox_profile p, const char *name)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0)
		probe_child(p, name);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	return status;
}

struct profile_case {
	enum sandbox_profile profile;
	const char *works; /* probes that must work */
	const char *kills; /* probes that must kill with SIGSYS */
};

/* What every profile forbids. */
#define ALWAYS_KILLS                                                           \
	"inet inet6 netlink socketpair mmap-exec execve execveat fork "        \
	"ptrace vm-read setuid mount bpf keyctl prctl-set chdir"

static const struct profile_case cases[] = {
    {SANDBOX_SMTPD,
     "unix connect accept epoll pipe mmap sleep kill-self open-read "
     "getrandom inet tcp6 thread writev",
     "inet6 udp netlink socketpair mmap-exec execve execveat fork ptrace "
     "vm-read "
     "setuid mount bpf keyctl prctl-set chdir kill-other open-rw open-new "
     "open-creat open-trunc open-append getdents rename unlink fsync"},
    {SANDBOX_CLEANUP,
     "unix connect accept pipe open-read open-dir open-new open-rw "
     "pwrite fsync fdatasync sync-range fchmod flock unlink ftruncate "
     "group-sync",
     ALWAYS_KILLS " open-creat open-trunc open-append getdents "
		  "kill-self mkdir rename"},
    {SANDBOX_QMGR,
     "unix connect epoll open-read open-rw getdents pwrite "
     "fdatasync fchmod flock rename unlink getrandom",
     ALWAYS_KILLS " open-new open-creat open-trunc open-append mkdir "
		  "kill-self"},
    {SANDBOX_PICKUP,
     "unix connect epoll open-read open-dir getdents "
     "rename rename2 unlink kill-self",
     ALWAYS_KILLS " open-rw open-new open-trunc fsync pwrite kill-other "
		  "flock"},
    {SANDBOX_ANVIL, "accept epoll pipe mmap",
     ALWAYS_KILLS " unix open-read open-shadow kill-self"},
    {SANDBOX_LOCAL_CHILD,
     "pipe open-read open-new open-append mkdir "
     "rename2 unlink fsync sync-range ftruncate lock",
     ALWAYS_KILLS " unix accept rename kill-self wait"},
    {SANDBOX_LOCAL_COMMAND, "pipe wait kill-self kill-other sleep",
     ALWAYS_KILLS " unix open-read open-shadow open-new"},
    {SANDBOX_LOCAL_RESOLVER, "unix connect pipe",
     ALWAYS_KILLS " accept open-read open-shadow open-new rename unlink "
		  "fsync kill-self kill-other"},
    {SANDBOX_RCPTMAP,
     "unix connect accept epoll open-read open-new open-creat rename "
     "unlink fsync kill-self",
     ALWAYS_KILLS " kill-other getdents"},
    {SANDBOX_REMOTE,
     "inet inet6 tcp6 udp accept epoll pipe thread kill-self getrandom "
     "open-read open-new fsync rename unlink",
     "unix netlink socketpair mmap-exec execve execveat fork ptrace vm-read "
     "setuid mount bpf keyctl prctl-set chdir open-rw open-creat open-trunc "
     "open-append getdents mkdir kill-other"},
    {SANDBOX_SCREEN,
     "unix connect accept epoll pipe inet inet6 tcp6 udp thread getrandom "
     "open-read "
     "open-rw open-creat open-new pwrite fsync fdatasync ftruncate lock",
     "netlink socketpair mmap-exec execve execveat fork ptrace vm-read "
     "setuid mount bpf keyctl prctl-set chdir open-trunc open-append "
     "getdents rename mkdir kill-self kill-other wait"},
    {SANDBOX_LOGD, "accept epoll pipe kill-self",
     ALWAYS_KILLS " unix connect open-read open-shadow open-new rename "
		  "unlink fsync kill-other"},
    /* tlssign: signs with keys it has; opens and connects to nothing */
    {SANDBOX_TLSSIGN, "accept epoll pipe mmap getrandom kill-self",
     ALWAYS_KILLS " unix connect open-read open-shadow open-new rename "
		  "unlink fsync kill-other"},
    /* auth: a map opened before, Dovecot's socket; no file, no write */
    {SANDBOX_AUTH, "unix connect accept pipe mmap kill-self",
     ALWAYS_KILLS " open-read open-shadow open-new rename unlink fsync "
		  "pwrite getdents kill-other"},
};

static void
run_words(const struct profile_case *c, const char *words, int must_kill)
{
	char list[512], *w, *save = NULL;
	const char *name = sandbox_profile_name(c->profile);
	int st;

	strlcpy(list, words, sizeof(list));
	for (w = strtok_r(list, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		st = probe(c->profile, w);
		if (must_kill)
			ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
			   "%s: %s kills with SIGSYS", name, w);
		else
			ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			   "%s: %s works", name, w);
		if (!(must_kill ? WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS
				: WIFEXITED(st) && WEXITSTATUS(st) == 0))
			printf("#   wait status %d\n", st);
	}
}

/* abort() and raise() must work everywhere: they end a process cleanly. */
static void
check_raise(void)
{
	int p, st;

	for (p = 1; p < SANDBOX_PROFILE_COUNT; p++) {
		st = probe(p, "raise");
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: raise works",
		   sandbox_profile_name(p));
	}
}

static void
check_table(void)
{
	int p, q, named = 1;

	for (p = 0; p < SANDBOX_PROFILE_COUNT; p++) {
		named &= strcmp(sandbox_profile_name(p), "unknown") != 0;
		for (q = 0; q < p; q++)
			named &= strcmp(sandbox_profile_name(p),
					sandbox_profile_name(q)) != 0;
		if (p != SANDBOX_NONE)
			ok(sandbox_profile_size(p) > 0, "%s allows %u calls",
			   sandbox_profile_name(p), sandbox_profile_size(p));
	}
	ok(named, "every profile has a name of its own");
	is_int(sandbox_profile_size(SANDBOX_NONE), 0, "none has no list");
	is_int(sizeof(cases) / sizeof(cases[0]), SANDBOX_PROFILE_COUNT - 1,
	       "every profile but none has a case here");
}

/* The scratch directory: a file "f" with data, a listening socket "s";
 * probes add "n" (open-new) and "d" (mkdir). */
static int
scratch_setup(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int dirfd, fd;

	if (mkdtemp(scratch) == NULL ||
	    (dirfd = open(scratch, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/s", scratch);
	strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ctx.listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	fd = openat(dirfd, "f", O_WRONLY | O_CREAT, 0600);
	close(dirfd);
	if (fd < 0 || write(fd, "data", 4) != 4 || close(fd) != 0)
		return -1;
	return bind(ctx.listenfd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
		       listen(ctx.listenfd, 8) == 0
		   ? 0
		   : -1;
}

static void
scratch_remove(void)
{
	char path[192];
	const char *names[] = {"f", "n", "s", "d", "gs"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", scratch, names[i]);
		(void)unlink(path);
		(void)rmdir(path);
	}
	(void)rmdir(scratch);
}

int
main(void)
{
	int st;
	size_t i;

	if (scratch_setup() != 0) {
		printf("Bail out! scratch directory %s: %s\n", scratch,
		       strerror(errno));
		return 1;
	}
	check_table();
	check_raise();
	st = probe(SANDBOX_NONE, "execve");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "none: no filter, execve works (no_new_privs set)");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_words(&cases[i], cases[i].works, 0);
		run_words(&cases[i], cases[i].kills, 1);
	}
	scratch_remove();
	return done_testing();
}
