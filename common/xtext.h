/*
 * xtext: the decoder of RFC 3461 xtext, the encoding of the DSN
 * parameters ENVID and ORCPT on MAIL and RCPT.  Input is hostile client
 * text; the decoded bytes may be anything, so the caller checks what it
 * may hold (dsn.h).  Pure; runs in smtpd, its unit test and fuzz target.
 */
#ifndef MOAT_XTEXT_H
#define MOAT_XTEXT_H

#include <stddef.h>

#include "buf.h"

/*
 * Decode p[0..len) into out (appended).  xchar is any byte from '!' to
 * '~' but '+' (RFC 3461 also leaves out '=', which clients use anyway:
 * it is taken as itself); "+XX" is the byte with hex value XX (upper or
 * lower case).  0, or -1 for a byte outside '!'..'~' or a '+' not
 * followed by two hex digits.  An empty string decodes to nothing.
 */
int xtext_decode(const char *p, size_t len, struct buf *out);

#endif
