/*
 * server: the daemon skeleton (see server.h): what both kinds of server
 * share, from the arguments to the privilege drop, the peer check and the
 * status pipe.  Every daemon's main() hands its callbacks to
 * single_server_main (server_single.c: one client at a time, blocking) or
 * event_server_main (server_event.c: many clients through event.h).  Runs in
 * every daemon, started as root by the master.  Hostile input: connecting
 * peers, whose uid is checked with SO_PEERCRED against the users of the
 * services named in ops->peers before a callback sees them.  The arguments and
 * the configuration come from the root-owned master and conf/ files.
 *
 * Security stance: after pre_drop the process changes to queue_directory,
 * drops to the service's user (chrooted there with -r), sets
 * PR_SET_NO_NEW_PRIVS and enters its sandbox (the stance's seccomp
 * profile, proven on), all before post_drop and the first accept.
 * Only local's parent runs as root, and it is never chrooted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "ipc.h"
#include "log.h"
#include "params.h"
#include "privilege.h"
#include "server.h"
#include "server_state.h"
#include "service_table.h"

const struct server_ops *server_ops;
static const char *server_conf_dir, *server_service, *server_user;
static int server_chroot, server_print_stance;
int server_pass_mode;
/* Who may connect to the listener: the stance's peers or pass_peers. */
static const char *const *server_listen_peers;
static uid_t *server_peer_uids;
static size_t server_peer_count;
static int server_status_ok;
static char server_status_last = SERVER_STATUS_IDLE;
int server_signal_pipe[2] = {-1, -1};
volatile sig_atomic_t server_hup;
long long server_max_idle_ms, server_max_use;

static void
server_on_term(int sig)
{
	(void)sig;
	if (server_ops != NULL && server_ops->on_term != NULL)
		server_ops->on_term();
	_exit(0);
}

static void
server_on_hup(int sig)
{
	int saved = errno;

	(void)sig;
	server_hup = 1;
	(void)!write(server_signal_pipe[1], "h", 1);
	errno = saved;
}

static void
server_signals(void)
{
	struct sigaction sa;

	if (pipe2(server_signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		log_fatal("server: pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = server_on_term;
	if (sigaction(SIGTERM, &sa, NULL) != 0)
		log_fatal("server: sigaction: %s", strerror(errno));
	/* SA_RESTART: a client being served is not disturbed by a reload. */
	sa.sa_handler = server_on_hup;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGHUP, &sa, NULL) != 0)
		log_fatal("server: sigaction: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
}

void
server_drain_signals(void)
{
	char junk[64];

	while (read(server_signal_pipe[0], junk, sizeof(junk)) > 0)
		;
}

void
server_status(char status)
{
	ssize_t n;

	if (!server_status_ok || status == server_status_last)
		return;
	server_status_last = status;
	do
		n = write(SERVER_STATUS_FD, &status, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 || (n < 0 && errno == EAGAIN))
		return; /* EAGAIN: a full pipe; the next change says more */
	/* The master is gone: nobody supervises us, so wind down. */
	log_warn("service=%s: status pipe: %s; stopping", server_service,
		 n < 0 ? strerror(errno) : "short write");
	server_status_ok = 0;
	server_hup = 1;
}

static void
server_usage(const char *prog)
{
	log_fatal("usage: %s -c CONFDIR -n SERVICE -u USER [-r] [-p] "
		  "[-o name=value]... [args] | -S",
		  prog);
}

/* Parse the skeleton's options; returns the index of the extra args. */
static int
server_args(int argc, char **argv, struct buf *overrides)
{
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt(argc, argv, "+c:n:u:rpo:S")) != -1) {
		switch (c) {
		case 'c':
			server_conf_dir = optarg;
			break;
		case 'n':
			server_service = optarg;
			break;
		case 'u':
			server_user = optarg;
			break;
		case 'r':
			server_chroot = 1;
			break;
		case 'p':
			server_pass_mode = 1;
			break;
		case 'o':
			/* NUL-separated list, applied after params_load. */
			buf_append(overrides, optarg, strlen(optarg) + 1);
			break;
		case 'S':
			server_print_stance = 1;
			break;
		default:
			server_usage(argv[0]);
		}
	}
	if (!server_print_stance &&
	    (server_conf_dir == NULL || server_service == NULL ||
	     server_user == NULL))
		server_usage(argv[0]);
	return optind;
}

static void
server_params(const struct buf *overrides)
{
	struct buf err = BUF_INIT;
	char name[128];
	const char *p, *eq;
	size_t off;

	if (params_load(server_conf_dir, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	for (off = 0; off < overrides->len; off += strlen(p) + 1) {
		p = overrides->data + off;
		eq = strchr(p, '=');
		if (eq == NULL || (size_t)(eq - p) >= sizeof(name))
			log_fatal("-o %s: expected name=value", p);
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		if (params_set(name, eq + 1, &err) != 0)
			log_fatal("-o %s: %s", p, buf_cstr(&err));
	}
	buf_free(&err);
	server_max_idle_ms = param_int("max_idle") * 1000;
	server_max_use = param_int("max_use");
}

static void
server_add_peer(uid_t uid)
{
	size_t i;

	for (i = 0; i < server_peer_count; i++)
		if (server_peer_uids[i] == uid)
			return;
	server_peer_uids = xreallocarray(server_peer_uids,
					 server_peer_count + 1, sizeof(uid_t));
	server_peer_uids[server_peer_count++] = uid;
}

/* A "$name" peer: the account parameter name names (never uid 0). */
static void
server_add_param_peer(const char *peer)
{
	const struct server_stance st = {.user = peer};
	const char *user = server_stance_user(&st);
	uid_t uid;
	gid_t gid;

	if (user == NULL || privilege_user_ids(user, &uid, &gid) != 0)
		log_warn("service=%s: peer %s: unknown user %s", server_service,
			 peer, user != NULL ? user : "(not set)");
	else if (uid == 0)
		log_warn("service=%s: peer %s: %s is root; not a peer",
			 server_service, peer, user);
	else
		server_add_peer(uid);
}

/*
 * Map peer commands to the uids of the services running them, and "$name"
 * peers to the account a parameter names.  A service running as root
 * grants nothing: uid 0 only when "root" is listed.
 */
static void
server_load_peers(const char *const *peers)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	const char *const *p;
	uid_t uid;
	gid_t gid;
	size_t i;

	if (service_table_load(server_conf_dir, &t, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	for (p = peers; *p != NULL; p++) {
		if (strcmp(*p, "root") == 0) {
			server_add_peer(0);
			continue;
		}
		if ((*p)[0] == '$') {
			server_add_param_peer(*p);
			continue;
		}
		for (i = 0; i < t.count; i++) {
			if (strcmp(t.svc[i].command, *p) != 0)
				continue;
			if (privilege_user_ids(t.svc[i].user, &uid, &gid) != 0)
				log_warn("service=%s: peer %s: unknown user %s",
					 server_service, *p, t.svc[i].user);
			else if (uid != 0)
				server_add_peer(uid);
		}
	}
	service_table_free(&t);
	buf_free(&err);
	if (server_peer_count == 0)
		log_warn("service=%s: no peer can connect: none of its peer "
			 "commands runs in master.conf",
			 server_service);
}

static int
server_fd_is_unix(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return ss.ss_family == AF_UNIX;
}

static void
server_check_listener(const struct server_ops *ops)
{
	int fl = fcntl(SERVER_LISTEN_FD, F_GETFL);

	if (fl < 0)
		log_fatal("service=%s: no listening socket on fd %d",
			  server_service, SERVER_LISTEN_FD);
	/* A peers list protects only a unix socket: never expose it. */
	if (server_listen_peers != NULL && !server_fd_is_unix(SERVER_LISTEN_FD))
		log_fatal("service=%s: this daemon serves only unix sockets%s",
			  server_service,
			  server_pass_mode ? " in pass mode" : "");
	if (fcntl(SERVER_LISTEN_FD, F_SETFL, fl | O_NONBLOCK) != 0)
		log_fatal("server: fcntl: %s", strerror(errno));
	(void)fcntl(SERVER_LISTEN_FD, F_SETFD, FD_CLOEXEC);
}

/*
 * Into queue_directory, then down to the stance's user (chrooted there
 * when it says so); root (local's parent) stays root, unchrooted.  Then
 * prove it.
 */
static void
server_drop(const struct server_stance *st)
{
	const char *queue_dir = param_str("queue_directory");
	struct stat spool;
	uid_t uid;
	gid_t gid;

	if (privilege_user_ids(server_user, &uid, &gid) != 0)
		log_fatal("service=%s: unknown user %s", server_service,
			  server_user);
	if (chdir(queue_dir) != 0 || stat(".", &spool) != 0)
		log_fatal("chdir %s: %s", queue_dir, strerror(errno));
	if (uid != 0)
		privilege_drop(server_user, server_chroot ? "." : NULL);
	server_stance_verify(st, server_service, uid, gid, &spool);
}

void
server_setup(int argc, char **argv, const struct server_ops *ops)
{
	struct buf overrides = BUF_INIT;
	int first;

	log_init(argc > 0 ? argv[0] : "server");
	server_ops = ops;
	first = server_args(argc, argv, &overrides);
	if (server_print_stance) {
		server_stance_print(ops->stance, argc > 0 ? argv[0] : "?");
		exit(0);
	}
	server_signals();
	server_params(&overrides);
	buf_free(&overrides);
	server_stance_check_args(ops->stance, server_service, server_user,
				 server_chroot);
	server_listen_peers = ops->stance->peers;
	if (server_pass_mode) {
		if (ops->stance->pass_peers == NULL || ops->serve != NULL)
			log_fatal("service=%s: this daemon takes no passed "
				  "clients: not a pass service",
				  server_service);
		server_listen_peers = ops->stance->pass_peers;
	}
	if (server_listen_peers != NULL)
		server_load_peers(server_listen_peers);
	server_check_listener(ops);
	/* Not open: run by hand (tests); status records are skipped. */
	server_status_ok = fcntl(SERVER_STATUS_FD, F_SETFD, FD_CLOEXEC) != -1;
	if (ops->pre_drop != NULL)
		ops->pre_drop(argc - first, argv + first);
	server_drop(ops->stance);
	sandbox_enter(ops->stance->sandbox);
	server_stance_verify_sandbox(ops->stance, server_service);
	if (ops->post_drop != NULL)
		ops->post_drop();
}

static int
server_peer_allowed(int fd)
{
	uid_t uid;
	pid_t pid;
	size_t i;

	if (server_listen_peers == NULL)
		return 1;
	if (ipc_peer_cred(fd, &uid, &pid) != 0) {
		log_warn("service=%s: refused connection: peer credentials: %s",
			 server_service, strerror(errno));
		return 0;
	}
	for (i = 0; i < server_peer_count; i++)
		if (server_peer_uids[i] == uid)
			return 1;
	log_warn("service=%s: refused connection from uid=%lu pid=%ld",
		 server_service, (unsigned long)uid, (long)pid);
	return 0;
}

/* A checked client; -1: nothing accepted now; -2: a refused peer. */
int
server_accept(int flags)
{
	int fd;

	fd = accept4(SERVER_LISTEN_FD, NULL, NULL, flags | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED && errno != EPROTO) {
			log_warn("service=%s: accept: %s", server_service,
				 strerror(errno));
			/* XXX EMFILE and kin: pause rather than spin. */
			usleep(100 * 1000);
		}
		return -1;
	}
	if (!server_peer_allowed(fd)) {
		close(fd);
		return -2;
	}
	return fd;
}

int
server_stopping(void)
{
	return server_hup != 0;
}

void
server_wind_down(void)
{
	server_hup = 1;
}

const char *
server_service_name(void)
{
	return server_service;
}

int
server_is_pass(void)
{
	return server_pass_mode;
}

const char *
server_config_dir(void)
{
	return server_conf_dir;
}

uid_t
server_peer_uid(int client_fd)
{
	uid_t uid;
	pid_t pid;

	if (!server_fd_is_unix(client_fd) ||
	    ipc_peer_cred(client_fd, &uid, &pid) != 0)
		return (uid_t)-1;
	return uid;
}
