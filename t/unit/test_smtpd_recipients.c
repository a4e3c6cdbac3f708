/*
 * test_smtpd_recipients: smtpd's RCPT check against a real recipients
 * map written here as rcptmap writes it: no map is "try again" (logged
 * once), keys answer case-insensitively, recipient_delimiter extensions
 * fall back to their base, and a map rebuilt, replaced or removed under a
 * running process is seen at the next lookup, without a restart.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "maps.h"
#include "params.h"
#include "smtpd_recipients.h"
#include "spool.h"
#include "tap.h"

static char dir[] = "/tmp/moat-smtpd-rcpt-XXXXXX";

static int
write_map(const struct map_entry *e, size_t n)
{
	struct buf err = BUF_INIT;
	int r = map_write(SPOOL_RECIPIENTS_MAP, e, n, 0640, &err);

	if (r != 0)
		printf("# %s\n", buf_cstr(&err));
	buf_free(&err);
	return r;
}

static size_t
count_in_file(const char *path, const char *needle)
{
	char text[8192];
	const char *p = text;
	size_t n = 0;
	ssize_t len;
	int fd = open(path, O_RDONLY);

	len = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return 0;
	text[len] = '\0';
	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p++;
	}
	return n;
}

int
main(void)
{
	static const struct map_entry first[] = {{"alice", "user"},
						 {"postmaster", "alias"}};
	static const struct map_entry second[] = {{"bob", "user"},
						  {"postmaster", "alias"}};
	char logpath[300], longname[300];
	struct buf err = BUF_INIT;
	int logfd;

	if (mkdtemp(dir) == NULL || chdir(dir) != 0 ||
	    mkdir(SPOOL_MAPS, 0750) != 0)
		return 1;
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
	log_init("smtpd");
	log_set_fd(logfd);

	is_int(smtpd_recipient_exists("alice"), -1,
	       "no map yet: try again, not unknown");
	is_int(smtpd_recipient_exists("nobody"), -1, "  for every local part");
	is_int(count_in_file(logpath, "recipients map"), 1,
	       "  logged once, not per lookup");

	is_int(write_map(first, 2), 0, "rcptmap writes the map");
	is_int(smtpd_recipient_exists("alice"), 1,
	       "a user in the map: the next lookup opens it");
	is_int(count_in_file(logpath, "opened"), 1, "  and says so");
	is_int(smtpd_recipient_exists("ALICE"), 1, "case folded");
	is_int(smtpd_recipient_exists("Postmaster"), 1, "an alias key");
	is_int(smtpd_recipient_exists("bob"), 0, "not in the map: unknown");
	is_int(smtpd_recipient_exists("alice+box"), 0,
	       "no recipient_delimiter: the extension is part of the name");
	ok(params_set("recipient_delimiter", "+", &err) == 0,
	   "set recipient_delimiter = +");
	is_int(smtpd_recipient_exists("alice+box"), 1, "user+ext is user's");
	is_int(smtpd_recipient_exists("Alice+Box"), 1, "  in any case");
	is_int(smtpd_recipient_exists("bob+box"), 0, "unknown+ext is unknown");
	is_int(smtpd_recipient_exists("+alice"), 0,
	       "a leading delimiter does not split");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int(smtpd_recipient_exists(longname), 0,
	       "a local part longer than any is unknown");

	is_int(write_map(second, 2), 0, "rcptmap rebuilds: bob in, alice out");
	is_int(smtpd_recipient_exists("bob"), 1,
	       "the same process knows the new user at once");
	is_int(smtpd_recipient_exists("alice"), 0,
	       "and no longer the removed one");

	is_int(rename(SPOOL_RECIPIENTS_MAP ".lmdb", SPOOL_MAPS "/aside.lmdb"),
	       0, "the map is moved aside, still linked");
	is_int(write_map(first, 2), 0, "  and another put in its place");
	is_int(smtpd_recipient_exists("alice"), 1,
	       "the file at the path is the one used");
	unlink(SPOOL_MAPS "/aside.lmdb");

	is_int(unlink(SPOOL_RECIPIENTS_MAP ".lmdb"), 0, "the map is removed");
	is_int(smtpd_recipient_exists("bob"), -1,
	       "without a map: try again, never unknown");
	is_int(write_map(first, 2), 0, "rcptmap makes it again");
	is_int(smtpd_recipient_exists("alice"), 1, "and it is used");

	unlink(SPOOL_RECIPIENTS_MAP ".lmdb");
	rmdir(SPOOL_MAPS);
	close(logfd);
	unlink(logpath);
	is_int(chdir("/") == 0 && rmdir(dir) == 0, 1,
	       "the test directory is left empty");
	buf_free(&err);
	return done_testing();
}
