/*
 * qmgr_bounce: build a multipart/report DSN (RFC 3464, RFC 6522) from the
 * failed recipients of one message and its header block.  A recipient
 * that a remote server refused gets Remote-MTA and the server's reply as
 * its Diagnostic-Code.  Hostile input:
 * the original headers (copied as they are, bounded by the caller, never
 * the body) and the reasons, which may hold a delivery command's output
 * (sanitised and cut).  Pure; runs in qmgr.
 * XXX 8-bit bytes in the original headers are returned as they are, in a
 * part declared without a transfer encoding.
 */
#include <string.h>

#include "qmgr_bounce.h"

#define QMGR_BOUNCE_FOLD 76 /* fold header fields and text near this */

/* Append s, each control or 8-bit byte as '?', at most max bytes. */
static void
qmgr_bounce_clean(struct buf *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		buf_append_char(out, c < 0x20 || c >= 0x7f ? '?' : (char)c);
	}
}

/*
 * Append prefix, then the words of text, each after a space, folded so
 * that lines stay near QMGR_BOUNCE_FOLD columns: a continuation line
 * starts with indent and its first word.  A word longer than a line stays
 * whole (the text is cut first, so lines stay far below RFC 5322's 998).
 */
static void
qmgr_bounce_fold(struct buf *out, const char *prefix, const char *text,
		 const char *indent)
{
	struct buf clean = BUF_INIT;
	size_t col = strlen(prefix), pos = 0, word;
	int words_on_line = 0;
	const char *s;

	qmgr_bounce_clean(&clean, text, QMGR_BOUNCE_REASON_MAX);
	s = buf_cstr(&clean);
	buf_append_str(out, prefix);
	for (;;) {
		pos += strspn(s + pos, " ");
		if (pos >= clean.len)
			break;
		word = strcspn(s + pos, " ");
		if (words_on_line > 0 && col + 1 + word > QMGR_BOUNCE_FOLD) {
			buf_printf(out, "\n%s", indent);
			col = strlen(indent);
		} else {
			buf_append_char(out, ' ');
			col++;
		}
		buf_append(out, s + pos, word);
		col += word;
		pos += word;
		words_on_line = 1;
	}
	buf_append_char(out, '\n');
	buf_free(&clean);
}

static void
qmgr_bounce_headers(const struct qmgr_bounce_input *in, struct buf *out)
{
	buf_printf(out, "Date: %s\n", in->date);
	buf_printf(out, "From: MAILER-DAEMON@%s (Mail Delivery System)\n",
		   in->myhostname);
	buf_append_str(out, "To: <");
	qmgr_bounce_clean(out, in->sender, QMGR_BOUNCE_REASON_MAX);
	buf_append_str(out, ">\n");
	buf_append_str(out, "Subject: Undelivered Mail Returned to Sender\n");
	buf_printf(out, "Message-ID: <%s>\n", in->message_id);
	buf_append_str(out, "Auto-Submitted: auto-replied\n");
	buf_append_str(out, "MIME-Version: 1.0\n");
	buf_printf(out,
		   "Content-Type: multipart/report; "
		   "report-type=delivery-status;\n\tboundary=\"%s\"\n",
		   in->boundary);
	buf_append_str(out, "\nThis is a MIME-encapsulated message.\n\n");
}

static void
qmgr_bounce_notice(const struct qmgr_bounce_input *in, struct buf *out)
{
	struct buf line = BUF_INIT;
	size_t i;

	buf_printf(out, "--%s\n", in->boundary);
	buf_append_str(out, "Content-Description: Notification\n"
			    "Content-Type: text/plain; charset=us-ascii\n\n");
	buf_printf(out, "This report comes from the mail system at %s.\n\n",
		   in->myhostname);
	buf_append_str(
	    out, "Your message could not be delivered to the recipients\n"
		 "listed below; the reason follows each address.  The\n"
		 "headers of your message are attached, its body is not.\n"
		 "\n"
		 "If you need help with this report, forward it to your\n"
		 "postmaster.\n\n");
	for (i = 0; i < in->rcpt_count; i++) {
		buf_reset(&line);
		buf_append_char(&line, '<');
		qmgr_bounce_clean(&line, in->rcpt[i].addr,
				  QMGR_BOUNCE_REASON_MAX);
		buf_append_str(&line, ">:");
		qmgr_bounce_fold(out, buf_cstr(&line), in->rcpt[i].reason,
				 "    ");
		buf_append_char(out, '\n');
	}
	buf_free(&line);
}

static void
qmgr_bounce_rcpt_status(const struct qmgr_bounce_rcpt *r, struct buf *out)
{
	buf_append_str(out, "\nFinal-Recipient: rfc822; ");
	qmgr_bounce_clean(out, r->addr, QMGR_BOUNCE_REASON_MAX);
	if (r->orig != NULL && strcmp(r->orig, r->addr) != 0) {
		buf_append_str(out, "\nOriginal-Recipient: rfc822; ");
		qmgr_bounce_clean(out, r->orig, QMGR_BOUNCE_REASON_MAX);
	}
	buf_append_str(out, "\nAction: failed\nStatus: ");
	qmgr_bounce_clean(out, r->dsn, 16);
	buf_append_char(out, '\n');
	if (r->mta != NULL) {
		buf_append_str(out, "Remote-MTA: dns; ");
		qmgr_bounce_clean(out, r->mta, QMGR_BOUNCE_REASON_MAX);
		buf_append_char(out, '\n');
	}
	/* The server's own reply when there is one (RFC 3464 2.3.6). */
	qmgr_bounce_fold(out, "Diagnostic-Code: smtp;",
			 r->diag != NULL ? r->diag : r->reason, " ");
}

static void
qmgr_bounce_report(const struct qmgr_bounce_input *in, struct buf *out)
{
	size_t i;

	buf_printf(out, "--%s\n", in->boundary);
	buf_append_str(out, "Content-Description: Delivery report\n"
			    "Content-Type: message/delivery-status\n\n");
	buf_printf(out, "Reporting-MTA: dns; %s\n", in->myhostname);
	buf_printf(out, "Arrival-Date: %s\n", in->arrival_date);
	for (i = 0; i < in->rcpt_count; i++)
		qmgr_bounce_rcpt_status(&in->rcpt[i], out);
	buf_append_char(out, '\n');
}

static void
qmgr_bounce_original(const struct qmgr_bounce_input *in, struct buf *out)
{
	buf_printf(out, "--%s\n", in->boundary);
	buf_append_str(out, "Content-Description: Undelivered message headers\n"
			    "Content-Type: text/rfc822-headers\n\n");
	buf_append(out, in->headers, in->headers_len);
	if (in->headers_len > 0 && in->headers[in->headers_len - 1] != '\n')
		buf_append_char(out, '\n');
	buf_printf(out, "\n--%s--\n", in->boundary);
}

static int
qmgr_bounce_boundary_ok(const struct qmgr_bounce_input *in)
{
	size_t blen = strlen(in->boundary);

	if (blen == 0 || blen > 70 ||
	    strspn(in->boundary, "0123456789abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_=/") != blen)
		return 0;
	return in->headers_len < blen ||
	       memmem(in->headers, in->headers_len, in->boundary, blen) == NULL;
}

int
qmgr_bounce_build(const struct qmgr_bounce_input *in, struct buf *out)
{
	if (in->myhostname == NULL || in->sender == NULL ||
	    in->sender[0] == '\0' || in->date == NULL ||
	    in->arrival_date == NULL || in->boundary == NULL ||
	    in->message_id == NULL || in->rcpt_count == 0 ||
	    (in->headers == NULL && in->headers_len > 0))
		return -1;
	if (!qmgr_bounce_boundary_ok(in))
		return -1;
	qmgr_bounce_headers(in, out);
	qmgr_bounce_notice(in, out);
	qmgr_bounce_report(in, out);
	qmgr_bounce_original(in, out);
	return 0;
}

size_t
qmgr_bounce_header_len(const char *content, size_t len)
{
	size_t i, last = 0;

	for (i = 0; i < len; i++) {
		if (content[i] != '\n')
			continue;
		if (i == 0 || content[i - 1] == '\n')
			return last;
		last = i + 1;
	}
	return last;
}
