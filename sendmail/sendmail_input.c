/*
 * sendmail_input: the old end-of-input rule of sendmail.  Without -i (or
 * -oi), a line that is only "." ends the message, as a person typing at a
 * terminal expects; with -i the input ends only at end of file.  Every
 * other byte, dots included, passes unchanged (the message is not SMTP
 * and is not dot-stuffed).  A byte state machine, so a "." split across
 * two reads is judged the same.  Pure; run by sendmail and its unit test.
 */
#include <string.h>

#include "sendmail.h"

enum {
	DOT_BOL,  /* at the start of a line */
	DOT_TEXT, /* inside a line */
	DOT_DOT,  /* "." at the start of a line, held back */
	DOT_DOTCR /* ".\r" at the start of a line, held back */
};

void
sendmail_dot_init(struct sendmail_dot *d)
{
	d->state = DOT_BOL;
}

/* Give back what was held while it could still have been the end. */
static void
dot_release(struct sendmail_dot *d, struct buf *out)
{
	if (d->state == DOT_DOT)
		buf_append_char(out, '.');
	else if (d->state == DOT_DOTCR)
		buf_append(out, ".\r", 2);
	d->state = DOT_TEXT;
}

int
sendmail_dot_input(struct sendmail_dot *d, const char *p, size_t len,
		   struct buf *out, size_t *used)
{
	const char *nl;
	size_t i = 0, n;

	while (i < len) {
		char c = p[i];

		if (d->state == DOT_TEXT) {
			/* Copy the rest of the line at once. */
			nl = memchr(p + i, '\n', len - i);
			n = nl != NULL ? (size_t)(nl - (p + i)) + 1 : len - i;
			buf_append(out, p + i, n);
			i += n;
			if (nl != NULL)
				d->state = DOT_BOL;
			continue;
		}
		i++;
		if ((d->state == DOT_DOT || d->state == DOT_DOTCR) &&
		    c == '\n') {
			d->state = DOT_BOL;
			*used = i;
			return 1;
		}
		if (d->state == DOT_BOL && c == '.') {
			d->state = DOT_DOT;
		} else if (d->state == DOT_DOT && c == '\r') {
			d->state = DOT_DOTCR;
		} else {
			dot_release(d, out);
			buf_append_char(out, c);
			d->state = c == '\n' ? DOT_BOL : DOT_TEXT;
		}
	}
	*used = len;
	return 0;
}

void
sendmail_dot_flush(struct sendmail_dot *d, struct buf *out)
{
	if (d->state == DOT_DOT || d->state == DOT_DOTCR)
		dot_release(d, out);
}
