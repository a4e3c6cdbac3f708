/*
 * queue_format: how `moat queue list` prints one queued message, in its
 * three shapes: a line for people, a JSON object, and the sendmail/Postfix
 * mailq layout.  Pure functions into a buf (local time from localtime_r,
 * so TZ decides), unit-tested in t/unit/test_queue_format.c.  The strings
 * come from qmgr's reply, which quotes queue files: control bytes are
 * printed as '?' (text, mailq) or escaped (JSON, where bytes that are not
 * UTF-8 become U+FFFD), so a message cannot write to the terminal.
 * Used by the moat command.
 */
#ifndef MOAT_QUEUE_FORMAT_H
#define MOAT_QUEUE_FORMAT_H

#include <stddef.h>

#include "buf.h"

struct queue_listing {
	const char *queue_id;
	const char *queue;       /* "active", "deferred" or "hold" */
	long long arrival;       /* seconds since the epoch */
	long long size;          /* content bytes */
	const char *sender;      /* "" for the null sender */
	const char *const *rcpt; /* recipients still to do */
	size_t rcpt_count;
	long long rcpt_more; /* recipients left out of rcpt */
	const char *reason;  /* last deferral reason, NULL when unknown */
};

/* s as a JSON string, quotes included. */
void queue_format_json_string(struct buf *out, const char *s);
/* s with control bytes as '?'. */
void queue_format_safe(struct buf *out, const char *s);

/* One line: ID QUEUE SIZE ARRIVAL <sender> -> <rcpt>, ... (reason) */
void queue_format_text(struct buf *out, const struct queue_listing *e);
/* One JSON object, without separator or newline. */
void queue_format_json(struct buf *out, const struct queue_listing *e);

/* mailq: the header line, one entry (with its blank line), the summary. */
void queue_format_mailq_header(struct buf *out);
void queue_format_mailq(struct buf *out, const struct queue_listing *e);
void queue_format_mailq_summary(struct buf *out, long long bytes, size_t count);

#endif
