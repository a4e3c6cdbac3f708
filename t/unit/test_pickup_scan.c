/*
 * test_pickup_scan: pickup's pure decisions.  What a maildrop entry is
 * worth from its struct stat (deliver, wait, corrupt, remove, leave
 * alone), the checks on a parsed file, cleanup's verdicts, the login
 * names that may go to cleanup, and the uid-to-name table (the first
 * passwd entry of a uid wins, odd names are left out).
 */
#include <string.h>
#include <sys/stat.h>

#include "maildrop.h"
#include "pickup.h"
#include "tap.h"

#define NOW 1800000000

static const struct pickup_limits limits = {.size_max = 1000,
					    .incomplete_max = 3600};

/* A complete maildrop file as postdrop leaves it. */
static struct stat
good_stat(void)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | MAILDROP_MODE_DONE;
	st.st_nlink = 1;
	st.st_size = 500;
	st.st_uid = 1000;
	st.st_ctime = NOW - 10;
	return st;
}

static enum pickup_action
classify(const struct stat *st, struct buf *why)
{
	return pickup_classify(st, NOW, &limits, why);
}

static void
test_classify_types(void)
{
	struct buf why = BUF_INIT;
	struct stat st = good_stat();

	is_int(classify(&st, &why), PICKUP_READ,
	       "a complete file, mode 0744, one link: read it");
	st.st_uid = 0;
	is_int(classify(&st, &why), PICKUP_READ,
	       "owned by root: read it (root may send mail)");
	st.st_mode = S_IFLNK | 0777;
	is_int(classify(&st, &why), PICKUP_REMOVE, "a symlink: remove it");
	is_str(buf_cstr(&why), "a symbolic link", "the symlink is named");
	st.st_mode = S_IFIFO | 0744;
	is_int(classify(&st, &why), PICKUP_REMOVE, "a fifo: remove it");
	st.st_mode = S_IFSOCK | 0744;
	is_int(classify(&st, &why), PICKUP_REMOVE, "a socket: remove it");
	st.st_mode = S_IFCHR | 0744;
	is_int(classify(&st, &why), PICKUP_REMOVE, "a device: remove it");
	st.st_mode = S_IFDIR | 0755;
	is_int(classify(&st, &why), PICKUP_IGNORE,
	       "a directory: leave it alone");
	is_str(buf_cstr(&why), "a directory", "the directory is named");
	buf_free(&why);
}

static void
test_classify_files(void)
{
	struct buf why = BUF_INIT;
	struct stat st = good_stat();

	st.st_nlink = 2;
	is_int(classify(&st, &why), PICKUP_CORRUPT, "two links: corrupt");
	is_str(buf_cstr(&why), "2 hard links", "the link count is said");
	st = good_stat();
	st.st_mode = S_IFREG | MAILDROP_MODE_WRITING;
	is_int(classify(&st, &why), PICKUP_WAIT,
	       "no owner execute bit: still being written, wait");
	st.st_ctime = NOW - 3601;
	is_int(classify(&st, &why), PICKUP_CORRUPT,
	       "no execute bit for over an hour: corrupt");
	ok(strstr(buf_cstr(&why), "incomplete") != NULL,
	   "the reason says incomplete (got \"%s\")", buf_cstr(&why));
	st.st_ctime = NOW + 100000;
	is_int(classify(&st, &why), PICKUP_WAIT,
	       "a ctime in the future is waited on, not underflowed");
	st = good_stat();
	st.st_mode = S_IFREG | 04744;
	is_int(classify(&st, &why), PICKUP_CORRUPT, "set-uid bit: corrupt");
	is_str(buf_cstr(&why), "mode 4744, expected 0744",
	       "the mode and the expected one are said");
	st.st_mode = S_IFREG | 0700;
	is_int(classify(&st, &why), PICKUP_CORRUPT,
	       "mode 0700 (pickup could not read it): corrupt");
	st.st_mode = S_IFREG | 0766;
	is_int(classify(&st, &why), PICKUP_CORRUPT,
	       "writable by others: corrupt");
	st = good_stat();
	st.st_size = 1000;
	is_int(classify(&st, &why), PICKUP_READ,
	       "exactly the size limit: read");
	st.st_size = 1001;
	is_int(classify(&st, &why), PICKUP_CORRUPT,
	       "one byte over the size limit: corrupt");
	ok(strstr(buf_cstr(&why), "too large") != NULL,
	   "the reason says too large (got \"%s\")", buf_cstr(&why));
	st = good_stat();
	st.st_uid = (uid_t)0x80000000u;
	is_int(classify(&st, &why), PICKUP_CORRUPT,
	       "an owner uid cleanup cannot take: corrupt");
	buf_free(&why);
}

static void
test_check_env(void)
{
	struct queue_rcpt rcpt[2] = {{.addr = (char *)"a@b", .status = '-'},
				     {.addr = (char *)"c@d", .status = '-'}};
	struct queue_env env;
	struct buf why = BUF_INIT;

	queue_env_init(&env);
	env.sender = (char *)"alice";
	env.rcpt = rcpt;
	env.rcpt_count = 2;
	env.content_length = 100;
	is_int(pickup_check_env(&env, 100, &why), 0,
	       "content at the limit, all recipients new: fine");
	env.content_length = 101;
	is_int(pickup_check_env(&env, 100, &why), -1,
	       "content over message_size_limit: refused");
	ok(strstr(buf_cstr(&why), "message_size_limit") != NULL,
	   "the reason names the limit (got \"%s\")", buf_cstr(&why));
	env.content_length = 10;
	rcpt[1].status = QRCPT_DONE;
	is_int(pickup_check_env(&env, 100, &why), -1,
	       "a recipient already marked done: refused");
	rcpt[1].status = QRCPT_TODO;
	env.rcpt_count = 0;
	is_int(pickup_check_env(&env, 100, &why), -1, "no recipient: refused");
	buf_free(&why);
}

static void
test_verdicts(void)
{
	is_int(pickup_verdict_of("ok"), PICKUP_QUEUED, "ok: queued");
	is_int(pickup_verdict_of("reject"), PICKUP_REFUSED, "reject: refused");
	is_int(pickup_verdict_of("defer"), PICKUP_DEFER, "defer: try again");
	is_int(pickup_verdict_of(NULL), PICKUP_DEFER, "no status: try again");
	is_int(pickup_verdict_of("OK"), PICKUP_DEFER,
	       "an unknown status: try again, never remove the file");
}

static void
test_user_names(void)
{
	char long_name[PICKUP_USER_MAX + 2];

	ok(pickup_user_name_ok("alice"), "alice may be named");
	ok(pickup_user_name_ok("web-data_1$"), "odd but printable names may");
	ok(!pickup_user_name_ok(""), "an empty name may not");
	ok(!pickup_user_name_ok("a b"), "a name with a space may not");
	ok(!pickup_user_name_ok("a\nb"), "a name with a newline may not");
	ok(!pickup_user_name_ok("caf\xc3\xa9"), "an 8-bit name may not");
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[PICKUP_USER_MAX] = '\0';
	ok(pickup_user_name_ok(long_name), "a name of PICKUP_USER_MAX may");
	long_name[PICKUP_USER_MAX] = 'x';
	long_name[PICKUP_USER_MAX + 1] = '\0';
	ok(!pickup_user_name_ok(long_name), "a longer one may not");
}

static void
test_users_table(void)
{
	struct pickup_users t;

	pickup_users_init(&t);
	is_str(pickup_users_find(&t, 0), NULL, "an empty table knows nobody");
	pickup_users_add(&t, 1000, "alice");
	pickup_users_add(&t, 0, "root");
	pickup_users_add(&t, 1001, "bob");
	pickup_users_add(&t, 0, "toor");
	pickup_users_add(&t, 1002, "bad name");
	pickup_users_add(&t, 1003, NULL);
	is_str(pickup_users_find(&t, 1000), "alice", "uid 1000 is alice");
	is_str(pickup_users_find(&t, 1001), "bob", "uid 1001 is bob");
	is_str(pickup_users_find(&t, 0), "root",
	       "two names for uid 0: the first in the passwd file wins");
	is_str(pickup_users_find(&t, 1002), NULL,
	       "a name that may not go to cleanup is left out");
	is_str(pickup_users_find(&t, 1003), NULL, "no name: left out");
	is_str(pickup_users_find(&t, 999), NULL, "an unknown uid: NULL");
	pickup_users_add(&t, 5, "late");
	is_str(pickup_users_find(&t, 5), "late",
	       "an entry added after a lookup is found");
	is_str(pickup_users_find(&t, 0), "root", "and the order still holds");
	pickup_users_free(&t);
}

int
main(void)
{
	test_classify_types();
	test_classify_files();
	test_check_env();
	test_verdicts();
	test_user_names();
	test_users_table();
	return done_testing();
}
