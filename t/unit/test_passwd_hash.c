/*
 * test_passwd_hash: the password hashes of smtpd_sasl_password_maps:
 * each accepted scheme (yescrypt, bcrypt, sha512-crypt) makes a hash
 * that verifies its password and no other; older schemes (MD5, DES),
 * plain text and garbage are not accepted, and never verify.
 */
#include <string.h>

#include "passwd_hash.h"
#include "tap.h"

int
main(void)
{
	static const char *const schemes[] = {"yescrypt", "bcrypt",
					      "sha512-crypt"};
	static const char *const refused[] = {
	    "$1$abcdefgh$0123456789012345678901", /* MD5-crypt */
	    "abJnggxhB/yWI",                      /* DES */
	    "secret",
	    "",
	    "$y$ with spaces in it but long enough",
	};
	char hash[PASSWD_HASH_MAX];
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *prefix = passwd_hash_prefix(schemes[i]);

		ok(prefix != NULL &&
		       passwd_hash_make("s3cret", prefix, hash, sizeof(hash)) ==
			   0 &&
		       strncmp(hash, prefix, strlen(prefix)) == 0,
		   "%s makes a hash (%.12s...)", schemes[i], hash);
		ok(passwd_hash_accepted(hash), "%s is accepted", schemes[i]);
		ok(passwd_hash_verify("s3cret", hash), "%s: the password",
		   schemes[i]);
		ok(!passwd_hash_verify("s3cres", hash) &&
		       !passwd_hash_verify("", hash),
		   "%s: not another", schemes[i]);
	}
	ok(passwd_hash_prefix("md5-crypt") == NULL, "no MD5-crypt scheme");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ok(!passwd_hash_accepted(refused[i]) &&
		       !passwd_hash_verify(refused[i], refused[i]),
		   "not accepted, never verified: \"%s\"", refused[i]);
	ok(passwd_hash_make("x", "$y$", hash, 10) == -1,
	   "a hash that does not fit is an error, not cut");
	return done_testing();
}
