/*
 * test_smtpd_sasl: base64 (RFC 4648's test vectors, and strictness: no
 * white space, no missing or extra padding, no stray bits) and the PLAIN
 * and LOGIN decoders: the user and password taken, an authzid of
 * someone else refused, names with blanks or control bytes refused,
 * every bound kept.
 */
#include <string.h>

#include "base64.h"
#include "smtpd_sasl.h"
#include "tap.h"

static const struct {
	const char *plain, *b64;
} vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void
base64(void)
{
	unsigned char out[64];
	struct buf enc = BUF_INIT;
	size_t i, n;
	int all = 1;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		buf_reset(&enc);
		base64_encode((const unsigned char *)vectors[i].plain,
			      strlen(vectors[i].plain), &enc);
		all &= strcmp(buf_cstr(&enc), vectors[i].b64) == 0 &&
		       base64_decode(vectors[i].b64, strlen(vectors[i].b64),
				     out, sizeof(out), &n) == 0 &&
		       n == strlen(vectors[i].plain) &&
		       memcmp(out, vectors[i].plain, n) == 0;
	}
	ok(all, "RFC 4648's vectors both ways");
	ok(base64_decode("Zm9v YmFy", 9, out, sizeof(out), &n) == -1,
	   "white space is refused");
	ok(base64_decode("Zg", 2, out, sizeof(out), &n) == -1,
	   "missing padding is refused");
	ok(base64_decode("Zg==Zg==", 8, out, sizeof(out), &n) == -1,
	   "padding inside is refused");
	ok(base64_decode("Zh==", 4, out, sizeof(out), &n) == -1,
	   "stray bits under the padding are refused");
	ok(base64_decode("Z===", 4, out, sizeof(out), &n) == -1,
	   "three pad characters are refused");
	ok(base64_decode("Zm9vYmFy", 8, out, 5, &n) == -2,
	   "output beyond the buffer is refused, not cut");
	buf_free(&enc);
}

static int
plain(const char *msg, size_t len, char *user, char *pass)
{
	return smtpd_sasl_plain((const unsigned char *)msg, len, user, 32, pass,
				32);
}

static void
credentials(void)
{
	char user[32], pass[32];

	is_int(plain("\0alice\0secret", 13, user, pass), SMTPD_SASL_OK,
	       "PLAIN without authzid");
	is_str(user, "alice", "its user");
	is_str(pass, "secret", "its password");
	is_int(plain("alice\0alice\0pw", 14, user, pass), SMTPD_SASL_OK,
	       "an authzid that is the user itself is fine");
	is_int(plain("bob\0alice\0pw", 12, user, pass), SMTPD_SASL_AUTHZID,
	       "acting as someone else is refused");
	is_int(plain("\0alice", 6, user, pass), SMTPD_SASL_BAD_MESSAGE,
	       "no second NUL");
	is_int(plain("\0alice\0", 7, user, pass), SMTPD_SASL_BAD_MESSAGE,
	       "an empty password");
	is_int(plain("\0alice\0pw\0x", 11, user, pass), SMTPD_SASL_BAD_MESSAGE,
	       "a NUL in the password");
	is_int(plain("\0al ice\0pw", 10, user, pass), SMTPD_SASL_BAD_NAME,
	       "a blank in the name");
	is_int(plain("\0al\x1bice\0pw", 10, user, pass), SMTPD_SASL_BAD_NAME,
	       "a control byte in the name");
	is_int(plain("\0caf\xc3\xa9\0pw", 9, user, pass), SMTPD_SASL_BAD_NAME,
	       "8-bit names are refused (they go into headers and logs)");
	is_int(plain("\0\0pw", 4, user, pass), SMTPD_SASL_BAD_NAME,
	       "an empty name");
	is_int(plain("\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\0pw", 43, user,
		     pass),
	       SMTPD_SASL_TOO_LONG, "a name over the bound");
	is_int(smtpd_sasl_user((const unsigned char *)"bob", 3, user, 32),
	       SMTPD_SASL_OK, "a LOGIN user");
	is_int(smtpd_sasl_pass((const unsigned char *)"p\0w", 3, pass, 32),
	       SMTPD_SASL_BAD_MESSAGE, "a LOGIN password with a NUL");
	is_int(smtpd_sasl_mech_parse("login", 5), SMTPD_SASL_LOGIN,
	       "mechanism names in any case");
	is_int(smtpd_sasl_mech_parse("CRAM-MD5", 8), 0, "CRAM-MD5 is unknown");
}

int
main(void)
{
	base64();
	credentials();
	return done_testing();
}
