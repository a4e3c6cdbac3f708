/*
 * base64: RFC 4648 base64, strict on input: no white space, exact
 * padding, no stray bits, so one text has one meaning.  Input is counted
 * bytes, hostile (AUTH responses from SMTP clients); every output length
 * is checked before a byte is written.  Pure.  Used by smtpd (AUTH) and
 * auth (Dovecot's protocol).
 */
#ifndef MOAT_BASE64_H
#define MOAT_BASE64_H

#include <stddef.h>

#include "buf.h"

/*
 * Decode in into out (at most cap bytes): 0 with *outlen; -1 for text
 * that is not strict base64; -2 when the result would not fit.  Empty
 * input decodes to nothing.
 */
int base64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
		  size_t *outlen);
/* Append the base64 of in to out. */
void base64_encode(const unsigned char *in, size_t len, struct buf *out);

#endif
