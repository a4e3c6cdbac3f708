/*
 * test_rcptmap_build: one rebuild against this system's real password
 * database and a real alias map made here: every account local delivers
 * to (uid 0 aside) and every alias key are in the map written, mode
 * 0640; a missing alias map is an error that leaves the old map as it
 * was; stamps notice a replaced file.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rcptmap.h"
#include "resolve.h"
#include "tap.h"

static char dir[] = "/tmp/moat-rcptmap-XXXXXX";

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, 0644) < 0)
		abort();
	close(fd);
}

static int
lookup(struct map *m, const char *key, const char *kind)
{
	struct buf v = BUF_INIT;
	int r = map_lookup(m, key, &v);

	r = r == 1 && strcmp(buf_cstr(&v), kind) == 0;
	buf_free(&v);
	return r;
}

/* Every account the map must hold is there, and no uid 0 one. */
static void
check_accounts(struct map *m)
{
	struct passwd *pw;
	int missing = 0, root_in = 0, seen = 0;

	struct buf v = BUF_INIT;

	setpwent();
	while ((pw = getpwent()) != NULL) {
		if (!resolve_login_ok(pw->pw_name))
			continue;
		if (pw->pw_uid == 0)
			root_in += lookup(m, pw->pw_name, RCPTMAP_KIND_USER);
		else if (strcmp(pw->pw_name, "root") != 0) {
			seen++;
			missing += map_lookup(m, pw->pw_name, &v) != 1;
		}
	}
	endpwent();
	ok(seen > 0, "this system has accounts to check (%d)", seen);
	is_int(missing, 0, "every account with a deliverable name is a key");
	is_int(root_in, 0, "no uid 0 account is a key as a user");
	buf_free(&v);
}

int
main(void)
{
	char aliases[256], lmdb[300], map_path[256], map_file[300];
	struct rcptmap_stamp before, after;
	struct rcptmap_keys k;
	struct buf err = BUF_INIT;
	struct map *m;
	struct stat st;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(aliases, sizeof(aliases), "%s/aliases", dir);
	snprintf(lmdb, sizeof(lmdb), "%s.lmdb", aliases);
	snprintf(map_path, sizeof(map_path), "%s/recipients", dir);
	snprintf(map_file, sizeof(map_file), "%s.lmdb", map_path);
	write_file(aliases, "postmaster: root\nroot: someone\n"
			    "Team-List: a, b\n");
	if (map_build(aliases, MAP_ALIASES, &err) != 0)
		printf("# %s\n", buf_cstr(&err));

	rcptmap_keys_init(&k);
	is_int(rcptmap_build(aliases, map_path, &k, &err), 0,
	       "a rebuild from the password database and the alias map");
	if (err.len)
		printf("#   %s\n", buf_cstr(&err));
	ok(k.accounts > 0 && k.users > 0 && k.aliases == 3,
	   "it counts accounts, users and alias keys (%lu, %lu, %lu)",
	   k.accounts, k.users, k.aliases);
	rcptmap_keys_free(&k);
	ok(stat(map_file, &st) == 0 && (st.st_mode & 07777) == 0640,
	   "the map is written with mode 0640");
	m = map_open(map_path, &err);
	ok(m != NULL, "the map opens");
	ok(lookup(m, "postmaster", "alias") && lookup(m, "root", "alias") &&
	       lookup(m, "team-list", "alias"),
	   "every alias key is in it");
	check_accounts(m);

	rcptmap_stamp_take(map_file, &before);
	unlink(lmdb);
	rcptmap_keys_init(&k);
	is_int(rcptmap_build(aliases, map_path, &k, &err), -1,
	       "a missing alias map fails the rebuild");
	ok(strstr(buf_cstr(&err), "alias map") != NULL, "  and says so: %s",
	   buf_cstr(&err));
	rcptmap_keys_free(&k);
	rcptmap_stamp_take(map_file, &after);
	ok(before.exists && rcptmap_stamp_same(&before, &after),
	   "  the old map is left as it was");
	is_int(map_changed(m), 0, "  a reader's handle is still current");

	rcptmap_keys_init(&k);
	is_int(rcptmap_build("", map_path, &k, &err), 0,
	       "no alias map configured: accounts only");
	is_int(k.aliases, 0, "  no alias keys");
	rcptmap_keys_free(&k);
	rcptmap_stamp_take(map_file, &after);
	ok(!rcptmap_stamp_same(&before, &after),
	   "the stamp sees the map replaced");
	is_int(map_changed(m), 1, "and so does the old handle");
	map_close(m);
	m = map_open(map_path, &err);
	ok(m != NULL && !lookup(m, "postmaster", "alias"),
	   "the new map has no alias keys");
	ok(m != NULL && map_lookup(m, "root", &err) == 0,
	   "and root, not aliased, is no recipient");
	map_close(m);
	rcptmap_stamp_take(lmdb, &after);
	ok(!after.exists, "a missing file has a stamp of its own");

	unlink(map_file);
	unlink(aliases);
	is_int(rmdir(dir), 0, "the test directory is left empty");
	buf_free(&err);
	return done_testing();
}
