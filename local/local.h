/*
 * local.h: what the files of the local delivery agent share.  Nothing
 * outside local/ includes it (the unit tests and fuzz targets include
 * local's .c files directly).  Limits are declared here once.
 *
 * Three kinds of process run this code (local.c says who does what): the
 * root parent, one resolver per recipient (local_resolver_user), and the
 * delivery children (the recipient's uid).  Hostile input handled through
 * these interfaces: qmgr's request, the message bytes, alias values,
 * users' .forward files, and everything a resolver, a delivery child or a
 * command sends back.
 */
#ifndef MOAT_LOCAL_H
#define MOAT_LOCAL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "ipc.h"
#include "sandbox.h"

struct map;                 /* maps.h */
struct local_source_handle; /* below */

#define LOCAL_TEXT_MAX 4608           /* a reason (fits command output) */
#define LOCAL_TARGETS_MAX 256         /* targets in one alias or .forward */
#define LOCAL_ITEM_MAX 4096           /* one target, e.g. a command line */
#define LOCAL_ARGV_MAX 64             /* words of a command */
#define LOCAL_FORWARD_MAX (64 * 1024) /* bytes of a .forward file */
#define LOCAL_DEPTH_MAX 10            /* nested alias and .forward levels */
#define LOCAL_LEAVES_MAX 1000         /* destinations of one recipient */
#define LOCAL_VISITS_MAX 4000         /* addresses one expansion looks at */
/* Jobs one resolver may ask for: a .forward per visit, plus the leaves. */
#define LOCAL_JOBS_MAX (LOCAL_VISITS_MAX + LOCAL_LEAVES_MAX)
#define LOCAL_NAME_MAX (ADDR_LOCAL_MAX * 2 + 2) /* a name a resolver sends */
#define LOCAL_USER_MAX 64                       /* a login name */
#define LOCAL_LOCK_STALE 300    /* seconds before a dot-lock is stale */
#define LOCAL_LOCK_WAIT 60      /* seconds to wait for a mailbox lock */
#define LOCAL_CHUNK (64 * 1024) /* message bytes read at a time */
#define LOCAL_QUEUE_ID_MAX 64   /* a queue ID from qmgr */

/* How long a .forward found missing is believed (local_resolve.c). */
#define LOCAL_FORWARD_NONE_MS 1000
/* How long an account found is believed (local_job.c). */
#define LOCAL_ACCOUNT_KEEP_MS 1000

/*
 * Frames to local's root parent (ipc.h) from a delivery child and from the
 * resolver, each on a socket pair of its own (both kept for many messages:
 * the parent starts each exchange with {op=resolve} or {op=job} and the
 * message's descriptor, local_msg_put's fields):
 *   resolver <- {op=resolve, forwarded, queue_id, sender, rcpt, ...}
 *   child, resolver -> {op=commit}            may I make it final?
 *                   <- {go=yes|no}            yes while qmgr waits
 *   child          -> {op=delivered}          the destination has it: the
 *                                             parent journals it (no reply)
 *   child          -> {status, dsn, text, [target]...}   the outcome; a
 *                                             .forward job adds its items
 *   resolver -> {op=job, job, user, rcpt, [target], [extension],
 *                [source], [alias]}           run this job as user
 *            <- {status, dsn, text, [target]...}
 *   resolver -> {op=job, job=mailbox, user, rcpt, last=1}   the
 *                                             recipient's one destination:
 *                                             no answer, no {op=done}; its
 *                                             result is the recipient's,
 *                                             and the parent logs it
 *   resolver -> {op=forwarded}                cleanup queued the forwarded
 *                                             copy: journal it (no reply)
 *   resolver -> {op=done, status, dsn, text}  the recipient's result; last
 *   child  <- {op=job, ..., [group=1]}        group: a batch, new/ is
 *                                             synced at {op=sync}
 *   child  -> {status, ..., late=1}           group: a Maildir file left in
 *                                             tmp/, synced and renamed at
 *                                             {op=sync}
 *   child  <- {op=sync}                       sync (and rename) what group
 *          -> {op=commit} <- {go}             left; before the renames
 *          -> {op=delivered, index=N}         the Nth late file of the
 *          <- {go=yes|no}                     batch is in new/: journalled;
 *                                             go on with the next?
 *          -> {status, dsn, text}             the sync's outcome
 * job: mailbox, forward (read ~user/.forward), command or file; those two
 * name their source: "alias" (then user is default_privs and alias the
 * key whose value names the target) or "forward" (user's own .forward).
 */
#define LOCAL_OP_COMMIT "commit"
#define LOCAL_OP_DELIVERED "delivered"
#define LOCAL_OP_JOB "job"
#define LOCAL_OP_FORWARDED "forwarded"
#define LOCAL_OP_DONE "done"
#define LOCAL_OP_RESOLVE "resolve"
#define LOCAL_ATTR_GO "go"
#define LOCAL_ATTR_TARGET "target"
#define LOCAL_ATTR_JOB "job"
#define LOCAL_ATTR_USER "user"
#define LOCAL_ATTR_EXTENSION "extension"
#define LOCAL_ATTR_SOURCE "source"
#define LOCAL_ATTR_ALIAS "alias"
#define LOCAL_ATTR_LAST "last" /* resolver -> parent: the one destination */
#define LOCAL_ATTR_DEADLINE "deadline"   /* parent -> a kept process */
#define LOCAL_ATTR_FORWARDED "forwarded" /* parent -> resolver: yes, no */
#define LOCAL_ATTR_GROUP "group" /* parent -> kept child: new/ synced later */
#define LOCAL_OP_SYNC "sync"     /* parent -> kept child: sync it now */
#define LOCAL_ATTR_LATE "late"   /* kept child -> parent: renamed at sync */
#define LOCAL_ATTR_INDEX "index" /* which late file {op=delivered} names */
#define LOCAL_LATE_MAX 64        /* late files of one batch in one child */
#define LOCAL_KEPT_GRACE 5       /* seconds a kept process outlives its idle */

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
	int client_fd;   /* qmgr's connection (the parent only), or -1 */
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
/* 1 when id is a queue ID as qmgr makes them: 1-64 letters and digits. */
int local_queue_id_ok(const char *id);
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
/* Tell the parent (no answer) that the destination has the message. */
void local_commit_delivered(void);
/*
 * At a sync: the index-th late file of the batch is in new/.  The parent
 * journals it and answers as to the commit question: 1, go on with the
 * next; 0, stop (qmgr or the parent went away).
 */
int local_commit_delivered_index(size_t index);
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
/*
 * Pure: {status, dsn, text} of a frame from a child or the resolver into
 * r; -1 when a field is missing, unknown, too long or inconsistent.
 */
int local_result_parse(const struct ipc_frame *f, struct local_result *r);
/* Put r into f as {status, dsn, text}. */
void local_result_put(struct ipc_frame *f, const struct local_result *r);
/*
 * The root parent hands a message to a kept process (the resolver, a
 * delivery child) as these fields of a frame, with the descriptor passed
 * beside it: queue_id, sender, rcpt, orig_rcpt, content offset and
 * length, arrival, deadline.  local_msg_take points m into f; -1 when a
 * field is missing, too long or out of range, or no descriptor came.
 */
void local_msg_put(struct ipc_frame *f, const struct local_msg *m,
		   const char *rcpt, const char *orig_rcpt);
int local_msg_take(const struct ipc_frame *f, struct local_msg *m);
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
/* The log line of one destination, in Postfix's shape. */
void local_log_result(const struct local_msg *m, const char *to,
		      const struct local_result *r);
/* In a new child: close every fd from 3 up but these (-1: none). */
void local_close_fds(int keep1, int keep2, int keep3);
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
/*
 * Group mode (a kept delivery process in a batch): a delivery leaves
 * new/'s fsync for local_maildir_sync, which fsyncs every such directory
 * once and forgets them; 0 (r sent), or -1 with a deferral in r.
 */
void local_maildir_group(int on);
int local_maildir_sync(struct local_result *r);
/* Group mode's files written and left for local_maildir_sync. */
size_t local_maildir_late_count(void);

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

/* Where a command or file target was found; the child checks it there. */
enum local_source {
	SOURCE_NONE,    /* mailbox and .forward jobs */
	SOURCE_ALIAS,   /* the value of an alias; runs as default_privs */
	SOURCE_FORWARD, /* the user's own .forward; runs as its owner */
};

struct local_job {
	enum local_job_type type;
	struct local_user user; /* runs as this account */
	const char *target;     /* command line or path */
	const char *rcpt;       /* Delivered-To, RECIPIENT */
	const char *extension;
	enum local_source source;
	const char *alias; /* SOURCE_ALIAS: the alias key */
	int journal_fd;    /* the parent journals the delivery here, or -1 */
	const char *journal_key;
};

/* local_mailbox.c, in the child: the user's mailbox, a /file target. */
void local_mailbox_deliver(const struct local_job *job,
			   const struct local_msg *msg, struct local_result *r);
void local_file_deliver(const struct local_job *job,
			const struct local_msg *msg, struct local_result *r);

/*
 * Run a job in a child that drops to the job's user (a kept one for a
 * mailbox job: local_kept.c).  0 with the outcome in r (for JOB_FORWARD:
 * status sent with items filled, possibly none), or -1 with a defer in r
 * when the child failed or misbehaved.
 */
int local_child_run(const struct local_job *job, const struct local_msg *msg,
		    struct local_result *r, struct local_items *items);
/*
 * The pieces a kept child shares with a one-shot one (local_child.c).  In
 * the child: Landlock for the job's kind (0, or -1 logged, with the
 * deferral in r), the job
 * itself (the source handle opened for it), the result frame.
 */
int local_child_landlock(const struct local_job *job, struct local_result *r);
/*
 * In a new child: signals, the drop to user (never root: the caller
 * checked), the death signal, the commit socket, umask, chdir home.
 */
void local_child_become(const struct local_user *user, int sock,
			gid_t extra_gid, pid_t parent);
void local_child_work(const struct local_job *job, const struct local_msg *msg,
		      struct local_source_handle *h, struct local_result *r,
		      struct local_items *items);
void local_child_reply(int sock, const struct local_result *r,
		       const struct local_items *items, int late);
/* The group of a group-writable mail spool, for mbox jobs there. */
gid_t local_child_extra_gid(const struct local_job *job);
/* In the parent: the child's frames up to its result; ipc_recv's 1/0/-1. */
int local_child_talk(int sock, const struct local_job *job,
		     const struct local_msg *msg, struct local_result *r,
		     struct local_items *items, int *late, const char **why);
/* In the parent: answer a child's commit question from qmgr's fd. */
void local_child_answer_commit(int sock, int client_fd);
/* In the parent: log a child that failed (reaped) and defer in r. */
void local_child_failed(pid_t pid, int rc, int status,
			const struct local_job *job, const char *why,
			struct local_result *r, struct local_items *items);

/*
 * local_kept.c: delivery children kept for a batch of jobs, one per
 * account, each serving up to local_child_max_use jobs and retired after
 * local_child_idle_time without one.  local_kept_serves: 1 for the jobs a
 * kept child runs (a mailbox; a .forward when home_mailbox puts the
 * mailbox, and so the child's Landlock grant, in the home directory).
 */
int local_kept_serves(const struct local_job *job);
int local_kept_run(const struct local_job *job, const struct local_msg *msg,
		   struct local_result *r, struct local_items *items);
/* End a kept process: SIGKILL, reap, close its socket; the wait status. */
int local_kept_end(pid_t pid, int sock);
/*
 * A batch's group commit (local.c): between begin and end, mailbox jobs
 * leave new/'s fsync for later.  _take gives, a bit per kept slot, and
 * clears: deps, the slots that delivered unsynced since the last call;
 * synced and failed, the slots whose owed sync was done, or failed (a
 * child that died owing one), since then.  _end syncs every slot still
 * owing one (its outcome for the next _take) and leaves group mode.
 */
void local_kept_group_begin(void);
void local_kept_group_take(unsigned *deps, unsigned *synced, unsigned *failed);
void local_kept_group_end(void);
/*
 * local_source.c, in a child, as the job's user: open what the job reads
 * before Landlock closes the file system (~/.forward, the aliases map);
 * then local_source_ok says whether the target is really in its source.
 */
struct local_source_handle {
	int forward_fd;        /* ~/.forward, or -1 */
	struct map *aliases;   /* or NULL */
	struct local_result r; /* why it could not be opened */
	int failed;
};
void local_source_open(const struct local_job *job,
		       struct local_source_handle *h);
int local_source_ok(const struct local_job *job, const struct local_msg *msg,
		    struct local_source_handle *h, struct local_result *r);
/* Read an opened ~/.forward into items (r: sent, or why not). */
void local_source_forward_read(const struct local_job *job, int fd,
			       struct local_result *r,
			       struct local_items *items);

/*
 * local_job.c, in the root parent: the resolver's job requests, hostile.
 * local_job_parse is pure: the frame's shape (attributes, lengths, bytes).
 * local_job_check then decides with the password database: run it, refuse
 * it with a result the recipient gets (unknown user, root), or call it a
 * lie (a rule no honest resolver breaks) that ends the resolver.
 */
struct local_job_req {
	enum local_job_type type;
	enum local_source source;
	char user[LOCAL_NAME_MAX + 1];
	char target[LOCAL_ITEM_MAX + 1];
	char rcpt[ADDR_TEXT_MAX];
	char extension[ADDR_TEXT_MAX];
	char alias[LOCAL_NAME_MAX + 1];
	int last; /* a mailbox job, the recipient's one destination */
};
int local_job_parse(const struct ipc_frame *f, struct local_job_req *req,
		    const char **why);

struct local_job_ctx {
	const char *default_privs; /* the account for alias targets */
	int commands, files;       /* allow_mail_to_commands, _files */
	char **owners;             /* users whose .forward gave targets */
	size_t nowners;
	char **keys; /* destinations run in this request */
	size_t nkeys;
	size_t jobs;
	struct buf key; /* the journal key of the job just checked */
};
enum local_job_verdict {
	LOCAL_JOB_RUN,     /* job filled in */
	LOCAL_JOB_REFUSED, /* answer with refusal, run nothing */
	LOCAL_JOB_LIE,     /* why: end the resolver, defer the recipient */
};
void local_job_ctx_init(struct local_job_ctx *ctx, const char *default_privs,
			int commands, int files);
void local_job_ctx_free(struct local_job_ctx *ctx);
/* After a .forward job of user gave targets: its commands may run. */
void local_job_ctx_owner(struct local_job_ctx *ctx, const char *user);
enum local_job_verdict local_job_check(const struct local_job_req *req,
				       struct local_job_ctx *ctx,
				       struct local_job *job,
				       struct local_result *refusal,
				       const char **why);

/* local_parent.c, in the root parent: one recipient from start to end. */
/*
 * Hand the message to the resolver this parent keeps (started as
 * ruid/rgid when there is none, it served local_resolver_max_use
 * messages, sat idle local_resolver_idle_time, or the aliases map was
 * rebuilt since it started), run the jobs it asks for, and put the
 * recipient's result in r: a deferral when the resolver dies, lies or
 * runs out of time (it is then killed; the next message gets a new one).
 */
void local_parent_deliver(const struct local_msg *msg, uid_t ruid, gid_t rgid,
			  struct local_result *r);

/* local_resolver.c: the resolver process (local_resolver_user). */
struct local_resolver {
	int sock;            /* to the root parent */
	int forwarded;       /* the journal says the forwarding was done */
	struct map *aliases; /* NULL: none */
};
/*
 * In the child of the parent: drop, confine, then resolve each message
 * the parent sends ({op=resolve}) and report it, until the parent stops
 * sending (local_resolver_idle_time) or dies; no return.
 */
void local_resolver_main(int sock, uid_t uid, gid_t gid, pid_t parent)
    __attribute__((noreturn));
/*
 * Ask the parent to run a job; 0 with its result (and .forward items), or
 * for a job with req->last, 1: handed over, the parent answers qmgr.
 */
int local_resolver_job(int sock, const struct local_job_req *req,
		       struct local_result *r, struct local_items *items);
/* Tell the parent that cleanup queued the forwarded copy. */
void local_resolver_forwarded(int sock);

/* local_resolve.c: alias and .forward expansion of one recipient. */
/*
 * Resolve msg's recipient and have each destination delivered; the
 * overall outcome lands in r: deferred if any destination deferred, else
 * bounced if any bounced, else sent.  Returns 0, or 1 when the one
 * destination went to the parent as the last job: the parent has the
 * result (and logs it), and r is not set.
 */
int local_resolve_deliver(const struct local_msg *msg,
			  const struct local_resolver *rs,
			  struct local_result *r);

/*
 * local_journal.c, in the root parent:
 * the destinations that already took a message, so that a retry (after
 * qmgr or local died before the result was recorded, or after another
 * destination of the same recipient deferred) delivers to each
 * destination once.  key names a destination ("mailbox:0:alice").
 */
int local_journal_seen(const struct local_msg *m, const char *key);
/* The file of queue_id's lines: open, write lines, close (turns it over). */
int local_journal_open(const char *queue_id);
void local_journal_write(int fd, const char *queue_id, const char *key);
void local_journal_close(int fd, const char *queue_id);
/* All three for one line. */
void local_journal_add(const char *queue_id, const char *key);
/*
 * In a delivery child: the job whose delivery local_child_delivered
 * reports (once); the destination has the message: tell the parent, which
 * journals it now.
 */
void local_child_begin(const struct local_job *job);
void local_child_delivered(void);
/* The current job's delivery is told at the sync instead (late file). */
void local_child_delivered_later(void);
/* The seccomp profile local_child_confine enters. */
void local_child_filter(enum sandbox_profile p);
/*
 * In a delivery child: enter its seccomp filter now, once (a |command job
 * does it right after forking the command, the others at once).  Does
 * nothing outside a delivery child (unit tests).
 */
void local_child_confine(void);

/* local_cleanup.c, in the resolver: forwarding by resubmission. */
int local_resubmit(const struct local_msg *msg, const char *const *addrs,
		   size_t count, struct local_result *r);

#endif
