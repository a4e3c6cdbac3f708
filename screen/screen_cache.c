/*
 * screen_cache: the temporary allowlist of clients that passed the screen,
 * as postscreen_cache_map: an LMDB file in moat-screen's own spool
 * directory (screen/cache.lmdb), keyed by the client's address, holding
 * until when each test's pass is good (postscreen_greet_ttl,
 * postscreen_dnsbl_ttl).  It survives restarts, so a client that passed
 * yesterday is not delayed today.  Several screens (one per listening
 * address) share it through LMDB's lock file.  Writes are gathered and
 * committed a moment later in one transaction, without fsync (a cache:
 * a crash of the machine may forget the last passes, and a file LMDB
 * cannot open is replaced by an empty one); entries expired for longer
 * than postscreen_cache_retention_time are removed every
 * postscreen_cache_cleanup_interval, a batch at a time, so the event
 * loop never stalls.  Input: the file is the screen user's own (opened
 * after the drop, checked with lstat and fstat: a regular file of ours
 * with one link), and a record of the wrong size is no record.  Run by
 * screen.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "screen.h"

#define CACHE_MAPSIZE (64LL * 1024 * 1024) /* ~500000 clients */
#define CACHE_PENDING_MAX 256
#define CACHE_FLUSH_MS 500
#define CACHE_SYNC_MS (300 * 1000)
#define CACHE_CLEAN_BATCH 1000
#define CACHE_CLEAN_PAUSE_MS 20

struct cache_pending {
	char key[INET6_ADDRSTRLEN];
	struct screen_cache_entry e;
};

static const char *cache_path;
static MDB_env *cache_env;
static MDB_dbi cache_dbi;
static MDB_txn *cache_rtxn; /* reset between lookups, renewed for each */
static struct cache_pending cache_pending[CACHE_PENDING_MAX];
static size_t cache_npending;
static unsigned long cache_flush_timer;
/* cleanup: the last key looked at, and what it did */
static char cache_clean_from[INET6_ADDRSTRLEN];
static int cache_cleaning;
static unsigned long cache_retained, cache_dropped;

static void cache_flush(void *ctx);
static void cache_clean_batch(void *ctx);

/* The file, if there, must be a regular file of ours with one link. */
static int
cache_file_ok(const char *path, int fd)
{
	struct stat st;

	if (fd < 0 ? lstat(path, &st) != 0 : fstat(fd, &st) != 0)
		return fd < 0 && errno == ENOENT;
	return S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	       st.st_nlink == 1;
}

static int
cache_env_open(const char *path)
{
	char lock[256];
	MDB_txn *txn = NULL;
	int rc, fd;

	if (snprintf(lock, sizeof(lock), "%s-lock", path) >=
		(int)sizeof(lock) ||
	    !cache_file_ok(path, -1) || !cache_file_ok(lock, -1))
		return EPERM;
	if ((rc = mdb_env_create(&cache_env)) != 0)
		return rc;
	if ((rc = mdb_env_set_mapsize(cache_env, CACHE_MAPSIZE)) != 0 ||
	    (rc = mdb_env_open(cache_env, path,
			       MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOTLS, 0600)) !=
		0 ||
	    (rc = mdb_env_get_fd(cache_env, &fd)) != 0 ||
	    (rc = cache_file_ok(path, fd) ? 0 : EPERM) != 0 ||
	    (rc = mdb_txn_begin(cache_env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &cache_dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		if (txn != NULL && rc != 0)
			mdb_txn_abort(txn);
		mdb_env_close(cache_env);
		cache_env = NULL;
		return rc;
	}
	return 0;
}

static void
cache_on_sync(void *ctx)
{
	(void)ctx;
	if (cache_env != NULL)
		(void)mdb_env_sync(cache_env, 1);
	(void)event_timer_add(CACHE_SYNC_MS, cache_on_sync, NULL);
}

static void
cache_start_cleanup(void *ctx)
{
	(void)ctx;
	if (!cache_cleaning) {
		cache_cleaning = 1;
		cache_clean_from[0] = '\0';
		cache_retained = cache_dropped = 0;
		(void)event_timer_add(0, cache_clean_batch, NULL);
	}
	(void)event_timer_add(screen_cfg.cache_cleanup_ms, cache_start_cleanup,
			      NULL);
}

int
screen_cache_open(const char *path)
{
	int rc, dead = 0;

	cache_path = path;
	rc = cache_env_open(path);
	if (rc == MDB_INVALID || rc == MDB_CORRUPTED ||
	    rc == MDB_VERSION_MISMATCH || rc == MDB_PANIC) {
		char lock[256];
		log_warn("cache %s: %s; starting an empty one", path,
			 mdb_strerror(rc));
		(void)unlink(path);
		if (snprintf(lock, sizeof(lock), "%s-lock", path) <
		    (int)sizeof(lock))
			(void)unlink(lock);
		rc = cache_env_open(path);
	}
	if (rc != 0) {
		log_error(
		    "cache %s: %s; every client is tested every time", path,
		    rc == EPERM ? "not a file of ours" : mdb_strerror(rc));
		return -1;
	}
	(void)mdb_reader_check(cache_env, &dead); /* a killed screen's */
	if (mdb_txn_begin(cache_env, NULL, MDB_RDONLY, &cache_rtxn) == 0)
		mdb_txn_reset(cache_rtxn);
	(void)event_timer_add(CACHE_SYNC_MS, cache_on_sync, NULL);
	(void)event_timer_add(0, cache_start_cleanup, NULL);
	return 0;
}

static int
cache_decode(const MDB_val *v, struct screen_cache_entry *e)
{
	if (v->mv_size != sizeof(*e))
		return -1;
	memcpy(e, v->mv_data, sizeof(*e));
	return 0;
}

int
screen_cache_get(const char *addr, struct screen_cache_entry *e)
{
	MDB_val k = {strlen(addr), (void *)addr}, v;
	size_t i;
	int found;

	for (i = 0; i < cache_npending; i++)
		if (strcmp(cache_pending[i].key, addr) == 0) {
			*e = cache_pending[i].e;
			return 1;
		}
	if (cache_rtxn == NULL || k.mv_size == 0 ||
	    mdb_txn_renew(cache_rtxn) != 0)
		return 0;
	found = mdb_get(cache_rtxn, cache_dbi, &k, &v) == 0 &&
		cache_decode(&v, e) == 0;
	mdb_txn_reset(cache_rtxn);
	return found;
}

void
screen_cache_put(const char *addr, const struct screen_cache_entry *e)
{
	size_t i;

	if (cache_env == NULL || strlen(addr) >= sizeof(cache_pending[0].key))
		return;
	for (i = 0; i < cache_npending; i++)
		if (strcmp(cache_pending[i].key, addr) == 0)
			break;
	if (i == cache_npending) {
		if (cache_npending == CACHE_PENDING_MAX)
			cache_flush(NULL);
		i = cache_npending++;
		strlcpy(cache_pending[i].key, addr,
			sizeof(cache_pending[i].key));
	}
	cache_pending[i].e = *e;
	if (cache_flush_timer == 0)
		cache_flush_timer =
		    event_timer_add(CACHE_FLUSH_MS, cache_flush, NULL);
}

/* The gathered passes, in one transaction. */
static void
cache_flush(void *ctx)
{
	MDB_txn *txn = NULL;
	MDB_val k, v;
	size_t i;
	int rc;

	(void)ctx;
	event_timer_cancel(cache_flush_timer); /* none, or this one: no-op */
	cache_flush_timer = 0;
	if (cache_npending == 0)
		return;
	rc = mdb_txn_begin(cache_env, NULL, 0, &txn);
	for (i = 0; txn != NULL && rc == 0 && i < cache_npending; i++) {
		k.mv_size = strlen(cache_pending[i].key);
		k.mv_data = cache_pending[i].key;
		v.mv_size = sizeof(cache_pending[i].e);
		v.mv_data = &cache_pending[i].e;
		rc = mdb_put(txn, cache_dbi, &k, &v, 0);
	}
	if (txn != NULL && rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != 0) {
		log_warn("cache %s: %s; %zu passed clients not remembered",
			 cache_path, mdb_strerror(rc), cache_npending);
		if (rc == MDB_MAP_FULL)
			cache_start_cleanup(NULL);
	}
	cache_npending = 0;
}

/* An entry to drop: unreadable, or expired longer than the retention. */
static int
cache_stale(const MDB_val *v, long long now)
{
	struct screen_cache_entry e;
	long long last;

	if (cache_decode(v, &e) != 0)
		return 1;
	last =
	    e.greet_expiry > e.dnsbl_expiry ? e.greet_expiry : e.dnsbl_expiry;
	return last + screen_cfg.cache_retention < now;
}

/* Up to CACHE_CLEAN_BATCH entries after cache_clean_from; 1 when done. */
static int
cache_clean_some(long long now)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = {strlen(cache_clean_from), cache_clean_from}, v;
	int rc, n = 0, op = k.mv_size ? MDB_SET_RANGE : MDB_FIRST;

	if (mdb_txn_begin(cache_env, NULL, 0, &txn) != 0)
		return 1;
	if (mdb_cursor_open(txn, cache_dbi, &cur) != 0) {
		mdb_txn_abort(txn);
		return 1;
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0 &&
	       n++ < CACHE_CLEAN_BATCH) {
		op = MDB_NEXT;
		if (k.mv_size == strlen(cache_clean_from) &&
		    memcmp(k.mv_data, cache_clean_from, k.mv_size) == 0)
			continue; /* the last one of the batch before */
		if (k.mv_size < sizeof(cache_clean_from)) {
			memcpy(cache_clean_from, k.mv_data, k.mv_size);
			cache_clean_from[k.mv_size] = '\0';
		}
		if (k.mv_size < sizeof(cache_clean_from) &&
		    !cache_stale(&v, now))
			cache_retained++;
		else if (mdb_cursor_del(cur, 0) == 0)
			cache_dropped++;
	}
	mdb_cursor_close(cur);
	if (mdb_txn_commit(txn) != 0)
		return 1;
	return rc != 0;
}

static void
cache_clean_batch(void *ctx)
{
	(void)ctx;
	if (cache_env == NULL || !cache_clean_some((long long)time(NULL))) {
		if (cache_env != NULL)
			(void)event_timer_add(CACHE_CLEAN_PAUSE_MS,
					      cache_clean_batch, NULL);
		return;
	}
	cache_cleaning = 0;
	log_info("cache %s full cleanup: retained=%lu dropped=%lu entries",
		 cache_path, cache_retained, cache_dropped);
}
