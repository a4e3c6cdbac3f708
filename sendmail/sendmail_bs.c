/*
 * sendmail_bs: sendmail -bs, a small SMTP server on stdin and stdout for
 * programs that submit mail by speaking SMTP to a pipe.  It runs as the
 * invoking user, so it needs no access checks: each accepted message goes
 * to postdrop like any other local submission, and the 250 comes only
 * after postdrop has written it.  The dialogue is the caller's but may
 * carry other people's bytes: command lines are bounded by
 * smtpd_command_line_limit, DATA goes through the one DATA reader
 * (common/smtp_data.c, bare CR or LF refused) and is bounded by
 * message_size_limit.  Runs in the sendmail command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "sendmail.h"
#include "smtp_data.h"

#define BS_CHUNK 16384

struct bs {
	const struct sendmail_opts *o;
	const struct sendmail_ctx *c;
	struct buf in;
	int eof;
	int have_mail;
	struct buf sender;
	struct sendmail_rcpts rcpts;
};

static void __attribute__((format(printf, 3, 4)))
bs_reply(int code, const char *dsn, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (dsn != NULL)
		printf("%03d %s %s\r\n", code, dsn, text);
	else
		printf("%03d %s\r\n", code, text);
	fflush(stdout);
}

/* More input into s->in; 0 at end of file. */
static int
bs_fill(struct bs *s)
{
	char chunk[BS_CHUNK];
	ssize_t n;

	if (s->eof)
		return 0;
	while ((n = read(0, chunk, sizeof(chunk))) < 0)
		if (errno != EINTR)
			break;
	if (n <= 0) {
		s->eof = 1;
		return 0;
	}
	buf_append(&s->in, chunk, (size_t)n);
	return 1;
}

/*
 * The next command line without its line end, in line.  1 for a line, 0
 * at end of input.  An over-long line is answered and skipped.
 */
static int
bs_line(struct bs *s, struct buf *line)
{
	size_t limit = s->c->command_limit;
	int skipping = 0;
	char *nl;

	for (;;) {
		nl = memchr(s->in.data != NULL ? s->in.data : "", '\n',
			    s->in.len);
		if (nl != NULL && !skipping) {
			size_t n = (size_t)(nl - s->in.data);

			buf_reset(line);
			buf_append(line, s->in.data,
				   n > 0 && nl[-1] == '\r' ? n - 1 : n);
			buf_consume(&s->in, n + 1);
			if (line->len <= limit)
				return 1;
			bs_reply(500, "5.5.2", "Error: line too long");
			continue;
		}
		if (nl != NULL) {
			buf_consume(&s->in, (size_t)(nl - s->in.data) + 1);
			skipping = 0;
			continue;
		}
		if (s->in.len > limit + 2 && !skipping) {
			bs_reply(500, "5.5.2", "Error: line too long");
			skipping = 1;
		}
		if (skipping)
			buf_reset(&s->in);
		if (!bs_fill(s))
			return 0;
	}
}

static void
bs_reset(struct bs *s)
{
	s->have_mail = 0;
	buf_reset(&s->sender);
	sendmail_rcpts_free(&s->rcpts);
}

/* "FROM:<path> params" after the verb; the path's end or 0. */
static const char *
bs_path(const char *arg, const char *prefix, struct address *a, unsigned opts,
	enum addr_error *e)
{
	size_t plen = strlen(prefix), end;

	if (strncasecmp(arg, prefix, plen) != 0)
		return NULL;
	arg += plen;
	while (*arg == ' ')
		arg++;
	if ((end = address_path_end(arg, strlen(arg))) == 0)
		return NULL;
	*e = address_parse_path(arg, end, opts | ADDR_ALLOW_NO_DOMAIN, a);
	return arg + end;
}

/* ESMTP parameters: SIZE and BODY are understood; 0 or -1 (replied). */
static int
bs_params(const struct bs *s, const char *p, int mail)
{
	char *end;
	unsigned long long size;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (mail && strncasecmp(p, "SIZE=", 5) == 0) {
			errno = 0;
			size = strtoull(p + 5, &end, 10);
			if (errno != 0 || end == p + 5 ||
			    size > s->c->size_limit) {
				bs_reply(552, "5.3.4",
					 "Message size exceeds fixed limit");
				return -1;
			}
			p = end;
		} else if (mail && (strncasecmp(p, "BODY=7BIT", 9) == 0 ||
				    strncasecmp(p, "BODY=8BITMIME", 13) == 0)) {
			p += p[5] == '7' ? 9 : 13;
		} else {
			bs_reply(555, "5.5.4", "Unsupported option");
			return -1;
		}
		if (*p != '\0' && *p != ' ') {
			bs_reply(555, "5.5.4", "Unsupported option");
			return -1;
		}
	}
	return 0;
}

static void
bs_mail(struct bs *s, const char *arg)
{
	struct address a;
	enum addr_error e = ADDR_OK;
	const char *rest = bs_path(arg, "FROM:", &a, ADDR_ALLOW_NULL, &e);

	if (s->have_mail) {
		bs_reply(503, "5.5.1", "Error: nested MAIL command");
	} else if (rest == NULL) {
		bs_reply(501, "5.5.4", "Syntax: MAIL FROM:<address>");
	} else if (e != ADDR_OK ||
		   sendmail_address_text(&a, s->c->origin, &s->sender) != 0) {
		bs_reply(501, "5.1.7", "Bad sender address syntax");
	} else if (bs_params(s, rest, 1) == 0) {
		s->have_mail = 1;
		bs_reply(250, "2.1.0", "Ok");
	}
}

static void
bs_rcpt(struct bs *s, const char *arg)
{
	struct buf text = BUF_INIT;
	struct address a;
	enum addr_error e = ADDR_OK;
	const char *rest = bs_path(arg, "TO:", &a, 0, &e);

	if (!s->have_mail)
		bs_reply(503, "5.5.1", "Error: need MAIL command");
	else if (rest == NULL)
		bs_reply(501, "5.5.4", "Syntax: RCPT TO:<address>");
	else if (e != ADDR_OK ||
		 sendmail_address_text(&a, s->c->origin, &text) != 0)
		bs_reply(501, "5.1.3", "Bad recipient address syntax");
	else if (bs_params(s, rest, 0) != 0)
		;
	else if (sendmail_rcpts_add(&s->rcpts, buf_cstr(&text)) != 0)
		bs_reply(452, "4.5.3", "Error: too many recipients");
	else
		bs_reply(250, "2.1.5", "Ok");
	buf_free(&text);
}

/* Read DATA into content; 1 at its end, 0 when the input ended first. */
static int
bs_read_data(struct bs *s, struct smtp_data *d, struct buf *content)
{
	size_t used;

	smtp_data_init(d, s->c->line_limit, s->c->size_limit);
	for (;;) {
		if (s->in.len > 0) {
			int end = smtp_data_input(d, s->in.data, s->in.len,
						  content, &used);

			buf_consume(&s->in, used);
			if (end)
				return 1;
		}
		if (!bs_fill(s))
			return 0;
	}
}

/* Hand a message to postdrop; postdrop's exit code. */
static int
bs_queue(struct bs *s, const struct buf *content)
{
	const char *msg = content->data != NULL ? content->data : "";
	struct buf out = BUF_INIT;
	struct sendmail_head h;
	struct sendmail_drop d;
	int rc;

	(void)sendmail_head_scan(msg, content->len, 1, &h);
	if (h.head_len > s->c->header_limit)
		return EX_DATAERR;
	rc = sendmail_message_start(s->c, s->o->full_name, buf_cstr(&s->sender),
				    0, msg, content->len, &h, &s->rcpts, &out);
	if (rc == 0 && (rc = sendmail_drop_start(s->c, buf_cstr(&s->sender),
						 &s->rcpts, &d)) == 0) {
		(void)sendmail_drop_write(&d, out.data, out.len);
		rc = sendmail_drop_finish(&d);
	}
	buf_free(&out);
	return rc;
}

/* DATA; 0, or -1 when the input ended inside it. */
static int
bs_data(struct bs *s)
{
	struct buf content = BUF_INIT;
	struct smtp_data d;
	int rc = 0;

	if (!s->have_mail) {
		bs_reply(503, "5.5.1", "Error: need MAIL command");
		return 0;
	}
	if (s->rcpts.count == 0) {
		bs_reply(503, "5.5.1", "Error: need RCPT command");
		return 0;
	}
	bs_reply(354, NULL, "End data with <CR><LF>.<CR><LF>");
	if (!bs_read_data(s, &d, &content)) {
		buf_free(&content);
		return -1;
	}
	if (d.error == SMTP_DATA_BARE_EOL)
		bs_reply(550, "5.6.0",
			 "Error: bare <LF> or <CR> in message; use <CR><LF>");
	else if (d.error == SMTP_DATA_LINE_TOO_LONG)
		bs_reply(552, "5.3.4", "Error: message line too long");
	else if (d.error == SMTP_DATA_TOO_BIG)
		bs_reply(552, "5.3.4", "Error: message file too big");
	else if ((rc = bs_queue(s, &content)) == 0)
		bs_reply(250, "2.0.0", "Ok: queued");
	else if (rc == EX_DATAERR)
		bs_reply(554, "5.6.0", "Error: message not accepted");
	else
		bs_reply(451, "4.3.0", "Error: queue file write error");
	bs_reset(s);
	buf_free(&content);
	return 0;
}

static void
bs_ehlo(const struct bs *s, int extended)
{
	if (!extended) {
		bs_reply(250, NULL, "%s", s->c->hostname);
		return;
	}
	printf("250-%s\r\n250-PIPELINING\r\n250-SIZE %zu\r\n"
	       "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n",
	       s->c->hostname, s->c->size_limit);
	fflush(stdout);
}

/* One command; 0 to go on, 1 after QUIT, -1 when the input ended. */
static int
bs_command(struct bs *s, const char *line)
{
	static const char *const unsupported[] = {
	    "EXPN", "HELP", "ETRN", "TURN", "AUTH", "STARTTLS", "BDAT", NULL};
	size_t n = strcspn(line, " ");
	const char *arg = line + n;
	size_t i;

	while (*arg == ' ')
		arg++;
#define IS(verb) (n == strlen(verb) && strncasecmp(line, verb, n) == 0)
	if (IS("HELO") || IS("EHLO")) {
		if (*arg == '\0')
			bs_reply(501, "5.5.4", "Syntax: %.4s hostname", line);
		else
			bs_ehlo(s, IS("EHLO"));
		bs_reset(s);
	} else if (IS("MAIL")) {
		bs_mail(s, arg);
	} else if (IS("RCPT")) {
		bs_rcpt(s, arg);
	} else if (IS("DATA")) {
		return bs_data(s);
	} else if (IS("RSET")) {
		bs_reset(s);
		bs_reply(250, "2.0.0", "Ok");
	} else if (IS("NOOP")) {
		bs_reply(250, "2.0.0", "Ok");
	} else if (IS("VRFY")) {
		bs_reply(252, "2.0.0", "Send some mail, I'll try my best");
	} else if (IS("QUIT")) {
		bs_reply(221, "2.0.0", "Bye");
		return 1;
	} else {
		for (i = 0; unsupported[i] != NULL; i++)
			if (IS(unsupported[i]))
				break;
		if (unsupported[i] != NULL)
			bs_reply(502, "5.5.1",
				 "Error: command not implemented");
		else
			bs_reply(500, "5.5.2", "Error: command not recognized");
	}
#undef IS
	return 0;
}

int
sendmail_smtp(const struct sendmail_opts *o, const struct sendmail_ctx *c)
{
	struct bs s = {o, c, BUF_INIT, 0, 0, BUF_INIT, {NULL, 0}};
	struct buf line = BUF_INIT;
	int rc = 0;

	bs_reply(220, NULL, "%s ESMTP", c->hostname);
	while (rc == 0 && bs_line(&s, &line))
		rc = bs_command(&s, buf_cstr(&line));
	bs_reset(&s);
	buf_free(&s.in);
	buf_free(&s.sender);
	buf_free(&line);
	return EX_OK;
}
