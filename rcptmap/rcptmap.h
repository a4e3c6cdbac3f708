/*
 * rcptmap.h: what rcptmap's modules share: the set of recipient keys
 * (rcptmap_keys.c, pure) and the build (rcptmap_build.c: the password
 * database, the alias map, the map written, the stamps of the files
 * watched).  Input: names from the password database and alias keys, both
 * root's.  Runs in rcptmap.
 */
#ifndef MOAT_RCPTMAP_H
#define MOAT_RCPTMAP_H

#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "maps.h"

#define RCPTMAP_PASSWD "/etc/passwd" /* watched; read through NSS */
#define RCPTMAP_MODE 0640            /* the map: group moat-smtpd reads */
#define RCPTMAP_KIND_USER "user"     /* the value of an account's key */
#define RCPTMAP_KIND_ALIAS "alias"   /* of an alias key (also a user) */

/* The recipients: after rcptmap_keys_finish, sorted and unique. */
struct rcptmap_keys {
	struct map_entry *entry;
	size_t count, cap;
	unsigned long accounts; /* seen in the password database */
	unsigned long users;    /* accounts taken */
	unsigned long aliases;  /* alias keys taken */
};

void rcptmap_keys_init(struct rcptmap_keys *k);
/*
 * An account: taken (1) unless its uid is 0 (mail for root must be
 * aliased) or its name is not one local delivers to (resolve_login_ok);
 * else 0.
 */
int rcptmap_keys_add_user(struct rcptmap_keys *k, const char *name, uid_t uid);
/* An alias key, lower-cased: 1, or 0 when empty or too long for a key. */
int rcptmap_keys_add_alias(struct rcptmap_keys *k, const char *key);
/* Sort and merge: one entry per key, "alias" when it is an alias. */
void rcptmap_keys_finish(struct rcptmap_keys *k);
void rcptmap_keys_free(struct rcptmap_keys *k);

/* What a file looked like; any change of it means a rebuild. */
struct rcptmap_stamp {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

void rcptmap_stamp_take(const char *path, struct rcptmap_stamp *s);
int rcptmap_stamp_same(const struct rcptmap_stamp *a,
		       const struct rcptmap_stamp *b);

/*
 * Read every account and every key of the alias map (alias_source: its
 * source path as in alias_maps, "" for none) into k and write the map at
 * map_path (as map_open takes it), atomically.  -1 with err when anything
 * could not be read or written: then the old map is untouched.
 */
int rcptmap_build(const char *alias_source, const char *map_path,
		  struct rcptmap_keys *k, struct buf *err);

#endif
