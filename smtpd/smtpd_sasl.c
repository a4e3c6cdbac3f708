/*
 * smtpd_sasl: base64 and the PLAIN and LOGIN credentials of AUTH (see
 * smtpd_sasl.h).  Hostile input, counted: every output length is checked
 * before a byte is written.  Pure; run by smtpd.
 */
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "smtpd_sasl.h"

int
smtpd_sasl_mech_parse(const char *word, size_t len)
{
	if (len == 5 && strncasecmp(word, "PLAIN", 5) == 0)
		return SMTPD_SASL_PLAIN;
	if (len == 5 && strncasecmp(word, "LOGIN", 5) == 0)
		return SMTPD_SASL_LOGIN;
	return 0;
}

const char *
smtpd_sasl_mech_name(int mech)
{
	return mech == SMTPD_SASL_LOGIN ? "LOGIN" : "PLAIN";
}

enum smtpd_sasl_error
smtpd_sasl_base64_decode(const char *in, size_t len, unsigned char *out,
			 size_t cap, size_t *outlen)
{
	int r = base64_decode(in, len, out, cap, outlen);

	return r == 0    ? SMTPD_SASL_OK
	       : r == -2 ? SMTPD_SASL_TOO_LONG
			 : SMTPD_SASL_BAD_BASE64;
}

enum smtpd_sasl_error
smtpd_sasl_user(const unsigned char *in, size_t len, char *user,
		size_t user_size)
{
	size_t i;

	if (len == 0)
		return SMTPD_SASL_BAD_NAME;
	if (len >= user_size)
		return SMTPD_SASL_TOO_LONG;
	for (i = 0; i < len; i++)
		if (in[i] <= 0x20 || in[i] >= 0x7f)
			return SMTPD_SASL_BAD_NAME;
	memcpy(user, in, len);
	user[len] = '\0';
	return SMTPD_SASL_OK;
}

enum smtpd_sasl_error
smtpd_sasl_pass(const unsigned char *in, size_t len, char *pass,
		size_t pass_size)
{
	if (len == 0 || memchr(in, '\0', len) != NULL)
		return SMTPD_SASL_BAD_MESSAGE;
	if (len >= pass_size)
		return SMTPD_SASL_TOO_LONG;
	memcpy(pass, in, len);
	pass[len] = '\0';
	return SMTPD_SASL_OK;
}

enum smtpd_sasl_error
smtpd_sasl_plain(const unsigned char *msg, size_t len, char *user,
		 size_t user_size, char *pass, size_t pass_size)
{
	const unsigned char *nul1 = memchr(msg, '\0', len), *nul2;
	enum smtpd_sasl_error e;
	size_t zlen, ulen;

	if (nul1 == NULL)
		return SMTPD_SASL_BAD_MESSAGE;
	zlen = (size_t)(nul1 - msg);
	nul2 = memchr(nul1 + 1, '\0', len - zlen - 1);
	if (nul2 == NULL)
		return SMTPD_SASL_BAD_MESSAGE;
	ulen = (size_t)(nul2 - nul1 - 1);
	e = smtpd_sasl_user(nul1 + 1, ulen, user, user_size);
	if (e != SMTPD_SASL_OK)
		return e;
	if (zlen > 0 && (zlen != ulen || memcmp(msg, nul1 + 1, ulen) != 0))
		return SMTPD_SASL_AUTHZID;
	return smtpd_sasl_pass(nul2 + 1, len - zlen - ulen - 2, pass,
			       pass_size);
}
