/*
 * test_sendmail_args: sendmail's command line as programs use it (mutt,
 * cron, git send-email, PHP's mail(), mailx): clustered letters, values
 * attached or apart, options after recipients, "--", the names mailq and
 * newaliases, options accepted with a warning and options refused.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "sendmail.h"
#include "tap.h"

#define MAXARGS 16

/* Parse a NULL-terminated list; warnings and error into the buffers. */
static int
parse(struct sendmail_opts *o, struct buf *warn, struct buf *err, ...)
{
	char *argv[MAXARGS + 1];
	va_list ap;
	int argc = 0;

	va_start(ap, err);
	while (argc < MAXARGS && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	buf_reset(warn);
	buf_reset(err);
	return sendmail_args_parse(argc, argv, o, warn, err);
}

static void
plain(void)
{
	struct buf w = BUF_INIT, e = BUF_INIT;
	struct sendmail_opts o;

	is_int(parse(&o, &w, &e, "sendmail", "alice", "bob@example.org", NULL),
	       0, "recipients only: accepted");
	is_int(o.mode, SENDMAIL_MODE_DELIVER, "the default mode is -bm");
	ok(!o.extract && !o.ignore_dots && !o.verbose, "no flags set");
	ok(o.sender == NULL && o.full_name == NULL && o.conf_dir == NULL,
	   "no sender, name or configuration given");
	is_int(o.rcpt_count, 2, "two recipients");
	is_str(o.rcpt[0], "alice", "first recipient");
	is_str(o.rcpt[1], "bob@example.org", "second recipient");
	is_str(buf_cstr(&w), "", "no warnings");
	sendmail_opts_free(&o);
	buf_free(&w);
	buf_free(&e);
}

static void
flags(void)
{
	struct buf w = BUF_INIT, e = BUF_INIT;
	struct sendmail_opts o;

	is_int(parse(&o, &w, &e, "sendmail", "-t", "-i", NULL), 0, "-t -i");
	ok(o.extract && o.ignore_dots, "-t and -i set");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-tiv", NULL), 0, "-tiv");
	ok(o.extract && o.ignore_dots && o.verbose, "clustered -tiv sets all");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-oi", "-t", NULL), 0, "-oi -t");
	ok(o.ignore_dots && o.extract, "-oi is -i");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-o", "i", "x", NULL), 0,
	       "-o i with a space");
	ok(o.ignore_dots && o.rcpt_count == 1, "-o i is -i, x a recipient");
	sendmail_opts_free(&o);
	buf_free(&w);
	buf_free(&e);
}

static void
values(void)
{
	struct buf w = BUF_INIT, e = BUF_INIT;
	struct sendmail_opts o;

	is_int(parse(&o, &w, &e, "sendmail", "-f", "a@b", "-F", "Al Bo", "-C",
		     "/etc/x", "r", NULL),
	       0, "values apart");
	is_str(o.sender, "a@b", "-f value");
	is_str(o.full_name, "Al Bo", "-F value");
	is_str(o.conf_dir, "/etc/x", "-C value");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-fa@b", "-FAl", "r", NULL), 0,
	       "values attached");
	is_str(o.sender, "a@b", "-fa@b");
	is_str(o.full_name, "Al", "-FAl");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-r", "<>", "r", NULL), 0, "-r");
	is_str(o.sender, "<>", "-r is -f");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-tf", "a@b", NULL), 0,
	       "a value letter ends a cluster and takes the next argument");
	ok(o.extract && o.sender && strcmp(o.sender, "a@b") == 0,
	   "-tf a@b: -t and -f a@b");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-f", NULL), EX_USAGE,
	       "-f without a value is a usage error");
	is_str(buf_cstr(&e), "option -f needs a value", "the error says so");
	sendmail_opts_free(&o);
	buf_free(&w);
	buf_free(&e);
}

static void
modes(void)
{
	static const struct {
		const char *arg;
		enum sendmail_mode mode;
	} cases[] = {
	    {"-bm", SENDMAIL_MODE_DELIVER}, {"-bp", SENDMAIL_MODE_MAILQ},
	    {"-bs", SENDMAIL_MODE_SMTP},    {"-bi", SENDMAIL_MODE_ALIASES},
	    {"-I", SENDMAIL_MODE_ALIASES},  {"-q", SENDMAIL_MODE_FLUSH},
	};
	struct buf w = BUF_INIT, e = BUF_INIT;
	struct sendmail_opts o;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(&o, &w, &e, "sendmail", cases[i].arg, NULL);

		ok(rc == 0, "%s accepted", cases[i].arg);
		ok(o.mode == cases[i].mode, "%s selects its mode (got %d)",
		   cases[i].arg, (int)o.mode);
		sendmail_opts_free(&o);
	}
	is_int(parse(&o, &w, &e, "sendmail", "-b", "p", NULL), 0, "-b p");
	is_int(o.mode, SENDMAIL_MODE_MAILQ, "-b p is -bp");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "/usr/bin/mailq", NULL), 0, "called mailq");
	is_int(o.mode, SENDMAIL_MODE_MAILQ, "mailq is -bp");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "newaliases", NULL), 0, "called newaliases");
	is_int(o.mode, SENDMAIL_MODE_ALIASES, "newaliases is -bi");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-q30m", NULL), 0, "-q30m");
	ok(o.mode == SENDMAIL_MODE_FLUSH && strstr(buf_cstr(&w), "-q30m"),
	   "-q30m flushes once, with a warning");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-bd", NULL), EX_USAGE,
	       "-bd (daemon mode) is refused");
	ok(strstr(buf_cstr(&e), "moat start") != NULL, "and says what to use");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-bv", "x", NULL), EX_USAGE,
	       "-bv is refused");
	sendmail_opts_free(&o);
	buf_free(&w);
	buf_free(&e);
}

static void
ignored(void)
{
	struct buf w = BUF_INIT, e = BUF_INIT;
	struct sendmail_opts o;

	is_int(parse(&o, &w, &e, "sendmail", "-oem", "-odb", "-oQ/tmp", "-oi",
		     "--", "r", NULL),
	       0, "mutt's -oem -oi and other -o options");
	is_str(buf_cstr(&w),
	       "option -oem ignored\noption -odb ignored\noption -oQ/tmp "
	       "ignored\n",
	       "each ignored -o option is warned about once");
	ok(o.ignore_dots && o.rcpt_count == 1, "-oi still counts");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-B8BITMIME", "-N", "never", "-R",
		     "hdrs", "-V", "id1", "-X", "/tmp/log", "-d0.1", "r", NULL),
	       0, "-B -N -R -V -X -d accepted");
	is_int(o.rcpt_count, 1, "their values are not taken as recipients");
	ok(o.dsn_notify && strcmp(o.dsn_notify, "never") == 0 && o.dsn_ret &&
	       strcmp(o.dsn_ret, "hdrs") == 0 && o.dsn_envid &&
	       strcmp(o.dsn_envid, "id1") == 0,
	   "-N, -R and -V are kept for postdrop");
	ok(strstr(buf_cstr(&w), "-N") == NULL, "and not warned about");
	ok(strstr(buf_cstr(&w), "-X/tmp/log (traffic log) ignored") != NULL,
	   "-X is warned about (no log file is ever written)");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-N", "sometimes", "r", NULL),
	       EX_USAGE, "-N with a bad value");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-Rall", "r", NULL), EX_USAGE,
	       "-R with a bad value");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-Z", NULL), EX_USAGE,
	       "an unknown letter is an error");
	is_str(buf_cstr(&e), "unknown option -Z", "naming it");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-o", NULL), EX_USAGE,
	       "-o without a letter");
	sendmail_opts_free(&o);
	buf_free(&w);
	buf_free(&e);
}

static void
order(void)
{
	struct buf w = BUF_INIT, e = BUF_INIT;
	struct sendmail_opts o;

	is_int(parse(&o, &w, &e, "sendmail", "alice", "-t", "bob", NULL), 0,
	       "options after recipients");
	ok(o.extract && o.rcpt_count == 2, "-t seen, two recipients");
	sendmail_opts_free(&o);
	is_int(parse(&o, &w, &e, "sendmail", "-i", "--", "-t", "-bs", NULL), 0,
	       "after --, everything is a recipient");
	ok(!o.extract && o.mode == SENDMAIL_MODE_DELIVER && o.rcpt_count == 2,
	   "-t and -bs after -- are recipients");
	is_str(o.rcpt[0], "-t", "first one");
	sendmail_opts_free(&o);
	buf_free(&w);
	buf_free(&e);
}

static void
too_many(void)
{
	int argc = SENDMAIL_RCPT_MAX + 2, i;
	char **argv = calloc((size_t)argc + 1, sizeof(*argv));
	struct buf w = BUF_INIT, e = BUF_INIT;
	struct sendmail_opts o;

	argv[0] = (char *)"sendmail";
	for (i = 1; i < argc; i++)
		argv[i] = (char *)"a@b";
	is_int(sendmail_args_parse(argc, argv, &o, &w, &e), EX_USAGE,
	       "more than 10000 recipients is a usage error");
	sendmail_opts_free(&o);
	is_int(sendmail_args_parse(argc - 1, argv, &o, &w, &e), 0,
	       "exactly 10000 recipients are accepted");
	sendmail_opts_free(&o);
	free(argv);
	buf_free(&w);
	buf_free(&e);
}

int
main(void)
{
	plain();
	flags();
	values();
	modes();
	ignored();
	order();
	too_many();
	return done_testing();
}
