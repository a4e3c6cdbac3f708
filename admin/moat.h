/*
 * moat.h: the moat command's own interfaces, shared by the files of admin/
 * only.  Each subcommand is a function that takes its own arguments
 * (argv[0] is the subcommand's name) and returns the exit status.
 * Messages for the administrator go to stderr as "moat: ...".
 */
#ifndef MOAT_ADMIN_H
#define MOAT_ADMIN_H

#include <sys/types.h>

#include "buf.h"
#include "ipc.h"

#define MOAT_DEFAULT_CONFIG "/etc/moat"
#define MOAT_STOP_WAIT 30 /* seconds `moat stop` waits for the master */

/* moat.c */
void moat_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void moat_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int moat_need_root(const char *what);
/* params_load with the error printed; 0 or -1. */
int moat_load_params(const char *conf_dir);
/* A child program with a clean environment; its exit status or -1. */
int moat_run(const char *path, char *const argv[]);
/* The same, with the child's standard output (at most max bytes) in out. */
int moat_run_output(const char *path, char *const argv[], struct buf *out,
		    size_t max);
/* The clean environment for programs moat starts. */
char **moat_clean_env(void);

/* moat_ctl.c */
int moat_start(const char *conf_dir, int argc, char **argv);
int moat_stop(const char *conf_dir, int argc, char **argv);
int moat_reload(const char *conf_dir, int argc, char **argv);
/* SIGHUP to a running master, quietly when none runs; 0 or -1. */
int moat_reload_if_running(const char *conf_dir);
int moat_status(const char *conf_dir, int argc, char **argv);
/* The pid holding the master's lock: > 0, 0 when none, -1 on error. */
long moat_master_pid(const char *queue_dir);
/* moat_state.c: the services' last failures, as the master recorded them. */
void moat_state_show(const char *queue_dir);

/* moat_init.c */
int moat_init(int argc, char **argv);

/* moat_tls.c: CONFDIR/tls/{ecdsa,rsa}.{key,crt}, self-signed, if absent. */
int moat_tls_demo(const char *conf_dir);

/* moat_setup.c: the configuration, users and spool of a system install. */
int moat_setup(const char *conf_dir, int argc, char **argv);

/* moat_files.c */
/* Create path (O_EXCL, no link followed) with text, synced; 0 or -1. */
int moat_write_file(const char *path, const void *text, size_t len,
		    mode_t mode);
/*
 * A directory with this owner, group and mode, created when missing (an
 * existing one is fixed).  owner and group are names; "$mail_owner" is
 * the mail_owner user and its primary group.
 */
int moat_mkdir(const char *path, mode_t mode, const char *owner,
	       const char *group);
/* The uid and gid that a spool.h owner and group name stand for. */
int moat_owner_ids(const char *owner, const char *group, uid_t *uid,
		   gid_t *gid);
/* DIR/log, DIR/mail and the spool tree of spool.h in queue_dir. */
int moat_init_dirs(const char *dir, const char *queue_dir);

/* moat_users.c */
int moat_ensure_user(const char *name);
int moat_ensure_group(const char *name);
int moat_ensure_system_users(const char *conf);
int moat_make_postdrop_setgid(const char *path, int as_root);

/* moat_check.c */
int moat_check(const char *conf_dir, int argc, char **argv);
/* One problem `moat check` reports (and counts). */
void moat_problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* moat_check_tls.c: TLS files, AUTH and the restriction lists. */
struct service_table;
struct service;
void moat_check_security(const struct service_table *t);
/* The value of name for svc; "" when it does not expand (reported). */
const char *moat_svc_value(const struct service *svc, const char *name,
			   struct buf *v);
/* A map source and its .lmdb: there, root's, fresh; secret: mode 600. */
void moat_check_secret_map(const char *source, int secret);
/* moat_check_restrict.c: an smtpd service's four restriction lists. */
void moat_check_restrictions(const struct service *svc);
/*
 * The spool directories against spool.h: each deviation is passed to
 * report as one line of text.
 */
void moat_spool_verify(void (*report)(void *ctx, const char *what), void *ctx);

/* moat_audit.c */
int moat_audit(const char *conf_dir, int argc, char **argv);

/* moat_map.c */
int moat_map(const char *conf_dir, int argc, char **argv);
#define MOAT_PASSWORDS_MAX (16 * 1024 * 1024) /* bytes of a password map */
/* A password map source: mode 600, every value a crypt hash; 0 or -1. */
int moat_map_check_passwords(const char *file);

/* moat_passwd.c: `moat passwd [-d] [-s SCHEME] USER` */
int moat_passwd(const char *conf_dir, int argc, char **argv);

/* moat_config.c */
int moat_config(const char *conf_dir, int argc, char **argv);

/* moat_queue.c: `moat queue ...`, talking to qmgr (ipc_proto.h). */
int moat_queue(const char *conf_dir, int argc, char **argv);
/* Connect to qmgr and send {op, [queue_id]}; 0, or an exit status. */
int moat_queue_send(const char *op, const char *id, int *sock);
/* The next reply frame into f; 0, or an exit status (error printed). */
int moat_queue_recv(int sock, struct ipc_frame *f);
/* A status frame: 0 for ok, else its text printed and an exit status. */
int moat_queue_status(const struct ipc_frame *f, const char *id);
/* moat_queue_list.c, moat_queue_show.c: argv[0] is "list" or "show". */
int moat_queue_list(int argc, char **argv);
int moat_queue_show(int argc, char **argv);

#endif
