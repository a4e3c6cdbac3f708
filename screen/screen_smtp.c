/*
 * screen_smtp: the SMTP engine of an enforced rejection (screen_smtp.h).
 * Input is hostile: lines are looked at only once complete and within
 * SCREEN_SMTP_LINE_MAX (a longer one is answered once and skipped to its
 * LF), arguments are cut to SCREEN_SMTP_ARG_MAX and anything unprintable
 * in them is shown as '?' before it reaches a log line.  Pure.  Run by
 * screen.
 */
#include <string.h>
#include <strings.h>

#include "screen_smtp.h"

void
screen_smtp_init(struct screen_smtp *s)
{
	memset(s, 0, sizeof(*s));
	s->command_limit = 20;
}

/* The verb of a line: its first word, upper case, letters only, or "". */
static void
smtp_verb(const char *line, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len && i < 7 && line[i] != ' '; i++) {
		char ch = line[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		if (ch < 'A' || ch > 'Z') {
			out[0] = '\0';
			return;
		}
		out[i] = ch;
	}
	out[i] = '\0';
	if (i == 7 && i < len && line[i] != ' ')
		out[0] = '\0'; /* longer than any verb */
}

/*
 * The argument after prefix ("FROM:"), its <> removed, printable, cut to
 * fit out; -1 when the line does not start with prefix.
 */
static int
smtp_arg(const char *line, size_t len, const char *prefix, char *out,
	 size_t size)
{
	size_t plen = strlen(prefix), i = 0, o = 0;

	out[0] = '\0';
	if (prefix[0] != '\0') {
		if (len < plen || strncasecmp(line, prefix, plen) != 0)
			return -1;
		i = plen;
	}
	while (i < len && line[i] == ' ')
		i++;
	if (i < len && line[i] == '<')
		i++;
	for (; i < len && o + 1 < size; i++) {
		char ch = line[i];
		if (ch == '>' && prefix[0] != '\0')
			break;
		out[o++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	out[o] = '\0';
	return 0;
}

static void
smtp_reply(struct buf *out, const char *text)
{
	buf_append_str(out, text);
	buf_append(out, "\r\n", 2);
}

/* RCPT: the rejection, logged in Postfix's words. */
static void
smtp_rcpt(struct screen_smtp *s, const char *line, size_t len, struct buf *out,
	  struct buf *log)
{
	char to[SCREEN_SMTP_ARG_MAX];

	if (!s->have_mail) {
		smtp_reply(out, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (len < 5 ||
	    smtp_arg(line + 5, len - 5, "TO:", to, sizeof(to)) != 0) {
		smtp_reply(out, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	smtp_reply(out, s->reject);
	buf_printf(log,
		   "NOQUEUE: reject: RCPT from %s: %s; from=<%s>, to=<%s>, "
		   "proto=ESMTP, helo=<%s>\n",
		   s->client, s->reject, s->from, to, s->helo);
}

static void
smtp_mail(struct screen_smtp *s, const char *line, size_t len, struct buf *out)
{
	if (s->have_mail) {
		smtp_reply(out, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (len < 5 || smtp_arg(line + 5, len - 5, "FROM:", s->from,
				sizeof(s->from)) != 0) {
		smtp_reply(out, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	s->have_mail = 1;
	smtp_reply(out, "250 2.1.0 Ok");
}

static void
smtp_helo(struct screen_smtp *s, const char *line, size_t len, int ehlo,
	  struct buf *out)
{
	if (len <= 5) {
		smtp_reply(out, ehlo ? "501 Syntax: EHLO hostname"
				     : "501 Syntax: HELO hostname");
		return;
	}
	(void)smtp_arg(line + 5, len - 5, "", s->helo, sizeof(s->helo));
	s->have_mail = 0;
	buf_printf(out, ehlo ? "250-%s\r\n250 PIPELINING\r\n" : "250 %s\r\n",
		   s->myhostname);
}

/* One complete line (without its line end); 1 when the session ends. */
static int
smtp_command(struct screen_smtp *s, const char *line, size_t len,
	     struct buf *out, struct buf *log)
{
	char verb[8];

	smtp_verb(line, len, verb);
	strlcpy(s->last, verb[0] != '\0' ? verb : "UNKNOWN", sizeof(s->last));
	if (++s->commands > s->command_limit) {
		buf_printf(out, "421 4.7.0 %s Error: too many commands\r\n",
			   s->myhostname);
		buf_printf(log, "COMMAND COUNT LIMIT from %s after %s\n",
			   s->client, s->last);
		return 1;
	}
	if (strcmp(verb, "EHLO") == 0 || strcmp(verb, "HELO") == 0)
		smtp_helo(s, line, len, verb[0] == 'E', out);
	else if (strcmp(verb, "MAIL") == 0)
		smtp_mail(s, line, len, out);
	else if (strcmp(verb, "RCPT") == 0)
		smtp_rcpt(s, line, len, out, log);
	else if (strcmp(verb, "DATA") == 0 || strcmp(verb, "BDAT") == 0)
		smtp_reply(out, "554 5.5.1 Error: no valid recipients");
	else if (strcmp(verb, "RSET") == 0 || strcmp(verb, "NOOP") == 0) {
		s->have_mail = verb[0] == 'N' && s->have_mail;
		smtp_reply(out, "250 2.0.0 Ok");
	} else if (strcmp(verb, "QUIT") == 0) {
		smtp_reply(out, "221 2.0.0 Bye");
		return 1;
	} else {
		smtp_reply(out, "502 5.5.2 Error: command not recognized");
	}
	return 0;
}

/* Bytes up to an LF: a line, or part of an over-long one. */
static int
smtp_take(struct screen_smtp *s, const char *data, size_t n, int complete,
	  struct buf *out, struct buf *log)
{
	size_t len;

	if (s->discarding) {
		s->discarding = !complete;
		return 0;
	}
	if (s->line_len + n > sizeof(s->line) - 1) {
		smtp_reply(out, "500 5.5.2 Error: line too long");
		s->line_len = 0;
		s->discarding = !complete;
		return 0;
	}
	memcpy(s->line + s->line_len, data, n);
	s->line_len += n;
	if (!complete)
		return 0;
	len = s->line_len;
	s->line_len = 0;
	if (len > 0 && s->line[len - 1] == '\r')
		len--;
	return smtp_command(s, s->line, len, out, log);
}

enum screen_smtp_result
screen_smtp_input(struct screen_smtp *s, const char *data, size_t len,
		  struct buf *out, struct buf *log)
{
	const char *lf;
	size_t n;

	while (len > 0) {
		lf = memchr(data, '\n', len);
		n = lf != NULL ? (size_t)(lf - data) : len;
		if (smtp_take(s, data, n, lf != NULL, out, log))
			return SCREEN_SMTP_CLOSE;
		if (lf == NULL)
			break;
		data += n + 1;
		len -= n + 1;
	}
	return SCREEN_SMTP_MORE;
}
