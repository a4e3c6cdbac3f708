/*
 * test_conf_defaults: the default files `moat init` writes (generated from
 * conf/ into build/gen/conf_text.c) are exactly conf/main.conf,
 * conf/master.conf and conf/aliases, byte for byte (the generator escapes
 * correctly), and each of them parses.  Run from the repository's top
 * directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf_defaults.h"
#include "maps.h"
#include "params.h"
#include "service_table.h"
#include "tap.h"

/* 0 when equal; else the first differing line (1-based). */
static unsigned
first_difference(const char *a, const char *b)
{
	unsigned line = 1;

	for (; *a != '\0' && *a == *b; a++, b++)
		if (*a == '\n')
			line++;
	return *a == *b ? 0 : line;
}

static void
same_as_file(const char *path, const char *text)
{
	struct buf file = BUF_INIT, err = BUF_INIT;
	unsigned line;

	if (config_read_file(path, 1024 * 1024, &file, &err) != 0) {
		ok(0, "%s is readable", path);
		printf("#   %s\n", buf_cstr(&err));
		return;
	}
	line = first_difference(buf_cstr(&file), text);
	ok(line == 0 && !buf_has_nul(&file),
	   "%s is the text moat init writes (build/gen/conf_text.c)", path);
	if (line != 0)
		printf("#   they differ at line %u: the generator in the "
		       "Makefile is wrong\n",
		       line);
	buf_free(&file);
	buf_free(&err);
}

struct alias_count {
	int entries, programs;
};

static int
count_entry(const char *key, const char *value, unsigned lineno, void *ctx,
	    struct buf *err)
{
	struct alias_count *n = ctx;

	(void)key;
	(void)lineno;
	(void)err;
	n->entries++;
	if (strchr(value, '|') != NULL)
		n->programs++;
	return 0;
}

/* main.conf loads cleanly through the real loader. */
static void
main_conf_loads(void)
{
	char dir[] = "/tmp/test_conf_defaults.XXXXXX";
	struct buf path = BUF_INIT, err = BUF_INIT;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	buf_printf(&path, "%s/main.conf", dir);
	f = fopen(buf_cstr(&path), "w");
	if (f != NULL) {
		fputs(conf_default_main, f);
		fclose(f);
	}
	ok(f != NULL && params_load(dir, &err) == 0,
	   "the default main.conf loads without error");
	if (err.len)
		printf("#   %s\n", buf_cstr(&err));
	is_str(param_str("queue_directory"), "/var/spool/moat",
	       "main.conf sets queue_directory (moat init rewrites it)");
	ok(param_is_set("daemon_directory") && param_is_set("maillog_file") &&
	       param_is_set("mail_spool_directory"),
	   "main.conf sets daemon_directory, maillog_file and "
	   "mail_spool_directory");
	unlink(buf_cstr(&path));
	rmdir(dir);
	buf_free(&path);
	buf_free(&err);
}

static void
master_conf_parses(void)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	const struct service *s;
	int rc;

	rc = service_table_parse(conf_default_master,
				 strlen(conf_default_master), "master.conf", &t,
				 &err);
	ok(rc == 0, "the default master.conf parses");
	if (rc != 0) {
		printf("#   %s\n", buf_cstr(&err));
		return;
	}
	is_int(t.count, 12,
	       "twelve services: screen, smtpd, cleanup, qmgr, local, pickup, "
	       "anvil, logd, rcptmap, remote, tlssign, auth");
	s = service_find_command(&t, "screen");
	ok(s != NULL && strcmp(s->name, CONF_DEFAULT_LISTEN) == 0 &&
	       s->type == SERVICE_INET && s->maxproc == 1 &&
	       strcmp(s->user, "moat-screen") == 0 && s->chroot,
	   "the screen listens on " CONF_DEFAULT_LISTEN " (moat init "
	   "--listen replaces it), one process, moat-screen, chrooted");
	s = service_find_command(&t, "smtpd");
	ok(s != NULL && strcmp(s->name, "private/smtpd") == 0 &&
	       s->type == SERVICE_PASS,
	   "smtpd is the pass service private/smtpd the screen hands "
	   "clients to");
	s = service_find_command(&t, "qmgr");
	ok(s != NULL && s->maxproc == 1, "one qmgr");
	s = service_find_command(&t, "local");
	ok(s != NULL && strcmp(s->user, "root") == 0 && !s->chroot,
	   "local runs as root, not chrooted");
	s = service_find_command(&t, "logd");
	ok(s != NULL && s->maxproc == 1 && s->chroot &&
	       strcmp(s->user, "moat-log") == 0 && s->type == SERVICE_UNIX,
	   "one logd, as moat-log, chrooted, on a unix socket");
	s = service_find_command(&t, "remote");
	ok(s != NULL && strcmp(s->name, "private/remote") == 0 &&
	       strcmp(s->user, "moat-remote") == 0 && s->chroot,
	   "remote serves private/remote as moat-remote, chrooted");
	service_table_free(&t);
	buf_free(&err);
}

static void
aliases_parse(void)
{
	struct buf err = BUF_INIT;
	struct alias_count n = {0, 0};
	const char *root_line;
	int rc;

	rc = map_parse(conf_default_aliases, strlen(conf_default_aliases),
		       MAP_ALIASES, "aliases", count_entry, &n, &err);
	ok(rc == 0 && n.entries > 0, "the default aliases parse (%d entries)",
	   n.entries);
	if (rc != 0)
		printf("#   %s\n", buf_cstr(&err));
	ok(strstr(conf_default_aliases, "\npostmaster:\troot\n") != NULL,
	   "postmaster goes to root");
	root_line =
	    strstr(conf_default_aliases, "\n" CONF_DEFAULT_ROOT_ALIAS "\n");
	ok(root_line != NULL,
	   "the commented root alias that moat init fills in is there");
	is_int(n.programs, 0, "no program alias in the defaults");
	buf_free(&err);
}

int
main(void)
{
	same_as_file("conf/main.conf", conf_default_main);
	same_as_file("conf/master.conf", conf_default_master);
	same_as_file("conf/aliases", conf_default_aliases);
	main_conf_loads();
	master_conf_parses();
	aliases_parse();
	return done_testing();
}
