/*
 * local.h: what the files of the local delivery agent share.  Nothing
 * outside local/ includes it (the unit tests and fuzz targets include
 * local's .c files directly).  Limits are declared here once.
 *
 * Hostile input handled through these interfaces: qmgr's request, the
 * message bytes, alias values, users' .forward files and everything a
 * delivery child or a command sends back.
 */
#ifndef MOAT_LOCAL_H
#define MOAT_LOCAL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "address.h"
#include "buf.h"

#define LOCAL_TEXT_MAX 4608           /* a reason (fits command output) */
#define LOCAL_TARGETS_MAX 256         /* targets in one alias or .forward */
#define LOCAL_ITEM_MAX 4096           /* one target, e.g. a command line */
#define LOCAL_ARGV_MAX 64             /* words of a command */
#define LOCAL_FORWARD_MAX (64 * 1024) /* bytes of a .forward file */
#define LOCAL_DEPTH_MAX 10            /* nested alias and .forward levels */
#define LOCAL_LEAVES_MAX 1000         /* destinations of one recipient */
#define LOCAL_USER_MAX 64             /* a login name */
#define LOCAL_LOCK_STALE 300          /* seconds before a dot-lock is stale */
#define LOCAL_LOCK_WAIT 60            /* seconds to wait for a mailbox lock */
#define LOCAL_CHUNK (64 * 1024)       /* message bytes read at a time */

/* Frames between a delivery child and local's parent (ipc.h). */
#define LOCAL_OP_COMMIT "commit"   /* child: may I make it final? */
#define LOCAL_ATTR_GO "go"         /* parent: "yes" or "no" */
#define LOCAL_ATTR_TARGET "target" /* child: one .forward item */

enum local_status { LOCAL_SENT, LOCAL_BOUNCE, LOCAL_DEFER };

/* The outcome of one delivery: what qmgr hears and the log shows. */
struct local_result {
	enum local_status status;
	char dsn[16];              /* "2.0.0", "5.1.1", ... */
	char text[LOCAL_TEXT_MAX]; /* Postfix's words */
};

/* The message as qmgr handed it over: a read-only descriptor. */
struct local_msg {
	int fd;
	off_t offset; /* content_offset */
	off_t length; /* content_length */
	const char *queue_id;
	const char *sender;    /* "" is the null sender */
	const char *rcpt;      /* the recipient qmgr asked for */
	const char *orig_rcpt; /* as first given, or rcpt */
	time_t arrival;
	time_t deadline; /* qmgr stops waiting for us then */
	int client_fd;   /* qmgr's connection, or -1 */
};

/* A login account, copied out of the password database. */
struct local_user {
	char name[LOCAL_USER_MAX + 1];
	uid_t uid;
	gid_t gid;
	char home[PATH_MAX];
};

/* local_message.c: results, message copying and header scans. */
/*
 * In a delivery child: SIGTERM, or the death of the parent (which would
 * leave nobody to tell qmgr), makes local_aborted() true; writers check it
 * before each commit point, give up and undo, so a message is never left
 * half-written and an interrupted delivery is simply tried again.
 */
void local_abort_arm(pid_t parent);
int local_aborted(void);
/* Set r to the deferral of an interrupted delivery; returns -1. */
int local_abort_result(struct local_result *r);
/*
 * The commit point of a delivery child: ask the parent (over sock, given
 * to local_commit_arm) whether qmgr is still waiting for the answer.  1:
 * go ahead and make the delivery final; 0: undo it, nobody would record
 * it and qmgr will try again.  Without a parent (tests): 1 unless
 * aborted.  This narrows the window in which a message is delivered twice
 * to the moment between this answer and qmgr's status write.
 */
void local_commit_arm(int sock);
int local_commit_ok(void);
/* The parent's side: 1 while qmgr (fd, or -1 for none) is connected. */
int local_client_alive(int fd);
void local_result_set(struct local_result *r, enum local_status status,
		      const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Keep the worse of two results in *worst (defer > bounce > sent). */
void local_result_merge(struct local_result *worst,
			const struct local_result *r);
const char *local_status_name(enum local_status status);
/* Parse a status word ("sent", "bounce", "defer"); -1 when unknown. */
int local_status_parse(const char *word, enum local_status *status);
/* 1 when dsn is "D.N.N" with D matching the status. */
int local_dsn_valid(const char *dsn, enum local_status status);
/* Replace control bytes with spaces and trim (text from children). */
void local_text_clean(char *text);

typedef int (*local_sink_fn)(void *ctx, const char *data, size_t len);
/*
 * Feed the message content to sink in chunks (pread; the descriptor's
 * offset is not used).  0, or -1 with a defer result in r when reading
 * fails or the sink returns -1 (the sink sets r first if it knows why).
 */
int local_msg_copy(const struct local_msg *m, local_sink_fn sink, void *ctx,
		   struct local_result *r);
/* The lines every delivered copy starts with. */
void local_msg_prefix(struct buf *out, const char *sender, const char *rcpt);
/* Write all of n bytes; 0 or -1 (errno). */
int local_write_all(int fd, const void *p, size_t n);
/*
 * Pure: 1 when the header block at the start of hdr (up to the first empty
 * line or len) holds "Delivered-To: addr" (case-insensitive, angle
 * brackets and surrounding space ignored, folded lines unfolded).
 */
int local_header_has_delivered_to(const char *hdr, size_t len,
				  const char *addr);

/* local_forward.c: pure parsers of target lists and command lines. */
struct local_items {
	struct buf text; /* each item NUL-terminated */
	size_t off[LOCAL_TARGETS_MAX];
	size_t count;
};

void local_items_init(struct local_items *it);
void local_items_reset(struct local_items *it);
void local_items_free(struct local_items *it);
const char *local_item(const struct local_items *it, size_t i);
/* Append one item (from a child's reply); -1 when full or malformed. */
int local_items_add(struct local_items *it, const char *s, size_t len);
/*
 * Split an alias value or a .forward text into items: separated by commas
 * and newlines outside double quotes, white space trimmed, lines whose
 * first non-blank byte is '#' ignored, an item wholly in double quotes
 * unquoted.  -1 with *why for NUL bytes, an unterminated quote, too many
 * or too long items.
 */
int local_targets_split(const char *s, size_t len, struct local_items *out,
			const char **why);

enum local_target_type {
	TARGET_ADDRESS,   /* a mail address, local or not */
	TARGET_NOFORWARD, /* \user: that mailbox, no alias or .forward */
	TARGET_COMMAND,   /* |command line */
	TARGET_FILE,      /* /absolute/path */
	TARGET_INCLUDE,   /* :include:/path (refused) */
};

struct local_target {
	enum local_target_type type;
	char text[LOCAL_ITEM_MAX + 1]; /* command line, path or address */
	struct address addr;           /* TARGET_ADDRESS, TARGET_NOFORWARD */
};

/* What one item means; -1 with *why when it is malformed. */
int local_target_classify(const char *item, size_t len, struct local_target *t,
			  const char **why);
const char *local_target_type_name(enum local_target_type type);

struct local_argv {
	char store[LOCAL_ITEM_MAX + 1];
	char *argv[LOCAL_ARGV_MAX + 1]; /* NULL-terminated */
	int argc;
};

/*
 * Split a command line into words: white space separates, "double quotes"
 * group (with \" and \\ inside them), nothing else is special: no shell,
 * no expansion.  -1 with *why for an empty command, an unterminated quote,
 * control bytes, or too many or too long words.
 */
int local_command_split(const char *cmd, size_t len, struct local_argv *av,
			const char **why);

/* local_mbox.c: mbox files (and /file targets). */
struct local_mbox_quote {
	int in_line;    /* inside a line, past its start */
	size_t gt;      /* '>' seen at the start of the line */
	size_t matched; /* bytes of "From " matched after them */
	int last;       /* the last byte written, or -1 */
};

void local_mbox_quote_init(struct local_mbox_quote *q);
/* Pure mboxrd quoting: "^>*From " gets one more '>', across chunks. */
void local_mbox_quote(struct local_mbox_quote *q, const char *in, size_t len,
		      struct buf *out);
/* Flush what is pending, end with a newline, then add the empty line. */
void local_mbox_quote_end(struct local_mbox_quote *q, struct buf *out);
/*
 * "From SENDER DATE\n" with an asctime-style local date; the null sender is
 * MAILER-DAEMON, blanks and controls in the sender become '_'.  Returns the
 * length, or -1 when it does not fit.
 */
int local_mbox_from_line(const char *sender, time_t when, char *out,
			 size_t size);

struct local_mbox {
	int dirfd;        /* the directory holding the file */
	const char *name; /* the file's name in it, no '/' */
	uid_t owner;      /* required owner; (uid_t)-1: any */
	off_t size_limit; /* 0: none */
	const char *rcpt; /* Delivered-To */
	const char *what; /* "mailbox" or "file: PATH" */
};

/* Append a message under a dot-lock and an fcntl lock. */
int local_mbox_deliver(const struct local_mbox *mb, const struct local_msg *msg,
		       struct local_result *r);

/* local_maildir.c */
/*
 * Deliver into the Maildir at path (relative to basefd, ending in '/'),
 * creating it and its tmp, new and cur (0700) when missing.
 */
int local_maildir_deliver(int basefd, const char *path,
			  const struct local_msg *msg, const char *rcpt,
			  struct local_result *r);

/* local_command.c */
struct local_command {
	const char *line;              /* the command line, after '|' */
	const struct local_user *user; /* runs as this account */
	const char *rcpt;              /* RECIPIENT: the address expanded */
	const char *extension;         /* EXTENSION, "" when none */
};

/*
 * Check that program (absolute, or a bare name meaning one in dir) is a
 * root-owned regular file directly inside dir, itself root-owned and not
 * writable by group or others.  0 with the real path in resolved; -1 with
 * a reason in why when the program is not allowed; -2 when dir itself is
 * unusable (a configuration error).
 */
int local_command_allowed(const char *program, const char *dir, char *resolved,
			  size_t size, struct buf *why);
/* Run a command with the message on stdin (in a delivery child). */
int local_command_deliver(const struct local_command *c,
			  const struct local_msg *msg, struct local_result *r);

/* local_child.c: delivery in a child process running as the user. */
enum local_job_type {
	JOB_MAILBOX, /* the user's mailbox (Maildir or mbox) */
	JOB_COMMAND, /* target: a command line */
	JOB_FILE,    /* target: an absolute path */
	JOB_FORWARD, /* read ~/.forward and return its items */
};

struct local_job {
	enum local_job_type type;
	struct local_user user; /* runs as this account */
	const char *target;     /* command line or path */
	const char *rcpt;       /* Delivered-To, RECIPIENT */
	const char *extension;
	int journal_fd; /* the child records its success here, or -1 */
	const char *journal_key;
};

/* local_mailbox.c, in the child: the user's mailbox, a /file target. */
void local_mailbox_deliver(const struct local_job *job,
			   const struct local_msg *msg, struct local_result *r);
void local_file_deliver(const struct local_job *job,
			const struct local_msg *msg, struct local_result *r);

/*
 * Run a job in a child that drops to the job's user.  0 with the outcome
 * in r (for JOB_FORWARD: status sent with items filled, possibly none), or
 * -1 with a defer in r when the child failed or misbehaved.
 */
int local_child_run(const struct local_job *job, const struct local_msg *msg,
		    struct local_result *r, struct local_items *items);

/* local_resolve.c: alias and .forward expansion of one recipient. */
struct map;
/*
 * Deliver msg to its recipient (aliases may be NULL: none); the overall
 * outcome lands in r: deferred if any destination deferred, else bounced
 * if any bounced, else sent.
 */
void local_resolve_deliver(const struct local_msg *msg, struct map *aliases,
			   struct local_result *r);

/*
 * local_journal.c: the destinations that already took a message, so that
 * a retry (after qmgr or local died before the result was recorded, or
 * after another destination of the same recipient deferred) delivers to
 * each destination once.  key names a destination ("mailbox:0:alice").
 */
int local_journal_seen(const struct local_msg *m, const char *key);
int local_journal_open(void);
void local_journal_write(int fd, const struct local_msg *m, const char *key);
void local_journal_close(int fd);
/* In a delivery child: the destination has the message; journal it now. */
void local_child_delivered(void);
/*
 * In a delivery child: enter its seccomp filter now, once (a |command job
 * does it right after forking the command, the others at once).  Does
 * nothing outside a delivery child (unit tests).
 */
void local_child_confine(void);

/* local_cleanup.c: forwarding by resubmission to cleanup. */
int local_resubmit(const struct local_msg *msg, const char *const *addrs,
		   size_t count, struct local_result *r);

#endif
