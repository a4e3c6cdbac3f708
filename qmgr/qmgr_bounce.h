/*
 * qmgr_bounce: delivery status notifications (RFC 3464) for recipients
 * that failed for good or expired.  qmgr_bounce_build is pure: every
 * variable field (dates, boundary, Message-ID) is an argument, so the unit
 * test compares its output byte for byte with golden files.  The result is
 * in canonical form (LF line ends) for cleanup.  Sending it is
 * qmgr_bounce_send.c's job.  Used by qmgr and t/unit/test_qmgr_bounce.c.
 */
#ifndef MOAT_QMGR_BOUNCE_H
#define MOAT_QMGR_BOUNCE_H

#include <stddef.h>

#include "buf.h"

/* Longest diagnostic text kept per recipient (the rest is cut). */
#define QMGR_BOUNCE_REASON_MAX 512

struct qmgr_bounce_rcpt {
	const char *addr;
	const char *orig;   /* original recipient, NULL when none */
	const char *dsn;    /* enhanced status code, "5.1.1" */
	const char *reason; /* the diagnostic text */
	const char *diag;   /* a remote server's reply, NULL when none */
	const char *mta;    /* that server's name, NULL when none */
};

struct qmgr_bounce_input {
	const char *myhostname;
	const char *sender;       /* the original sender: the DSN's recipient */
	const char *date;         /* Date: of the DSN (RFC 5322 date-time) */
	const char *arrival_date; /* when the original message arrived */
	const char *boundary;     /* MIME boundary, [0-9A-Za-z.] */
	const char *message_id;   /* Message-ID without <> */
	const struct qmgr_bounce_rcpt *rcpt;
	size_t rcpt_count;
	const char *headers; /* the original header block */
	size_t headers_len;
};

/*
 * Build the DSN into out (appended).  Returns 0, or -1 when the boundary
 * occurs in the original headers (pick another) or an argument is missing.
 * Control and 8-bit bytes in addresses and reasons become '?'.
 */
int qmgr_bounce_build(const struct qmgr_bounce_input *in, struct buf *out);

/*
 * The length of the header block at the start of a message's content
 * (which may be only its first len bytes): up to and including the last
 * LF before the empty line that ends it, or before the end of what was
 * given.  0 when there is no complete header line.
 */
size_t qmgr_bounce_header_len(const char *content, size_t len);

#endif
