/*
 * fuzz_smtpd_sasl: hostile AUTH responses into the decoders: strict
 * base64, then PLAIN's "authzid NUL authcid NUL passwd" and LOGIN's user
 * name and password.  A decoded result must re-encode to the very input
 * (base64 is strict: one text, one meaning), and the same bytes decoded
 * in two pieces at a group boundary must give the same bytes as whole.
 * Every user name and password taken must be within its bounds, the
 * name printable ASCII without blanks, the password without NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "smtpd_sasl.h"

#define CAP 4096

static void
check_name(const char *user, size_t size)
{
	size_t i, n = strlen(user);

	if (n == 0 || n >= size)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)user[i] <= 0x20 ||
		    (unsigned char)user[i] >= 0x7f)
			abort();
}

static void
credentials(const unsigned char *msg, size_t len)
{
	char user[64], pass[128];

	if (smtpd_sasl_plain(msg, len, user, sizeof(user), pass,
			     sizeof(pass)) == SMTPD_SASL_OK) {
		check_name(user, sizeof(user));
		if (strlen(pass) == 0 || strlen(pass) >= sizeof(pass))
			abort();
	}
	if (smtpd_sasl_user(msg, len, user, sizeof(user)) == SMTPD_SASL_OK) {
		check_name(user, sizeof(user));
		if (strlen(user) != len)
			abort();
	}
	if (smtpd_sasl_pass(msg, len, pass, sizeof(pass)) == SMTPD_SASL_OK &&
	    strlen(pass) != len)
		abort();
}

/* Decoding in two pieces, split at a group boundary, changes nothing. */
static void
split_same(const char *in, size_t len, const unsigned char *whole, size_t n)
{
	unsigned char a[CAP], b[CAP];
	size_t cut = (len / 2) & ~(size_t)3, na = 0, nb = 0;

	if (len < 8)
		return;
	if (base64_decode(in, cut, a, sizeof(a), &na) != 0 ||
	    base64_decode(in + cut, len - cut, b, sizeof(b), &nb) != 0)
		abort();
	if (na + nb != n || memcmp(a, whole, na) != 0 ||
	    memcmp(b, whole + na, nb) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[CAP];
	struct buf again = BUF_INIT;
	const char *in = (const char *)data;
	size_t n = 0;

	if (size == 0)
		return 0;
	credentials(data, size);
	if (smtpd_sasl_base64_decode(in, size, out, sizeof(out), &n) !=
	    SMTPD_SASL_OK)
		return 0;
	base64_encode(out, n, &again);
	if (again.len != size || memcmp(again.data, in, size) != 0)
		abort();
	buf_free(&again);
	split_same(in, size, out, n);
	credentials(out, n);
	(void)smtpd_sasl_mech_parse(in, size);
	return 0;
}
