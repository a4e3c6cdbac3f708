/*
 * qmgr_bounce: build a multipart/report DSN (RFC 3464, RFC 6522) from the
 * recipients of one message that failed, are delayed or were delivered
 * (by kind), and its header block or, for RET=FULL, the whole message.
 * A recipient that a remote server refused gets Remote-MTA and the
 * server's reply as its Diagnostic-Code; ENVID and ORCPT, when the client
 * gave them (RFC 3461), come back as Original-Envelope-Id and
 * Original-Recipient.  Hostile input: the original message (copied as it
 * is, bounded by the caller) and the reasons, which may hold a delivery
 * command's output (sanitised and cut).  Pure; runs in qmgr.
 * XXX 8-bit bytes in the original headers are returned as they are, in a
 * part declared without a transfer encoding.
 */
#include <string.h>

#include "qmgr_bounce.h"
#include "utf8.h"

#define QMGR_BOUNCE_FOLD 76       /* fold header fields and text near this */
#define QMGR_BOUNCE_TEXT_WIDTH 60 /* our own paragraphs */

/*
 * Append s, at most max bytes, each control or 8-bit byte as '?' but,
 * with utf8 (the report of an SMTPUTF8 message), a valid UTF-8 sequence.
 */
static void
qmgr_bounce_clean_utf8(struct buf *out, const char *s, size_t max, int utf8)
{
	utf8_clean(out, s, strnlen(s, max), utf8, "");
}

static void
qmgr_bounce_clean(struct buf *out, const char *s, size_t max)
{
	qmgr_bounce_clean_utf8(out, s, max, 0);
}

/* What each kind of report says. */
static const struct {
	const char *subject;
	const char *action;
	const char *intro;
	const char *part;
} qmgr_bounce_kinds[] = {
    [QMGR_DSN_FAILURE] = {"Undelivered Mail Returned to Sender", "failed",
			  "Your message could not be delivered to the "
			  "recipients listed below; the reason follows each "
			  "address.",
			  "Undelivered message"},
    [QMGR_DSN_DELAY] = {"Mail delivery delayed: still trying", "delayed",
			"Your message has not been delivered yet to the "
			"recipients listed below; the reason follows each "
			"address.  Delivery goes on being tried: there is "
			"nothing you need to do.  Should it fail for good, "
			"you will be told again.",
			"Delayed message"},
    [QMGR_DSN_SUCCESS] = {"Mail delivery report: delivered", "delivered",
			  "Your message was delivered to the recipients "
			  "listed below, as you asked.  A recipient marked "
			  "\"relayed\" went to a mail server that does not "
			  "report delivery: no further notice will come for "
			  "it.",
			  "Delivered message"},
};

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

/*
 * Our own text as a paragraph: lines near QMGR_BOUNCE_TEXT_WIDTH columns,
 * breaks at single blanks, the two blanks after a sentence kept, then an
 * empty line.
 */
static void
qmgr_bounce_paragraph(struct buf *out, const char *text)
{
	size_t col = 0, word, gap;

	while (*text != '\0') {
		gap = strspn(text, " ");
		word = strcspn(text + gap, " ");
		if (col > 0 && col + gap + word > QMGR_BOUNCE_TEXT_WIDTH) {
			buf_append_char(out, '\n');
			col = 0;
		} else if (col > 0) {
			buf_append(out, text, gap);
			col += gap;
		}
		buf_append(out, text + gap, word);
		col += word;
		text += gap + word;
	}
	buf_append_str(out, "\n\n");
}

static void
qmgr_bounce_headers(const struct qmgr_bounce_input *in, struct buf *out)
{
	buf_printf(out, "Date: %s\n", in->date);
	buf_printf(out, "From: MAILER-DAEMON@%s (Mail Delivery System)\n",
		   in->myhostname);
	buf_append_str(out, "To: <");
	qmgr_bounce_clean_utf8(out, in->sender, QMGR_BOUNCE_REASON_MAX,
			       in->utf8);
	buf_append_str(out, ">\n");
	buf_printf(out, "Subject: %s\n", qmgr_bounce_kinds[in->kind].subject);
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
	buf_printf(out,
		   "Content-Description: Notification\n"
		   "Content-Type: text/plain; charset=%s\n\n",
		   in->utf8 ? "utf-8" : "us-ascii");
	buf_printf(out, "This report comes from the mail system at %s.\n\n",
		   in->myhostname);
	buf_reset(&line);
	buf_printf(&line, "%s  %s", qmgr_bounce_kinds[in->kind].intro,
		   in->full ? "Your message is attached."
		   : in->kind == QMGR_DSN_FAILURE
		       ? "The headers of your message "
			 "are attached, its body is "
			 "not."
		       : "The headers of your message "
			 "are attached.");
	qmgr_bounce_paragraph(out, buf_cstr(&line));
	qmgr_bounce_paragraph(out, "If you need help with this report, "
				   "forward it to your postmaster.");
	for (i = 0; i < in->rcpt_count; i++) {
		buf_reset(&line);
		buf_append_char(&line, '<');
		qmgr_bounce_clean_utf8(&line, in->rcpt[i].addr,
				       QMGR_BOUNCE_REASON_MAX, in->utf8);
		buf_append_str(&line, ">:");
		qmgr_bounce_fold(out, buf_cstr(&line), in->rcpt[i].reason,
				 "    ");
		buf_append_char(out, '\n');
	}
	buf_free(&line);
}

/*
 * "Name: TYPE; ADDRESS": rfc822 for ASCII, utf-8 for a UTF-8 address of
 * an SMTPUTF8 message (RFC 6533).
 */
static void
qmgr_bounce_address(struct buf *out, const char *name, const char *addr,
		    int utf8)
{
	int u = utf8 && utf8_has_8bit(addr, strlen(addr));

	buf_printf(out, "%s: %s; ", name, u ? "utf-8" : "rfc822");
	qmgr_bounce_clean_utf8(out, addr, QMGR_BOUNCE_REASON_MAX, u);
	buf_append_char(out, '\n');
}

/* The client's ORCPT "type;address" as "Original-Recipient: type; address". */
static void
qmgr_bounce_orcpt(struct buf *out, const char *orcpt, int utf8)
{
	const char *semi = strchr(orcpt, ';');

	if (semi == NULL)
		return;
	buf_append_str(out, "Original-Recipient: ");
	qmgr_bounce_clean(out, orcpt, (size_t)(semi - orcpt));
	buf_append_str(out, "; ");
	qmgr_bounce_clean_utf8(out, semi + 1, QMGR_BOUNCE_REASON_MAX, utf8);
	buf_append_char(out, '\n');
}

static void
qmgr_bounce_rcpt_status(const struct qmgr_bounce_input *in,
			const struct qmgr_bounce_rcpt *r, struct buf *out)
{
	const char *action = qmgr_bounce_kinds[in->kind].action;

	buf_append_char(out, '\n');
	/* RFC 3464 2.3: Original-Recipient comes first. */
	if (r->orcpt != NULL)
		qmgr_bounce_orcpt(out, r->orcpt, in->utf8);
	else if (r->orig != NULL && strcmp(r->orig, r->addr) != 0)
		qmgr_bounce_address(out, "Original-Recipient", r->orig,
				    in->utf8);
	qmgr_bounce_address(out, "Final-Recipient", r->addr, in->utf8);
	if (in->kind == QMGR_DSN_SUCCESS && r->relayed)
		action = "relayed";
	buf_printf(out, "Action: %s\nStatus: ", action);
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
	buf_printf(out,
		   "Content-Description: Delivery report\n"
		   "Content-Type: message/%sdelivery-status\n\n",
		   in->utf8 ? "global-" : "");
	if (in->envid != NULL) {
		buf_append_str(out, "Original-Envelope-Id: ");
		qmgr_bounce_clean(out, in->envid, QMGR_BOUNCE_REASON_MAX);
		buf_append_char(out, '\n');
	}
	buf_printf(out, "Reporting-MTA: dns; %s\n", in->myhostname);
	buf_printf(out, "Arrival-Date: %s\n", in->arrival_date);
	for (i = 0; i < in->rcpt_count; i++)
		qmgr_bounce_rcpt_status(in, &in->rcpt[i], out);
	buf_append_char(out, '\n');
}

static void
qmgr_bounce_original(const struct qmgr_bounce_input *in, struct buf *out)
{
	const char *part = qmgr_bounce_kinds[in->kind].part;

	buf_printf(out, "--%s\n", in->boundary);
	if (in->full)
		buf_printf(out,
			   "Content-Description: %s\n"
			   "Content-Type: message/%s\n\n",
			   part, in->utf8 ? "global" : "rfc822");
	else
		buf_printf(out,
			   "Content-Description: %s headers\n"
			   "Content-Type: %s\n\n",
			   part,
			   in->utf8 ? "message/global-headers"
				    : "text/rfc822-headers");
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
	    (unsigned)in->kind > QMGR_DSN_SUCCESS ||
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
