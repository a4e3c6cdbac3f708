/*
 * moat_audit.h: what the files of `moat audit` share.  The audit reads
 * /proc for every process of a running instance's master tree, asks each
 * daemon program for its declared stance (`PROG -S`), and compares.  Only
 * the moat command includes this.
 */
#ifndef MOAT_AUDIT_H
#define MOAT_AUDIT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define AUDIT_GROUPS_MAX 32
#define AUDIT_FDS_MAX 256 /* descriptors described per process */
#define AUDIT_TEXT_MAX 160

/* What a descriptor is, as far as the audit cares. */
enum audit_fd_kind {
	AUDIT_FD_FILE,    /* any other file or directory */
	AUDIT_FD_LOG,     /* maillog_file */
	AUDIT_FD_PASSWD,  /* /etc/passwd, /etc/shadow, /etc/group, ... */
	AUDIT_FD_QUEUE,   /* a file in the queue directories */
	AUDIT_FD_TLS_KEY, /* a file smtpd_tls_key_file names */
	AUDIT_FD_LISTEN,  /* a listening socket (its address in text) */
	AUDIT_FD_SOCKET,  /* any other socket */
	AUDIT_FD_PIPE,    /* a pipe */
	AUDIT_FD_ANON,    /* epoll, timerfd, eventfd, ... */
	AUDIT_FD_DEVICE,  /* /dev/null and kin */
	AUDIT_FD_UNKNOWN, /* not readable (not root) */
};

struct audit_fd {
	int fd;
	enum audit_fd_kind kind;
	char text[AUDIT_TEXT_MAX];
};

/* A daemon's declared stance, as `PROG -S` prints it. */
struct audit_stance {
	char program[64];
	char user[64];     /* as declared: a name or "$param" */
	char resolved[64]; /* the account it means here */
	int chroot;
	char sandbox[32];
	char peers[256];      /* commands, comma-separated; "*": anyone */
	char pass_peers[256]; /* who may pass it clients; "": nobody */
	int known;            /* 0: the program did not answer -S */
};

struct audit_proc {
	pid_t pid, ppid;
	char program[64];  /* basename of argv[0] */
	char service[128]; /* -n SERVICE, "" for the master */
	int depth;         /* 0 master, 1 daemon, 2+ a daemon's child */
	size_t daemon;     /* index of the depth-1 ancestor (self at 1) */
	uid_t uid[4];      /* real, effective, saved, filesystem */
	gid_t gid[4];
	gid_t groups[AUDIT_GROUPS_MAX];
	int ngroups;
	char cap_eff[20], cap_prm[20], cap_bnd[20];
	char root[PATH_MAX];
	int seccomp; /* -1: unknown */
	int no_new_privs;
	struct audit_fd fds[AUDIT_FDS_MAX];
	size_t nfds;
	int fds_readable;
};

/* A service's socket as master.conf names it, and who may connect. */
struct audit_socket {
	char name[128];
	int is_unix;
	char mode[16];   /* "srw-rw-rw-", or "-" */
	char owner[80];  /* "root:root" */
	char peers[512]; /* "smtpd(moat-smtpd) ...", "*": anyone */
};

struct audit_world {
	struct audit_proc *proc;
	size_t count;
	struct audit_socket *sock;
	size_t nsock;
	char spool[PATH_MAX];    /* queue_directory, resolved */
	char log_path[PATH_MAX]; /* maillog_file, resolved ("" when none) */
	char **tls_keys;         /* smtpd_tls_key_file of every service */
	size_t ntls_keys;
	struct buf deviations; /* one per line */
	unsigned ndeviations;
};

/* moat_audit_proc.c */
/* Every process of the tree rooted at master_pid; -1 with a message. */
int audit_collect(struct audit_world *w, pid_t master_pid);

struct service;
/*
 * 0 when master.conf's user and chroot for svc are what its program's
 * stance declares (or it declares none); -1 with the line to print in why.
 */
int audit_service_stance(const struct service *svc, struct buf *why);
/* The services' sockets of master.conf in conf_dir; -1 with a message. */
int audit_sockets(struct audit_world *w, const char *conf_dir);

/* moat_audit_stance.c */
/* The stance of PROG (daemon_directory/PROG -S), cached. */
const struct audit_stance *audit_stance_of(const char *program);

/* moat_audit_out.c */
void audit_deviation(struct audit_world *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void audit_print_text(const struct audit_world *w);
void audit_print_json(const struct audit_world *w);
const char *audit_fd_kind_name(enum audit_fd_kind kind);

#endif
