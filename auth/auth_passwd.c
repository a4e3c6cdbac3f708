/*
 * auth_passwd: passwords checked against smtpd_sasl_password_maps, an
 * LMDB map of "user hash" built by `moat map build` or `moat passwd`
 * from a root-owned source.  The map is opened as root before the drop
 * and must be root's and readable by no one else (map build gives it the
 * source's mode); the hashes never leave this process.  An unknown user
 * costs the same crypt_r as a known one, against a hash made at start,
 * so the time of an answer tells nothing.  A rebuilt map makes the
 * process wind down after its answer, so the next one reads the new map.
 * Input: user names and passwords from smtpd (hostile, bounded by
 * auth.c); the map (root's).  Run by auth.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "log.h"
#include "maps.h"
#include "passwd_hash.h"

static struct map *passwd_map;
static char passwd_dummy[PASSWD_HASH_MAX];

/* The compiled map must be root's and open to no one else. */
static int
passwd_map_safe(const char *source)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int ok;

	buf_printf(&path, "%s.lmdb", source);
	ok = stat(buf_cstr(&path), &st) == 0;
	if (ok && (st.st_uid != 0 || (st.st_mode & 077) != 0)) {
		log_error("%s: owned by uid %lu with mode %04o: a password "
			  "map must be root's with mode 600 (chmod 600 the "
			  "source and rebuild it); AUTH fails until then",
			  buf_cstr(&path), (unsigned long)st.st_uid,
			  (unsigned)(st.st_mode & 07777));
		ok = 0;
	} else if (!ok && errno != ENOENT) {
		log_error("%s: %s; AUTH fails until it can be read",
			  buf_cstr(&path), strerror(errno));
	}
	buf_free(&path);
	return ok;
}

void
auth_passwd_open(const char *source)
{
	struct buf err = BUF_INIT;

	if (passwd_hash_make("not a password", "$y$", passwd_dummy,
			     sizeof(passwd_dummy)) != 0)
		log_fatal("crypt_r cannot make a yescrypt hash");
	if (source[0] == '\0' || !passwd_map_safe(source))
		return;
	passwd_map = map_open(source, &err);
	if (passwd_map == NULL)
		log_error("%s; AUTH fails until it can be read",
			  buf_cstr(&err));
	buf_free(&err);
}

int
auth_passwd_stale(void)
{
	return passwd_map == NULL || map_changed(passwd_map);
}

enum auth_verdict
auth_passwd_check(const char *user, const char *pass)
{
	struct buf hash = BUF_INIT;
	int found =
	    passwd_map != NULL ? map_lookup(passwd_map, user, &hash) : 0;
	enum auth_verdict v = AUTH_FAIL;

	if (passwd_map == NULL) {
		log_warn("no password map (smtpd_sasl_password_maps): every "
			 "AUTH fails; set passwords with moat passwd USER");
		(void)passwd_hash_verify(pass, passwd_dummy);
	} else if (found < 0) {
		log_warn("password map: lookup failed");
		v = AUTH_TEMP;
	} else if (found == 0 || !passwd_hash_accepted(buf_cstr(&hash))) {
		if (found == 1)
			log_warn("password map: the hash of a user is of no "
				 "accepted kind (yescrypt, bcrypt, "
				 "sha512-crypt)");
		(void)passwd_hash_verify(pass, passwd_dummy);
	} else if (passwd_hash_verify(pass, buf_cstr(&hash))) {
		v = AUTH_OK;
	}
	explicit_bzero(hash.data, hash.cap);
	buf_free(&hash);
	return v;
}
