/*
 * rcptmap_keys: the set of local parts that may receive mail, from the
 * accounts of the password database and the keys of the alias map.  Pure:
 * no I/O, no globals; names come from root's password database and alias
 * map, and are only checked, lower-cased and copied with bounds here.
 * Runs in rcptmap; its unit test feeds it lists of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "rcptmap.h"
#include "resolve.h"

void
rcptmap_keys_init(struct rcptmap_keys *k)
{
	memset(k, 0, sizeof(*k));
}

static void
rcptmap_keys_push(struct rcptmap_keys *k, char *key, const char *kind)
{
	if (k->count == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->entry = xreallocarray(k->entry, k->cap, sizeof(*k->entry));
	}
	k->entry[k->count].key = key;
	k->entry[k->count].value = kind;
	k->count++;
}

int
rcptmap_keys_add_user(struct rcptmap_keys *k, const char *name, uid_t uid)
{
	k->accounts++;
	/* A name local would not look up would be accepted, then bounced. */
	if (uid == 0 || !resolve_login_ok(name))
		return 0;
	rcptmap_keys_push(k, xstrdup(name), RCPTMAP_KIND_USER);
	k->users++;
	return 1;
}

int
rcptmap_keys_add_alias(struct rcptmap_keys *k, const char *key)
{
	size_t n = strlen(key), i;
	char *lower;

	if (n == 0 || n > MAP_KEY_MAX)
		return 0;
	lower = xstrdup(key);
	for (i = 0; i < n; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	rcptmap_keys_push(k, lower, RCPTMAP_KIND_ALIAS);
	k->aliases++;
	return 1;
}

static int
rcptmap_entry_cmp(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;

	return strcmp(x->key, y->key);
}

void
rcptmap_keys_finish(struct rcptmap_keys *k)
{
	size_t i, out = 0;

	if (k->count > 1)
		qsort(k->entry, k->count, sizeof(*k->entry), rcptmap_entry_cmp);
	for (i = 0; i < k->count; i++) {
		struct map_entry *e = &k->entry[i];

		if (out > 0 && strcmp(k->entry[out - 1].key, e->key) == 0) {
			/* local looks the aliases up first. */
			if (strcmp(e->value, RCPTMAP_KIND_ALIAS) == 0)
				k->entry[out - 1].value = RCPTMAP_KIND_ALIAS;
			free((char *)e->key);
			continue;
		}
		k->entry[out++] = *e;
	}
	k->count = out;
}

void
rcptmap_keys_free(struct rcptmap_keys *k)
{
	size_t i;

	for (i = 0; i < k->count; i++)
		free((char *)k->entry[i].key);
	free(k->entry);
	rcptmap_keys_init(k);
}
