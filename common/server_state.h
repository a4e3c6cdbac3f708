/*
 * server_state: what server.c shares with server_single.c and
 * server_event.c, the two skeletons built on it.  Private to the skeleton.
 */
#ifndef MOAT_SERVER_STATE_H
#define MOAT_SERVER_STATE_H

#include <signal.h>
#include <sys/types.h>

#include "server.h"

extern const struct server_ops *server_ops;
extern int server_signal_pipe[2];
extern volatile sig_atomic_t server_hup;
extern long long server_max_idle_ms, server_max_use;
extern int server_pass_mode; /* -p: a pass service */

/* Everything before serving: arguments, parameters, peers, drop, sandbox. */
void server_setup(int argc, char **argv, const struct server_ops *ops);
/* Tell the master SERVER_STATUS_BUSY or _IDLE (only on a change). */
void server_status(char status);
/* Read the self-pipe after a signal. */
void server_drain_signals(void);
/* A checked client; -1: nothing accepted now; -2: a refused peer. */
int server_accept(int flags);

/*
 * server_pass.c: a connection accepted on a pass service (peer checked):
 * take the client it hands over, then call accept_client.  The
 * connection counts as a client from its accept on.
 */
void server_pass_begin(int conn_fd);
/* Pass connections accepted whose client is not yet handed over. */
unsigned server_pass_pending(void);
#define SERVER_PASS_PENDING_MAX 16
/* server_event.c: a passed client was taken (it counts for max_use). */
void server_client_taken(void);
/* 0 once max_use clients were taken (persistent daemons: never). */
int server_use_left(void);

/* server_stance.c: fatal when the stance is not met. */
struct stat;
void server_stance_check_args(const struct server_stance *st,
			      const char *service, const char *user,
			      int chroot);
void server_stance_verify(const struct server_stance *st, const char *service,
			  uid_t uid, gid_t gid, const struct stat *spool_st);
void server_stance_verify_sandbox(const struct server_stance *st,
				  const char *service);
void server_stance_print(const struct server_stance *st, const char *program);

#endif
