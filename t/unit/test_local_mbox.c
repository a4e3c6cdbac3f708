/*
 * test_local_mbox: local's mailbox writers.  The pure parts (mboxrd
 * quoting across chunk boundaries, the From line, the Delivered-To loop
 * scan), then real files in a temporary directory, delivered as the
 * current user: an mbox append is byte-exact, a symbolic link, a hard link
 * or a mailbox owned by someone else is refused and left untouched, the
 * size limit bounces and leaves the file as it was, and a Maildir delivery
 * lands whole in new/ while a symbolic link in its path is refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <ftw.h>

#include "local.h"
#include "log.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test_local_mbox.XXXXXX";

static void
quote_whole(const char *in, size_t len, struct buf *out)
{
	struct local_mbox_quote q;

	local_mbox_quote_init(&q);
	local_mbox_quote(&q, in, len, out);
	local_mbox_quote_end(&q, out);
}

static void
quote_bytewise(const char *in, size_t len, struct buf *out)
{
	struct local_mbox_quote q;

	local_mbox_quote_init(&q);
	for (size_t i = 0; i < len; i++)
		local_mbox_quote(&q, in + i, 1, out);
	local_mbox_quote_end(&q, out);
}

static void
quote_case(const char *in, const char *want, const char *name)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	quote_whole(in, strlen(in), &a);
	is_str(buf_cstr(&a), want, name);
	quote_bytewise(in, strlen(in), &b);
	is_str(buf_cstr(&b), want, "  the same one byte at a time");
	buf_free(&a);
	buf_free(&b);
}

static void
quoting(void)
{
	quote_case("From me\n", ">From me\n\n", "a From line is quoted");
	quote_case(">From me\n", ">>From me\n\n", ">From gets one more >");
	quote_case(">>>From x\n", ">>>>From x\n\n", ">>>From as well");
	quote_case("a\nFrom b\nc\n", "a\n>From b\nc\n\n",
		   "From in the middle of the text");
	quote_case("From:x\nFrom\nFro\n>Fr", "From:x\nFrom\nFro\n>Fr\n\n",
		   "near misses stay as they are and a last line ends");
	quote_case("x From y\n", "x From y\n\n", "From inside a line stays");
	quote_case("> From\n", "> From\n\n", "> then a blank stays");
	quote_case("", "\n", "an empty message is one empty line");
	quote_case(">>", ">>\n\n", "pending > are flushed at the end");
	quote_case("body\n\n", "body\n\n\n", "an ending empty line is kept");
}

static void
from_line(void)
{
	char line[256];

	setenv("TZ", "UTC0", 1);
	tzset();
	is_int(local_mbox_from_line("", 0, line, sizeof(line)), 44,
	       "From line length for the null sender");
	is_str(line, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n",
	       "the null sender is MAILER-DAEMON, asctime date");
	local_mbox_from_line("a b@c", 1700000000, line, sizeof(line));
	is_str(line, "From a_b@c Tue Nov 14 22:13:20 2023\n",
	       "a blank in the sender becomes _");
	is_int(local_mbox_from_line("x@y", 0, line, 10), -1,
	       "a line that does not fit is an error");
}

static void
loop_scan(void)
{
	const char *h = "Received: x\nDelivered-To: <Bob@Example.COM>\n"
			"Delivered-to:\n alice@example.com\n\n"
			"Delivered-To: body@example.com\n";
	size_t n = strlen(h);

	ok(local_header_has_delivered_to(h, n, "bob@example.com"),
	   "Delivered-To found, case and <> ignored");
	ok(local_header_has_delivered_to(h, n, "alice@example.com"),
	   "a folded Delivered-To is unfolded");
	ok(!local_header_has_delivered_to(h, n, "body@example.com"),
	   "the body is not scanned");
	ok(!local_header_has_delivered_to(h, n, "bob@example"),
	   "a prefix is no match");
	ok(!local_header_has_delivered_to(h, 20, "bob@example.com"),
	   "the scan stops at len");
}

/* A fake queue file: junk, then the content at an offset. */
static int
make_queue_file(const char *content, struct local_msg *m)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/queuefile", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	(void)!write(fd, "ENVELOPE-RECORDS", 16);
	(void)!write(fd, content, strlen(content));
	(void)!write(fd, "END", 3);
	close(fd);
	memset(m, 0, sizeof(*m));
	m->fd = open(path, O_RDONLY);
	m->offset = 16;
	m->length = (off_t)strlen(content);
	m->queue_id = "TESTQUEUEID";
	m->sender = "sender@example.org";
	m->rcpt = "user@example.com";
	m->orig_rcpt = m->rcpt;
	m->client_fd = -1;
	return m->fd;
}

static char *
slurp(int dirfd, const char *name, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	*len = b.len;
	buf_append_char(&b, '\0');
	return b.data;
}

/* One copy at got: a From line for the sender, then exactly body. */
static int
copy_is(const char *got, size_t len, const char *body)
{
	const char *nl = memchr(got, '\n', len);
	size_t blen = strlen(body);

	return nl != NULL &&
	       strncmp(got, "From sender@example.org ", 24) == 0 &&
	       (size_t)(got + len - (nl + 1)) == blen &&
	       memcmp(nl + 1, body, blen) == 0;
}

static void
mbox_append(int dirfd, struct local_msg *m)
{
	struct local_mbox mb = {
	    dirfd, "user", getuid(), 0, "user@example.com", "mailbox"};
	struct local_result r;
	const char *body = "Return-Path: <sender@example.org>\n"
			   "Delivered-To: user@example.com\n"
			   "Subject: hi\n\n>From the start\n>From here\n"
			   "last\n\n";
	char *got;
	size_t len;

	is_int(local_mbox_deliver(&mb, m, &r), 0, "mbox delivery succeeds");
	is_str(r.text, "delivered to mailbox", "with Postfix's words");
	is_int(r.status, LOCAL_SENT, "status sent");
	is_int(local_mbox_deliver(&mb, m, &r), 0, "a second one appends");
	got = slurp(dirfd, "user", &len);
	ok(got != NULL && len % 2 == 0, "two copies of equal length");
	ok(got != NULL && copy_is(got, len / 2, body),
	   "the first copy is byte-exact: From line, quoted, empty line");
	ok(got != NULL && copy_is(got + len / 2, len / 2, body),
	   "the second copy is byte-exact");
	if (got != NULL)
		printf("# mbox:\n%s", got);
	ok(faccessat(dirfd, "user.lock", F_OK, AT_SYMLINK_NOFOLLOW) != 0,
	   "the dot-lock is gone");
	free(got);
}

/* A refused mailbox: deliver fails with defer and victim is unchanged. */
static void
refused(int dirfd, struct local_msg *m, const char *name, uid_t owner,
	const char *why)
{
	struct local_mbox mb = {dirfd, name, owner, 0, "u@x", "mailbox"};
	struct local_result r;
	char *got;
	size_t len;

	is_int(local_mbox_deliver(&mb, m, &r), -1, why);
	is_int(r.status, LOCAL_DEFER, "  deferred, not bounced");
	printf("#   reason: %s\n", r.text);
	got = slurp(dirfd, "victim", &len);
	is_str(got, "precious\n", "  the victim file is untouched");
	free(got);
	ok(faccessat(dirfd, "victim.lock", F_OK, AT_SYMLINK_NOFOLLOW) != 0 &&
	       faccessat(dirfd, "link.lock", F_OK, AT_SYMLINK_NOFOLLOW) != 0,
	   "  no lock file is left");
}

static void
mbox_refusals(int dirfd, struct local_msg *m)
{
	int fd = openat(dirfd, "victim", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	(void)!write(fd, "precious\n", 9);
	close(fd);
	ok(symlinkat("victim", dirfd, "link") == 0, "make a symbolic link");
	refused(dirfd, m, "link", getuid(), "a symlinked mbox is refused");
	unlinkat(dirfd, "link", 0);
	ok(linkat(dirfd, "victim", dirfd, "link", 0) == 0, "make a hard link");
	refused(dirfd, m, "link", getuid(), "a hard-linked mbox is refused");
	unlinkat(dirfd, "link", 0);
	refused(dirfd, m, "victim", getuid() + 1,
		"a mailbox owned by another uid is refused");
}

static void
mbox_limit(int dirfd, struct local_msg *m)
{
	struct local_mbox mb = {dirfd, "victim", getuid(),
				20,    "u@x",    "mailbox"};
	struct local_result r;
	char *got;
	size_t len;

	is_int(local_mbox_deliver(&mb, m, &r), -1, "over the size limit");
	is_int(r.status, LOCAL_BOUNCE, "bounces");
	is_str(r.dsn, "5.2.2", "with 5.2.2 mailbox full");
	got = slurp(dirfd, "victim", &len);
	is_str(got, "precious\n", "and the mailbox keeps its old size");
	free(got);
	mb.size_limit = 9 + (off_t)m->length + 3;
	is_int(local_mbox_deliver(&mb, m, &r), -1,
	       "over the limit only after quoting and the From line");
	is_int(r.status, LOCAL_BOUNCE, "bounces too");
	got = slurp(dirfd, "victim", &len);
	is_str(got, "precious\n", "and is cut back to its old size");
	free(got);
}

static void
stale_lock(int dirfd, struct local_msg *m)
{
	struct local_mbox mb = {dirfd, "stale", getuid(), 0, "u@x", "mailbox"};
	struct timespec old[2] = {{time(NULL) - 600, 0}, {time(NULL) - 600, 0}};
	struct local_result r;
	int fd = openat(dirfd, "stale.lock", O_WRONLY | O_CREAT, 0600);

	close(fd);
	utimensat(dirfd, "stale.lock", old, 0);
	is_int(local_mbox_deliver(&mb, m, &r), 0,
	       "a dot-lock older than LOCAL_LOCK_STALE is broken");
	ok(faccessat(dirfd, "stale.lock", F_OK, AT_SYMLINK_NOFOLLOW) != 0,
	   "  and gone afterwards");
}

static int
count_entries(int dirfd, const char *sub)
{
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
maildir(int dirfd, struct local_msg *m)
{
	struct local_result r;
	int md;

	is_int(local_maildir_deliver(dirfd, "Maildir/", m, "user@x", &r), 0,
	       "Maildir delivery creates the Maildir and succeeds");
	is_str(r.text, "delivered to maildir", "with Postfix's words");
	md = openat(dirfd, "Maildir", O_RDONLY | O_DIRECTORY);
	is_int(count_entries(md, "new"), 1, "one message in new/");
	is_int(count_entries(md, "tmp"), 0, "nothing left in tmp/");
	is_int(count_entries(md, "cur"), 0, "cur/ exists and is empty");
	close(md);
	ok(symlinkat("Maildir", dirfd, "Linked") == 0, "make a symlink");
	is_int(local_maildir_deliver(dirfd, "Linked/", m, "user@x", &r), -1,
	       "a symbolic link as the Maildir is refused");
	is_int(r.status, LOCAL_DEFER, "deferred");
	md = openat(dirfd, "Maildir", O_RDONLY | O_DIRECTORY);
	unlinkat(md, "tmp", AT_REMOVEDIR);
	ok(symlinkat("/tmp", md, "tmp") == 0, "replace tmp/ with a link");
	is_int(local_maildir_deliver(dirfd, "Maildir/", m, "user@x", &r), -1,
	       "a symbolic link as tmp/ is refused");
	is_int(count_entries(md, "new"), 1, "still one message in new/");
	close(md);
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path);
}

int
main(void)
{
	struct local_msg m;
	int dirfd;

	log_set_fd(-1); /* the refusals are logged as warnings */
	quoting();
	from_line();
	loop_scan();
	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ok(make_queue_file("Subject: hi\n\nFrom the start\nFrom here\nlast",
			   &m) >= 0,
	   "a fake queue file");
	mbox_append(dirfd, &m);
	mbox_refusals(dirfd, &m);
	mbox_limit(dirfd, &m);
	stale_lock(dirfd, &m);
	maildir(dirfd, &m);
	close(m.fd);
	close(dirfd);
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
