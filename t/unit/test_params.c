/*
 * test_params: main.conf syntax, type checks, loading with file and line in
 * errors, $ expansion and its loops, overrides, printing, and the atomic
 * edit of main.conf (in a temporary directory).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "tap.h"

static char dir[64];

struct collected {
	struct buf text;
	int fail_on; /* lineno at which the callback fails, or 0 */
};

static int
collect_cb(const char *name, const char *value, unsigned lineno, void *ctx,
	   struct buf *err)
{
	struct collected *c = ctx;

	if (c->fail_on != 0 && lineno == (unsigned)c->fail_on) {
		buf_printf(err, "refused %s", name);
		return -1;
	}
	buf_printf(&c->text, "%u:%s=[%s];", lineno, name, value);
	return 0;
}

/* Parse text; returns the collected settings or the error. */
static const char *
parse(const char *text, int fail_on)
{
	static struct buf out = BUF_INIT;
	struct collected c = {BUF_INIT, fail_on};
	struct buf err = BUF_INIT;

	buf_reset(&out);
	if (config_parse(text, strlen(text), "main.conf", collect_cb, &c,
			 &err) == 0)
		buf_append_str(&out, buf_cstr(&c.text));
	else
		buf_printf(&out, "ERR %s", buf_cstr(&err));
	buf_free(&c.text);
	buf_free(&err);
	return buf_cstr(&out);
}

static void
test_syntax(void)
{
	struct collected c = {BUF_INIT, 0};
	struct buf err = BUF_INIT;

	is_str(parse("a = 1\nb=2\n", 0), "1:a=[1];2:b=[2];",
	       "two settings, with and without spaces");
	is_str(
	    parse("# comment\n\n  # indented comment\na = x # not a comment\n",
		  0),
	    "4:a=[x # not a comment];",
	    "comments and blank lines skipped; # inside a value kept");
	is_str(parse("a = one\n  two\n\tthree  \nb = 2", 0),
	       "1:a=[one two three];4:b=[2];",
	       "continuation lines join with one space; no final newline");
	is_str(parse("a =\n  x\n# c\n  y\n", 0), "1:a=[x y];",
	       "continuation of an empty value, across a comment");
	is_str(parse("a = 1\r\nb = 2\r\n", 0), "1:a=[1];2:b=[2];",
	       "CRLF line ends");
	is_str(parse("a = 1\nb\n", 0), "ERR main.conf:2: missing '='",
	       "missing '=' names file and line");
	is_str(parse("A = 1\n", 0),
	       "ERR main.conf:1: bad parameter name (expected [a-z0-9_]+)",
	       "upper-case name refused");
	is_str(parse("a-b = 1\n", 0),
	       "ERR main.conf:1: bad parameter name (expected [a-z0-9_]+)",
	       "hyphen in a name refused");
	is_str(parse("= 1\n", 0),
	       "ERR main.conf:1: bad parameter name (expected [a-z0-9_]+)",
	       "empty name refused");
	is_str(parse("\n  x = 1\n", 0),
	       "ERR main.conf:2: continuation line without a setting",
	       "continuation at the start refused");
	is_str(parse("a = 1\nb = \x01\n", 0),
	       "ERR main.conf:2: control character", "control byte refused");
	is_str(parse("a = 1\nb = 2\nc = 3\n", 2), "ERR main.conf:2: refused b",
	       "callback error gets file and line in front");
	ok(config_parse("a = 1\0\n", 7, "f", collect_cb, &c, &err) == -1 &&
	       strcmp(buf_cstr(&err), "f:1: NUL byte") == 0,
	   "NUL byte refused (got \"%s\")", buf_cstr(&err));
	buf_free(&c.text);
	buf_free(&err);
}

static int
check(const char *name, const char *value)
{
	struct buf err = BUF_INIT;
	const struct param_def *def = param_find(name);
	int rc = param_check_value(def, value, &err);

	if (rc != 0 && err.len == 0)
		rc = -2;
	buf_free(&err);
	return rc;
}

static void
test_checks(void)
{
	ok(param_find("no_such_thing") == NULL, "param_find: unknown is NULL");
	is_int(check("allow_mail_to_files", "yes"), 0, "bool yes");
	is_int(check("allow_mail_to_files", "FALSE"), 0, "bool FALSE");
	is_int(check("allow_mail_to_files", "1"), -1, "bool 1 refused");
	is_int(check("max_use", "1000000"), 0, "int at max");
	is_int(check("max_use", "1000001"), -1, "int over max");
	is_int(check("max_use", "0"), -1, "int under min");
	is_int(check("max_use", "-5"), -1, "negative int refused");
	is_int(check("max_use", "12x"), -1, "int with junk refused");
	is_int(check("max_use", ""), -1, "empty int refused");
	is_int(check("max_use", "99999999999999999999999"), -1,
	       "int overflow refused");
	is_int(check("message_size_limit", "10m"), 0, "size 10m");
	is_int(check("message_size_limit", "1G"), 0, "size 1G");
	is_int(check("message_size_limit", "2g"), -1, "size 2g over range");
	is_int(check("message_size_limit", "10t"), -1, "size unit t refused");
	is_int(check("message_size_limit", "9999999999999999g"), -1,
	       "size overflow refused");
	is_int(check("max_idle", "1d"), 0, "time 1d");
	is_int(check("max_idle", "2d"), -1, "time 2d over range");
	is_int(check("maximal_queue_lifetime", "2w"), 0, "time 2w");
	is_int(check("max_idle", "5x"), -1, "time unit x refused");
	is_int(check("queue_directory", "/var/spool/moat"), 0, "absolute path");
	is_int(check("queue_directory", ""), 0, "empty path");
	is_int(check("queue_directory", "spool"), -1, "relative path refused");
	is_int(check("smtpd_banner", "anything at all"), 0, "string");
}

static void
write_conf(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/main.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static char *
read_conf(void)
{
	static char text[8192];
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/main.conf", dir);
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(text, sizeof(text), "(missing)");
		return text;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* Load text as main.conf; "" on success, else the error. */
static const char *
load(const char *text)
{
	static struct buf err = BUF_INIT;

	write_conf(text);
	buf_reset(&err);
	if (params_load(dir, &err) == 0)
		return "";
	return buf_cstr(&err);
}

static void
test_load(void)
{
	char want[256];
	const char *const *items;
	size_t n;

	is_str(load("max_use = 7\nmyhostname = mx.example.org\n"
		    "mynetworks = 10.0.0.0/8,  192.168.0.0/16\n"
		    "  172.16.0.0/12\nmystery = 1\nmax_use = 8\n"),
	       "", "a valid main.conf loads");
	is_int(param_int("max_use"), 8, "duplicate setting: the last wins");
	is_str(param_str("config_directory"), dir,
	       "config_directory is the directory read");
	is_str(param_str("mydomain"), "example.org",
	       "mydomain derived from myhostname");
	is_str(param_str("myorigin"), "mx.example.org", "$myhostname expanded");
	is_str(param_str("smtpd_banner"), "mx.example.org ESMTP",
	       "$ expansion in the middle of a value");
	n = param_list("mydestination", &items);
	ok(n == 3 && strcmp(items[0], "mx.example.org") == 0 &&
	       strcmp(items[1], "localhost.example.org") == 0 &&
	       strcmp(items[2], "localhost") == 0 && items[3] == NULL,
	   "mydestination default expands to three items");
	n = param_list("mynetworks", &items);
	ok(n == 3 && strcmp(items[2], "172.16.0.0/12") == 0,
	   "list split at commas and white space across continuation");
	is_str(param_raw("smtpd_banner"), "$myhostname ESMTP",
	       "param_raw is unexpanded");
	ok(param_is_set("max_use") && !param_is_set("max_idle"),
	   "param_is_set tells main.conf from defaults");
	snprintf(want, sizeof(want), "%s/aliases", dir);
	is_str(param_str("alias_maps"), want, "$config_directory expanded");
	is_int(param_int("max_idle"), 100, "time default in seconds");
	is_int(param_int("message_size_limit"), 10240000, "size default");
	is_int(param_bool("allow_mail_to_commands"), 1, "bool default yes");

	is_str(load("myhostname = host\n"), "", "single-label myhostname");
	is_str(param_str("mydomain"), "localdomain",
	       "mydomain of a single label is localdomain");
	is_str(load(""), "", "empty main.conf loads");
	ok(strlen(param_str("myhostname")) > 0,
	   "empty myhostname takes the system name (%s)",
	   param_str("myhostname"));

	snprintf(want, sizeof(want),
		 "%s/main.conf:3: bad value for max_idle: expected a time "
		 "with an optional s, m, h, d or w suffix, not \"soon\"",
		 dir);
	is_str(load("a_b = 1\n\nmax_idle = soon\n"), want,
	       "bad value error names file, line and parameter");
	is_int(param_int("max_use"), 100,
	       "a failed load keeps the previous values");
	snprintf(want, sizeof(want),
		 "%s/main.conf:2: bad value for queue_directory: $nope: no "
		 "such parameter",
		 dir);
	is_str(load("max_use = 3\nqueue_directory = $nope/x\n"), want,
	       "reference to an undeclared parameter fails at load");
	snprintf(want, sizeof(want),
		 "%s/main.conf:1: bad value for myhostname: $myhostname "
		 "refers to itself (a $ loop)",
		 dir);
	is_str(load("myhostname = a.$myorigin\nmyorigin = $myhostname\n"), want,
	       "a $ loop fails at load with file and line");
	snprintf(want, sizeof(want),
		 "%s/main.conf:1: bad value for "
		 "queue_directory: expected an absolute "
		 "path, not \"x/spool\"",
		 dir);
	is_str(load("queue_directory = x/spool\n"), want,
	       "path checked after expansion");
	is_str(load("queue_directory = ${config_directory}/spool\n"
		    "smtpd_banner = $$5 ${myhostname}x\nmyhostname = h.d\n"),
	       "", "${name} and $$");
	snprintf(want, sizeof(want), "%s/spool", dir);
	is_str(param_str("queue_directory"), want, "${name} expanded");
	is_str(param_str("smtpd_banner"), "$5 h.dx", "$$ is a dollar sign");
	ok(strstr(load("smtpd_banner = $ x\n"), ":1: bad value for "
						"smtpd_banner: bad $ "
						"reference") != NULL,
	   "a lone $ is an error");
	ok(strstr(load("smtpd_banner = ${myhostname\n"), "bad $ reference") !=
	       NULL,
	   "an unclosed ${ is an error");
	ok(strstr(load("max_use = 1\nmax_use\n"), "main.conf:2: missing '='") !=
	       NULL,
	   "syntax error from params_load names file and line");
}

static void
test_set(void)
{
	struct buf err = BUF_INIT;

	is_str(load("myhostname = a.b.c\n"), "", "load before set");
	is_int(params_set("max_use", "42", &err), 0, "params_set valid");
	is_int(param_int("max_use"), 42, "params_set takes effect");
	ok(params_set("max_use", "big", &err) == -1 &&
	       strstr(buf_cstr(&err), "bad value for max_use") != NULL,
	   "params_set refuses a bad value (%s)", buf_cstr(&err));
	is_int(param_int("max_use"), 42, "a refused set changes nothing");
	ok(params_set("nope", "1", &err) == -1, "params_set: unknown name");
	ok(params_set("myorigin", "$mydomain", &err) == 0 &&
	       strcmp(param_str("myorigin"), "b.c") == 0,
	   "params_set with expansion");
	ok(params_set("mydomain", "$myorigin", &err) == -1,
	   "params_set refuses a loop");
	is_str(param_str("mydomain"), "b.c", "and keeps the old value");
	buf_free(&err);
}

static void
test_write(void)
{
	struct buf err = BUF_INIT;
	char path[128];
	struct stat st;

	write_conf("# head\nmax_use = 1\n  2\n# mid\nmax_idle = 5s\n"
		   "max_use = 3\nmyhostname = x.y");
	is_int(params_write_setting(dir, "max_use", "9", &err), 0,
	       "write_setting replaces");
	is_str(read_conf(),
	       "# head\nmax_use = 9\n# mid\nmax_idle = 5s\nmyhostname = x.y\n",
	       "every line of the setting replaced, continuation included");
	is_int(
	    params_write_setting(dir, "smtpd_banner", "$myhostname hi", &err),
	    0, "write_setting appends");
	is_str(read_conf(),
	       "# head\nmax_use = 9\n# mid\nmax_idle = 5s\nmyhostname = x.y\n"
	       "smtpd_banner = $myhostname hi\n",
	       "appended at the end");
	ok(params_write_setting(dir, "max_use", "0", &err) == -1 &&
	       strstr(buf_cstr(&err), "bad value for max_use") != NULL,
	   "write_setting refuses a bad value (%s)", buf_cstr(&err));
	ok(params_write_setting(dir, "bogus", "1", &err) == -1,
	   "write_setting refuses an unknown name");
	ok(params_write_setting(dir, "max_use", "1\nmax_idle = 0", &err) == -1,
	   "write_setting refuses a newline in a value");
	ok(params_write_setting(dir, "mydomain", "$nope", &err) == -1,
	   "write_setting refuses a bad reference");
	is_str(params_load(dir, &err) == 0 ? "" : buf_cstr(&err), "",
	       "edited main.conf loads");
	is_int(param_int("max_use"), 9, "edited value loaded");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	unlink(path);
	is_int(params_write_setting(dir, "max_use", "5", &err), 0,
	       "write_setting creates a missing main.conf");
	is_str(read_conf(), "max_use = 5\n", "new main.conf content");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
	   "new main.conf mode 0644");
	buf_free(&err);
}

static void
test_print(void)
{
	char path[128], text[16384];
	int fd;
	ssize_t n;

	is_str(load("max_use = 3\nsmtpd_banner = $myhostname x\n"), "",
	       "load for print");
	snprintf(path, sizeof(path), "%s/print.out", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	params_print(fd, 0);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	ok(strncmp(text, "config_directory = /tmp/", 24) == 0,
	   "print starts with config_directory");
	ok(strstr(text, "\nmax_use = 3\n") &&
	       strstr(text, "\nmyhostname =\n") &&
	       strstr(text, "\nsmtpd_banner = $myhostname x\n"),
	   "print shows effective values unexpanded");
	ok(ftruncate(fd, 0) == 0, "truncate the print file");
	lseek(fd, 0, SEEK_SET);
	params_print(fd, 1);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	ok(strncmp(text, "config_directory = /etc/moat\n", 29) == 0 &&
	       strstr(text, "\nmax_use = 100\n"),
	   "print -d shows defaults");
}

/* Run f in a child; 1 when it exited with status 1 (log_fatal). */
static int
dies(void (*f)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		log_set_fd(-1);
		f();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

static void
undeclared(void)
{
	(void)param_str("no_such_parameter");
}

static void
wrong_type(void)
{
	(void)param_int("smtpd_banner");
}

int
main(void)
{
	char logpath[128];
	int fd;

	strlcpy(dir, "/tmp/test_params.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	fd = open(logpath, O_RDWR | O_CREAT | O_APPEND, 0600);
	log_set_fd(fd);
	test_syntax();
	test_checks();
	test_load();
	test_set();
	test_write();
	test_print();
	ok(dies(undeclared), "an undeclared name is fatal");
	ok(dies(wrong_type), "a wrong type is fatal");
	{
		char text[4096];
		ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		ok(strstr(text, "warning: ") &&
		       strstr(text, "main.conf:5: unknown parameter mystery"),
		   "unknown names are warned about with file and line");
	}
	close(fd);
	{
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "%s/print.out", dir);
		unlink(cmd);
		unlink(logpath);
		snprintf(cmd, sizeof(cmd), "%s/main.conf", dir);
		unlink(cmd);
		rmdir(dir);
	}
	return done_testing();
}
