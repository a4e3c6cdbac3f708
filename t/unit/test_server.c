/*
 * test_server: real tiny daemons built on the skeleton.  A child runs
 * single_server_main or event_server_main with a UNIX listener on fd 3, a
 * status pipe on fd 4 and a temporary configuration (main.conf with
 * queue_directory, master.conf naming this test's services); the parent
 * connects, checks the replies, the BUSY/IDLE status records, the peer
 * checks (a client running as nobody is refused, one running as the peer
 * service's user is served), the privilege drop and chroot, the stance
 * (a -u or -r that differs from it stops the start; -S prints it), and
 * the exits (max_use, max_idle, SIGHUP, SIGTERM, max_clients), and pass
 * mode (-p): a client's real TCP socket handed over a pass connection is
 * served as if accepted, a socket whose peer is not the one offered is
 * refused, the reserve for trusted clients, a daemon without pass peers
 * refuses -p.  Needs root: the skeleton proves each daemon runs as its
 * stance's user.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "server.h"
#include "tap.h"

static char tmp[64], conf[96], spool[96], sock_path[96], log_path[96];
static char client_user[64];
static int is_root;

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		die(path);
}

static void
setup_dirs(void)
{
	char path[160], text[512];
	struct passwd *pw;

	snprintf(tmp, sizeof(tmp), "/tmp/h2-srv-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		die("mkdtemp");
	chmod(tmp, 0755);
	snprintf(conf, sizeof(conf), "%s/conf", tmp);
	snprintf(spool, sizeof(spool), "%s/spool", tmp);
	snprintf(sock_path, sizeof(sock_path), "%s/sock", tmp);
	snprintf(log_path, sizeof(log_path), "%s/log", tmp);
	if (mkdir(conf, 0755) != 0 || mkdir(spool, 0755) != 0)
		die("mkdir");
	snprintf(path, sizeof(path), "%s/main.conf", conf);
	snprintf(text, sizeof(text), "queue_directory = %s\n", spool);
	write_file(path, text);
	/* The peer service runs as daemon (root) or as ourselves. */
	pw = getpwuid(geteuid());
	snprintf(client_user, sizeof(client_user), "%s",
		 is_root ? "daemon"
		 : pw    ? pw->pw_name
			 : "nobody");
	snprintf(path, sizeof(path), "%s/master.conf", conf);
	snprintf(text, sizeof(text),
		 "# name type user chroot maxproc command\n"
		 "private/test unix root n 1 test_server\n"
		 "private/client unix %s n 1 test_client\n",
		 client_user);
	write_file(path, text);
}

static void
cleanup_dirs(void)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/main.conf", conf);
	unlink(path);
	snprintf(path, sizeof(path), "%s/master.conf", conf);
	unlink(path);
	unlink(sock_path);
	unlink(log_path);
	rmdir(conf);
	rmdir(spool);
	rmdir(tmp);
}

/* ---- the daemons under test ---- */

static const char *const test_peers[] = {"root", "test_client", NULL};

/* Reply with who and where we are, and what the client said. */
static void
serve_echo(int fd)
{
	char in[64], out[256], cwd[128];
	ssize_t n = read(fd, in, sizeof(in) - 1);
	int len;

	in[n > 0 ? n : 0] = '\0';
	in[strcspn(in, "\n")] = '\0';
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), "?");
	len = snprintf(out, sizeof(out), "uid=%lu cwd=%s got=%s peer=%ld\n",
		       (unsigned long)getuid(), cwd, in,
		       (long)(int)server_peer_uid(fd));
	if (len > 0 && (size_t)len < sizeof(out))
		(void)!write(fd, out, (size_t)len);
}

/*
 * The ops give the behaviour; start() fills in a stance that matches the
 * user and chroot it asks for (the peers come from the .peers_of field).
 */
struct test_ops {
	struct server_ops ops;
	const char *const *peers;
	const char *const *pass_peers;
};

static const struct test_ops single_ops = {
    .ops = {.serve = serve_echo},
    .peers = test_peers,
};

static const struct test_ops single_any_ops = {
    .ops = {.serve = serve_echo},
};

static void
ev_on_client(int fd, unsigned events, void *ctx)
{
	char in[64], out[64];
	int len;

	(void)events;
	(void)ctx;
	if (read(fd, in, sizeof(in)) > 0) {
		len = snprintf(out, sizeof(out), "count=%u\n",
			       server_client_count());
		if (len > 0 && (size_t)len < sizeof(out))
			(void)!write(fd, out, (size_t)len);
	}
	event_remove(fd);
	close(fd);
	server_client_done();
}

static void
ev_accept(int fd)
{
	event_set(fd, EVENT_READ, ev_on_client, NULL);
}

static const struct test_ops event_ops = {
    .ops = {.accept_client = ev_accept},
    .peers = test_peers,
};

static const struct test_ops event_limit_ops = {
    .ops = {.accept_client = ev_accept, .max_clients = 1},
};

/* Passed clients: two sessions at most, one of them kept for trusted. */
static const struct test_ops pass_ops = {
    .ops = {.accept_client = ev_accept, .max_clients = 2, .pass_reserve = 1},
    .pass_peers = test_peers,
};

/* ---- running one ---- */

struct daemon {
	pid_t pid;
	int status_fd;
};

static int
listener(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	unlink(sock_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 16) != 0)
		die("listener");
	chmod(sock_path, 0666);
	return fd;
}

static void
child_fds(int lfd, int status_w, int status_r)
{
	int l2 = fcntl(lfd, F_DUPFD, 20), w2 = fcntl(status_w, F_DUPFD, 20);
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

	/* Close the originals first: their numbers may be 3 and 4. */
	close(lfd);
	close(status_w);
	close(status_r);
	if (l2 < 0 || w2 < 0 || logfd < 0 || dup2(l2, 3) != 3 ||
	    dup2(w2, 4) != 4 || dup2(logfd, 2) != 2)
		_exit(99);
	close(l2);
	close(w2);
	close(logfd);
}

/* 1 when the NULL-terminated opts hold s. */
static int
has_opt(const char *const *opts, const char *s)
{
	for (; opts != NULL && *opts != NULL; opts++)
		if (strcmp(*opts, s) == 0)
			return 1;
	return 0;
}

/*
 * Start a daemon as user; extra: NULL-terminated extra options.  Its
 * stance says stance_user (NULL: user) and chroot as -r is in extra, or
 * the opposite with flip_chroot.
 */
static struct daemon
start_stance(int event, const struct test_ops *t, const char *user,
	     const char *const *extra, const char *stance_user, int flip_chroot)
{
	static struct server_stance stance;
	static struct server_ops ops;
	char *argv[32];
	struct daemon d;
	int pfd[2], lfd = listener(), argc = 0;

	stance.user = stance_user != NULL ? stance_user : user;
	stance.chroot = has_opt(extra, "-r") != flip_chroot;
	stance.sandbox = SANDBOX_NONE;
	stance.peers = t->peers;
	stance.pass_peers = t->pass_peers;
	ops = t->ops;
	ops.stance = &stance;

	unlink(log_path); /* each daemon's log on its own */
	if (pipe(pfd) != 0)
		die("pipe");
	fflush(stdout);
	d.pid = fork();
	if (d.pid < 0)
		die("fork");
	if (d.pid == 0) {
		child_fds(lfd, pfd[1], pfd[0]);
		argv[argc++] = (char *)"test_server";
		argv[argc++] = (char *)"-c";
		argv[argc++] = conf;
		argv[argc++] = (char *)"-n";
		argv[argc++] = (char *)"private/test";
		argv[argc++] = (char *)"-u";
		argv[argc++] = (char *)user;
		while (extra != NULL && *extra != NULL && argc < 30)
			argv[argc++] = (char *)*extra++;
		argv[argc] = NULL;
		_exit(event ? event_server_main(argc, argv, &ops)
			    : single_server_main(argc, argv, &ops));
	}
	close(lfd);
	close(pfd[1]);
	d.status_fd = pfd[0];
	return d;
}

static struct daemon
start(int event, const struct test_ops *t, const char *user,
      const char *const *extra)
{
	return start_stance(event, t, user, extra, NULL, 0);
}

/* Wait up to ms for the daemon to exit; its wait status, or -1. */
static int
reap(struct daemon *d, int ms)
{
	int status;

	for (; ms > 0; ms -= 10) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			close(d->status_fd);
			return status;
		}
		usleep(10000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	close(d->status_fd);
	return -1;
}

/* The next status record's letter, or 0 after ms without one. */
static char
next_status(struct daemon *d, int ms)
{
	struct pollfd p = {d->status_fd, POLLIN, 0};
	char st;

	if (poll(&p, 1, ms) != 1 || read(d->status_fd, &st, 1) != 1)
		return 0;
	return st;
}

static int
connect_sock(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		die("connect");
	return fd;
}

/* Read a reply (up to ms); "" on EOF, reset or timeout. */
static void
read_reply(int fd, char *out, size_t size, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n = 0;

	if (poll(&p, 1, ms) == 1)
		n = read(fd, out, size - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* Talk once, as uid (or as ourselves when uid is (uid_t)-1). */
static void
talk_as(uid_t uid, gid_t gid, const char *msg, char *out, size_t size)
{
	int pfd[2], status, fd;
	pid_t pid;
	ssize_t n;

	if (uid == (uid_t)-1) {
		fd = connect_sock();
		if (write(fd, msg, strlen(msg)) < 0)
			die("write");
		read_reply(fd, out, size, 5000);
		close(fd);
		return;
	}
	if (pipe(pfd) != 0)
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char reply[256];

		close(pfd[0]);
		if (setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid))
			_exit(3);
		fd = connect_sock();
		if (write(fd, msg, strlen(msg)) < 0)
			_exit(4);
		read_reply(fd, reply, sizeof(reply), 5000);
		(void)!write(pfd[1], reply, strlen(reply));
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
}

static int
log_has(const char *needle)
{
	char text[8192];
	FILE *f = fopen(log_path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return strstr(text, needle) != NULL;
}

static void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
}

/* ---- the cases ---- */

static void
expect_served(struct daemon *d, uid_t uid, gid_t gid, const char *msg,
	      const char *want, const char *what)
{
	char got[256];

	talk_as(uid, gid, msg, got, sizeof(got));
	is_str(got, want, what);
	is_int(next_status(d, 2000), SERVER_STATUS_BUSY, "then status BUSY");
	is_int(next_status(d, 2000), SERVER_STATUS_IDLE, "then status IDLE");
}

static void
test_single_peers(void)
{
	static const char *const opts[] = {"-o", "max_use=3", NULL};
	struct daemon d = start(0, &single_ops, "root", opts);
	char want[256], got[256];
	uid_t me = getuid();
	int status;

	snprintf(want, sizeof(want), "uid=%lu cwd=%s got=one peer=%lu\n",
		 (unsigned long)me, spool, (unsigned long)me);
	expect_served(&d, (uid_t)-1, 0, "one\n", want,
		      "single server: served, from queue_directory");
	if (is_root) {
		snprintf(want, sizeof(want), "uid=0 cwd=%s got=two peer=1\n",
			 spool);
		expect_served(&d, 1, 1, "two\n", want,
			      "a client running as the peer service's user "
			      "(daemon) is served");
		talk_as(65534, 65534, "three\n", got, sizeof(got));
		is_str(got, "", "a client running as nobody is refused");
		is_int(next_status(&d, 300), 0,
		       "a refused client changes no status");
		ok(log_has("refused connection from uid=65534"),
		   "the refusal is logged with the uid");
	} else {
		skip(7, "not root: cannot connect as other users");
	}
	snprintf(want, sizeof(want), "uid=%lu cwd=%s got=four peer=%lu\n",
		 (unsigned long)me, spool, (unsigned long)me);
	expect_served(&d, (uid_t)-1, 0, "four\n", want, "served again");
	if (!is_root)
		expect_served(&d, (uid_t)-1, 0, "four\n", want, "and again");
	status = reap(&d, 3000);
	ok(status == 0, "after max_use=3 clients it exits 0 (status %#x)",
	   status);
}

static void
test_single_drop(void)
{
	static const char *const opts[] = {"-r", NULL};
	struct daemon d;
	char got[256];
	int status;

	if (!is_root) {
		skip(3, "not root: cannot drop privileges");
		return;
	}
	d = start(0, &single_any_ops, "nobody", opts);
	talk_as((uid_t)-1, 0, "x\n", got, sizeof(got));
	is_str(got, "uid=65534 cwd=/ got=x peer=0\n",
	       "-u nobody -r: serves as nobody, chrooted in queue_directory");
	next_status(&d, 1000);
	next_status(&d, 1000);
	kill(d.pid, SIGHUP);
	status = reap(&d, 3000);
	ok(status == 0, "an idle single server exits 0 on SIGHUP (%#x)",
	   status);
	ok(!log_has("fatal"), "no fatal error logged");
}

static void
test_single_idle(void)
{
	static const char *const opts[] = {"-o", "max_idle=1", NULL};
	struct daemon d = start(0, &single_any_ops, "root", opts);
	long long t0 = event_now_ms(), took;
	int status = reap(&d, 4000);

	took = event_now_ms() - t0;
	ok(status == 0 && took >= 900,
	   "with max_idle=1 and no client it exits 0 after ~1s "
	   "(status %#x, %lld ms)",
	   status, took);
}

static void
test_single_signals(void)
{
	struct daemon d = start(0, &single_any_ops, "root", NULL);
	char got[256], want[256];
	int fd, status;

	fd = connect_sock();
	is_int(next_status(&d, 2000), SERVER_STATUS_BUSY,
	       "busy with a silent client");
	kill(d.pid, SIGHUP);
	usleep(50000);
	if (write(fd, "late\n", 5) != 5)
		die("write");
	read_reply(fd, got, sizeof(got), 3000);
	close(fd);
	snprintf(want, sizeof(want), "uid=%lu cwd=%s got=late peer=%lu\n",
		 (unsigned long)getuid(), spool, (unsigned long)getuid());
	is_str(got, want, "SIGHUP: the current client is still served");
	status = reap(&d, 3000);
	ok(status == 0, "and then it exits 0 (status %#x)", status);

	d = start(0, &single_any_ops, "root", NULL);
	fd = connect_sock();
	next_status(&d, 2000);
	kill(d.pid, SIGTERM);
	status = reap(&d, 1000);
	ok(status == 0, "SIGTERM: exits at once, mid-client (status %#x)",
	   status);
	read_reply(fd, got, sizeof(got), 1000);
	is_str(got, "", "and the client sees the connection end");
	close(fd);
}

static void
test_event_server(void)
{
	static const char *const opts[] = {"-o", "max_use=2", NULL};
	struct daemon d = start(1, &event_ops, "root", opts);
	char got[64];
	int a, b, status;

	a = connect_sock();
	b = connect_sock();
	is_int(next_status(&d, 2000), SERVER_STATUS_BUSY,
	       "event server: BUSY at the first client");
	usleep(100000);
	if (write(a, "1", 1) != 1)
		die("write");
	read_reply(a, got, sizeof(got), 2000);
	is_str(got, "count=2\n", "two clients served at once");
	is_int(next_status(&d, 200), 0, "still BUSY with one client");
	if (write(b, "2", 1) != 1)
		die("write");
	read_reply(b, got, sizeof(got), 2000);
	is_str(got, "count=1\n", "the second client is served");
	is_int(next_status(&d, 2000), SERVER_STATUS_IDLE,
	       "IDLE when the last client is done");
	status = reap(&d, 3000);
	ok(status == 0, "after max_use=2 clients are done it exits 0 (%#x)",
	   status);
	close(a);
	close(b);
}

static void
test_event_refusal(void)
{
	struct daemon d;
	char got[64];
	int status;

	if (!is_root) {
		skip(3, "not root: cannot connect as other users");
		return;
	}
	d = start(1, &event_ops, "root", NULL);
	talk_as(65534, 65534, "x", got, sizeof(got));
	is_str(got, "", "event server: a client running as nobody is refused");
	ok(log_has("refused connection from uid=65534"), "and logged");
	talk_as(1, 1, "y", got, sizeof(got));
	kill(d.pid, SIGTERM);
	status = reap(&d, 2000);
	got[strcspn(got, "\n")] = '\0';
	ok(strcmp(got, "count=1") == 0 && status == 0,
	   "the peer service's user is served (%s), SIGTERM exits (%#x)", got,
	   status);
}

static void
test_event_limit(void)
{
	static const char *const opts[] = {"-o", "max_use=2", NULL};
	struct daemon d = start(1, &event_limit_ops, "root", opts);
	char got[64], seq[8];
	int a, b, status, i;

	a = connect_sock();
	next_status(&d, 2000);
	b = connect_sock();
	if (write(b, "b", 1) != 1)
		die("write");
	read_reply(b, got, sizeof(got), 300);
	is_str(got, "", "max_clients=1: a second client waits");
	if (write(a, "a", 1) != 1)
		die("write");
	read_reply(a, got, sizeof(got), 2000);
	is_str(got, "count=1\n", "the first client is served");
	read_reply(b, got, sizeof(got), 2000);
	is_str(got, "count=1\n", "then the second is accepted and served");
	for (i = 0; i < 3; i++)
		seq[i] = next_status(&d, 2000);
	seq[3] = '\0';
	is_str(seq, "IBI", "status IDLE, BUSY, IDLE after the first BUSY");
	status = reap(&d, 3000);
	ok(status == 0, "exits 0 after max_use (%#x)", status);
	close(a);
	close(b);
}

static void
test_event_sighup(void)
{
	struct daemon d = start(1, &event_ops, "root", NULL);
	char got[64];
	int a, c, status;

	a = connect_sock();
	next_status(&d, 2000);
	kill(d.pid, SIGHUP);
	usleep(100000);
	c = connect_sock();
	if (write(c, "c", 1) != 1)
		die("write");
	read_reply(c, got, sizeof(got), 300);
	is_str(got, "", "event server after SIGHUP: no new client accepted");
	if (write(a, "a", 1) != 1)
		die("write");
	read_reply(a, got, sizeof(got), 2000);
	is_str(got, "count=1\n", "the current client is still served");
	status = reap(&d, 3000);
	ok(status == 0, "then it exits 0 (%#x)", status);
	close(a);
	close(c);
}

static void
test_bad_start(void)
{
	static const char *const bad_o[] = {"-o", "no_such_param=1", NULL};
	static const char *const bad_user[] = {NULL};
	struct daemon d;
	int status;

	d = start(0, &single_any_ops, "root", bad_o);
	status = reap(&d, 3000);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	       log_has("no_such_param"),
	   "an unknown -o parameter stops the start, named in the log (%#x)",
	   status);
	d = start(0, &single_any_ops, "no-such-user-h2x", bad_user);
	status = reap(&d, 3000);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	       log_has("unknown user no-such-user-h2x"),
	   "an unknown -u user stops the start (%#x)", status);
}

/*
 * The stance is the law: a -u or a chroot that differs from it stops the
 * start with a line naming both; -S prints it.
 */
static void
test_stance(void)
{
	static const char *const chroot_opt[] = {"-r", NULL};
	struct daemon d;
	char out[512];
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	d = start_stance(0, &single_any_ops, "root", NULL, "nobody", 0);
	status = reap(&d, 3000);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	       log_has("master.conf runs it as root, but its stance is user "
		       "nobody"),
	   "-u root for a stance of nobody: refuses to start (%#x)", status);
	d = start_stance(0, &single_any_ops, "nobody", NULL, NULL, 1);
	status = reap(&d, 3000);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	       log_has("master.conf says chroot n, but its stance is chroot "
		       "y"),
	   "no -r for a chrooted stance: refuses to start (%#x)", status);
	d = start(0, &single_any_ops, "nobody", chroot_opt);
	talk_as((uid_t)-1, 0, "x\n", out, sizeof(out));
	is_str(out, "uid=65534 cwd=/ got=x peer=0\n",
	       "a daemon started as its stance says serves");
	kill(d.pid, SIGTERM);
	reap(&d, 2000);

	if (pipe(pfd) != 0)
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		static struct server_stance st = {
		    "$mail_owner", 1, SANDBOX_NONE, test_peers, test_peers};
		static struct server_ops ops = {.stance = &st,
						.serve = serve_echo};
		char *argv[] = {(char *)"/x/test_daemon", (char *)"-S", NULL};

		dup2(pfd[1], 1);
		close(pfd[0]);
		_exit(single_server_main(2, argv, &ops));
	}
	close(pfd[1]);
	n = read(pfd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	is_str(out,
	       "program=test_daemon\nuser=$mail_owner\nchroot=y\n"
	       "sandbox=none\npeers=root,test_client\n"
	       "pass_peers=root,test_client\n",
	       "-S prints the stance and exits");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "-S exits 0");
}

/* ---- pass mode ---- */

/* A TCP connection on loopback: *client our end, the result its peer. */
static int
tcp_pair(int *client)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0), s = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, len) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0 ||
	    (*client = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(*client, (struct sockaddr *)&sin, len) != 0 ||
	    (s = accept(l, NULL, NULL)) < 0)
		die("tcp_pair");
	close(l);
	return s;
}

static unsigned
local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		die("getsockname");
	return ntohs(sin.sin_port);
}

/*
 * Offer the server end of a TCP pair (its peer: client, at port + skew),
 * trusted or not, with that socket (or none when server is -1); the
 * status answered ("" when none).  The offer is one frame, the socket
 * with it; the caller keeps its own copy.  The pass connection stays in
 * *conn.
 */
static void
pass_offer(int server, int client, int skew, int trusted, char *status,
	   size_t size, int *conn)
{
	struct ipc_frame f;
	const char *why = NULL, *st;

	*conn = connect_sock();
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, IPC_OP_PASS);
	ipc_put_str(&f, IPC_CLIENT_ADDR, "127.0.0.1");
	ipc_put_int(&f, IPC_CLIENT_PORT, (long long)local_port(client) + skew);
	if (trusted)
		ipc_put_int(&f, IPC_TRUSTED, 1);
	if (ipc_send(*conn, &f, server, 2) != 0 ||
	    ipc_recv(*conn, &f, 2, &why) != 1 ||
	    (st = ipc_get_str(&f, IPC_STATUS)) == NULL)
		st = "";
	snprintf(status, size, "%s", st);
	ipc_frame_free(&f);
}

/* The passer's copy still carries the connection: a byte goes through. */
static int
pass_still_open(int server, int client)
{
	char got = 0;

	return write(server, "z", 1) == 1 && read(client, &got, 1) == 1 &&
	       got == 'z';
}

static void
test_pass(void)
{
	static const char *const opts[] = {"-p", "-r", NULL};
	struct daemon d = start(1, &pass_ops, "nobody", opts);
	int held, conn, c2, c3, s;
	char got[64], st[16];

	s = tcp_pair(&held);
	pass_offer(-1, held, 0, 0, st, sizeof(st), &conn);
	ok(st[0] == '\0' && log_has("no socket with the client"),
	   "pass mode: an offer without its socket is refused, logged");
	close(conn);
	pass_offer(s, held, 0, 0, st, sizeof(st), &conn);
	is_str(st, "ok", "an offer with room is answered ok");
	close(s);
	close(conn);
	s = tcp_pair(&c2);
	pass_offer(s, c2, 0, 0, st, sizeof(st), &conn);
	is_str(st, "busy",
	       "the last session is kept for trusted clients: busy");
	close(conn);
	ok(pass_still_open(s, c2),
	   "after busy the passer's copy still holds the client");
	close(s);
	close(c2);
	s = tcp_pair(&c3);
	pass_offer(s, c3, 0, 1, st, sizeof(st), &conn);
	is_str(st, "ok", "a trusted client gets the reserve");
	close(s);
	close(conn);
	if (write(c3, "x", 1) != 1)
		die("write");
	read_reply(c3, got, sizeof(got), 2000);
	is_str(got, "count=2\n",
	       "the passed socket is served as if accepted (two clients)");
	close(c3);
	if (write(held, "y", 1) != 1)
		die("write");
	read_reply(held, got, sizeof(got), 2000);
	is_str(got, "count=1\n", "and so is the first");
	close(held);
	s = tcp_pair(&c2);
	pass_offer(s, c2, 1, 0, st, sizeof(st), &conn);
	read_reply(c2, got, sizeof(got), 1000);
	ok(st[0] == '\0' && got[0] == '\0' &&
	       log_has("its peer is not the client offered"),
	   "a socket whose peer is not the one offered is refused, logged");
	ok(pass_still_open(s, c2), "and the passer's copy still holds it");
	close(s);
	close(c2);
	close(conn);
	talk_as(65534, 65534, "x", got, sizeof(got));
	ok(got[0] == '\0' && log_has("refused connection from uid=65534"),
	   "a passer that is no pass peer is refused");
	kill(d.pid, SIGTERM);
	reap(&d, 2000);

	d = start(1, &event_ops, "root", opts);
	ok(reap(&d, 3000) != 0 && log_has("this daemon takes no passed "
					  "clients"),
	   "a daemon without pass peers refuses to run a pass service");
}

int
main(void)
{
	is_root = geteuid() == 0;
	if (!is_root) {
		printf("1..0 # SKIP needs root: the skeleton proves that each "
		       "daemon runs as its stance's user\n");
		return 0;
	}
	alarm(120);
	setup_dirs();
	test_single_peers();
	test_single_drop();
	test_single_idle();
	test_single_signals();
	test_event_server();
	test_event_refusal();
	test_event_limit();
	test_event_sighup();
	test_bad_start();
	test_stance();
	test_pass();
	cleanup_dirs();
	return done_testing();
}
