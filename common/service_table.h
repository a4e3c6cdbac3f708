/*
 * service_table: master.conf, the table of services.  One line a service:
 *
 *   name  type  user  chroot  maxproc  command  [args...]
 *
 * name: for inet, ADDR:PORT ([v6addr]:PORT for IPv6); for unix and pass, a
 * socket path relative to queue_directory (private/cleanup).  type: inet |
 * unix | pass (a unix socket over which a daemon is handed clients that
 * another accepted: screen passes SMTP clients to smtpd's private/smtpd).
 * user: the account the daemon drops to (root only for local's parent).
 * chroot: y | n (into queue_directory).  maxproc: 1..1000 processes.
 * command: a program in daemon_directory; args are passed after the
 * skeleton's own options.  '#' comments, blank lines.  Errors name the file
 * and line.  Read by the master, by daemons before they drop privileges
 * (to learn which users their peers run as), and by `moat check`.
 */
#ifndef MOAT_SERVICE_TABLE_H
#define MOAT_SERVICE_TABLE_H

#include <stddef.h>

#include "buf.h"

enum service_type { SERVICE_INET, SERVICE_UNIX, SERVICE_PASS };

/* A unix socket in the spool (unix and pass services). */
#define SERVICE_IS_SOCKET_PATH(type) ((type) != SERVICE_INET)

#define SERVICE_ARGS_MAX 16

struct service {
	char name[128];
	enum service_type type;
	char user[64];
	int chroot;
	int maxproc;
	char command[64];
	char *args[SERVICE_ARGS_MAX + 1]; /* NULL-terminated */
	unsigned lineno;
};

struct service_table {
	struct service *svc;
	size_t count;
};

/* Pure parser; -1 with "FILE:LINE: reason" in err. */
int service_table_parse(const char *text, size_t len, const char *filename,
			struct service_table *t, struct buf *err);
/* Read and parse CONFDIR/master.conf. */
int service_table_load(const char *conf_dir, struct service_table *t,
		       struct buf *err);
void service_table_free(struct service_table *t);
/* The first service running this command, or NULL. */
const struct service *service_find_command(const struct service_table *t,
					   const char *command);

/*
 * The -o overrides of a service line, as the server skeleton applies them
 * (getopt: the options before the first other argument).  The value of
 * the last "-o name=value" for name, or NULL when the line sets none.
 */
const char *service_option(const struct service *svc, const char *name);
/*
 * Each -o of svc must name a declared parameter and give a value of its
 * type (params.h, the loaded main.conf for $name); -1 with
 * "FILE:LINE: -o ...: reason" in err.
 */
int service_check_options(const struct service *svc, const char *filename,
			  struct buf *err);
/*
 * The value of parameter name for svc: its -o override, expanded, or the
 * loaded main.conf's value; -1 with err when the override does not expand.
 */
int service_param(const struct service *svc, const char *name, struct buf *out,
		  struct buf *err);

#endif
