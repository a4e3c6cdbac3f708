/*
 * maps: compile a map source into LMDB and look keys up in it (maps.h).
 * The build refuses a source anyone but its owner can write (root when run
 * as root), writes SOURCE.lmdb.tmp (as readable as the source: a password
 * map stays 600), fsyncs it and renames it over SOURCE.lmdb, so a reader
 * sees the old map or the new one, never a mix.
 * Readers open the map read-only without a lock file and keep it across
 * chroot.  The source is parsed by map_parse.c; keys looked up come from
 * the network (addresses) and are only lower-cased and bounded here.
 * map_write makes a map the same way from entries a program computed
 * (rcptmap's recipients map).  Built by the admin command and rcptmap;
 * read by smtpd, cleanup, qmgr, local and rcptmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps.h"
#include "safe_open.h"

#define MAP_SOURCE_MAX (256 * 1024 * 1024)
#define MAP_MIN_SIZE (1024 * 1024)
#define MAP_BUILD_TRIES 6 /* each doubles the map size */

struct map {
	MDB_env *env;
	MDB_dbi dbi;
	dev_t dev; /* the file opened, for map_still_at */
	ino_t ino;
};

struct map_build_ctx {
	MDB_txn *txn;
	MDB_dbi dbi;
	const char *name;   /* the source, for error messages */
	int rc;             /* first LMDB error, 0 when none */
	map_entry_cb check; /* map_build_checked's, or NULL */
	void *check_ctx;
};

/* What a map is made from: a source text to parse, or entries. */
struct map_source {
	const char *name; /* for error messages */
	const struct buf *text;
	enum map_format fmt;
	const struct map_entry *entries; /* when text is NULL */
	size_t count;
	mode_t mode;        /* of the file, from its creation on */
	map_entry_cb check; /* a check of every entry, or NULL */
	void *check_ctx;
};

static int
map_path(char *out, size_t size, const char *source, const char *suffix,
	 struct buf *err)
{
	int n = snprintf(out, size, "%s%s", source, suffix);

	if (n < 0 || (size_t)n >= size) {
		buf_printf(err, "%s: path too long", source);
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void
map_lower_key(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = src[i];
		dst[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	dst[len] = '\0';
}

/* --- building ---------------------------------------------------------- */

/*
 * Only the owner may write the source: root, or the caller when not root.
 * *mode: the source's permission bits (the map gets its read bits).
 */
static int
map_read_source(const char *source, struct buf *text, mode_t *mode,
		struct buf *err)
{
	struct buf why = BUF_INIT;
	uid_t owner = geteuid();
	struct stat st;
	int fd;

	fd = safe_open(AT_FDCWD, source, O_RDONLY, 0, owner,
		       SAFE_NOT_GROUP_WRITABLE, &st, &why);
	if (fd < 0) {
		if (errno == EPERM)
			buf_printf(err,
				   "%s: refused: the source %s; a map source "
				   "must be owned by %s and writable by no "
				   "one else",
				   source, buf_cstr(&why),
				   owner == 0 ? "root"
					      : "the user building "
						"it");
		else
			buf_printf(err, "%s: %s", source, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	*mode = st.st_mode & 07777;
	if (buf_read_fd(text, fd, MAP_SOURCE_MAX) != 0) {
		if (errno == EFBIG)
			buf_printf(err, "%s: larger than %d bytes", source,
				   MAP_SOURCE_MAX);
		else
			buf_printf(err, "%s: read: %s", source,
				   strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
map_put(const char *key, const char *value, unsigned lineno, void *ctx,
	struct buf *err)
{
	struct map_build_ctx *bc = ctx;
	struct buf why = BUF_INIT;
	MDB_val k, v;
	int rc;

	if (bc->check != NULL &&
	    bc->check(key, value, lineno, bc->check_ctx, &why) < 0) {
		buf_reset(err);
		buf_printf(err, "%s:%u: %s", bc->name, lineno, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	v.mv_data = (void *)value;
	v.mv_size = strlen(value);
	rc = mdb_put(bc->txn, bc->dbi, &k, &v, MDB_NOOVERWRITE);
	if (rc != 0) {
		bc->rc = rc;
		buf_reset(err);
		if (lineno > 0)
			buf_printf(err, "%s:%u: lmdb: %s", bc->name, lineno,
				   mdb_strerror(rc));
		else
			buf_printf(err, "%s: key %s: lmdb: %s", bc->name, key,
				   mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/* Every entry of src into the open transaction; 0 or -1 with err. */
static int
map_fill(const struct map_source *src, struct map_build_ctx *bc,
	 struct buf *err)
{
	size_t i;

	if (src->text != NULL)
		return map_parse(src->text->data, src->text->len, src->fmt,
				 src->name, map_put, bc, err);
	for (i = 0; i < src->count; i++)
		if (map_put(src->entries[i].key, src->entries[i].value, 0, bc,
			    err) < 0)
			return -1;
	return 0;
}

/*
 * One attempt at writing tmp with the given map size.  Returns 0, -1 on
 * an error (in err), or MDB_MAP_FULL to try again with a larger map.
 */
static int
map_write_lmdb(const char *tmp, const struct map_source *src, size_t mapsize,
	       struct buf *err)
{
	struct map_build_ctx bc = {.name = src->name,
				   .check = src->check,
				   .check_ctx = src->check_ctx};
	MDB_env *env = NULL;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC,
			       src->mode)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &bc.txn)) != 0 ||
	    (rc = mdb_dbi_open(bc.txn, NULL, 0, &bc.dbi)) != 0)
		goto lmdb_error;
	if (map_fill(src, &bc, err) < 0) {
		mdb_txn_abort(bc.txn);
		mdb_env_close(env);
		return bc.rc == MDB_MAP_FULL ? MDB_MAP_FULL : -1;
	}
	rc = mdb_txn_commit(bc.txn);
	bc.txn = NULL;
	if (rc != 0)
		goto lmdb_error;
	mdb_env_close(env);
	return 0;
lmdb_error:
	if (bc.txn != NULL)
		mdb_txn_abort(bc.txn);
	if (env != NULL)
		mdb_env_close(env);
	if (rc == MDB_MAP_FULL)
		return MDB_MAP_FULL;
	buf_reset(err);
	buf_printf(err, "%s: lmdb: %s", tmp, mdb_strerror(rc));
	return -1;
}

static int
map_fsync_path(const char *path, int flags, mode_t mode, struct buf *err)
{
	int fd = open(path, flags | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 || (mode != 0 && fchmod(fd, mode) < 0) || fsync(fd) < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The file is complete and durable before its name is. */
static int
map_install(const char *tmp, const char *dst, mode_t mode, struct buf *err)
{
	char dir[PATH_MAX];

	if (map_fsync_path(tmp, 0, mode, err) < 0)
		return -1;
	if (rename(tmp, dst) < 0) {
		buf_printf(err, "rename %s to %s: %s", tmp, dst,
			   strerror(errno));
		return -1;
	}
	if (path_dirname(dst, dir, sizeof(dir)) != 0)
		return 0;
	return map_fsync_path(dir, O_DIRECTORY, 0, err);
}

static const char *
map_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * Write src into path.lmdb through path.lmdb.tmp, with a map size that
 * starts at size_hint and doubles while LMDB says it is full.
 */
static int
map_compile(const char *path, const struct map_source *src, size_t size_hint,
	    struct buf *err)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	size_t mapsize = size_hint + MAP_MIN_SIZE;
	int r = MDB_MAP_FULL, i;

	if (map_path(dst, sizeof(dst), path, ".lmdb", err) < 0 ||
	    map_path(tmp, sizeof(tmp), path, ".lmdb.tmp", err) < 0)
		return -1;
	for (i = 0; i < MAP_BUILD_TRIES && r == MDB_MAP_FULL; i++) {
		if (unlink(tmp) < 0 && errno != ENOENT) {
			buf_printf(err, "%s: %s", tmp, strerror(errno));
			r = -1;
			break;
		}
		buf_reset(err);
		r = map_write_lmdb(tmp, src, mapsize, err);
		mapsize *= 2;
	}
	if (r == MDB_MAP_FULL) {
		buf_reset(err);
		buf_printf(err, "%s: map too large", path);
	}
	if (r == 0 && map_install(tmp, dst, src->mode, err) == 0)
		return 0;
	(void)unlink(tmp);
	return -1;
}

int
map_build(const char *source_path, enum map_format fmt, struct buf *err)
{
	return map_build_checked(source_path, fmt, NULL, NULL, err);
}

int
map_build_checked(const char *source_path, enum map_format fmt,
		  map_entry_cb check, void *ctx, struct buf *err)
{
	struct buf text = BUF_INIT;
	struct map_source src = {
	    map_basename(source_path), &text, fmt, NULL, 0, 0644, check, ctx};
	mode_t mode = 0644;
	int r;

	buf_reset(err);
	if (map_read_source(source_path, &text, &mode, err) < 0) {
		buf_free(&text);
		return -1;
	}
	/* A source no one else may read (passwords) gives such a map. */
	src.mode = 0600 | (mode & 0044);
	r = map_compile(source_path, &src, text.len * 4, err);
	buf_free(&text);
	return r;
}

int
map_write(const char *path, const struct map_entry *entries, size_t count,
	  mode_t mode, struct buf *err)
{
	struct map_source src = {.name = map_basename(path),
				 .fmt = MAP_TABLE,
				 .entries = entries,
				 .count = count,
				 .mode = mode};
	size_t bytes = 0, i;

	buf_reset(err);
	/* LMDB's own overhead per entry is a node header and a page share. */
	for (i = 0; i < count; i++)
		bytes += strlen(entries[i].key) + strlen(entries[i].value) + 64;
	return map_compile(path, &src, bytes * 2, err);
}

/* --- reading ----------------------------------------------------------- */

/* A commit frees the transaction, whatever it returns. */
static int
map_commit(MDB_txn **txn)
{
	MDB_txn *t = *txn;

	*txn = NULL;
	return mdb_txn_commit(t);
}

struct map *
map_open(const char *source_path, struct buf *err)
{
	char path[PATH_MAX];
	struct map *m;
	MDB_txn *txn = NULL;
	struct stat st;
	int rc, fd;

	if (map_path(path, sizeof(path), source_path, ".lmdb", err) < 0)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	if ((rc = mdb_env_create(&m->env)) != 0 ||
	    (rc = mdb_env_open(m->env, path,
			       MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0)) !=
		0 ||
	    (rc = mdb_env_get_fd(m->env, &fd)) != 0 ||
	    (rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &m->dbi)) != 0 ||
	    (rc = map_commit(&txn)) != 0) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		if (m->env != NULL)
			mdb_env_close(m->env);
		free(m);
		buf_printf(err, "%s: %s", path, mdb_strerror(rc));
		errno = rc > 0 ? rc : EINVAL;
		return NULL;
	}
	/* The daemons that read maps fork and exec (local). */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fstat(fd, &st) == 0) {
		m->dev = st.st_dev;
		m->ino = st.st_ino;
	}
	return m;
}

int
map_lookup(struct map *m, const char *key, struct buf *value)
{
	char lower[MAP_KEY_MAX + 1];
	size_t len = strlen(key);
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	if (len == 0 || len > MAP_KEY_MAX)
		return 0;
	map_lower_key(lower, key, len);
	k.mv_data = lower;
	k.mv_size = len;
	if (mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn) != 0)
		return -1;
	rc = mdb_get(txn, m->dbi, &k, &v);
	if (rc == 0) {
		buf_reset(value);
		buf_append(value, v.mv_data, v.mv_size);
	}
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : -1;
}

int
map_keys(struct map *m, map_key_cb cb, void *ctx, struct buf *err)
{
	char key[MAP_KEY_MAX + 1];
	MDB_cursor *cur = NULL;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int rc, r = 0;

	if ((rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, m->dbi, &cur)) != 0)
		goto done;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		/* Keys are text: one with a NUL in it is no name. */
		if (k.mv_size == 0 || k.mv_size > MAP_KEY_MAX ||
		    memchr(k.mv_data, '\0', k.mv_size) != NULL)
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if ((r = cb(key, ctx)) != 0)
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
done:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != 0) {
		buf_printf(err, "lmdb: %s", mdb_strerror(rc));
		return -1;
	}
	return r != 0 ? -1 : 0;
}

int
map_changed(struct map *m)
{
	struct stat st;
	int fd;

	if (mdb_env_get_fd(m->env, &fd) != 0 || fstat(fd, &st) < 0)
		return 1;
	return st.st_nlink == 0;
}

int
map_still_at(struct map *m, const char *source_path)
{
	char path[PATH_MAX];
	struct stat at;
	struct buf err = BUF_INIT;
	int r;

	/* One stat: this runs at every RCPT in smtpd. */
	r = map_path(path, sizeof(path), source_path, ".lmdb", &err) == 0 &&
	    stat(path, &at) == 0 && at.st_dev == m->dev && at.st_ino == m->ino;
	buf_free(&err);
	return r;
}

int
map_file_stat(const char *source_path, struct stat *st)
{
	char path[PATH_MAX];
	struct buf err = BUF_INIT;
	int r;

	r = map_path(path, sizeof(path), source_path, ".lmdb", &err) == 0 &&
		    stat(path, st) == 0
		? 0
		: -1;
	buf_free(&err);
	return r;
}

void
map_close(struct map *m)
{
	if (m == NULL)
		return;
	mdb_env_close(m->env);
	free(m);
}
