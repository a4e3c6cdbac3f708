/*
 * rcptmap_build: one rebuild of the recipients map: every account of the
 * password database (through NSS, as getpwent gives them) and every key
 * of the compiled alias map go through rcptmap_keys.c, and the result is
 * written with map_write (a new file renamed over the old one).  Anything
 * that cannot be read is an error and nothing is written, so a transient
 * failure never shrinks the map smtpd answers from.  Also the stamps by
 * which rcptmap notices that a watched file changed.  Input: root's
 * password database and alias map.  Runs in rcptmap, as moat-rcptmap.
 */
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "rcptmap.h"

void
rcptmap_stamp_take(const char *path, struct rcptmap_stamp *s)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st) != 0)
		return;
	s->exists = 1;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
}

int
rcptmap_stamp_same(const struct rcptmap_stamp *a, const struct rcptmap_stamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/*
 * XXX getpwent cannot tell the end of the list from an NSS source that
 * failed half-way (errno is unreliable across modules); a list without
 * a single account (not even root) is taken for a failure.
 */
static int
rcptmap_read_accounts(struct rcptmap_keys *k, struct buf *err)
{
	struct passwd *pw;

	setpwent();
	while ((pw = getpwent()) != NULL)
		if (pw->pw_name != NULL)
			(void)rcptmap_keys_add_user(k, pw->pw_name, pw->pw_uid);
	endpwent();
	if (k->accounts == 0) {
		buf_set_str(err, "the password database lists no account");
		return -1;
	}
	return 0;
}

static int
rcptmap_alias_key(const char *key, void *ctx)
{
	(void)rcptmap_keys_add_alias(ctx, key);
	return 0;
}

/* A configured alias map that is missing is an error, not an empty map. */
static int
rcptmap_read_aliases(const char *source, struct rcptmap_keys *k,
		     struct buf *err)
{
	struct buf why = BUF_INIT;
	struct map *m;
	int rc;

	if (source[0] == '\0')
		return 0;
	m = map_open(source, &why);
	if (m == NULL) {
		buf_printf(err, "alias map %s", buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	rc = map_keys(m, rcptmap_alias_key, k, &why);
	if (rc != 0)
		buf_printf(err, "alias map %s.lmdb: %s", source,
			   buf_cstr(&why));
	map_close(m);
	buf_free(&why);
	return rc;
}

int
rcptmap_build(const char *alias_source, const char *map_path,
	      struct rcptmap_keys *k, struct buf *err)
{
	buf_reset(err);
	if (rcptmap_read_accounts(k, err) != 0 ||
	    rcptmap_read_aliases(alias_source, k, err) != 0)
		return -1;
	rcptmap_keys_finish(k);
	return map_write(map_path, k->entry, k->count, RCPTMAP_MODE, err);
}
