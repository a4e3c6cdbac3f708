/*
 * test_rcptmap_keys: the set of recipients rcptmap writes, from lists of
 * accounts and alias keys: uid 0 and names local would not deliver to
 * are left out, alias keys are lower-cased, the result is sorted with one
 * entry per key, and a name that is both an account and an alias is an
 * alias.
 */
#include <string.h>

#include "rcptmap.h"
#include "tap.h"

static const char *
keys_text(const struct rcptmap_keys *k, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < k->count; i++)
		buf_printf(out, "%s=%s ",
			   strlen(k->entry[i].key) > 20 ? "LONG"
							: k->entry[i].key,
			   k->entry[i].value);
	return buf_cstr(out);
}

static void
test_accounts(void)
{
	char name[80];
	struct rcptmap_keys k;

	rcptmap_keys_init(&k);
	is_int(rcptmap_keys_add_user(&k, "alice", 1000), 1, "an account");
	is_int(rcptmap_keys_add_user(&k, "root", 0), 0, "root is left out");
	is_int(rcptmap_keys_add_user(&k, "toor", 0), 0,
	       "any uid 0 account is left out");
	is_int(rcptmap_keys_add_user(&k, "Bob", 1001), 0,
	       "a name with a capital is left out (local cannot look it up)");
	is_int(rcptmap_keys_add_user(&k, "-x", 1002), 0, "a leading dash");
	is_int(rcptmap_keys_add_user(&k, "a+b", 1003), 0,
	       "a name with a delimiter byte");
	is_int(rcptmap_keys_add_user(&k, "", 1004), 0, "an empty name");
	memset(name, 'u', 65);
	name[65] = '\0';
	is_int(rcptmap_keys_add_user(&k, name, 1005), 0, "a 65-byte name");
	name[64] = '\0';
	is_int(rcptmap_keys_add_user(&k, name, 1005), 1, "a 64-byte name");
	is_int(rcptmap_keys_add_user(&k, "moat-smtpd", 998), 1,
	       "a system account");
	is_int(rcptmap_keys_add_user(&k, "alice", 1000), 1,
	       "the same account twice (two NSS sources)");
	is_int(k.accounts, 11, "every account is counted");
	is_int(k.users, 4, "the ones taken are counted");
	rcptmap_keys_finish(&k);
	is_int(k.count, 3, "one entry per name");
	ok(k.count == 3 && strcmp(k.entry[0].key, "alice") == 0 &&
	       strcmp(k.entry[1].key, "moat-smtpd") == 0 &&
	       strcmp(k.entry[2].key, name) == 0,
	   "sorted");
	rcptmap_keys_free(&k);
	is_int(k.count, 0, "freed");
}

static void
test_merge(void)
{
	char key[MAP_KEY_MAX + 2];
	struct buf out = BUF_INIT;
	struct rcptmap_keys k;

	rcptmap_keys_init(&k);
	rcptmap_keys_add_user(&k, "bob", 1000);
	rcptmap_keys_add_user(&k, "carol", 1001);
	is_int(rcptmap_keys_add_alias(&k, "Postmaster"), 1, "an alias key");
	is_int(rcptmap_keys_add_alias(&k, "root"), 1,
	       "root's alias is a recipient");
	is_int(rcptmap_keys_add_alias(&k, "bob"), 1,
	       "an alias with a user's name");
	is_int(rcptmap_keys_add_alias(&k, "postmaster"), 1,
	       "the same alias again");
	is_int(rcptmap_keys_add_alias(&k, ""), 0, "an empty key is not");
	memset(key, 'k', MAP_KEY_MAX + 1);
	key[MAP_KEY_MAX + 1] = '\0';
	is_int(rcptmap_keys_add_alias(&k, key), 0, "a key LMDB cannot hold");
	key[MAP_KEY_MAX] = '\0';
	is_int(rcptmap_keys_add_alias(&k, key), 1, "the longest key");
	is_int(k.aliases, 5, "alias keys taken are counted");
	rcptmap_keys_finish(&k);
	is_str(keys_text(&k, &out),
	       "bob=alias carol=user LONG=alias postmaster=alias root=alias ",
	       "merged, lower-cased, sorted; an alias wins over a user");
	rcptmap_keys_free(&k);
	rcptmap_keys_finish(&k);
	is_int(k.count, 0, "an empty set stays empty");
	buf_free(&out);
}

int
main(void)
{
	test_accounts();
	test_merge();
	return done_testing();
}
