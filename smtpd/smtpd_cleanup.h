/*
 * smtpd_cleanup: smtpd's side of the submission conversation with cleanup
 * (common/ipc_proto.h): begin and recipient frames when DATA starts, the
 * content in chunks as it arrives, op=end, and cleanup's reply.  Nothing
 * here waits: frames are queued in the session's own buffer and written
 * when the socket takes them (smtpd_io_cleanup.c watches it), and the
 * connect is tried again later when cleanup's listener is full.  Closing
 * the connection before op=end aborts: nothing is queued.  cleanup's reply
 * is read without blocking, from the event loop; the session checks it
 * before passing it to the client.  Run by smtpd, inside its chroot.
 */
#ifndef MOAT_SMTPD_CLEANUP_H
#define MOAT_SMTPD_CLEANUP_H

#include <stddef.h>

#include "buf.h"
#include "smtpd_session.h"

struct smtpd_cleanup {
	int fd;             /* -1 when not connected */
	int open;           /* between open and close: frames are queued */
	int timeout;        /* ipc_timeout, seconds */
	int failed;         /* a send failed: the message gets 451 */
	int ended;          /* op=end is queued: connect now if not yet */
	struct buf pending; /* content not yet framed */
	struct buf out;     /* frames not yet written to cleanup */
	struct buf in;      /* bytes of cleanup's reply */
	/* The reply, once read. */
	int code;
	char dsn[16];
	char text[256];
	char queue_id[32];
};

void smtpd_cleanup_init(struct smtpd_cleanup *c, int timeout);
/*
 * Start a submission: queue begin and the recipients (0, or -1 failed,
 * logged).  Nothing is connected yet: see smtpd_cleanup_connect.
 */
int smtpd_cleanup_open(struct smtpd_cleanup *c, const struct smtpd_session *s);
/*
 * Connect to cleanup, never waiting: 0 connected (or already), 1 cleanup's
 * listener is full (try again later; frames queue meanwhile), -1 failed
 * (logged).
 */
int smtpd_cleanup_connect(struct smtpd_cleanup *c);
/*
 * Queue content (canonical form); takes and empties content.  Whole chunks
 * are framed at once, the rest waits for more or for smtpd_cleanup_finish.
 * After a failure the content is dropped.
 */
void smtpd_cleanup_data(struct smtpd_cleanup *c, struct buf *content);
/* Queue what is left and op=end; 0, or -1 (failed before). */
int smtpd_cleanup_finish(struct smtpd_cleanup *c);
/*
 * Write queued frames as far as the socket takes them, never waiting:
 * 0 (c->out.len says whether more is left), -1 failed (logged; c->failed
 * set; the caller closes).
 */
int smtpd_cleanup_flush(struct smtpd_cleanup *c);
/* Bytes queued for cleanup and not yet written. */
size_t smtpd_cleanup_backlog(const struct smtpd_cleanup *c);
/*
 * Read what cleanup sent so far (never blocks): 1 the reply is in c->code,
 * c->dsn, c->text, c->queue_id; 0 more to come; -1 a broken reply (logged).
 */
int smtpd_cleanup_read_reply(struct smtpd_cleanup *c);
/* Close the connection (before op=end: nothing is queued). */
void smtpd_cleanup_close(struct smtpd_cleanup *c);
void smtpd_cleanup_free(struct smtpd_cleanup *c);

#endif
