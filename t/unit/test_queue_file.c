/*
 * test_queue_file: queue IDs are well-formed and ordered; the writer makes
 * files the reader accepts; status updates land in place; truncated,
 * extended and malformed files are all refused; golden files in
 * t/unit/golden/queue_file give the parsed view of hand-made files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsn.h"
#include "golden.h"
#include "queue_file.h"
#include "tap.h"

static void
dump_str(struct buf *out, const char *name, const char *s)
{
	buf_printf(out, "%s ", name);
	if (s == NULL) {
		buf_append_str(out, "(none)\n");
		return;
	}
	buf_append_char(out, '<');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_printf(out, "\\x%02x", c);
		else
			buf_append_char(out, (char)c);
	}
	buf_append_str(out, ">\n");
}

/* The SMTPUTF8 and DSN records, only when the file has them. */
static void
dump_dsn(const struct queue_env *env, struct buf *out)
{
	if (env->smtputf8)
		buf_append_str(out, "smtputf8\n");
	if (env->dsn_ret != DSN_RET_NONE)
		buf_printf(out, "dsn_ret %s\n", dsn_ret_name(env->dsn_ret));
	if (env->dsn_envid != NULL)
		dump_str(out, "dsn_envid", env->dsn_envid);
	if (env->warn != 0)
		buf_printf(out, "warn %c at %lld\n", env->warn,
			   (long long)env->warn_offset);
}

static void
dump_rcpt_dsn(const struct queue_rcpt *r, struct buf *out)
{
	char notify[DSN_NOTIFY_TEXT_MAX];

	if (r->dsn_notify != 0) {
		dsn_notify_format(r->dsn_notify, notify);
		buf_printf(out, "  notify %s\n", notify);
	}
	if (r->dsn_orcpt != NULL)
		dump_str(out, "  orcpt", r->dsn_orcpt);
}

static void
dump_env(const char *file, size_t len, struct buf *out)
{
	struct queue_env env;
	struct buf err = BUF_INIT;
	size_t i;

	if (queue_env_parse(file, len, &env, &err) < 0) {
		buf_printf(out, "error: %s\n", buf_cstr(&err));
		buf_free(&err);
		return;
	}
	buf_printf(out, "arrival %lld\n", env.arrival);
	dump_str(out, "sender", env.sender);
	dump_str(out, "client_addr", env.client_addr);
	dump_str(out, "client_name", env.client_name);
	dump_str(out, "helo", env.helo);
	dump_str(out, "protocol", env.protocol);
	dump_str(out, "auth_user", env.auth_user);
	buf_printf(out, "submit_uid %lld\n", env.submit_uid);
	dump_dsn(&env, out);
	for (i = 0; i < env.rcpt_count; i++) {
		buf_printf(out, "rcpt %zu status %c at %lld\n", i,
			   env.rcpt[i].status,
			   (long long)env.rcpt[i].status_offset);
		dump_str(out, "  addr", env.rcpt[i].addr);
		dump_str(out, "  orig", env.rcpt[i].orig);
		dump_rcpt_dsn(&env.rcpt[i], out);
	}
	buf_printf(out, "content %zu bytes at %lld\n", env.content_length,
		   (long long)env.content_offset);
	if (env.sealed)
		buf_printf(out, "sealed, %s\n",
			   queue_seal_matches(file, len, &env)
			       ? "the seal matches"
			       : "the seal does not match");
	queue_env_free(&env);
	buf_free(&err);
}

static void
test_queue_id(void)
{
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];
	int i, ordered = 1, valid = 1;

	queue_id_new(a);
	is_int(strlen(a), 23, "a queue ID has 23 characters");
	ok(queue_id_valid(a), "queue_id_valid accepts %s", a);
	for (i = 0; i < 10000; i++) {
		queue_id_new(b);
		ordered &= strcmp(a, b) < 0;
		valid &= queue_id_valid(b);
		memcpy(a, b, sizeof(a));
	}
	ok(ordered, "10000 IDs in a row are distinct and increasing");
	ok(valid, "  and all valid");
	ok(!queue_id_valid("0123456789abcdef0123456"), "lowercase refused");
	ok(queue_id_valid("0123456789ABCDEF0123456"), "23 hex digits accepted");
	ok(!queue_id_valid("0123456789ABCDEF012345"), "22 refused");
	ok(!queue_id_valid("0123456789ABCDEF01234567"), "24 refused");
	ok(!queue_id_valid("0123456789ABCDEF012345G"), "G refused");
	ok(!queue_id_valid("../../etc/passwd"), "a path refused");
	ok(!queue_id_valid(""), "empty refused");
}

/* Read a whole file into b. */
static void
slurp(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t n;

	buf_reset(b);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(b, chunk, (size_t)n);
}

static void
test_truncations(const struct buf *file)
{
	struct queue_env env;
	struct buf err = BUF_INIT;
	size_t len, accepted = 0;

	for (len = 0; len < file->len; len++) {
		if (queue_env_parse(file->data, len, &env, &err) == 0) {
			accepted++;
			queue_env_free(&env);
		}
	}
	is_int(accepted, 0, "every truncation of the file is refused");
	buf_free(&err);
}

static void
test_writer(const char *dir)
{
	struct queue_writer w;
	struct queue_env env;
	struct buf err = BUF_INIT, file = BUF_INIT;
	size_t big_len = 200000, i;
	char *big = xmalloc(big_len);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), fd;

	for (i = 0; i < big_len; i++)
		big[i] = "abcdefghijklmnopqrstuvwxyz\n"[i % 27];
	is_int(queue_writer_open(&w, dfd, "Q1"), 0, "writer opens Q1");
	queue_writer_record(&w, QREC_VERSION, "1", 1);
	queue_writer_record(&w, QREC_ARRIVAL, "1700000000", 10);
	queue_writer_record(&w, QREC_SENDER, "alice@example.org", 17);
	queue_writer_record(&w, QREC_HELO, "client.example", 14);
	queue_writer_rcpt(&w, "bob@example.org", "Bob@Example.org");
	queue_writer_rcpt(&w, "carol@example.net", NULL);
	queue_writer_content(&w, "Subject: x\n\n", 12);
	queue_writer_content(&w, big, big_len);
	queue_writer_content(&w, "end\n", 4);
	is_int(queue_writer_finish(&w), 0, "finish succeeds");
	fd = openat(dfd, "Q1", O_RDWR);
	ok(fd >= 0, "the file is there");
	is_int(queue_file_read(fd, &env, &err), 0,
	       "queue_file_read accepts it");
	if (err.len)
		printf("#   %s\n", buf_cstr(&err));
	is_int(env.arrival, 1700000000, "arrival");
	is_str(env.sender, "alice@example.org", "sender");
	is_str(env.helo, "client.example", "helo");
	ok(env.client_addr == NULL, "no client address");
	is_int(env.rcpt_count, 2, "two recipients");
	is_str(env.rcpt[0].orig, "Bob@Example.org", "orig of the first");
	ok(env.rcpt[1].orig == NULL, "none for the second");
	is_int(env.rcpt[1].status, QRCPT_TODO, "status starts as '-'");
	is_int(env.content_length, 12 + big_len + 4, "content length");
	slurp(fd, &file);
	ok(memcmp(file.data + env.content_offset, "Subject: x\n\n", 12) == 0 &&
	       memcmp(file.data + env.content_offset + 12, big, big_len) == 0 &&
	       memcmp(file.data + env.content_offset + 12 + big_len, "end\n",
		      4) == 0,
	   "content bytes at content_offset");
	is_int(queue_file_set_status(fd, &env.rcpt[1], QRCPT_DONE), 0,
	       "set_status");
	is_int(queue_file_set_status(fd, &env.rcpt[0], 'x'), -1,
	       "set_status refuses a bad status");
	queue_env_free(&env);
	is_int(queue_file_read(fd, &env, &err), 0, "re-read after set_status");
	is_int(env.rcpt[1].status, QRCPT_DONE, "second recipient now 'D'");
	is_int(env.rcpt[0].status, QRCPT_TODO, "first still '-'");
	is_int(queue_file_write_status(fd, &env.rcpt[0], QRCPT_BOUNCED), 0,
	       "write_status (no sync)");
	is_int(queue_file_write_status(fd, &env.rcpt[0], 'x'), -1,
	       "write_status refuses a bad status");
	queue_env_free(&env);
	is_int(queue_file_read(fd, &env, &err), 0,
	       "re-read after write_status");
	is_int(env.rcpt[0].status, QRCPT_BOUNCED, "first recipient now 'B'");
	is_int(queue_file_set_status(fd, &env.rcpt[0], QRCPT_TODO), 0,
	       "and back to '-'");
	queue_env_free(&env);
	slurp(fd, &file);
	test_truncations(&file);
	buf_append(&file, "\0\0", 2);
	is_int(queue_env_parse(file.data, file.len, &env, &err), 0,
	       "NUL bytes after the end record (what is left of a file's "
	       "zeros) are accepted");
	queue_env_free(&env);
	buf_append_char(&file, 'x');
	ok(queue_env_parse(file.data, file.len, &env, &err) < 0,
	   "any other byte after it is refused (%s)", buf_cstr(&err));
	close(fd);
	is_int(queue_writer_open(&w, dfd, "Q1"), -1, "O_EXCL: Q1 exists");
	is_int(errno, EEXIST, "  EEXIST");
	unlinkat(dfd, "Q1", 0);
	buf_free(&file);
	buf_free(&err);
	free(big);
	close(dfd);
}

/* The SMTPUTF8 and DSN records through the writer and back. */
static void
test_writer_dsn(const char *dir)
{
	struct queue_writer w;
	struct queue_env env;
	struct buf err = BUF_INIT;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), fd;

	queue_writer_open(&w, dfd, "Q7");
	queue_writer_record(&w, QREC_ARRIVAL, "1700000000", 10);
	queue_writer_record(&w, QREC_SENDER, "j\xc3\xb6@example.org", 15);
	is_int(queue_writer_record(&w, QREC_SMTPUTF8, "", 0), 0, "8 record");
	is_int(queue_writer_record(&w, QREC_DSN_RET, "HDRS", 4), 0, "r record");
	is_int(queue_writer_record(&w, QREC_DSN_ENVID, "QQ 314", 6), 0,
	       "i record");
	is_int(queue_writer_record(&w, QREC_WARN, "-", 1), 0, "W record");
	is_int(queue_writer_record(&w, QREC_DSN_RET, "SOME", 4), -1,
	       "a bad RET refused");
	queue_writer_abort(&w);
	queue_writer_open(&w, dfd, "Q7");
	queue_writer_record(&w, QREC_ARRIVAL, "1700000000", 10);
	queue_writer_record(&w, QREC_SENDER, "", 0);
	queue_writer_record(&w, QREC_SMTPUTF8, "", 0);
	queue_writer_record(&w, QREC_WARN, "-", 1);
	queue_writer_rcpt_dsn(&w, "a@example.org", NULL,
			      DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY,
			      "rfc822;A@example.org");
	queue_writer_rcpt_dsn(&w, "b@example.org", NULL, DSN_NOTIFY_NEVER,
			      NULL);
	queue_writer_rcpt(&w, "c@example.org", NULL);
	is_int(queue_writer_finish(&w), 0, "a file with DSN records");
	fd = openat(dfd, "Q7", O_RDWR);
	is_int(queue_file_read(fd, &env, &err), 0, "is read back");
	ok(env.smtputf8 && env.warn == QWARN_DUE, "SMTPUTF8 and W kept");
	is_int(env.rcpt[0].dsn_notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY,
	       "NOTIFY of the first recipient");
	is_str(env.rcpt[0].dsn_orcpt, "rfc822;A@example.org", "its ORCPT");
	is_int(env.rcpt[1].dsn_notify, DSN_NOTIFY_NEVER, "NEVER");
	ok(env.rcpt[2].dsn_notify == 0 && env.rcpt[2].dsn_orcpt == NULL,
	   "none for the third");
	is_int(queue_file_set_warn(fd, &env, QWARN_SENT), 0, "set_warn");
	queue_env_free(&env);
	queue_file_read(fd, &env, &err);
	is_int(env.warn, QWARN_SENT, "the W byte is now 'D'");
	is_int(queue_file_set_warn(fd, &env, 'x'), -1, "a bad W status");
	queue_env_free(&env);
	close(fd);
	unlinkat(dfd, "Q7", 0);
	buf_free(&err);
	close(dfd);
}

static void
test_writer_errors(const char *dir)
{
	struct queue_writer w;
	char field[QREC_FIELD_MAX + 1];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct stat st;

	memset(field, 'x', sizeof(field));
	queue_writer_open(&w, dfd, "Q2");
	queue_writer_record(&w, QREC_ARRIVAL, "1", 1);
	is_int(queue_writer_record(&w, QREC_SENDER, "a@b\r\nX: y", 9), -1,
	       "CR LF in a sender refused");
	is_int(errno, EINVAL, "  EINVAL");
	is_int(queue_writer_rcpt(&w, "ok@example.org", NULL), -1,
	       "the error sticks");
	is_int(queue_writer_finish(&w), -1, "finish reports it");
	is_int(errno, EINVAL, "  with the first errno");
	is_int(fstatat(dfd, "Q2", &st, 0), -1, "and the file is gone");
	queue_writer_abort(&w);
	ok(1, "abort after a failed finish is harmless");

	queue_writer_open(&w, dfd, "Q3");
	is_int(queue_writer_record(&w, QREC_HELO, field, sizeof(field)), -1,
	       "a field over QREC_FIELD_MAX refused");
	queue_writer_abort(&w);
	is_int(fstatat(dfd, "Q3", &st, 0), -1, "abort removes the file");

	queue_writer_open(&w, dfd, "Q4");
	queue_writer_record(&w, QREC_ARRIVAL, "1", 1);
	queue_writer_content(&w, "x", 1);
	is_int(queue_writer_record(&w, QREC_SENDER, "", 0), -1,
	       "an envelope record after content refused");
	queue_writer_abort(&w);
	queue_writer_open(&w, dfd, "Q6");
	queue_writer_content(&w, "x", 1);
	w.content_length = 0xFFFFFFFFULL - 1; /* as if 4 GiB were written */
	is_int(queue_writer_content(&w, "yz", 2), -1,
	       "content over 0xFFFFFFFF bytes refused");
	is_int(errno, EFBIG, "  EFBIG");
	queue_writer_abort(&w);
	queue_writer_open(&w, dfd, "Q5");
	is_int(queue_writer_record(&w, 'Z', "", 0), -1,
	       "an unknown record type refused");
	is_int(queue_writer_record(&w, QREC_END, "", 0), -1,
	       "the end record is the writer's");
	queue_writer_abort(&w);
	is_int(queue_writer_open(&w, dfd, "a/b"), -1, "a name with / refused");
	close(dfd);
}

/* A file built by hand from records. */
static void
rec(struct buf *b, int type, const char *data, size_t len)
{
	unsigned char h[5] = {(unsigned char)type, (unsigned char)(len >> 24),
			      (unsigned char)(len >> 16),
			      (unsigned char)(len >> 8), (unsigned char)len};
	buf_append(b, h, 5);
	buf_append(b, data, len);
}

static void
test_envelope_limits(void)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct queue_env env;
	char *field = xmalloc(QREC_FIELD_MAX);
	size_t i;
	int r;

	memset(field, 'a', QREC_FIELD_MAX);
	field[0] = '-';
	rec(&b, 'V', "1", 1);
	rec(&b, 'T', "1", 1);
	rec(&b, 'S', "", 0);
	for (i = 0; i < QREC_ENVELOPE_MAX / (QREC_FIELD_MAX + 5) + 1; i++)
		rec(&b, 'R', field, QREC_FIELD_MAX);
	rec(&b, 'M', "", 0);
	rec(&b, 'E', "", 0);
	r = queue_env_parse(b.data, b.len, &env, &err);
	is_int(r, -1, "an envelope over QREC_ENVELOPE_MAX is refused");
	is_str(strstr(buf_cstr(&err), "envelope too large") ? "yes" : "no",
	       "yes", "  as too large");
	ok(env.rcpt == NULL && env.sender == NULL,
	   "a refused parse leaves nothing allocated");
	buf_free(&b);
	buf_free(&err);
	free(field);
}

/*
 * cleanup's way: a partial file (QUEUE_MODE_PARTIAL) made by the caller,
 * adopted, marked complete (QUEUE_MODE) by finish; a file removed while
 * it was written fails at finish.
 */
static void
test_writer_partial(const char *dir)
{
	struct queue_writer w;
	struct queue_env env;
	struct buf err = BUF_INIT;
	struct stat st;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), fd;

	fd = openat(dfd, "Q8", O_WRONLY | O_CREAT | O_EXCL, QUEUE_MODE_PARTIAL);
	is_int(queue_writer_adopt(&w, dfd, "Q8", fd, 0), 0, "adopt Q8");
	w.done_mode = QUEUE_MODE;
	queue_writer_record(&w, QREC_ARRIVAL, "1700000000", 10);
	queue_writer_record(&w, QREC_SENDER, "", 0);
	queue_writer_rcpt(&w, "a@example.org", NULL);
	queue_writer_content(&w, "Subject: p\n\nbody\n", 17);
	ok(fstatat(dfd, "Q8", &st, 0) == 0 &&
	       (st.st_mode & 07777) == QUEUE_MODE_PARTIAL,
	   "partial (0200) while it is written");
	is_int(queue_writer_finish(&w), 0, "finish");
	ok(fstatat(dfd, "Q8", &st, 0) == 0 &&
	       (st.st_mode & 07777) == QUEUE_MODE,
	   "complete (0600) after finish");
	fd = openat(dfd, "Q8", O_RDONLY);
	is_int(queue_file_read(fd, &env, &err), 0, "and readable");
	queue_env_free(&env);
	close(fd);
	unlinkat(dfd, "Q8", 0);

	fd = openat(dfd, "Q9", O_WRONLY | O_CREAT | O_EXCL, QUEUE_MODE_PARTIAL);
	queue_writer_adopt(&w, dfd, "Q9", fd, 0);
	w.done_mode = QUEUE_MODE;
	queue_writer_record(&w, QREC_ARRIVAL, "1700000000", 10);
	queue_writer_record(&w, QREC_SENDER, "", 0);
	queue_writer_rcpt(&w, "a@example.org", NULL);
	unlinkat(dfd, "Q9", 0);
	is_int(queue_writer_finish(&w), -1, "a file removed meanwhile fails");
	is_int(errno, ENOENT, "  ENOENT");

	fd =
	    openat(dfd, "Q10", O_WRONLY | O_CREAT | O_EXCL, QUEUE_MODE_PARTIAL);
	is_int(queue_writer_adopt(&w, dfd, "a/b", fd, 0), -1,
	       "adopt refuses a name with /");
	ok(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "  and closes the file");
	unlinkat(dfd, "Q10", 0);
	buf_free(&err);
	close(dfd);
}

/* A file of n zeros made as cleanup makes its spare; its descriptor. */
static int
filled_file(int dfd, const char *name, size_t n)
{
	static const char zeros[QUEUE_FILL];
	int fd =
	    openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, QUEUE_MODE_PARTIAL);

	ok(fd >= 0 && n <= sizeof(zeros) &&
	       pwrite(fd, zeros, n, 0) == (ssize_t)n,
	   "%s: %zu zeros", name, n);
	return fd;
}

/*
 * A message that fits in the zeros is sealed: one write over them, the
 * size unchanged, the seal checked on reading (a byte changed: refused);
 * one that does not fit is written as before, unsealed.
 */
static void
test_writer_sealed(const char *dir)
{
	struct queue_writer w;
	struct queue_env env;
	struct buf err = BUF_INIT, big = BUF_INIT, file = BUF_INIT;
	struct stat st;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), fd;

	fd = filled_file(dfd, "S1", QUEUE_FILL);
	is_int(queue_writer_adopt(&w, dfd, "S1", fd, QUEUE_FILL), 0,
	       "adopt a file of zeros");
	w.done_mode = QUEUE_MODE;
	queue_writer_record(&w, QREC_ARRIVAL, "1700000000", 10);
	queue_writer_record(&w, QREC_SENDER, "s@example.org", 13);
	queue_writer_rcpt(&w, "a@example.org", NULL);
	queue_writer_content(&w, "Subject: s\n\nbody\n", 17);
	is_int(queue_writer_finish(&w), 0, "finish");
	ok(fstatat(dfd, "S1", &st, 0) == 0 && st.st_size == QUEUE_FILL &&
	       (st.st_mode & 07777) == QUEUE_MODE,
	   "the size is still the zeros', the mode 0600");
	fd = openat(dfd, "S1", O_RDWR);
	is_int(queue_file_read(fd, &env, &err), 0, "it reads back");
	ok(env.sealed && env.content_length == 17 && env.rcpt_count == 1,
	   "sealed, the content and the recipient as written");
	slurp(fd, &file);
	ok(queue_seal_matches(file.data, file.len, &env), "the seal matches");
	file.data[env.content_offset] ^= 1;
	ok(!queue_seal_matches(file.data, file.len, &env),
	   "a byte of it changed: it does not");
	is_int(queue_file_set_status(fd, &env.rcpt[0], QRCPT_DONE), 0,
	       "qmgr's status write on a sealed file");
	queue_env_free(&env);
	ok(queue_file_read(fd, &env, &err) == 0 && env.sealed &&
	       env.rcpt[0].status == QRCPT_DONE,
	   "it still reads (the seal is checked only on a partial file)");
	queue_env_free(&env);
	close(fd);
	unlinkat(dfd, "S1", 0);

	fd = filled_file(dfd, "S2", QUEUE_FILL);
	queue_writer_adopt(&w, dfd, "S2", fd, QUEUE_FILL);
	w.done_mode = QUEUE_MODE;
	queue_writer_record(&w, QREC_ARRIVAL, "1700000000", 10);
	queue_writer_record(&w, QREC_SENDER, "", 0);
	queue_writer_rcpt(&w, "a@example.org", NULL);
	for (int i = 0; i < QUEUE_FILL / 8; i++)
		buf_append(&big, "0123456\n", 8);
	queue_writer_content(&w, big.data, big.len);
	is_int(queue_writer_finish(&w), 0, "a message larger than the zeros");
	fd = openat(dfd, "S2", O_RDONLY);
	ok(fstat(fd, &st) == 0 && st.st_size > QUEUE_FILL &&
	       queue_file_read(fd, &env, &err) == 0 && !env.sealed &&
	       env.content_length == big.len,
	   "is written whole, unsealed, the file its own size");
	queue_env_free(&env);
	close(fd);
	unlinkat(dfd, "S2", 0);
	buf_free(&big);
	buf_free(&file);
	buf_free(&err);
	close(dfd);
}

int
main(void)
{
	char dir[] = "/tmp/moat-qf-XXXXXX";

	test_queue_id();
	if (mkdtemp(dir) == NULL)
		return 1;
	test_writer(dir);
	test_writer_dsn(dir);
	test_writer_errors(dir);
	test_writer_partial(dir);
	test_writer_sealed(dir);
	rmdir(dir);
	test_envelope_limits();
	golden_run("t/unit/golden/queue_file", dump_env);
	return done_testing();
}
