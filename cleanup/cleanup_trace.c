/*
 * cleanup_trace: the header lines cleanup writes into a message: its
 * Received: trace header and the Message-ID, Date and From headers a
 * message lacks.  The HELO name, client name and address come from an SMTP
 * client through smtpd and are hostile: they are reduced to printable
 * ASCII and cut to a bounded length, so no line can exceed RFC 5322's 998
 * bytes and no value can start a new header.  No software name or version
 * appears anywhere.  Pure apart from localtime (date); run by cleanup and
 * the unit test.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cleanup_headers.h"
#include "utf8.h"

#define TRACE_HOST_MAX 255 /* helo, client name, myhostname */
#define TRACE_ADDR_MAX 64  /* client address */
#define TRACE_PROTO_MAX 32
#define TRACE_RCPT_MAX 400 /* at least ADDR_TEXT_MAX */
#define TRACE_ID_MAX 64
#define TRACE_USER_MAX 64 /* a local submitter's login name */

/* How trace_append treats bytes outside printable ASCII and blanks. */
enum trace_kind {
	TRACE_WORD, /* host names, ids: no blanks, no comment delimiters */
	TRACE_TEXT, /* the date, addresses: blanks kept */
	TRACE_UTF8, /* an address of an SMTPUTF8 message: valid UTF-8 kept */
};

/*
 * Append s cut to max bytes, each byte outside printable ASCII replaced by
 * '?' (but a valid UTF-8 sequence, for TRACE_UTF8: an SMTPUTF8 message's
 * header may hold UTF-8, RFC 6532).  A word loses its spaces and the
 * comment delimiters too, which could unbalance the trace.
 */
static void
trace_append(struct buf *out, const char *s, size_t max, enum trace_kind kind)
{
	size_t len = s != NULL ? strnlen(s, max) : 0;

	utf8_clean(out, s, len, kind == TRACE_UTF8,
		   kind == TRACE_WORD ? " ()" : "");
	if (len == 0 && kind == TRACE_WORD)
		buf_append_str(out, "unknown");
}

static void
trace_append_clean(struct buf *out, const char *s, size_t max)
{
	trace_append(out, s, max, TRACE_WORD);
}

static void
trace_append_text(struct buf *out, const char *s, size_t max)
{
	trace_append(out, s, max, TRACE_TEXT);
}

static int
trace_has(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* "from HELO (NAME [ADDR])" */
static void
trace_from(const struct cleanup_trace *t, struct buf *out)
{
	buf_append_str(out, "from ");
	trace_append_clean(out,
			   trace_has(t->helo)          ? t->helo
			   : trace_has(t->client_name) ? t->client_name
						       : "unknown",
			   TRACE_HOST_MAX);
	buf_append_str(out, " (");
	trace_append_clean(
	    out, trace_has(t->client_name) ? t->client_name : "unknown",
	    TRACE_HOST_MAX);
	buf_append_str(out, " [");
	trace_append_clean(out, t->client_addr, TRACE_ADDR_MAX);
	buf_append_str(out, "])\n\t");
}

void
cleanup_received_format(const struct cleanup_trace *t, struct buf *out)
{
	buf_append_str(out, "Received: ");
	if (trace_has(t->client_addr))
		trace_from(t, out);
	buf_append_str(out, "by ");
	trace_append_clean(out, t->myhostname, TRACE_HOST_MAX);
	buf_append_str(out, " with ");
	trace_append_clean(out, t->protocol, TRACE_PROTO_MAX);
	buf_append_str(out, " id ");
	trace_append_clean(out, t->queue_id, TRACE_ID_MAX);
	if (!trace_has(t->client_addr) && t->uid >= 0) {
		buf_printf(out, " (uid %lld", t->uid);
		if (trace_has(t->user)) {
			buf_append_str(out, ", user ");
			trace_append_clean(out, t->user, TRACE_USER_MAX);
		}
		buf_append_char(out, ')');
	}
	if (t->rcpt != NULL) {
		buf_append_str(out, "\n\tfor <");
		trace_append(out, t->rcpt, TRACE_RCPT_MAX,
			     t->utf8 ? TRACE_UTF8 : TRACE_TEXT);
		buf_append_str(out, ">; ");
	} else {
		buf_append_str(out, ";\n\t");
	}
	trace_append_text(out, t->date, HDR_DATE_MAX);
	buf_append_char(out, '\n');
}

/* One added header: "[Resent-]Name: OPEN value CLOSE". */
static void
trace_add_header(struct buf *out, int resent, const char *name,
		 const char *open, const char *value, const char *close)
{
	buf_printf(out, "%s%s: %s", resent ? "Resent-" : "", name, open);
	trace_append_text(out, value, TRACE_RCPT_MAX);
	buf_printf(out, "%s\n", close);
}

void
cleanup_headers_missing(const struct cleanup_headers *h,
			const struct cleanup_trace *t, struct buf *out)
{
	int resent = (h->seen & HDR_SEEN_RESENT) != 0;
	unsigned msgid =
	    resent ? HDR_SEEN_RESENT_MESSAGE_ID : HDR_SEEN_MESSAGE_ID;
	unsigned date = resent ? HDR_SEEN_RESENT_DATE : HDR_SEEN_DATE;
	unsigned from = resent ? HDR_SEEN_RESENT_FROM : HDR_SEEN_FROM;

	if (!(h->seen & msgid)) {
		buf_printf(out, "%sMessage-ID: <", resent ? "Resent-" : "");
		trace_append_clean(out, t->queue_id, TRACE_ID_MAX);
		buf_append_char(out, '@');
		trace_append_clean(out, t->myhostname, TRACE_HOST_MAX);
		buf_append_str(out, ">\n");
	}
	if (!(h->seen & date))
		trace_add_header(out, resent, "Date", "", t->date, "");
	if (!(h->seen & from) && trace_has(t->from))
		trace_add_header(out, resent, "From", "<", t->from, ">");
}

void
cleanup_headers_emit(const struct cleanup_headers *h,
		     const struct cleanup_trace *t, struct buf *out)
{
	cleanup_received_format(t, out);
	buf_append(out, h->block.data, h->block.len);
	cleanup_headers_missing(h, t, out);
	if (h->need_separator)
		buf_append_char(out, '\n');
}

int
cleanup_date_format(time_t when, char *out, size_t size)
{
	struct tm tm;

	if (localtime_r(&when, &tm) == NULL)
		return -1;
	if (strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		return -1;
	return 0;
}
