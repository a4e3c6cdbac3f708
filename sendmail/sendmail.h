/*
 * sendmail.h: the interfaces shared by the files of the sendmail command
 * (sendmail, mailq, newaliases), which runs as the invoking user and hands
 * each message to postdrop.  The parsers here (options, header address
 * lists, the header block, the "." end of input) are pure: they take
 * counted bytes and return a result, for the unit tests and fuzz targets.
 */
#ifndef MOAT_SENDMAIL_H
#define MOAT_SENDMAIL_H

#include <stddef.h>
#include <sys/types.h>

#include "address.h"
#include "buf.h"

#define SENDMAIL_RCPT_MAX 10000 /* as postdrop allows */
#define SENDMAIL_DEFAULT_CONFIG "/etc/moat"

/* --- options (sendmail_args.c) ------------------------------------------ */

enum sendmail_mode {
	SENDMAIL_MODE_DELIVER, /* -bm: read a message, queue it */
	SENDMAIL_MODE_MAILQ,   /* -bp, mailq */
	SENDMAIL_MODE_SMTP,    /* -bs */
	SENDMAIL_MODE_ALIASES, /* -bi, -I, newaliases */
	SENDMAIL_MODE_FLUSH,   /* -q */
};

struct sendmail_opts {
	enum sendmail_mode mode;
	int extract;            /* -t */
	int ignore_dots;        /* -i, -oi */
	int verbose;            /* -v */
	const char *sender;     /* -f, -r; NULL: the invoking user */
	const char *full_name;  /* -F */
	const char *conf_dir;   /* -C; NULL: $MOAT_CONFIG or the default */
	const char *dsn_notify; /* -N (RFC 3461 NOTIFY), checked; or NULL */
	const char *dsn_ret;    /* -R: full or hdrs; or NULL */
	const char *dsn_envid;  /* -V: the envelope ID; or NULL */
	const char **rcpt;      /* the arguments that are not options */
	size_t rcpt_count;
};

/*
 * Pure: parse the command line the way programs call sendmail (options
 * may follow recipients until "--"; letters may be clustered, "-ti").
 * argv[0]'s base name "mailq" or "newaliases" selects -bp or -bi.  Options
 * that change nothing here (-oem, -odb, -B8BITMIME, -N ...) add a line to
 * warn.  Returns 0, or EX_USAGE with the reason in err.
 */
int sendmail_args_parse(int argc, char *const argv[], struct sendmail_opts *o,
			struct buf *warn, struct buf *err);
void sendmail_opts_free(struct sendmail_opts *o);

/* --- address lists (sendmail_addrlist.c) --------------------------------- */

/* Canonical addresses (address_format), without duplicates. */
struct sendmail_rcpts {
	char **addr;
	size_t count;
};

void sendmail_rcpts_free(struct sendmail_rcpts *r);
/* 0 (added, or already there), -1 when the list is full. */
int sendmail_rcpts_add(struct sendmail_rcpts *r, const char *addr);

/*
 * The canonical text of a parsed address, a bare name qualified with
 * "@origin" (when origin is not NULL) and checked again.  0 or -1.
 */
int sendmail_address_text(const struct address *a, const char *origin,
			  struct buf *out);

/*
 * Pure: an RFC 5322 address-list as found in To:, Cc: and Bcc: (display
 * names, comments, quoted strings, routes, groups such as
 * "undisclosed-recipients:;"), folded or not.  Each address goes through
 * address_parse and is added to r, bare names qualified with origin.
 * Returns 0, or -1 with the reason in err.
 */
int sendmail_addr_list_parse(const char *s, size_t len, const char *origin,
			     struct sendmail_rcpts *r, struct buf *err);

/*
 * Pure: the envelope sender given with -f: "" or "<>" is the null sender
 * (out empty), else an address (bare or <...>) qualified with origin.
 */
int sendmail_sender_parse(const char *s, const char *origin, struct buf *out,
			  struct buf *err);

/* --- the header block (sendmail_headers.c) ------------------------------- */

/*
 * Where the header block of a message starts and ends.  The input is the
 * start of the message; eof says no more bytes will come.  Returns 0 while
 * more bytes are needed, 1 when decided: the first skip bytes are a
 * leading mbox "From " line to drop, the header block is the next
 * head_len bytes, and the rest (a blank line, or the first line that is
 * not a header) is the body.
 */
struct sendmail_head {
	size_t skip;
	size_t head_len;
};
int sendmail_head_scan(const char *p, size_t len, int eof,
		       struct sendmail_head *h);

/*
 * Pure: copy a header block to out.  With extract (-t), the addresses of
 * To:, Cc: and Bcc: (or of Resent-To:, Resent-Cc: and Resent-Bcc: when
 * there are any) are added to r and the Bcc: and Resent-Bcc: fields are
 * left out.  *has_from says whether a From: field is there.  Returns 0, or
 * -1 with a reason naming the field in err.
 */
int sendmail_headers_rewrite(const char *head, size_t len, int extract,
			     const char *origin, struct sendmail_rcpts *r,
			     struct buf *out, int *has_from, struct buf *err);

/* Pure: "From: Full Name <addr>\n" (the name quoted when it must be). */
void sendmail_from_header(const char *full_name, const char *addr,
			  struct buf *out);
/* Pure: a person's name from a GECOS field ("&" is the login, capitalised). */
void sendmail_gecos_name(const char *gecos, const char *login, struct buf *out);

/* --- reading the message (sendmail_input.c) ----------------------------- */

/*
 * Pure: without -i, a line that is only "." (LF or CR LF) ends the input.
 * sendmail_dot_input copies what comes before it to out; returns 1 with
 * *used up to and including that line, else 0 with everything used.
 * sendmail_dot_flush outputs what is held back at the end of the input.
 */
struct sendmail_dot {
	int state;
};
void sendmail_dot_init(struct sendmail_dot *d);
int sendmail_dot_input(struct sendmail_dot *d, const char *p, size_t len,
		       struct buf *out, size_t *used);
void sendmail_dot_flush(struct sendmail_dot *d, struct buf *out);

/* --- the program's settings and postdrop (sendmail_drop.c) -------------- */

struct sendmail_ctx {
	const char *conf_dir;   /* absolute */
	const char *origin;     /* myorigin */
	const char *hostname;   /* myhostname */
	const char *daemon_dir; /* where postdrop is */
	const char *login;      /* the invoking user's name */
	const char *gecos_name; /* from the password file, may be "" */
	size_t header_limit;    /* header_size_limit */
	size_t size_limit;      /* message_size_limit */
	size_t line_limit;      /* line_length_limit */
	size_t command_limit;   /* smtpd_command_line_limit */
	int verbose;
	/* DSN requests passed to postdrop (-N, -R, -V), or NULL. */
	const char *dsn_notify, *dsn_ret, *dsn_envid;
};

struct sendmail_drop {
	pid_t pid;
	int fd; /* the message goes here */
};

/*
 * Start daemon_directory/postdrop (fork and execve, no shell, an empty
 * environment) with sender ("" null) and recipients; 0 or an EX_ code.
 */
int sendmail_drop_start(const struct sendmail_ctx *c, const char *sender,
			const struct sendmail_rcpts *r,
			struct sendmail_drop *d);
/* Write message bytes; -1 when postdrop has gone (its status tells why). */
int sendmail_drop_write(struct sendmail_drop *d, const void *p, size_t len);
/* Close the message and wait: postdrop's exit code, or an EX_ code. */
int sendmail_drop_finish(struct sendmail_drop *d);

/* "sendmail: ..." on stderr, control bytes shown as '?'. */
void sendmail_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- the modes ------------------------------------------------------- */

/*
 * sendmail_submit.c.  The start of a message as it goes to postdrop: the
 * header block of msg (h from sendmail_head_scan) rewritten (with
 * extract, -t: recipients into r, Bcc left out), a From: with full_name
 * (NULL: the GECOS name) added when there is none, then the rest of msg.
 * 0, or EX_DATAERR after saying why.
 */
int sendmail_message_start(const struct sendmail_ctx *c, const char *full_name,
			   const char *sender, int extract, const char *msg,
			   size_t len, const struct sendmail_head *h,
			   struct sendmail_rcpts *r, struct buf *out);
/* -bm, the message on stdin; sender "" is the null sender. */
int sendmail_submit(const struct sendmail_opts *o, const struct sendmail_ctx *c,
		    const char *sender);
/* sendmail_bs.c: -bs, SMTP on stdin and stdout. */
int sendmail_smtp(const struct sendmail_opts *o, const struct sendmail_ctx *c);

#endif
