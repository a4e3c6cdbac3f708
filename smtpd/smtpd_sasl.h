/*
 * smtpd_sasl: the decoders of AUTH (RFC 4954): base64 (common/base64.h,
 * strict) and the PLAIN (RFC 4616) and LOGIN credentials inside it.  Every byte
 * is hostile client input, taken as (pointer, length); nothing is assumed
 * NUL-terminated.  Pure: no I/O, no globals.  Run by smtpd; its unit test and
 * fuzz target call it.
 */
#ifndef MOAT_SMTPD_SASL_H
#define MOAT_SMTPD_SASL_H

#include <stddef.h>

#include "buf.h"

enum smtpd_sasl_mech { SMTPD_SASL_PLAIN = 1, SMTPD_SASL_LOGIN };

enum smtpd_sasl_error {
	SMTPD_SASL_OK,
	SMTPD_SASL_BAD_BASE64,  /* not strict base64 */
	SMTPD_SASL_TOO_LONG,    /* a name or password over the limits */
	SMTPD_SASL_BAD_MESSAGE, /* not authzid NUL authcid NUL passwd */
	SMTPD_SASL_BAD_NAME,    /* empty, or a byte that is no name's */
	SMTPD_SASL_AUTHZID,     /* asks to act as another user */
};

/* The mechanism a word names (any case), or 0. */
int smtpd_sasl_mech_parse(const char *word, size_t len);
const char *smtpd_sasl_mech_name(int mech);

/*
 * Decode base64 into out (at most cap bytes): SMTPD_SASL_OK with *outlen,
 * SMTPD_SASL_BAD_BASE64 or SMTPD_SASL_TOO_LONG.  Empty input is the
 * empty response (RFC 4954's "=" initial response is the caller's).
 */
enum smtpd_sasl_error smtpd_sasl_base64_decode(const char *in, size_t len,
					       unsigned char *out, size_t cap,
					       size_t *outlen);
/*
 * A user name as Moat takes it: 1 to user_size - 1 bytes of printable
 * ASCII, no blank (it goes into logs, queue files and headers).  Copied
 * into user.
 */
enum smtpd_sasl_error smtpd_sasl_user(const unsigned char *in, size_t len,
				      char *user, size_t user_size);
/* A password: 1 to pass_size - 1 bytes, no NUL.  Copied into pass. */
enum smtpd_sasl_error smtpd_sasl_pass(const unsigned char *in, size_t len,
				      char *pass, size_t pass_size);
/*
 * The decoded PLAIN message "authzid NUL authcid NUL passwd": the user
 * and the password, each checked as above.  An authzid other than empty
 * or the user itself is refused (no one acts as someone else here).
 */
enum smtpd_sasl_error smtpd_sasl_plain(const unsigned char *msg, size_t len,
				       char *user, size_t user_size, char *pass,
				       size_t pass_size);

#endif
