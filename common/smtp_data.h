/*
 * smtp_data: the DATA reader, a pure state machine over the raw bytes
 * that follow the DATA command (hostile client input).  Only CR LF "." CR
 * LF ends the message: a bare LF or a bare CR anywhere marks the message
 * rejected (SMTP smuggling), but the reader goes on to the real end so the
 * conversation stays in step.  It removes dot-stuffing and turns CR LF into
 * LF (the canonical form of ipc_proto.h); 8-bit bytes pass untouched.  An
 * over-long line or an over-large message is rejected, never cut: once a
 * message is rejected nothing more is output.  Run by smtpd and by
 * sendmail -bs (one DATA reader for both).
 *
 * The same machine reads BDAT chunks (RFC 3030) in chunked mode: no
 * dot-stuffing and no end marker (the chunk sizes end the message), but
 * the same line-end rules, so CR LF becomes LF, a bare CR or LF rejects
 * the message as in DATA (smuggling, header injection), and over-long
 * lines and sizes are refused alike.  The state carries across chunks, so
 * a CR LF split between two chunks is one line end.
 */
#ifndef MOAT_SMTP_DATA_H
#define MOAT_SMTP_DATA_H

#include <stddef.h>

#include "buf.h"

enum smtp_data_error {
	SMTP_DATA_OK = 0,
	SMTP_DATA_BARE_EOL,      /* bare LF or CR */
	SMTP_DATA_LINE_TOO_LONG, /* a line over line_limit */
	SMTP_DATA_TOO_BIG,       /* content over size_limit */
};

struct smtp_data {
	int state;
	size_t line_len; /* bytes of the current line so far */
	size_t size;     /* canonical bytes so far */
	size_t line_limit;
	size_t size_limit;
	enum smtp_data_error error; /* the first error seen */
	int done;
	int chunked; /* BDAT: '.' is plain text, there is no end marker */
};

void smtp_data_init(struct smtp_data *d, size_t line_limit, size_t size_limit);
/* For BDAT content: smtp_data_input then takes every byte it is given. */
void smtp_data_init_chunked(struct smtp_data *d, size_t line_limit,
			    size_t size_limit);
/* After the LAST chunk: a CR still waiting for its LF is a bare CR. */
void smtp_data_end_chunked(struct smtp_data *d);

/*
 * Feed len bytes.  Canonical content is appended to out (never more than
 * len bytes per call; nothing once d->error is set).  Sets *used to the
 * bytes taken: all of them, or fewer when the end of DATA came first (the
 * rest are the client's next commands).  Returns 1 when the end was seen,
 * 0 when more bytes are needed.
 */
int smtp_data_input(struct smtp_data *d, const char *p, size_t len,
		    struct buf *out, size_t *used);

#endif
