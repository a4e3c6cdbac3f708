/*
 * queue_format: the shapes of a queue listing (see queue_format.h).  Input:
 * strings from qmgr's reply (quoted from queue files, so any bytes but NUL,
 * CR and LF); nothing here trusts them to be printable or UTF-8.  Runs in
 * the moat command.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "queue_format.h"
#include "utf8.h"

#define MAILQ_ID_WIDTH 23      /* a queue ID */
#define MAILQ_SENDER_COLUMN 54 /* ID, flag, size, arrival before it */

void
queue_format_json_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	buf_append_char(out, '"');
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			buf_append_char(out, '\\');
			buf_append_char(out, (char)*p++);
		} else if (*p == '\n') {
			buf_append_str(out, "\\n");
			p++;
		} else if (*p == '\t') {
			buf_append_str(out, "\\t");
			p++;
		} else if (*p < 0x20 || *p == 0x7F) {
			buf_printf(out, "\\u%04x", *p++);
		} else if ((n = utf8_seq_len(p, strnlen((const char *)p, 4))) ==
			   0) {
			buf_append_str(out, "\\ufffd");
			p++;
		} else {
			buf_append(out, p, n);
			p += n;
		}
	}
	buf_append_char(out, '"');
}

void
queue_format_safe(struct buf *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		buf_append_char(out, *p < 0x20 || *p == 0x7F ? '?' : (char)*p);
}

enum queue_time_shape {
	QUEUE_TIME_TEXT,  /* local "2026-11-22 10:00:00" */
	QUEUE_TIME_ISO,   /* UTC "2026-11-22T10:00:00Z" */
	QUEUE_TIME_MAILQ, /* local "Sun Nov 22 10:00:00 " (20 columns) */
};

static void
queue_format_time(struct buf *out, long long when, enum queue_time_shape s)
{
	time_t t = (time_t)when;
	struct tm tm;
	char text[64];
	size_t n = 0;

	if ((s == QUEUE_TIME_ISO ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) !=
	    NULL) {
		if (s == QUEUE_TIME_TEXT)
			n = strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S",
				     &tm);
		else if (s == QUEUE_TIME_ISO)
			n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ",
				     &tm);
		else
			n = strftime(text, sizeof(text), "%a %b %e %H:%M:%S ",
				     &tm);
	}
	if (n == 0)
		snprintf(text, sizeof(text), "@%lld", when);
	buf_append_str(out, text);
}

void
queue_format_text(struct buf *out, const struct queue_listing *e)
{
	size_t i;

	buf_printf(out, "%s %-8s %8lld ", e->queue_id, e->queue, e->size);
	queue_format_time(out, e->arrival, QUEUE_TIME_TEXT);
	buf_append_str(out, " <");
	queue_format_safe(out, e->sender);
	buf_append_str(out, "> ->");
	for (i = 0; i < e->rcpt_count; i++) {
		buf_append_str(out, i == 0 ? " <" : ", <");
		queue_format_safe(out, e->rcpt[i]);
		buf_append_char(out, '>');
	}
	if (e->rcpt_more > 0)
		buf_printf(out, "%s%lld more", e->rcpt_count > 0 ? ", " : " ",
			   e->rcpt_more);
	if (e->reason != NULL) {
		buf_append_str(out, " (");
		queue_format_safe(out, e->reason);
		buf_append_char(out, ')');
	}
	buf_append_char(out, '\n');
}

void
queue_format_json(struct buf *out, const struct queue_listing *e)
{
	size_t i;

	buf_append_str(out, "{\"queue_id\": ");
	queue_format_json_string(out, e->queue_id);
	buf_append_str(out, ", \"queue\": ");
	queue_format_json_string(out, e->queue);
	buf_append_str(out, ", \"arrival\": \"");
	queue_format_time(out, e->arrival, QUEUE_TIME_ISO);
	buf_printf(out, "\", \"size\": %lld, \"sender\": ", e->size);
	queue_format_json_string(out, e->sender);
	buf_append_str(out, ", \"recipients\": [");
	for (i = 0; i < e->rcpt_count; i++) {
		if (i > 0)
			buf_append_str(out, ", ");
		queue_format_json_string(out, e->rcpt[i]);
	}
	buf_append_str(out, "]");
	if (e->rcpt_more > 0)
		buf_printf(out, ", \"recipients_omitted\": %lld", e->rcpt_more);
	buf_append_str(out, ", \"reason\": ");
	if (e->reason != NULL)
		queue_format_json_string(out, e->reason);
	else
		buf_append_str(out, "null");
	buf_append_char(out, '}');
}

void
queue_format_mailq_header(struct buf *out)
{
	buf_printf(out, "%-*s%8s %-20s %s\n", MAILQ_ID_WIDTH + 1, "-Queue ID-",
		   "--Size--", "----Arrival Time----",
		   "-Sender/Recipient-------");
}

static char
queue_format_flag(const char *queue)
{
	if (strcmp(queue, "active") == 0)
		return '*';
	if (strcmp(queue, "hold") == 0)
		return '!';
	return ' ';
}

static void
queue_format_indent(struct buf *out)
{
	buf_printf(out, "%*s", MAILQ_SENDER_COLUMN, "");
}

void
queue_format_mailq(struct buf *out, const struct queue_listing *e)
{
	size_t i;

	buf_printf(out, "%-*s%c%8lld ", MAILQ_ID_WIDTH, e->queue_id,
		   queue_format_flag(e->queue), e->size);
	/* sendmail's and Postfix's arrival column: "Sun Nov 22 10:00:00". */
	queue_format_time(out, e->arrival, QUEUE_TIME_MAILQ);
	buf_append_char(out, ' ');
	if (e->sender[0] == '\0')
		buf_append_str(out, "MAILER-DAEMON");
	else
		queue_format_safe(out, e->sender);
	buf_append_char(out, '\n');
	if (e->reason != NULL) {
		queue_format_indent(out);
		buf_append_char(out, '(');
		queue_format_safe(out, e->reason);
		buf_append_str(out, ")\n");
	}
	for (i = 0; i < e->rcpt_count; i++) {
		queue_format_indent(out);
		queue_format_safe(out, e->rcpt[i]);
		buf_append_char(out, '\n');
	}
	if (e->rcpt_more > 0) {
		queue_format_indent(out);
		buf_printf(out, "(%lld more recipients)\n", e->rcpt_more);
	}
	buf_append_char(out, '\n');
}

void
queue_format_mailq_summary(struct buf *out, long long bytes, size_t count)
{
	if (count == 0) {
		buf_append_str(out, "Mail queue is empty\n");
		return;
	}
	buf_printf(out, "-- %lld Kbytes in %zu Request%s.\n",
		   (bytes + 1023) / 1024, count, count == 1 ? "" : "s");
}
