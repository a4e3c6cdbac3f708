/*
 * sendmail_submit: sendmail's default mode (-bm).  Reads the message from
 * stdin (up to a lone "." line unless -i), takes the header block aside
 * to find the recipients for -t, leave out Bcc: and add a From: when there
 * is none, then streams the message to postdrop.  The message is the
 * caller's, often built from someone else's data: the header block is
 * bounded by header_size_limit before it is looked at, and postdrop
 * counts the whole against message_size_limit.  Runs in the sendmail
 * command as the invoking user.
 */
#include <errno.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "sendmail.h"

#define SUBMIT_CHUNK 65536

struct submit {
	const struct sendmail_opts *o;
	const struct sendmail_ctx *c;
	struct sendmail_dot dot;
	int ended; /* end of file, or the "." line */
};

/* Append the next piece of the message to out; -1 on a read error. */
static int
submit_read(struct submit *s, struct buf *out)
{
	char chunk[SUBMIT_CHUNK];
	size_t used;
	ssize_t n;

	if (s->ended)
		return 0;
	while ((n = read(0, chunk, sizeof(chunk))) < 0)
		if (errno != EINTR)
			return -1;
	if (n == 0) {
		s->ended = 1;
		if (!s->o->ignore_dots)
			sendmail_dot_flush(&s->dot, out);
	} else if (s->o->ignore_dots) {
		buf_append(out, chunk, (size_t)n);
	} else if (sendmail_dot_input(&s->dot, chunk, (size_t)n, out, &used)) {
		s->ended = 1;
	}
	return 0;
}

/* Read until the header block is known; 0 or an EX_ code. */
static int
submit_head(struct submit *s, struct buf *in, struct sendmail_head *h)
{
	size_t limit = s->c->header_limit;

	while (!sendmail_head_scan(in->data != NULL ? in->data : "", in->len,
				   s->ended, h)) {
		if (in->len > limit + 2 * SUBMIT_CHUNK)
			break;
		if (submit_read(s, in) != 0) {
			sendmail_say("reading the message: %s",
				     strerror(errno));
			return EX_IOERR;
		}
	}
	if (in->len > limit + 2 * SUBMIT_CHUNK || h->head_len > limit) {
		sendmail_say("message header larger than header_size_limit "
			     "(%zu bytes)",
			     limit);
		return EX_DATAERR;
	}
	return 0;
}

static int
submit_recipients(const struct submit *s, struct sendmail_rcpts *r)
{
	struct buf err = BUF_INIT;
	size_t i;

	for (i = 0; i < s->o->rcpt_count; i++) {
		const char *a = s->o->rcpt[i];

		if (sendmail_addr_list_parse(a, strlen(a), s->c->origin, r,
					     &err) != 0) {
			sendmail_say("recipient %s", buf_cstr(&err));
			buf_free(&err);
			return EX_DATAERR;
		}
	}
	buf_free(&err);
	if (r->count == 0) {
		sendmail_say("no recipients");
		return EX_USAGE;
	}
	return 0;
}

int
sendmail_message_start(const struct sendmail_ctx *c, const char *full_name,
		       const char *sender, int extract, const char *msg,
		       size_t len, const struct sendmail_head *h,
		       struct sendmail_rcpts *r, struct buf *out)
{
	const char *head = msg + h->skip, *rest = head + h->head_len;
	size_t rest_len = len - h->skip - h->head_len;
	struct buf err = BUF_INIT, from = BUF_INIT;
	int has_from;

	if (sendmail_headers_rewrite(head, h->head_len, extract, c->origin, r,
				     out, &has_from, &err) != 0) {
		sendmail_say("%s", buf_cstr(&err));
		buf_free(&err);
		return EX_DATAERR;
	}
	if (!has_from) {
		if (sender[0] == '\0')
			buf_printf(&from, "%s@%s", c->login, c->origin);
		else
			buf_set_str(&from, sender);
		sendmail_from_header(full_name != NULL ? full_name
						       : c->gecos_name,
				     buf_cstr(&from), out);
		/* A body with no header block before it needs its blank line.
		 */
		if (h->head_len == 0 && rest_len > 0 && rest[0] != '\n' &&
		    !(rest_len >= 2 && rest[0] == '\r' && rest[1] == '\n'))
			buf_append_char(out, '\n');
	}
	buf_append(out, rest, rest_len);
	buf_free(&from);
	return 0;
}

/* The rest of stdin to postdrop. */
static int
submit_stream(struct submit *s, struct sendmail_drop *d, struct buf *out)
{
	while (out->len > 0 || !s->ended) {
		if (sendmail_drop_write(d, out->data, out->len) != 0)
			return 0; /* postdrop's status says why */
		buf_reset(out);
		if (submit_read(s, out) != 0) {
			sendmail_say("reading the message: %s",
				     strerror(errno));
			return EX_IOERR;
		}
	}
	return 0;
}

int
sendmail_submit(const struct sendmail_opts *o, const struct sendmail_ctx *c,
		const char *sender)
{
	struct submit s = {o, c, {0}, 0};
	struct sendmail_rcpts r = {NULL, 0};
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct sendmail_head h;
	struct sendmail_drop d;
	int rc, drc;

	sendmail_dot_init(&s.dot);
	if ((rc = submit_head(&s, &in, &h)) == 0 &&
	    (rc = sendmail_message_start(c, o->full_name, sender, o->extract,
					 in.data != NULL ? in.data : "", in.len,
					 &h, &r, &out)) == 0 &&
	    (rc = submit_recipients(&s, &r)) == 0 &&
	    (rc = sendmail_drop_start(c, sender, &r, &d)) == 0) {
		if (c->verbose)
			sendmail_say("from=<%s>, nrcpt=%zu: to postdrop",
				     sender, r.count);
		rc = submit_stream(&s, &d, &out);
		drc = sendmail_drop_finish(&d);
		if (rc == 0)
			rc = drc;
	}
	sendmail_rcpts_free(&r);
	buf_free(&in);
	buf_free(&out);
	return rc;
}
