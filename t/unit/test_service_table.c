/*
 * test_service_table: master.conf lines, every field's check, errors that
 * name the file and line, duplicates, arguments, and loading from a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service_table.h"
#include "tap.h"

static const char default_table[] =
    "# name            type user       chroot maxproc command [args]\n"
    "127.0.0.1:2525    inet moat-smtpd y      10      smtpd\n"
    "private/cleanup   unix moat-queue y      20      cleanup\n"
    "private/qmgr      unix moat-queue y      1       qmgr\n"
    "private/local     unix root       n      10      local\n";

/* Parse one line; "" when valid, else the error. */
static const char *
one(const char *line)
{
	static struct buf err = BUF_INIT;
	struct service_table t;

	buf_reset(&err);
	if (service_table_parse(line, strlen(line), "master.conf", &t, &err) ==
	    0) {
		service_table_free(&t);
		return "";
	}
	return buf_cstr(&err);
}

static void
test_default(void)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	const struct service *s;

	is_int(service_table_parse(default_table, strlen(default_table),
				   "master.conf", &t, &err),
	       0, "the default master.conf parses");
	is_int(t.count, 4, "four services");
	s = service_find_command(&t, "smtpd");
	ok(s && strcmp(s->name, "127.0.0.1:2525") == 0 &&
	       s->type == SERVICE_INET && strcmp(s->user, "moat-smtpd") == 0 &&
	       s->chroot == 1 && s->maxproc == 10 && s->args[0] == NULL &&
	       s->lineno == 2,
	   "smtpd line fields");
	s = service_find_command(&t, "local");
	ok(s && s->type == SERVICE_UNIX && strcmp(s->user, "root") == 0 &&
	       s->chroot == 0 && strcmp(s->name, "private/local") == 0,
	   "local line fields");
	ok(service_find_command(&t, "remote") == NULL,
	   "find_command: missing is NULL");
	service_table_free(&t);
	is_int(t.count, 0, "free empties the table");
	buf_free(&err);
}

static void
test_fields(void)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	const char *args = "25 inet u y 1 smtpd -v  --x=1\tlast\n";

	ok(service_table_parse(args, strlen(args), "m", &t, &err) == 0 &&
	       t.count == 1 && strcmp(t.svc[0].args[0], "-v") == 0 &&
	       strcmp(t.svc[0].args[2], "last") == 0 &&
	       t.svc[0].args[3] == NULL,
	   "arguments after the command");
	service_table_free(&t);
	is_str(one("25 inet u y 1 smtpd"), "", "bare port");
	is_str(one("0.0.0.0:587 inet u y 1 smtpd"), "", "IPv4 address");
	is_str(one("[::1]:25 inet u y 1 smtpd"), "", "IPv6 address");
	is_str(one("[::1]:0 inet u y 1 smtpd"),
	       "master.conf:1: bad inet service name \"[::1]:0\" (expected "
	       "ADDR:PORT, [ADDR]:PORT or PORT)",
	       "port 0 refused");
	ok(*one("65536 inet u y 1 smtpd") != '\0', "port 65536 refused");
	ok(*one("1.2.3:25 inet u y 1 smtpd") != '\0', "short IPv4 refused");
	ok(*one("::1:25 inet u y 1 smtpd") != '\0', "unbracketed v6 refused");
	ok(*one("host:25 inet u y 1 smtpd") != '\0', "host name refused");
	ok(*one("[1.2.3.4]:25 inet u y 1 smtpd") != '\0',
	   "bracketed IPv4 refused");
	is_str(one("private/x-y_z.1 unix u n 1 cleanup"), "", "unix path");
	is_str(one("private/../x unix u n 1 cleanup"),
	       "master.conf:1: bad unix service name \"private/../x\" "
	       "(expected a relative path without ..)",
	       "'..' refused");
	ok(*one("/tmp/x unix u n 1 cleanup") != '\0', "absolute path refused");
	ok(*one("private//x unix u n 1 cleanup") != '\0', "empty part refused");
	ok(*one("private/ unix u n 1 cleanup") != '\0', "trailing / refused");
	ok(*one("priv@te unix u n 1 cleanup") != '\0', "bad char refused");
	is_str(one("x tcp u n 1 cleanup"),
	       "master.conf:1: bad type \"tcp\" (expected inet, unix or pass)",
	       "bad type");
	is_str(one("private/smtpd pass u y 10 smtpd"), "", "a pass service");
	is_str(one("127.0.0.1:25 pass u y 10 smtpd"),
	       "master.conf:1: bad unix service name \"127.0.0.1:25\" "
	       "(expected a relative path without ..)",
	       "a pass service is a unix socket path");
	is_str(one("x unix Root n 1 cleanup"),
	       "master.conf:1: bad user name \"Root\"", "bad user");
	ok(*one("x unix 1u n 1 cleanup") != '\0', "user starting with digit");
	is_str(one("x unix _u-1 n 1 cleanup"), "", "user with _ and -");
	is_str(one("x unix u yes 1 cleanup"),
	       "master.conf:1: bad chroot \"yes\" (expected y or n)",
	       "bad chroot");
	is_str(one("x unix u n 0 cleanup"),
	       "master.conf:1: bad maxproc \"0\" (expected 1..1000)",
	       "maxproc 0");
	ok(*one("x unix u n 1001 cleanup") != '\0', "maxproc 1001");
	is_str(one("x unix u n 1000 cleanup"), "", "maxproc 1000");
	is_str(one("x unix u n 1 ../bin/sh"),
	       "master.conf:1: bad command \"../bin/sh\" (expected "
	       "[a-z0-9_-]+)",
	       "command with a path refused");
	is_str(one("x unix u n 1"),
	       "master.conf:1: expected name type user chroot maxproc "
	       "command [args]",
	       "too few fields");
	is_str(one("x unix u n 1 c 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"), "",
	       "16 arguments");
	is_str(one("x unix u n 1 c 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"),
	       "master.conf:1: more than 16 arguments", "17 arguments");
	is_str(
	    one("\n# c\n  \nx unix u n 1 c\ny unix u n 1 c\nx unix u y 2 d\n"),
	    "master.conf:6: duplicate service \"x\" (first on line 4)",
	    "duplicate names the line");
	is_str(one("# caf\xc3\xa9\nx unix u n 1 c\n"), "",
	       "8-bit text in a comment");
	is_str(one("x unix u n 1 c \xc3\xa9\n"),
	       "master.conf:1: NUL, control or 8-bit byte",
	       "8-bit byte in a service line");
	ok(service_table_parse("x unix u n 1 c\0", 15, "m", &t, &err) == -1,
	   "NUL refused");
	buf_free(&err);
}

static void
test_load(void)
{
	char dir[] = "/tmp/test_service_table.XXXXXX", path[64];
	struct service_table t;
	struct buf err = BUF_INIT;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return;
	ok(service_table_load(dir, &t, &err) == -1 &&
	       strstr(buf_cstr(&err), "master.conf: No such file"),
	   "missing master.conf (%s)", buf_cstr(&err));
	snprintf(path, sizeof(path), "%s/master.conf", dir);
	f = fopen(path, "w");
	fputs(default_table, f);
	fputs("bad line\n", f);
	fclose(f);
	ok(service_table_load(dir, &t, &err) == -1 &&
	       strstr(buf_cstr(&err), "/master.conf:6: expected"),
	   "error names the loaded file and line (%s)", buf_cstr(&err));
	f = fopen(path, "w");
	fputs(default_table, f);
	fclose(f);
	ok(service_table_load(dir, &t, &err) == 0 && t.count == 4,
	   "load the default table");
	service_table_free(&t);
	unlink(path);
	rmdir(dir);
	buf_free(&err);
}

/* -o overrides as the skeleton takes them, checked like main.conf. */
static void
test_options(void)
{
	static const char table[] =
	    "127.0.0.1:587 inet moat-smtpd y 10 smtpd -o "
	    "smtpd_tls_security_level=encrypt -osmtpd_sasl_auth_enable=yes "
	    "-o message_size_limit=$message_size_limit\n"
	    "127.0.0.1:465 inet moat-smtpd y 10 smtpd -o nosuch_param=1\n"
	    "127.0.0.1:466 inet moat-smtpd y 10 smtpd -o "
	    "smtpd_tls_wrappermode=maybe\n"
	    "127.0.0.1:467 inet moat-smtpd y 10 smtpd extra -o "
	    "smtpd_tls_wrappermode=yes\n"
	    "127.0.0.1:468 inet moat-smtpd y 10 smtpd -o smtpd_tls_wrappermode"
	    "\n";
	struct service_table t;
	struct buf err = BUF_INIT, v = BUF_INIT;

	if (service_table_parse(table, strlen(table), "master.conf", &t,
				&err) != 0) {
		ok(0, "the table parses: %s", buf_cstr(&err));
		return;
	}
	is_str(service_option(&t.svc[0], "smtpd_tls_security_level"), "encrypt",
	       "-o name=value");
	is_str(service_option(&t.svc[0], "smtpd_sasl_auth_enable"), "yes",
	       "-oname=value, as getopt takes it too");
	ok(service_option(&t.svc[0], "smtpd_tls_wrappermode") == NULL,
	   "a parameter the line does not set");
	ok(service_check_options(&t.svc[0], "master.conf", &err) == 0,
	   "known parameters with good values pass (%s)", buf_cstr(&err));
	ok(service_param(&t.svc[0], "message_size_limit", &v, &err) == 0 &&
	       strcmp(buf_cstr(&v), "10240000") == 0,
	   "an override's $name is expanded");
	ok(service_param(&t.svc[1], "smtpd_tls_security_level", &v, &err) ==
		   0 &&
	       strcmp(buf_cstr(&v), "none") == 0,
	   "without an override, main.conf's value");
	ok(service_check_options(&t.svc[1], "master.conf", &err) != 0 &&
	       strstr(buf_cstr(&err), "master.conf:2: -o nosuch_param=1: ") !=
		   NULL,
	   "an unknown parameter names the file and line (%s)", buf_cstr(&err));
	ok(service_check_options(&t.svc[2], "master.conf", &err) != 0 &&
	       strstr(buf_cstr(&err), "expected yes or no") != NULL,
	   "a value of the wrong type (%s)", buf_cstr(&err));
	ok(service_option(&t.svc[3], "smtpd_tls_wrappermode") == NULL,
	   "after another argument, -o is no option (getopt stops there)");
	ok(service_check_options(&t.svc[4], "master.conf", &err) != 0 &&
	       strstr(buf_cstr(&err), "expected name=value") != NULL,
	   "-o without =");
	service_table_free(&t);
	buf_free(&err);
	buf_free(&v);
}

int
main(void)
{
	test_default();
	test_options();
	test_fields();
	test_load();
	return done_testing();
}
