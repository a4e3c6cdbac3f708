/*
 * smtp_data: the byte-level DATA state machine.  Input is hostile client
 * bytes; the states below decide what a CR, an LF or a '.' means where it
 * stands, so no sequence but CR LF "." CR LF can end the message (and in
 * chunked mode, for BDAT, none at all).  Pure; run by smtpd, sendmail
 * -bs, unit tests and the fuzz target.
 */
#include <string.h>

#include "smtp_data.h"

enum {
	S_BOL,    /* at the start of a line (after CR LF) */
	S_TEXT,   /* inside a line */
	S_CR,     /* after a CR inside a line */
	S_DOT,    /* after a '.' at the start of a line */
	S_DOT_CR, /* after "." CR at the start of a line */
};

void
smtp_data_init(struct smtp_data *d, size_t line_limit, size_t size_limit)
{
	memset(d, 0, sizeof(*d));
	d->state = S_BOL;
	d->line_limit = line_limit;
	d->size_limit = size_limit;
}

void
smtp_data_init_chunked(struct smtp_data *d, size_t line_limit,
		       size_t size_limit)
{
	smtp_data_init(d, line_limit, size_limit);
	d->chunked = 1;
}

static void
fail(struct smtp_data *d, enum smtp_data_error e)
{
	if (d->error == SMTP_DATA_OK)
		d->error = e;
}

/* Output n bytes of line text, minding the line and size limits. */
static void
emit_text(struct smtp_data *d, const char *p, size_t n, struct buf *out)
{
	d->line_len += n;
	if (d->line_len > d->line_limit)
		fail(d, SMTP_DATA_LINE_TOO_LONG);
	if (n > d->size_limit || d->size > d->size_limit - n)
		fail(d, SMTP_DATA_TOO_BIG);
	d->size += n;
	if (d->error == SMTP_DATA_OK)
		buf_append(out, p, n);
}

static void
emit_eol(struct smtp_data *d, struct buf *out)
{
	d->line_len = 0;
	if (d->size >= d->size_limit)
		fail(d, SMTP_DATA_TOO_BIG);
	d->size++;
	if (d->error == SMTP_DATA_OK)
		buf_append_char(out, '\n');
}

/* Ordinary text: take the run up to the next CR or LF at once. */
static size_t
take_text(struct smtp_data *d, const char *p, size_t len, struct buf *out)
{
	size_t n = 0;

	while (n < len && p[n] != '\r' && p[n] != '\n')
		n++;
	emit_text(d, p, n, out);
	return n;
}

/* One byte that is neither ordinary text in S_TEXT nor the end. */
static void
step(struct smtp_data *d, char c, struct buf *out)
{
	switch (d->state) {
	case S_BOL:
	case S_TEXT:
		if (c == '.' && d->state == S_BOL && !d->chunked) {
			d->state = S_DOT;
		} else if (c == '\r') {
			d->state = S_CR;
		} else if (c == '\n') {
			fail(d, SMTP_DATA_BARE_EOL);
			d->state = S_TEXT;
		} else {
			emit_text(d, &c, 1, out);
			d->state = S_TEXT;
		}
		break;
	case S_CR:
		if (c == '\n') {
			emit_eol(d, out);
			d->state = S_BOL;
		} else {
			fail(d, SMTP_DATA_BARE_EOL);
			if (c != '\r') {
				emit_text(d, &c, 1, out);
				d->state = S_TEXT;
			}
		}
		break;
	case S_DOT:
		/* The first dot of a line is stuffing: drop it. */
		if (c == '\r') {
			d->state = S_DOT_CR;
		} else if (c == '\n') {
			fail(d, SMTP_DATA_BARE_EOL);
			d->state = S_TEXT;
		} else {
			emit_text(d, &c, 1, out);
			d->state = S_TEXT;
		}
		break;
	case S_DOT_CR:
		/* c is not LF here: the CR was bare. */
		fail(d, SMTP_DATA_BARE_EOL);
		if (c == '\r') {
			d->state = S_CR;
		} else {
			emit_text(d, &c, 1, out);
			d->state = S_TEXT;
		}
		break;
	}
}

void
smtp_data_end_chunked(struct smtp_data *d)
{
	if (d->state == S_CR)
		fail(d, SMTP_DATA_BARE_EOL);
}

int
smtp_data_input(struct smtp_data *d, const char *p, size_t len, struct buf *out,
		size_t *used)
{
	size_t i = 0;

	if (d->done) {
		*used = 0;
		return 1;
	}
	while (i < len) {
		if (d->state == S_TEXT && p[i] != '\r' && p[i] != '\n') {
			i += take_text(d, p + i, len - i, out);
			continue;
		}
		if (d->state == S_DOT_CR && p[i] == '\n') {
			d->done = 1;
			*used = i + 1;
			return 1;
		}
		step(d, p[i], out);
		i++;
	}
	*used = len;
	return 0;
}
