/*
 * server: the skeleton every daemon is built on, so a daemon is a few
 * callbacks and never its own main loop.  The master starts a daemon as
 * root with its listening socket on SERVER_LISTEN_FD, the service's status
 * pipe on SERVER_STATUS_FD, fd 2 on the log, and arguments
 *
 *   command -c CONFDIR -n SERVICE -u USER [-r] [-p] [-o name=value ...]
 *           [args]
 *
 * (-r: chroot into queue_directory; -p: a pass service, see below; -S:
 * print the stance and exit).  The
 * skeleton checks the -u and -r the master passed against the daemon's
 * declared stance and refuses to start when they differ, reads the
 * parameters, learns the uids of its allowed peers from master.conf,
 * calls pre_drop
 * (open maps, keys; still root, not yet chrooted), changes to
 * queue_directory, drops privileges (privilege.h) unless the user is root,
 * proves that the process now is what the stance says (ids, groups, root
 * directory), enters the sandbox and proves it (PR_GET_SECCOMP is 2, the
 * filter of the stance's profile; else it refuses to serve), calls
 * post_drop, and serves.  Every accepted
 * connection on a unix service is checked with SO_PEERCRED against the
 * peers list before the callback sees it; a refused peer is logged and
 * closed.  Status to the master: SERVER_STATUS_BUSY while serving,
 * SERVER_STATUS_IDLE when ready for more.  The process exits after max_use
 * clients or max_idle idle seconds (unless persistent), on SIGTERM at once,
 * and on SIGHUP once its current clients are done (reload).
 *
 * Pass mode (-p, a "pass" service of master.conf; event servers only):
 * the listener is a unix socket on which another daemon hands over
 * clients it accepted (the screen passes SMTP clients to smtpd), one per
 * connection, checked with SO_PEERCRED against the stance's pass_peers.
 * The skeleton takes the client's socket (server_pass.h) and gives it to
 * accept_client exactly as if it had accepted it, so the daemon's session
 * code does not know the difference.
 */
#ifndef MOAT_SERVER_H
#define MOAT_SERVER_H

#include <sys/types.h>

#include "sandbox.h"

#define SERVER_LISTEN_FD 3
#define SERVER_STATUS_FD 4

/*
 * What a child writes on its status pipe: one byte.  Every child has a pipe
 * of its own, so the master knows who wrote without believing the writer.
 */
#define SERVER_STATUS_IDLE 'I'
#define SERVER_STATUS_BUSY 'B'

/*
 * A daemon's security stance, declared once at the top of its main file.
 * The skeleton enforces it: master.conf must run the daemon as this user
 * and with this chroot (else the daemon refuses to start, naming both),
 * and after the drop the real, effective and saved uids and gids, the
 * supplementary groups and the root directory must be what it says.
 * `PROG -S` prints it, for moat audit and moat check.
 */
struct server_stance {
	/*
	 * "root", an account name, or "$name": the account a parameter
	 * names (cleanup and qmgr run as $mail_owner).
	 */
	const char *user;
	int chroot; /* 1: chrooted into queue_directory */
	enum sandbox_profile sandbox;
	/*
	 * Commands (master.conf command column) whose service users may
	 * connect, or "$name": the account a parameter names (a helper
	 * user that is no service's, such as $local_resolver_user);
	 * NULL-terminated.  NULL: anyone (inet services, or a daemon that
	 * checks each request itself).  uid 0 is allowed only when listed
	 * as "root" (a peer service or parameter naming root grants
	 * nothing).  A daemon with a peers list refuses to start on a
	 * listener that is not a unix socket.
	 */
	const char *const *peers;
	/*
	 * Commands whose service users may hand this daemon clients over a
	 * pass service (smtpd: "screen"), NULL-terminated; NULL: it takes
	 * no passed clients and refuses to start in pass mode.  Only a pass
	 * service is checked against it: the daemon's inet services (smtpd
	 * on the submission port) still take anyone when peers is NULL.
	 */
	const char *const *pass_peers;
};

struct server_ops {
	const struct server_stance *stance;
	int persistent; /* never exit for max_idle/max_use */
	/*
	 * Called as root, parameters loaded, not yet chrooted, working
	 * directory unchanged.  argv[0] is the first extra argument (the
	 * ones after the skeleton's options), not the program name; argc may
	 * be 0.  NULL: nothing to do.  post_drop and tick may be NULL too.
	 * In an event server the loop exists already (event_init() ran), so
	 * both may register fds and timers.
	 */
	void (*pre_drop)(int argc, char **argv);
	void (*post_drop)(void);
	/*
	 * Called in the SIGTERM handler just before the process exits (not
	 * on other exits: atexit(3) serves those); async-signal-safe calls
	 * only.  NULL: nothing to do.
	 */
	void (*on_term)(void);
	/* single_server: handle one client to the end, blocking. */
	void (*serve)(int client_fd);
	/*
	 * event_server: a new client; the program registers its fd with
	 * event.h and calls server_client_done() when it closes it.
	 */
	void (*accept_client)(int client_fd);
	/* event_server: called after each loop turn (housekeeping). */
	void (*tick)(void);
	/*
	 * event_server: work in flight that is not a client connection (qmgr's
	 * deliveries).  While it returns non-zero the process neither exits
	 * for SIGHUP nor counts as idle.
	 */
	int (*busy)(void);
	/*
	 * event_server: stop accepting while this many clients are served
	 * (0: no limit).  Read at every loop turn, so a daemon whose ops
	 * struct is writable may set it in pre_drop from a parameter
	 * (smtpd: smtpd_client_limit).
	 */
	unsigned max_clients;
	/*
	 * event_server in pass mode: of max_clients, this many sessions are
	 * kept for clients the passer marks trusted (the screen: clients in
	 * mynetworks, which it passes first); a process that serves
	 * max_clients - pass_reserve already, or has taken max_use clients,
	 * answers "busy" for others (server_pass.c).
	 */
	unsigned pass_reserve;
};

int single_server_main(int argc, char **argv, const struct server_ops *ops);
int event_server_main(int argc, char **argv, const struct server_ops *ops);

/* event_server: one client finished (its fd is already closed). */
void server_client_done(void);
/* event_server: clients being served now. */
unsigned server_client_count(void);
/* 1 once SIGHUP or SIGTERM asked the process to wind down. */
int server_stopping(void);
/*
 * Wind down as after SIGHUP: finish the work in hand, then exit, to be
 * started afresh by the master (a daemon whose map was rebuilt).
 */
void server_wind_down(void);
/* The service name (-n) and the configuration directory (-c). */
const char *server_service_name(void);
const char *server_config_dir(void);
/* 1 in pass mode (-p): every client was handed over by a pass_peer. */
int server_is_pass(void);
/* uid of the peer of the current client (unix services), else -1. */
uid_t server_peer_uid(int client_fd);
/*
 * The account a stance names, with "$name" resolved through the loaded
 * parameters; NULL when the parameter is unknown or empty.
 */
const char *server_stance_user(const struct server_stance *st);

#endif
