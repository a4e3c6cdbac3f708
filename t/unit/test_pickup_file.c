/*
 * test_pickup_file: pickup's handling of real maildrop entries in a
 * temporary spool, with a fake cleanup (a child process on
 * private/cleanup) that records what it was sent and answers ok, defer or
 * reject.  A good file reaches cleanup whole, in chunks of at most
 * IPC_CHUNK_MAX, with the owner's uid and name, and is removed; a refused
 * one goes to corrupt/, a deferred one stays; garbage, truncated,
 * wrong-mode, linked and oddly named files go to corrupt/ without
 * replacing anything there; a symlink and a fifo are removed and the
 * link's target is untouched; a file being written and a directory stay.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "maildrop.h"
#include "pickup.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test_pickup_file.XXXXXX";
static struct pickup_config cfg;
static struct pickup_users users;
static pid_t fake_pid = -1;
static int report_fd = -1; /* the fake cleanup's summaries */
static int log_fd = -1;

/* Byte i of every message content: lines of 70 letters. */
static char
pattern_byte(size_t i)
{
	return i % 71 == 70 ? '\n' : (char)('a' + i % 26);
}

/* --- the fake cleanup -------------------------------------------------- */

static int
content_ok(const char *p, size_t len, size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(off + i))
			return 0;
	return 1;
}

static void
fake_reply(int sock, const char *status)
{
	struct ipc_frame r;

	ipc_frame_init(&r);
	ipc_put_str(&r, IPC_STATUS, status);
	ipc_put_int(&r, IPC_CODE, strcmp(status, "ok") == 0 ? 250 : 554);
	ipc_put_str(&r, IPC_DSN, "5.0.0");
	ipc_put_str(&r, IPC_TEXT, "fake says so");
	ipc_put_str(&r, IPC_QUEUE_ID, "0123456789ABCDEF0123456");
	(void)ipc_send(sock, &r, -1, 5);
	ipc_frame_free(&r);
}

/* One submission: summarise it on report_fd, answer by the sender. */
static void
fake_conversation(int sock, int out)
{
	struct ipc_frame f;
	struct buf sum = BUF_INIT;
	const char *why, *op, *sender = "";
	size_t len = 0, chunks = 0, maxchunk = 0, nrcpt = 0;
	int good = 1;

	ipc_frame_init(&f);
	while (ipc_recv(sock, &f, 5, &why) == 1) {
		op = ipc_get_str(&f, IPC_OP);
		if (op != NULL && strcmp(op, IPC_OP_BEGIN) == 0) {
			sender = xstrdup(ipc_get_str(&f, IPC_SENDER));
			buf_printf(&sum, "sender=%s proto=%s uid=%s user=%s",
				   sender, ipc_get_str(&f, IPC_PROTOCOL),
				   ipc_get_str(&f, IPC_SUBMIT_UID),
				   ipc_get_str(&f, IPC_SUBMIT_USER));
			if (strncmp(sender, "early", 5) == 0) {
				fake_reply(sock, "reject");
				break;
			}
		} else if (op != NULL && strcmp(op, IPC_OP_RCPT) == 0) {
			buf_printf(&sum, " rcpt=%s", ipc_get_str(&f, IPC_ADDR));
			nrcpt++;
		} else if (op != NULL && strcmp(op, IPC_OP_DATA) == 0) {
			const struct ipc_attr *a = ipc_get(&f, IPC_CHUNK);

			good = good && content_ok(a->value, a->value_len, len);
			len += a->value_len;
			chunks++;
			if (a->value_len > maxchunk)
				maxchunk = a->value_len;
		} else if (op != NULL && strcmp(op, IPC_OP_END) == 0) {
			buf_printf(&sum, " len=%zu chunks=%zu max=%zu %s", len,
				   chunks, maxchunk, good ? "same" : "differs");
			fake_reply(sock,
				   strncmp(sender, "reject", 6) == 0  ? "reject"
				   : strncmp(sender, "defer", 5) == 0 ? "defer"
								      : "ok");
			break;
		}
		ipc_frame_reset(&f);
	}
	buf_append_char(&sum, '\n');
	(void)!write(out, sum.data, sum.len);
	buf_free(&sum);
	ipc_frame_free(&f);
}

static void
fake_cleanup_start(void)
{
	struct sockaddr_un sun;
	int ls, pfd[2], c;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, "private/cleanup", sizeof(sun.sun_path));
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(ls, 16) != 0 || pipe(pfd) != 0) {
		perror("fake cleanup");
		exit(1);
	}
	fake_pid = fork();
	if (fake_pid == 0) {
		close(pfd[0]);
		while ((c = accept(ls, NULL, NULL)) >= 0) {
			fake_conversation(c, pfd[1]);
			close(c);
		}
		_exit(0);
	}
	close(ls);
	close(pfd[1]);
	report_fd = pfd[0];
}

static void
fake_cleanup_stop(void)
{
	kill(fake_pid, SIGKILL);
	waitpid(fake_pid, NULL, 0);
	unlink("private/cleanup");
}

/* The fake's summary of the last conversation. */
static void
fake_report(char *out, size_t size)
{
	ssize_t n = read(report_fd, out, size - 1);

	out[n > 0 ? n : 0] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

/* --- maildrop files -------------------------------------------------- */

static void
record(struct buf *b, int type, const void *data, size_t len)
{
	unsigned char h[QREC_HEADER_LEN] = {
	    (unsigned char)type, (unsigned char)(len >> 24),
	    (unsigned char)(len >> 16), (unsigned char)(len >> 8),
	    (unsigned char)len};

	buf_append(b, h, sizeof(h));
	buf_append(b, data, len);
}

/* A maildrop file: the content is the fake's pattern of clen bytes. */
static void
maildrop_file(struct buf *b, const char *sender, const char *rcpt, size_t clen)
{
	char *content = xmalloc(clen + 1);
	struct buf r = BUF_INIT;
	size_t i;

	for (i = 0; i < clen; i++)
		content[i] = pattern_byte(i);
	buf_reset(b);
	record(b, 'V', "1", 1);
	record(b, 'T', "1800000000", 10);
	record(b, 'S', sender, strlen(sender));
	buf_printf(&r, "%c%s", QRCPT_TODO, rcpt);
	record(b, 'R', r.data, r.len);
	record(b, 'M', content, clen);
	record(b, 'E', "", 0);
	free(content);
	buf_free(&r);
}

static void
put(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "maildrop/%s", name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len ||
	    fchmod(fd, mode) != 0) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static void
put_message(const char *name, const char *sender, size_t clen)
{
	struct buf b = BUF_INIT;

	maildrop_file(&b, sender, "bob@example.org", clen);
	put(name, b.data, b.len, MAILDROP_MODE_DONE);
	buf_free(&b);
}

static int
exists(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* The log written since the last call. */
static void
new_log(struct buf *out)
{
	char chunk[4096];
	ssize_t n;

	buf_reset(out);
	while ((n = read(log_fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
}

/* 1 when the new log lines hold what; with quiet, no diagnostics. */
static int
log_has(const char *what, int quiet)
{
	struct buf b = BUF_INIT;
	int r;

	new_log(&b);
	r = strstr(buf_cstr(&b), what) != NULL;
	if (!r && !quiet)
		printf("#   log lacks \"%s\": %s", what, buf_cstr(&b));
	buf_free(&b);
	return r;
}

static int
logged(const char *what)
{
	return log_has(what, 0);
}

/* Forget the log so far. */
static void
log_skip(void)
{
	(void)log_has("", 1);
}

/* --- the cases -------------------------------------------------------- */

static void
test_good(void)
{
	char want[512], got[512];

	put_message("00000000000000000000001", "alice", 200000);
	is_int(pickup_file(&cfg, "00000000000000000000001"), PICKUP_SUBMITTED,
	       "a good file is submitted");
	fake_report(got, sizeof(got));
	snprintf(want, sizeof(want),
		 "sender=alice proto=local uid=%lu user=tester "
		 "rcpt=bob@example.org len=200000 chunks=4 max=%d same",
		 (unsigned long)getuid(), IPC_CHUNK_MAX);
	is_str(got, want,
	       "cleanup gets the sender, protocol local, the owner's uid and "
	       "name, the recipient and the content whole in chunks");
	ok(!exists("maildrop", "00000000000000000000001"),
	   "the file is removed once queued");
	ok(logged("0123456789ABCDEF0123456: uid="),
	   "the log names cleanup's queue ID and the uid");
}

static void
test_verdicts(void)
{
	char got[512];

	put_message("00000000000000000000002", "reject@example.org", 100);
	is_int(pickup_file(&cfg, "00000000000000000000002"), PICKUP_DONE,
	       "a refused file is done with");
	fake_report(got, sizeof(got));
	ok(exists("corrupt", "00000000000000000000002") &&
	       !exists("maildrop", "00000000000000000000002"),
	   "refused by cleanup: moved to corrupt/");
	ok(logged("cleanup refused it: 554 5.0.0 fake says so; moved to "
		  "corrupt/"),
	   "the refusal is logged with cleanup's words");

	put_message("00000000000000000000003", "defer@example.org", 100);
	is_int(pickup_file(&cfg, "00000000000000000000003"), PICKUP_STOP,
	       "deferred by cleanup: the scan stops");
	fake_report(got, sizeof(got));
	ok(exists("maildrop", "00000000000000000000003"),
	   "deferred: the file stays for the next scan");
	ok(logged("will try again"), "the deferral is logged");
	unlink("maildrop/00000000000000000000003");

	put_message("00000000000000000000004", "early@example.org", 3000000);
	cfg.message_size_limit = 4000000;
	cfg.limits.size_max = 4000000 + QREC_ENVELOPE_MAX;
	is_int(pickup_file(&cfg, "00000000000000000000004"), PICKUP_DONE,
	       "cleanup answers after begin and closes: the answer counts");
	fake_report(got, sizeof(got));
	ok(exists("corrupt", "00000000000000000000004"),
	   "an early refusal also moves the file to corrupt/");
	log_skip();
}

static void
test_hostile(void)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char target[256];

	put("00000000000000000000010", "garbage\n", 8, MAILDROP_MODE_DONE);
	is_int(pickup_file(&cfg, "00000000000000000000010"), PICKUP_DONE,
	       "garbage is done with");
	ok(exists("corrupt", "00000000000000000000010"), "garbage: corrupt/");
	ok(logged("maildrop/00000000000000000000010: offset 0: "),
	   "garbage: the parser's reason is logged");

	maildrop_file(&b, "alice", "bob@example.org", 500);
	put("00000000000000000000011", b.data, b.len - 3, MAILDROP_MODE_DONE);
	(void)pickup_file(&cfg, "00000000000000000000011");
	ok(exists("corrupt", "00000000000000000000011"), "truncated: corrupt/");

	put("00000000000000000000012", b.data, b.len, 0755);
	(void)pickup_file(&cfg, "00000000000000000000012");
	ok(exists("corrupt", "00000000000000000000012"), "mode 0755: corrupt/");
	ok(logged("mode 0755, expected 0744; moved to corrupt/"),
	   "wrong mode: logged");

	put("00000000000000000000013", b.data, b.len, MAILDROP_MODE_WRITING);
	is_int(pickup_file(&cfg, "00000000000000000000013"), PICKUP_DONE,
	       "a file being written is done with for now");
	ok(exists("maildrop", "00000000000000000000013"),
	   "a file being written stays");

	put("00000000000000000000014", b.data, b.len, MAILDROP_MODE_DONE);
	if (link("maildrop/00000000000000000000014", "elsewhere") != 0)
		perror("link");
	(void)pickup_file(&cfg, "00000000000000000000014");
	ok(exists("corrupt", "00000000000000000000014") &&
	       exists(".", "elsewhere"),
	   "two links: corrupt/, the other link untouched");

	snprintf(target, sizeof(target), "%s/target", tmpdir);
	put("../target", "precious\n", 9, 0644);
	if (symlink(target, "maildrop/00000000000000000000015") != 0)
		perror("symlink");
	is_int(pickup_file(&cfg, "00000000000000000000015"), PICKUP_DONE,
	       "a symlink is done with");
	ok(!exists("maildrop", "00000000000000000000015") &&
	       stat("target", &st) == 0 && st.st_size == 9 &&
	       (st.st_mode & 07777) == 0644,
	   "a symlink is removed, its target untouched");
	ok(logged("a symbolic link; removed"), "the symlink is logged");

	if (mkfifo("maildrop/00000000000000000000016", 0744) != 0)
		perror("mkfifo");
	(void)pickup_file(&cfg, "00000000000000000000016");
	ok(!exists("maildrop", "00000000000000000000016"),
	   "a fifo is removed (never opened: that would block)");

	if (mkdir("maildrop/00000000000000000000017", 0755) != 0)
		perror("mkdir");
	(void)pickup_file(&cfg, "00000000000000000000017");
	ok(exists("maildrop", "00000000000000000000017") &&
	       logged("a directory; left alone"),
	   "a directory is left alone and logged");
	(void)pickup_file(&cfg, "00000000000000000000017");
	ok(!log_has("a directory", 1), "and logged only once");
	buf_free(&b);
}

static void
test_names(void)
{
	put("odd name\n", "junk", 4, MAILDROP_MODE_DONE);
	(void)pickup_file(&cfg, "odd name\n");
	ok(!exists("maildrop", "odd name\n") &&
	       !exists("corrupt", "odd name\n"),
	   "a name that is not a queue ID leaves maildrop/ ...");
	ok(logged("maildrop/odd name?: offset 0: truncated record header; "
		  "moved to corrupt/"),
	   "... for corrupt/ under a fresh queue ID, logged without the "
	   "newline");

	put("00000000000000000000010", "again", 5, MAILDROP_MODE_DONE);
	(void)pickup_file(&cfg, "00000000000000000000010");
	ok(!exists("maildrop", "00000000000000000000010"),
	   "a name corrupt/ holds already leaves maildrop/ ...");
	ok(logged("; moved to corrupt/0"),
	   "... under a fresh queue ID, replacing nothing");
}

static void
test_unknown_owner(void)
{
	char got[512], want[512];
	struct pickup_users empty;

	pickup_users_init(&empty);
	cfg.users = &empty;
	clock_gettime(CLOCK_REALTIME, &cfg.users_loaded);
	cfg.users_loaded.tv_sec -= 10;
	cfg.started_ms = event_now_ms() - 10000;
	put_message("00000000000000000000020", "alice", 10);
	is_int(pickup_file(&cfg, "00000000000000000000020"), PICKUP_REFRESH,
	       "an owner unknown to an older table: restart to reread it");
	ok(exists("maildrop", "00000000000000000000020"),
	   "and the file waits for the fresh process");
	log_skip();
	cfg.started_ms = event_now_ms();
	is_int(pickup_file(&cfg, "00000000000000000000020"), PICKUP_SUBMITTED,
	       "a fresh process never restarts for it again");
	fake_report(got, sizeof(got));
	snprintf(want, sizeof(want), "uid=%lu user=unknown",
		 (unsigned long)getuid());
	ok(strstr(got, want) != NULL, "the owner is named \"unknown\" (%s)",
	   got);
	cfg.users = &users;
	log_skip();
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	char logpath[256];

	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0 ||
	    mkdir("maildrop", 01730) != 0 || mkdir("corrupt", 0730) != 0 ||
	    mkdir("private", 0711) != 0) {
		perror(tmpdir);
		exit(1);
	}
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	log_init("test_pickup_file");
	log_set_fd(open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600));
	log_fd = open(logpath, O_RDONLY);
	cfg.maildrop_fd = open("maildrop", O_RDONLY | O_DIRECTORY);
	cfg.corrupt_fd = open("corrupt", O_PATH | O_DIRECTORY);
	cfg.message_size_limit = 1000000;
	cfg.limits.size_max = 1000000 + QREC_ENVELOPE_MAX;
	cfg.limits.incomplete_max = PICKUP_INCOMPLETE_MAX;
	cfg.timeout = 5;
	pickup_users_init(&users);
	pickup_users_add(&users, getuid(), "tester");
	cfg.users = &users;
	clock_gettime(CLOCK_REALTIME, &cfg.users_loaded);
	cfg.started_ms = event_now_ms();
	fake_cleanup_start();
}

int
main(void)
{
	setup();
	test_good();
	test_verdicts();
	test_hostile();
	test_names();
	test_unknown_owner();
	fake_cleanup_stop();
	put_message("00000000000000000000030", "alice", 10);
	is_int(pickup_file(&cfg, "00000000000000000000030"), PICKUP_STOP,
	       "no cleanup at all: the scan stops, the file stays");
	ok(logged("connect to private/cleanup"),
	   "the failed connect is logged");
	pickup_users_free(&users);
	if (chdir("/") == 0)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
