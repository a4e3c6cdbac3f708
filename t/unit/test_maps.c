/*
 * test_maps: map sources compile into LMDB files and answer lookups
 * case-insensitively; parse errors name the file and line (both lines for
 * a duplicate); a rebuild is seen by map_changed() on an old handle; a
 * source others can write is refused; map_write makes a map from entries
 * with the mode asked for, and a write that fails for want of space (a
 * file size limit plays the full disk) leaves the old map as it was;
 * map_keys walks every key.  Golden files in
 * t/unit/golden/aliases give map_parse's view of aliases sources.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golden.h"
#include "maps.h"
#include "tap.h"

static char dir[] = "/tmp/moat-maps-XXXXXX";

static int
collect(const char *key, const char *value, unsigned lineno, void *ctx,
	struct buf *err)
{
	buf_printf(ctx, "%u %s: %s\n", lineno, key, value);
	return 0;
}

static void
dump_aliases(const char *text, size_t len, struct buf *out)
{
	struct buf err = BUF_INIT, entries = BUF_INIT;

	if (map_parse(text, len, MAP_ALIASES, "aliases", collect, &entries,
		      &err) < 0)
		buf_printf(out, "error: %s\n", buf_cstr(&err));
	else
		buf_append(out, entries.data, entries.len);
	buf_free(&err);
	buf_free(&entries);
}

static int
refuse_third(const char *key, const char *value, unsigned lineno, void *ctx,
	     struct buf *err)
{
	int *n = ctx;

	if (++*n == 3) {
		buf_set_str(err, "full");
		return -1;
	}
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) < 0)
		abort();
	close(fd);
}

static void
expect_lookup(struct map *m, const char *key, const char *want)
{
	struct buf v = BUF_INIT;
	int r = map_lookup(m, key, &v);

	if (want == NULL) {
		is_int(r, 0, key);
	} else {
		is_int(r, 1, key);
		is_str(buf_cstr(&v), want, key);
	}
	buf_free(&v);
}

static void
test_parse(void)
{
	static const char table[] = "# relay domains\n"
				    "Example.ORG   OK  \n"
				    "\n"
				    "example.net\tsmtp:[mx.example.net]:25\n";
	struct buf out = BUF_INIT, err = BUF_INIT;
	int n = 0;

	is_int(map_parse(table, sizeof(table) - 1, MAP_TABLE, "relay", collect,
			 &out, &err),
	       0, "a table parses");
	is_str(buf_cstr(&out),
	       "2 example.org: OK\n4 example.net: smtp:[mx.example.net]:25\n",
	       "table keys lower-cased, values trimmed");
	buf_reset(&out);
	is_int(map_parse("key\n", 4, MAP_TABLE, "t", collect, &out, &err), -1,
	       "a table key without a value");
	is_str(buf_cstr(&err), "t:1: missing value", "  error names the line");
	is_int(map_parse("a b\n c d\n", 8, MAP_TABLE, "t", collect, &out, &err),
	       -1, "a table line starting with white space");
	is_int(map_parse("a b\nA c\n", 8, MAP_TABLE, "t", collect, &out, &err),
	       -1, "a table duplicate in another case");
	is_str(buf_cstr(&err), "t:2: duplicate key a (first at line 1)",
	       "  names both lines");
	is_int(map_parse("a: b\nc: d\ne: f\n", 15, MAP_ALIASES, "x",
			 refuse_third, &n, &err),
	       -1, "a callback's failure stops the parse");
	is_str(buf_cstr(&err), "full", "  with the callback's error");
	is_int(map_parse("", 0, MAP_ALIASES, "x", collect, &out, &err), 0,
	       "an empty source is an empty map");
	buf_free(&out);
	buf_free(&err);
}

static void
test_build_and_lookup(void)
{
	char src[256], lmdb[256], tmp[256];
	struct buf err = BUF_INIT, v = BUF_INIT;
	struct map *m, *m2;
	struct stat st;

	snprintf(src, sizeof(src), "%s/aliases", dir);
	snprintf(lmdb, sizeof(lmdb), "%s/aliases.lmdb", dir);
	snprintf(tmp, sizeof(tmp), "%s/aliases.lmdb.tmp", dir);
	write_file(src,
		   "# test aliases\n"
		   "postmaster: alice\n"
		   "Root: postmaster\n"
		   "team: bob,\n"
		   "\tcarol@example.net\n"
		   "\n"
		   "#  not: an entry\n",
		   0644);
	write_file(tmp, "stale", 0644);
	is_int(map_build(src, MAP_ALIASES, &err), 0, "map_build succeeds");
	if (err.len)
		printf("#   %s\n", buf_cstr(&err));
	ok(stat(lmdb, &st) == 0 && (st.st_mode & 07777) == 0644,
	   "the map is SOURCE.lmdb, mode 0644");
	ok(stat(tmp, &st) < 0 && errno == ENOENT, "no .lmdb.tmp is left");
	m = map_open(src, &err);
	ok(m != NULL, "map_open");
	expect_lookup(m, "postmaster", "alice");
	expect_lookup(m, "ROOT", "postmaster");
	expect_lookup(m, "root", "postmaster");
	expect_lookup(m, "Team", "bob, carol@example.net");
	expect_lookup(m, "not", NULL);
	expect_lookup(m, "#", NULL);
	expect_lookup(m, "", NULL);
	is_int(map_changed(m), 0, "a fresh map has not changed");

	write_file(src, "postmaster: dave\nroot: dave\n", 0644);
	is_int(map_build(src, MAP_ALIASES, &err), 0, "rebuild");
	is_int(map_changed(m), 1, "the old handle sees the rebuild");
	expect_lookup(m, "postmaster", "alice");
	m2 = map_open(src, &err);
	expect_lookup(m2, "postmaster", "dave");
	expect_lookup(m2, "team", NULL);
	is_int(map_changed(m2), 0, "the new handle has not changed");
	map_close(m);

	write_file(src, "root: alice\nbob: b\nroot: carol\n", 0644);
	is_int(map_build(src, MAP_ALIASES, &err), -1, "a duplicate fails");
	is_str(buf_cstr(&err),
	       "aliases:3: duplicate key root (first at line 1)",
	       "  naming both lines");
	is_int(map_changed(m2), 0, "a failed build leaves the map alone");
	ok(stat(tmp, &st) < 0, "  and no temporary file");
	map_close(m2);
	buf_free(&err);
	buf_free(&v);
}

static void
test_refusals(void)
{
	char src[256], link[256];
	struct buf err = BUF_INIT;

	snprintf(src, sizeof(src), "%s/access", dir);
	snprintf(link, sizeof(link), "%s/linked", dir);
	write_file(src, "192.0.2.1 REJECT\n", 0664);
	is_int(map_build(src, MAP_TABLE, &err), -1,
	       "a group-writable source is refused");
	ok(strstr(buf_cstr(&err), "writable by group or others") != NULL,
	   "  and says why: %s", buf_cstr(&err));
	chmod(src, 0646);
	is_int(map_build(src, MAP_TABLE, &err), -1,
	       "a world-writable source is refused");
	chmod(src, 0644);
	if (geteuid() == 0) {
		is_int(chown(src, 1, 1), 0, "give the source to uid 1");
		is_int(map_build(src, MAP_TABLE, &err), -1,
		       "as root, a source not owned by root is refused");
		ok(strstr(buf_cstr(&err), "owned by uid 1") != NULL &&
		       strstr(buf_cstr(&err), "root") != NULL,
		   "  and says why: %s", buf_cstr(&err));
		is_int(chown(src, 0, 0), 0, "back to root");
	}
	is_int(map_build(src, MAP_TABLE, &err), 0, "a 0644 source builds");
	if (symlink(src, link) == 0) {
		is_int(map_build(link, MAP_TABLE, &err), -1,
		       "a symbolic link as source is refused");
		unlink(link);
	}
	is_int(map_build(dir, MAP_TABLE, &err), -1, "a directory is refused");
	ok(map_open(link, &err) == NULL, "map_open of a missing map fails");
	ok(err.len > 0, "  with a reason: %s", buf_cstr(&err));
	snprintf(link, sizeof(link), "%s/access.lmdb", dir);
	unlink(link);
	unlink(src);
	buf_free(&err);
}

/* Many entries in one map: the map size is computed large enough. */
static void
test_many(void)
{
	char src[256], key[32];
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct map *m;
	int i;

	snprintf(src, sizeof(src), "%s/many", dir);
	for (i = 0; i < 100000; i++)
		buf_printf(&text, "k%d %d\n", i, i);
	write_file(src, buf_cstr(&text), 0644);
	is_int(map_build(src, MAP_TABLE, &err), 0, "100000 short entries");
	if (err.len)
		printf("#   %s\n", buf_cstr(&err));
	m = map_open(src, &err);
	expect_lookup(m, "k99999", "99999");
	expect_lookup(m, "K0", "0");
	map_close(m);
	unlink(src);
	snprintf(key, sizeof(key), "%s/many.lmdb", dir);
	unlink(key);
	buf_free(&text);
	buf_free(&err);
}

static int
key_list(const char *key, void *ctx)
{
	buf_printf(ctx, "%s,", key);
	return 0;
}

static int
key_stop(const char *key, void *ctx)
{
	return ++*(int *)ctx == 2;
}

/* A file size limit: writes past it fail with EFBIG, as on a full disk. */
static int
write_map_limited(const char *path, const struct map_entry *e, size_t n,
		  rlim_t limit, struct buf *err)
{
	struct rlimit old, lim;
	int r;

	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = limit;
	setrlimit(RLIMIT_FSIZE, &lim);
	r = map_write(path, e, n, 0640, err);
	setrlimit(RLIMIT_FSIZE, &old);
	return r;
}

static void
test_write(void)
{
	static const struct map_entry first[] = {
	    {"alice", "user"}, {"bob", "user"}, {"postmaster", "alias"}};
	char path[256], lmdb[300], tmp[300], key[32];
	struct map_entry *big = calloc(20000, sizeof(*big)), dup[2];
	struct buf err = BUF_INIT, keys = BUF_INIT;
	struct stat st, before;
	struct map *m;
	int i, n = 0;

	snprintf(path, sizeof(path), "%s/recipients", dir);
	snprintf(lmdb, sizeof(lmdb), "%s.lmdb", path);
	snprintf(tmp, sizeof(tmp), "%s.lmdb.tmp", path);
	is_int(map_write(path, first, 3, 0640, &err), 0, "map_write succeeds");
	ok(stat(lmdb, &st) == 0 && (st.st_mode & 07777) == 0640,
	   "the map is PATH.lmdb with the mode asked for (0640)");
	m = map_open(path, &err);
	ok(m != NULL, "map_open of a written map");
	expect_lookup(m, "bob", "user");
	expect_lookup(m, "Postmaster", "alias");
	expect_lookup(m, "carol", NULL);
	is_int(map_keys(m, key_list, &keys, &err), 0, "map_keys");
	is_str(buf_cstr(&keys), "alice,bob,postmaster,",
	       "  walks every key in order");
	is_int(map_keys(m, key_stop, &n, &err), -1, "a callback may stop it");
	is_int(map_still_at(m, path), 1, "map_still_at: the file at the path");
	is_int(map_still_at(m, dir), 0, "  not at another path");
	is_int(n, 2, "  after the key that said so");

	/* The full disk: the old map stays, no temporary file is left. */
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "user%05d", i);
		big[i].key = strdup(key);
		big[i].value = "user";
	}
	signal(SIGXFSZ, SIG_IGN);
	stat(lmdb, &before);
	is_int(write_map_limited(path, big, 20000, 64 * 1024, &err), -1,
	       "a write that runs out of space fails");
	ok(err.len > 0, "  and says why: %s", buf_cstr(&err));
	ok(stat(lmdb, &st) == 0 && st.st_ino == before.st_ino,
	   "  the old map is still in place");
	is_int(map_changed(m), 0, "  and a reader's handle is still current");
	ok(stat(tmp, &st) < 0 && errno == ENOENT, "  no .lmdb.tmp is left");
	expect_lookup(m, "alice", "user");
	is_int(map_write(path, big, 20000, 0640, &err), 0,
	       "with room again, 20000 entries are written");
	is_int(map_changed(m), 1, "  and a reader sees the new map");
	is_int(map_still_at(m, path), 0, "  the path names another file now");
	map_close(m);
	m = map_open(path, &err);
	expect_lookup(m, "user19999", "user");
	expect_lookup(m, "alice", NULL);
	unlink(lmdb);
	is_int(map_still_at(m, path), 0, "a removed map is not at its path");
	map_close(m);
	is_int(map_write(path, first, 0, 0640, &err), 0,
	       "an empty map can be written");
	dup[0] = big[0];
	dup[1] = big[0];
	is_int(map_write(path, dup, 2, 0640, &err), -1,
	       "a duplicate key is refused");
	ok(strstr(buf_cstr(&err), "user00000") != NULL, "  naming the key: %s",
	   buf_cstr(&err));
	for (i = 0; i < 20000; i++)
		free((char *)big[i].key);
	free(big);
	unlink(lmdb);
	buf_free(&err);
	buf_free(&keys);
}

/* A private source gives a private map; a check refuses a value. */
static void
test_private_checked(void)
{
	char src[256], lmdb[256];
	struct buf err = BUF_INIT;
	struct stat st;
	int n = 0;

	snprintf(src, sizeof(src), "%s/passwd", dir);
	snprintf(lmdb, sizeof(lmdb), "%s/passwd.lmdb", dir);
	write_file(src, "a x\nb y\nc z\n", 0600);
	is_int(map_build(src, MAP_TABLE, &err), 0, "a source of mode 0600");
	ok(stat(lmdb, &st) == 0 && (st.st_mode & 07777) == 0600,
	   "gives a map of mode 0600");
	write_file(src, "a x\nb y\nc z\n", 0640);
	is_int(map_build(src, MAP_TABLE, &err), 0, "a source of mode 0640");
	ok(stat(lmdb, &st) == 0 && (st.st_mode & 07777) == 0640,
	   "gives a map of mode 0640");
	is_int(map_build_checked(src, MAP_TABLE, refuse_third, &n, &err), -1,
	       "a check that refuses an entry fails the build");
	is_str(buf_cstr(&err), "passwd:3: full", "naming the file and line");
	unlink(src);
	unlink(lmdb);
	buf_free(&err);
}

int
main(void)
{
	char path[256];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_parse();
	test_build_and_lookup();
	test_refusals();
	test_many();
	test_write();
	test_private_checked();
	snprintf(path, sizeof(path), "%s/aliases", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/aliases.lmdb", dir);
	unlink(path);
	is_int(rmdir(dir), 0, "the test directory is left empty");
	golden_run("t/unit/golden/aliases", dump_aliases);
	return done_testing();
}
