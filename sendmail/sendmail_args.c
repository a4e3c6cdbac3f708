/*
 * sendmail_args: the command line of sendmail, mailq and newaliases, as
 * the programs that call "sendmail" use it.  The arguments are the
 * caller's: every option is looked up in one table, unknown ones are
 * errors, and options Moat has no use for are accepted with a warning
 * where ignoring them is harmless.  Pure (no I/O, no globals, no getopt
 * state), for the unit test; run by the sendmail command.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "dsn.h"
#include "sendmail.h"

enum arg_kind {
	ARG_FLAG,     /* no value */
	ARG_VALUE,    /* a value, attached or the next argument */
	ARG_OPTIONAL, /* a value only when attached (-q30m) */
};

struct arg_def {
	char letter;
	enum arg_kind kind;
	const char *ignored; /* non-NULL: accepted, warned about, no effect */
};

static const struct arg_def arg_table[] = {
    {'b', ARG_VALUE, NULL},
    {'C', ARG_VALUE, NULL},
    {'F', ARG_VALUE, NULL},
    {'f', ARG_VALUE, NULL},
    {'r', ARG_VALUE, NULL},
    {'i', ARG_FLAG, NULL},
    {'I', ARG_FLAG, NULL},
    {'o', ARG_VALUE, NULL},
    {'q', ARG_OPTIONAL, NULL},
    {'t', ARG_FLAG, NULL},
    {'v', ARG_FLAG, NULL},
    {'A', ARG_VALUE, "submission file choice"},
    {'B', ARG_VALUE, "body type"},
    {'d', ARG_VALUE, "debugging"},
    {'h', ARG_VALUE, "hop count"},
    {'L', ARG_VALUE, "log label"},
    {'N', ARG_VALUE, NULL},
    {'O', ARG_VALUE, "option"},
    {'p', ARG_VALUE, "protocol"},
    {'R', ARG_VALUE, NULL},
    {'V', ARG_VALUE, NULL},
    {'X', ARG_VALUE, "traffic log"},
    {'G', ARG_FLAG, "gateway submission"},
    {'m', ARG_FLAG, "me too"},
    {'n', ARG_FLAG, "no aliasing"},
    {'U', ARG_FLAG, "initial user submission"},
};

static const struct arg_def *
arg_find(char c)
{
	size_t i;

	for (i = 0; i < sizeof(arg_table) / sizeof(arg_table[0]); i++)
		if (arg_table[i].letter == c)
			return &arg_table[i];
	return NULL;
}

static const char *
arg_basename(const char *s)
{
	const char *slash = s != NULL ? strrchr(s, '/') : NULL;

	return slash != NULL ? slash + 1 : s != NULL ? s : "";
}

static int
arg_mode(struct sendmail_opts *o, const char *v, struct buf *err)
{
	if (strcmp(v, "m") == 0)
		o->mode = SENDMAIL_MODE_DELIVER;
	else if (strcmp(v, "p") == 0)
		o->mode = SENDMAIL_MODE_MAILQ;
	else if (strcmp(v, "s") == 0)
		o->mode = SENDMAIL_MODE_SMTP;
	else if (strcmp(v, "i") == 0)
		o->mode = SENDMAIL_MODE_ALIASES;
	else if (strcmp(v, "d") == 0 || strcmp(v, "D") == 0) {
		buf_set_str(err, "-bd: the daemons are started with "
				 "`moat start`");
		return EX_USAGE;
	} else {
		buf_reset(err);
		buf_printf(err, "-b%.20s: mode not supported", v);
		return EX_USAGE;
	}
	return 0;
}

/* -oX: only -oi means something here; the rest are sendmail.cf options. */
static int
arg_option(struct sendmail_opts *o, const char *v, struct buf *warn,
	   struct buf *err)
{
	if (v[0] == '\0') {
		buf_set_str(err, "-o needs an option letter");
		return EX_USAGE;
	}
	if (strcmp(v, "i") == 0)
		o->ignore_dots = 1;
	else
		buf_printf(warn, "option -o%.40s ignored\n", v);
	return 0;
}

/* -N, -R, -V: the DSN requests (RFC 3461), checked as smtpd checks them. */
static int
arg_dsn(struct sendmail_opts *o, char letter, const char *v, struct buf *err)
{
	size_t len = strlen(v);
	unsigned bits;

	if (letter == 'N' && dsn_notify_parse(v, len, &bits) == 0)
		o->dsn_notify = v;
	else if (letter == 'R' && dsn_ret_parse(v, len) != DSN_RET_NONE)
		o->dsn_ret = v;
	else if (letter == 'V' && dsn_envid_ok(v, len))
		o->dsn_envid = v;
	else {
		buf_reset(err);
		buf_printf(err, "-%c%.40s: %s", letter, v,
			   letter == 'N'   ? "expected never, or a list of "
					     "success, failure and delay"
			   : letter == 'R' ? "expected full or hdrs"
					   : "expected 1 to 100 printable "
					     "characters");
		return EX_USAGE;
	}
	return 0;
}

static int
arg_apply(struct sendmail_opts *o, const struct arg_def *d, const char *v,
	  struct buf *warn, struct buf *err)
{
	if (d->ignored != NULL) {
		buf_printf(warn, "option -%c%.40s (%s) ignored\n", d->letter,
			   v != NULL ? v : "", d->ignored);
		return 0;
	}
	switch (d->letter) {
	case 'b':
		return arg_mode(o, v, err);
	case 'C':
		o->conf_dir = v;
		break;
	case 'F':
		o->full_name = v;
		break;
	case 'f':
	case 'r':
		o->sender = v;
		break;
	case 'i':
		o->ignore_dots = 1;
		break;
	case 'I':
		o->mode = SENDMAIL_MODE_ALIASES;
		break;
	case 'o':
		return arg_option(o, v, warn, err);
	case 'q':
		if (v != NULL && v[0] != '\0')
			buf_printf(warn, "-q%.40s: the queue is flushed once\n",
				   v);
		o->mode = SENDMAIL_MODE_FLUSH;
		break;
	case 't':
		o->extract = 1;
		break;
	case 'v':
		o->verbose = 1;
		break;
	case 'N':
	case 'R':
	case 'V':
		return arg_dsn(o, d->letter, v, err);
	}
	return 0;
}

/* One argument that starts with '-': a cluster of letters. */
static int
arg_cluster(struct sendmail_opts *o, int argc, char *const argv[], int *i,
	    struct buf *warn, struct buf *err)
{
	const char *p = argv[*i] + 1;
	const struct arg_def *d;
	const char *v;
	int rc;

	for (; *p != '\0'; p++) {
		if ((d = arg_find(*p)) == NULL) {
			buf_reset(err);
			buf_printf(err, "unknown option -%c", *p);
			return EX_USAGE;
		}
		v = NULL;
		if (d->kind == ARG_OPTIONAL) {
			v = p + 1;
		} else if (d->kind == ARG_VALUE) {
			if (p[1] != '\0')
				v = p + 1;
			else if (*i + 1 < argc)
				v = argv[++*i];
			else {
				buf_reset(err);
				buf_printf(err, "option -%c needs a value", *p);
				return EX_USAGE;
			}
		}
		if ((rc = arg_apply(o, d, v, warn, err)) != 0)
			return rc;
		if (v != NULL)
			break;
	}
	return 0;
}

int
sendmail_args_parse(int argc, char *const argv[], struct sendmail_opts *o,
		    struct buf *warn, struct buf *err)
{
	const char *name = arg_basename(argc > 0 ? argv[0] : NULL);
	int i, rc, options = 1;

	memset(o, 0, sizeof(*o));
	o->mode = SENDMAIL_MODE_DELIVER;
	if (strcmp(name, "mailq") == 0)
		o->mode = SENDMAIL_MODE_MAILQ;
	else if (strcmp(name, "newaliases") == 0)
		o->mode = SENDMAIL_MODE_ALIASES;
	o->rcpt = xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*o->rcpt));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0) {
			options = 0;
		} else if (options && a[0] == '-' && a[1] != '\0') {
			if ((rc = arg_cluster(o, argc, argv, &i, warn, err)))
				return rc;
		} else {
			o->rcpt[o->rcpt_count++] = a;
		}
	}
	if (o->rcpt_count > SENDMAIL_RCPT_MAX) {
		buf_reset(err);
		buf_printf(err, "too many recipients (at most %d)",
			   SENDMAIL_RCPT_MAX);
		return EX_USAGE;
	}
	return 0;
}

void
sendmail_opts_free(struct sendmail_opts *o)
{
	free(o->rcpt);
	o->rcpt = NULL;
	o->rcpt_count = 0;
}
