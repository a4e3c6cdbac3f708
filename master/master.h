/*
 * master.h: the master's own interfaces, shared by the files of master/
 * only.  The master is the supervisor: it reads the root-owned
 * configuration, creates every listening socket, starts the daemons of
 * master.conf and watches them.  The only bytes it reads from a child are
 * one-byte status records on that child's own status pipe.
 */
#ifndef MOAT_MASTER_H
#define MOAT_MASTER_H

#include <sys/types.h>

#include "buf.h"
#include "server.h"
#include "service_table.h"
#include "spool.h"

#define MASTER_LISTEN_BACKLOG 100
#define MASTER_BACKOFF_MAX 60   /* seconds between restarts, at most */
#define MASTER_BACKOFF_RESET 60 /* a child that lived this long resets it */
#define MASTER_STOP_GRACE 10    /* seconds from SIGTERM to SIGKILL */
/* maxproc 1: at most one start a second. */
#define MASTER_RESPAWN_MIN_MS 1000
#define MASTER_PID_FILE "pid/master.pid"     /* relative to queue_directory */
#define MASTER_STATE_FILE SPOOL_MASTER_STATE /* master_state.c */

/* The configuration the master runs with: a snapshot, kept on reload. */
struct master_conf {
	char *conf_dir;  /* absolute */
	char *queue_dir; /* the master's working directory */
	char *daemon_dir;
	char *maillog; /* empty: syslog_socket */
	char *syslog_name;
	char *syslog_socket;
	struct service_table table;
};

struct master_service {
	struct master_service *next;
	struct service svc; /* args copied: owned by this struct */
	int listen_fd;
	unsigned total, idle;     /* children, and those ready for work */
	unsigned backoff;         /* seconds; grows with repeated failures */
	long long throttle_until; /* monotonic ms: no start before */
	int respawn;              /* start one even without demand */
	int removed;              /* gone from master.conf on reload */
	int seen;                 /* reload: still in master.conf */
	/* The last failure, for moat status (master_state.c). */
	char failure[160];
	long long failed_at, restart_at; /* seconds since the epoch */
};

struct master_child {
	struct master_child *next;
	pid_t pid;
	struct master_service *svc;
	char *path;    /* the program, for log lines */
	int status_rd; /* the read end of this child's status pipe */
	int log_fd;    /* logd's end of its log channel (a copy), or -1 */
	int idle;
	int draining;   /* told to finish (reload): never idle */
	int bad_status; /* wrote garbage on its pipe (logged once) */
	long long started_ms;
};

/* master_conf.c */
int master_conf_load(const char *conf_dir, struct master_conf *mc,
		     struct buf *err);
void master_conf_free(struct master_conf *mc);

/* master_service.c */
struct master_service *master_services(void);
int master_services_open(const struct service_table *t, struct buf *err);
void master_services_reload(const struct service_table *t);
void master_services_reap_removed(void);
void master_services_close_all(void);
int master_service_wants_demand(const struct master_service *s, long long now);

/* master_spawn.c */
void master_spawn_init(const struct master_conf *mc, int null_fd);
void master_spawn_set_conf(const struct master_conf *mc);
int master_spawn(struct master_service *s);
void master_reap(void);
/* The children of logd (is_logd 1) or of every other service (0). */
void master_children_signal_if(int sig, int is_logd);
unsigned master_child_count_if(int is_logd);
void master_children_drain(void);
struct master_child *master_children(void);
void master_child_read_status(struct master_child *c);
unsigned master_child_count(void);
void master_spawn_due(long long now, long long *next_ms);

/* master_log.c */
int master_log_is_logd(const struct master_service *s);
int master_log_open(const struct master_conf *mc, int foreground,
		    struct buf *err);
int master_log_channel(int *child_end);
void master_log_start(void);
void master_log_spawned(struct master_child *c);
void master_log_reaped(struct master_child *c);
void master_log_reload(const struct master_conf *mc, int foreground);
void master_log_stop(void);
void master_log_direct(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void master_log_stopped(void);

/* master_signal.c */
#define MASTER_SIG_CHLD 0x1
#define MASTER_SIG_HUP 0x2
#define MASTER_SIG_TERM 0x4
int master_signal_init(void);
unsigned master_signal_read(int fd, int *term_sig);
void master_signal_child_reset(void);

/* master_seccomp.c: the call a seccomp filter killed a child for. */
struct master_seccomp_record {
	pid_t pid; /* 0: none */
	long nr;
	unsigned long arch; /* AUDIT_ARCH_*, as libseccomp's arch tokens */
};
/*
 * Pure: one /dev/kmsg record of len bytes; 0 with k filled when it is the
 * audit record of a seccomp kill, else -1.
 */
int master_seccomp_parse(const char *rec, size_t len,
			 struct master_seccomp_record *k);
void master_seccomp_init(void);
/* Read the kernel's new records; before each fork. */
void master_seccomp_drain(void);
/* Forget records read for pid (a new child's, reused). */
void master_seccomp_forget(pid_t pid);
/* The call that killed pid: 0 with its name and number, or -1. */
int master_seccomp_lookup(pid_t pid, char *name, size_t size, long *nr);

/* master_state.c: log a child's death and record a failure. */
void master_state_death(const struct master_child *c, int status, int failed);
void master_state_remove(void);

/* master_daemon.c */
int master_daemonize(void);
void master_daemon_ready(int fd);
void master_pid_lock(void);
void master_pid_remove(void);

#endif
