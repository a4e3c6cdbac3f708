/*
 * passwd_hash: crypt_r over the accepted schemes (see passwd_hash.h).
 * Every crypt_data is wiped after use: it holds the password's hash and
 * the scheme's working state.  Used by auth and the moat command.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "passwd_hash.h"

static const struct {
	const char *scheme;
	const char *prefix;
} passwd_schemes[] = {
    {"yescrypt", "$y$"},
    {"bcrypt", "$2b$"},
    {"sha512-crypt", "$6$"},
};

const char *
passwd_hash_prefix(const char *scheme)
{
	size_t i;

	for (i = 0; i < sizeof(passwd_schemes) / sizeof(*passwd_schemes); i++)
		if (strcmp(scheme, passwd_schemes[i].scheme) == 0)
			return passwd_schemes[i].prefix;
	return NULL;
}

int
passwd_hash_accepted(const char *hash)
{
	size_t i, n = strlen(hash);

	if (n < 20 || n >= PASSWD_HASH_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)hash[i] <= ' ' ||
		    (unsigned char)hash[i] >= 0x7f)
			return 0;
	/* bcrypt's older $2y$ is the same algorithm; $2a$ had a bug. */
	return strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
	       strncmp(hash, "$2y$", 4) == 0 || strncmp(hash, "$6$", 3) == 0;
}

int
passwd_hash_make(const char *pass, const char *prefix, char *out, size_t size)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	int rc = -1;

	if (crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)) != NULL &&
	    crypt_r(pass, salt, cd) != NULL && cd->output[0] != '*' &&
	    passwd_hash_accepted(cd->output) &&
	    strlcpy(out, cd->output, size) < size)
		rc = 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int
passwd_hash_verify(const char *pass, const char *hash)
{
	struct crypt_data *cd;
	size_t n = strlen(hash);
	int ok;

	if (!passwd_hash_accepted(hash))
		return 0;
	cd = xcalloc(1, sizeof(*cd));
	ok = crypt_r(pass, hash, cd) != NULL && strlen(cd->output) == n &&
	     CRYPTO_memcmp(cd->output, hash, n) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}
