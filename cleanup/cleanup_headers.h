/*
 * cleanup_headers: the header block of a submitted message, processed as
 * it streams in.  Content bytes are hostile (they come from an SMTP client
 * through smtpd, or from a local user through pickup).  Pure: no I/O, no
 * logging, no globals; linear in the input (every byte is looked at a
 * bounded number of times, whatever the shape of the headers).  Memory is
 * bounded by the header size limit.  Used by cleanup, the unit test and
 * the fuzz target.
 *
 * The block runs from the first byte up to (not including) the first empty
 * line, or up to the first line that is neither "Name: value" nor a
 * continuation of one (RFC 5322: the body starts there), or to the end of
 * the content.  Everything after the block is body and is not kept.
 */
#ifndef MOAT_CLEANUP_HEADERS_H
#define MOAT_CLEANUP_HEADERS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

/* Where the processor is. */
enum hdr_state {
	HDR_STATE_HEADERS, /* still reading the header block */
	HDR_STATE_BODY,    /* block complete; the rest is body */
	HDR_STATE_REJECT,  /* refused; the rest is to be discarded */
};

/* Why a message was refused. */
enum hdr_reject {
	HDR_OK = 0,
	HDR_REJECT_SIZE,  /* block over header_size_limit */
	HDR_REJECT_COUNT, /* more headers or lines than header_count_limit */
	HDR_REJECT_HOPS,  /* more Received: headers than hopcount_limit */
};

/* Headers whose presence matters (the seen mask). */
#define HDR_SEEN_MESSAGE_ID 0x01
#define HDR_SEEN_DATE 0x02
#define HDR_SEEN_FROM 0x04
#define HDR_SEEN_RESENT 0x08 /* any Resent-* header */
#define HDR_SEEN_RESENT_MESSAGE_ID 0x10
#define HDR_SEEN_RESENT_DATE 0x20
#define HDR_SEEN_RESENT_FROM 0x40

/* Where the current line is (internal). */
enum hdr_line {
	HDR_LINE_START,    /* at the first byte of a line */
	HDR_LINE_NAME,     /* in a field name */
	HDR_LINE_NAME_WSP, /* white space between the name and ':' */
	HDR_LINE_VALUE,    /* in a header or a continuation line */
};

struct cleanup_headers {
	/* Limits, set by cleanup_headers_init. */
	size_t size_limit;  /* bytes in the whole block */
	size_t count_limit; /* logical headers, and physical lines */
	size_t hop_limit;   /* Received: headers */

	/* Results. */
	enum hdr_state state;
	enum hdr_reject reject;
	struct buf block; /* the header block, each line LF-terminated */
	size_t headers;   /* logical headers */
	size_t lines;     /* physical lines */
	size_t received;  /* Received: headers */
	unsigned seen;    /* HDR_SEEN_* */
	/*
	 * The body starts with a line that begins with white space (content
	 * with no header at all): emit puts an empty line before it, or it
	 * would read as a continuation of the last header cleanup adds.
	 */
	int need_separator;
	/* Msg-id of the first Message-ID header (for the log), NUL-free. */
	char message_id[256];

	/* Parser state. */
	enum hdr_line line;
	size_t line_start;  /* offset in block of the current line */
	size_t name_end;    /* offset in block just past the name */
	struct buf prefix;  /* taken bytes that turned out to be body */
	size_t msgid_start; /* value offset of the Message-ID, or 0 */
};

void cleanup_headers_init(struct cleanup_headers *h, size_t size_limit,
			  size_t count_limit, size_t hop_limit);
void cleanup_headers_free(struct cleanup_headers *h);

/*
 * Feed content bytes.  Returns how many bytes of data the processor took.
 * While the state is HDR_STATE_HEADERS that is all of them.  When the block
 * ends inside data, the state becomes HDR_STATE_BODY and data[ret..len) is
 * the start of the body; some bytes taken earlier may have turned out to be
 * body too (the start of a line that was no header): cleanup_headers_prefix
 * gives them, to be written before data[ret..len).  Once rejected, every
 * byte is taken (and dropped).  In HDR_STATE_BODY nothing is taken.
 */
size_t cleanup_headers_feed(struct cleanup_headers *h, const char *data,
			    size_t len);
/*
 * End of content.  A block that had no body is complete: a last header
 * line without its LF gets one (the block stays canonical).
 */
void cleanup_headers_finish(struct cleanup_headers *h);
/* The body bytes held back by the processor (see feed); may be empty. */
void cleanup_headers_prefix(const struct cleanup_headers *h, const char **data,
			    size_t *len);

/* The reply for a rejection: SMTP code, enhanced status, text. */
int cleanup_headers_reject_code(enum hdr_reject r);
const char *cleanup_headers_reject_dsn(enum hdr_reject r);
const char *cleanup_headers_reject_text(enum hdr_reject r);

/* What cleanup adds to a message. */
struct cleanup_trace {
	const char *queue_id;
	const char *myhostname;
	const char *protocol;    /* "ESMTP", "local", ... */
	const char *helo;        /* NULL when none */
	const char *client_name; /* NULL when none */
	const char *client_addr; /* NULL: not a network submission */
	const char *rcpt;        /* the one recipient, or NULL */
	long long uid;           /* local submitter, or -1 */
	const char *user;        /* its login name (with uid only), or NULL */
	const char *date;        /* cleanup_date_format */
	const char *from;        /* add "From: <from>" when missing; or NULL */
	int utf8; /* SMTPUTF8: addresses may keep their UTF-8 (RFC 6532) */
};

/*
 * The Received: header cleanup puts first, folded so no line exceeds
 * HDR_LINE_MAX.  Values from peers are reduced to printable ASCII ('?'
 * for anything else; with utf8, valid UTF-8 in addresses is kept) and
 * cut to a bounded length.
 */
void cleanup_received_format(const struct cleanup_trace *t, struct buf *out);
/*
 * The headers to append to the block because the message lacks them:
 * Message-ID and Date (Resent-Message-ID and Resent-Date when the message
 * has Resent- headers), and From when t->from is set.
 */
void cleanup_headers_missing(const struct cleanup_headers *h,
			     const struct cleanup_trace *t, struct buf *out);
/*
 * The start of the content cleanup writes: the Received: header, the
 * block, the missing headers.  The body prefix and the rest of the body
 * follow it.  Only in HDR_STATE_BODY.
 */
void cleanup_headers_emit(const struct cleanup_headers *h,
			  const struct cleanup_trace *t, struct buf *out);
/* RFC 5322 date with a numeric zone; -1 when it does not fit. */
int cleanup_date_format(time_t when, char *out, size_t size);

#define HDR_LINE_MAX 998 /* RFC 5322 2.1.1, without CRLF */
#define HDR_DATE_MAX 64

#endif
