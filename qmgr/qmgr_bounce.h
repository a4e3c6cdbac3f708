/*
 * qmgr_bounce: delivery status notifications (RFC 3464): failures (and
 * expiries), delay warnings and success notices (RFC 3461 NOTIFY), with
 * ENVID and ORCPT when the client gave them, the whole message or its
 * headers (RET), and for an SMTPUTF8 message the RFC 6533 forms (UTF-8
 * addresses, message/global-delivery-status).  qmgr_bounce_build is pure:
 * every
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

/* The kind of a report: its subject, its text, its recipients' Action. */
enum qmgr_dsn_kind {
	QMGR_DSN_FAILURE, /* Action: failed */
	QMGR_DSN_DELAY,   /* Action: delayed */
	QMGR_DSN_SUCCESS, /* Action: delivered, or relayed */
};

struct qmgr_bounce_rcpt {
	const char *addr;
	const char *orig;   /* original recipient, NULL when none */
	const char *dsn;    /* enhanced status code, "5.1.1" */
	const char *reason; /* the diagnostic text */
	const char *diag;   /* a remote server's reply, NULL when none */
	const char *mta;    /* that server's name, NULL when none */
	const char *orcpt;  /* DSN ORCPT "type;address", NULL when none */
	int relayed; /* success: given to a server without DSN (RFC 3461) */
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
	const char *headers; /* the original header block, or the message */
	size_t headers_len;
	enum qmgr_dsn_kind kind;
	int full;          /* headers holds the whole message (RET=FULL) */
	const char *envid; /* Original-Envelope-Id, NULL when none */
	int utf8;          /* an SMTPUTF8 message: RFC 6533 report */
};

/*
 * Build the DSN into out (appended).  Returns 0, or -1 when the boundary
 * occurs in the original headers (pick another) or an argument is missing.
 * Control and 8-bit bytes in addresses and reasons become '?' (but valid
 * UTF-8 in addresses with utf8).
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
