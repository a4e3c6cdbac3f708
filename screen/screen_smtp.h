/*
 * screen_smtp: the screen's SMTP engine for a client that failed a test
 * with the enforce action, as postscreen's: it greets, takes EHLO, HELO,
 * MAIL, RSET, NOOP and QUIT, answers every RCPT with the rejection of
 * the failed test (550, logged with the sender, recipient and helo, so
 * the administrator sees what was refused), DATA and BDAT with 554, and
 * anything else with 502; it ends the session after
 * postscreen_command_count_limit commands.  Nothing the client sends is
 * ever passed on.  Pure: bytes in, replies and log lines out (fuzzed by
 * fuzz/fuzz_screen_smtp.c, whole and in pieces).  Run by screen.
 */
#ifndef MOAT_SCREEN_SMTP_H
#define MOAT_SCREEN_SMTP_H

#include <stddef.h>

#include "buf.h"

#define SCREEN_SMTP_LINE_MAX 1024 /* a command line, CRLF included */
#define SCREEN_SMTP_ARG_MAX 128   /* helo, sender, recipient kept or logged */

struct screen_smtp {
	/* set by the caller */
	const char *myhostname;
	const char *client; /* "[addr]:port", for the log */
	const char *reject; /* "550 5.7.1 ..." without CRLF */
	unsigned command_limit;
	/* the engine's */
	char line[SCREEN_SMTP_LINE_MAX];
	size_t line_len;
	int discarding; /* skipping an over-long line to its LF */
	char helo[SCREEN_SMTP_ARG_MAX];
	char from[SCREEN_SMTP_ARG_MAX];
	int have_mail;
	unsigned commands;
	char last[8]; /* the last command's name, for the log */
};

enum screen_smtp_result {
	SCREEN_SMTP_MORE,  /* wait for more input */
	SCREEN_SMTP_CLOSE, /* send out, then hang up */
};

/* A fresh engine; the caller then sets myhostname, client, reject... */
void screen_smtp_init(struct screen_smtp *s);
/*
 * Feed len bytes of input (any split): replies appended to out, log lines
 * (each ending in '\n') to log.  After SCREEN_SMTP_CLOSE the rest of the
 * input is ignored.
 */
enum screen_smtp_result screen_smtp_input(struct screen_smtp *s,
					  const char *data, size_t len,
					  struct buf *out, struct buf *log);

#endif
