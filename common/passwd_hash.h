/*
 * passwd_hash: the password hashes of smtpd_sasl_password_maps, made and
 * checked with libxcrypt's crypt_r: yescrypt by default, bcrypt and
 * sha512-crypt accepted, nothing older and never plain text.  The
 * passwords are the caller's secrets (auth(8): a client's AUTH; moat
 * passwd: the administrator's terminal); the hashes come from a
 * root-owned map.  Used by auth and the moat command.
 */
#ifndef MOAT_PASSWD_HASH_H
#define MOAT_PASSWD_HASH_H

#include <stddef.h>

#define PASSWD_HASH_MAX 384 /* libxcrypt's CRYPT_OUTPUT_SIZE */

/* The schemes by name: yescrypt, bcrypt, sha512-crypt. */
const char *passwd_hash_prefix(const char *scheme);
/* 1 when hash is a crypt string of an accepted scheme. */
int passwd_hash_accepted(const char *hash);
/*
 * Hash pass with the scheme's prefix ("$y$", "$2b$", "$6$") and a salt
 * from the kernel's randomness into out: 0, or -1.
 */
int passwd_hash_make(const char *pass, const char *prefix, char *out,
		     size_t size);
/*
 * 1 when pass matches hash (compared in constant time), 0 when not or
 * when hash is of no accepted scheme.
 */
int passwd_hash_verify(const char *pass, const char *hash);

#endif
