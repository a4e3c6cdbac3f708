/*
 * maps: lookup tables compiled into LMDB files.  The source is a text file
 * written by root; `moat map build FILE` (and newaliases) compiles it into
 * FILE.lmdb by writing FILE.lmdb.tmp and renaming it over the old map, so a
 * reader never sees a half-built map.  The map is 0644, or 0600 (0640)
 * when the source is not readable by others (smtp_sasl_password_maps
 * holds passwords).  Readers open the map read-only with
 * MDB_NOLOCK | MDB_NOSUBDIR | MDB_RDONLY: no lock file, nothing written.
 * A daemon opens its maps before chroot and may ask map_changed() whether
 * the file was replaced, to exit and be restarted with it: the open file's
 * link count drops to 0 when a new map is renamed over it, which fstat sees
 * even from inside a chroot.
 *
 * Two source formats:
 *   MAP_TABLE    "key value" lines (value: the rest of the line, trimmed)
 *   MAP_ALIASES  "name: target, target" with continuation lines that start
 *                with white space (aliases(5)); the value stored is the
 *                target list joined with ", " after whitespace cleanup.
 * Both: '#' comments and blank lines; keys are lower-cased; a duplicate key
 * is an error naming both lines.  Parse errors name the file and line.
 *
 * A program may also write a map of entries it computed (map_write), with
 * the same atomic replacement: rcptmap keeps the recipients map so.
 */
#ifndef MOAT_MAPS_H
#define MOAT_MAPS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"

enum map_format { MAP_TABLE, MAP_ALIASES };

#define MAP_KEY_MAX 511 /* LMDB's default key limit */
#define MAP_VALUE_MAX (64 * 1024)

typedef int (*map_entry_cb)(const char *key, const char *value, unsigned lineno,
			    void *ctx, struct buf *err);

/* Pure parser of a source text; calls cb per entry; -1 with err on error. */
int map_parse(const char *text, size_t len, enum map_format fmt,
	      const char *filename, map_entry_cb cb, void *ctx,
	      struct buf *err);

/* Compile source_path into source_path.lmdb atomically. */
int map_build(const char *source_path, enum map_format fmt, struct buf *err);
/*
 * The same, with check called for every entry first: when it returns -1
 * with a reason in its err, the build fails with "FILE:LINE: reason" and
 * the old map stays (a table whose values must parse).
 */
int map_build_checked(const char *source_path, enum map_format fmt,
		      map_entry_cb check, void *ctx, struct buf *err);

/* One entry of a map written from memory. */
struct map_entry {
	const char *key; /* 1 to MAP_KEY_MAX bytes, lower case, unique */
	const char *value;
};

/*
 * Write entries into path.lmdb atomically (path as map_open takes it):
 * path.lmdb.tmp is written, fsync'd, given mode, and renamed over the old
 * map.  On failure (a full disk) the old map is left as it was and the
 * temporary file removed; -1 with err.
 */
int map_write(const char *path, const struct map_entry *entries, size_t count,
	      mode_t mode, struct buf *err);

struct map;
/* Open source_path.lmdb read-only; NULL with err set when it cannot. */
struct map *map_open(const char *source_path, struct buf *err);
/*
 * Look up a key (lower-cased by the map, so callers pass it as they have
 * it).  1 found (value in *value), 0 not found, -1 error.
 */
int map_lookup(struct map *m, const char *key, struct buf *value);
/* Called with each key of a map, in byte order; non-zero stops. */
typedef int (*map_key_cb)(const char *key, void *ctx);
/*
 * Every key of m (keys holding a NUL byte are skipped).  0, or -1 when
 * LMDB failed (err) or cb stopped the walk.
 */
int map_keys(struct map *m, map_key_cb cb, void *ctx, struct buf *err);
/* 1 when the file at the map's path is no longer the one opened. */
int map_changed(struct map *m);
/*
 * 1 when source_path.lmdb names the very file m has open (device and
 * inode); 0 when it names another file or none.  Unlike map_changed this
 * needs the path to be reachable, and also sees a map replaced by other
 * means than a rename over it (removed, or a file system mounted over
 * its directory).
 */
int map_still_at(struct map *m, const char *source_path);
/*
 * stat(2) of the compiled file of source_path (source_path.lmdb): a
 * process that hands the map's path to a kept child compares st_dev and
 * st_ino to see a rebuild without opening it.  0, or -1 with errno.
 */
int map_file_stat(const char *source_path, struct stat *st);
void map_close(struct map *m);

#endif
