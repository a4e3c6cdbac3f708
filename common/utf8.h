/*
 * utf8: the one check of UTF-8 sequences (RFC 3629), for every place that
 * lets non-ASCII text through: SMTPUTF8 addresses (address.c), queue
 * listings (queue_format.c), DSN fields.  Overlong forms, surrogates,
 * code points past U+10FFFF and, where asked, C1 controls are refused.
 * Pure; input hostile and length-counted; runs in every program.
 */
#ifndef MOAT_UTF8_H
#define MOAT_UTF8_H

#include <stddef.h>

#include "buf.h"

/*
 * The length (1 to 4) of the valid UTF-8 sequence at s, which has len
 * bytes, or 0 when it is not one.  An ASCII byte counts as 1, whatever
 * its value.
 */
size_t utf8_seq_len(const unsigned char *s, size_t len);

/*
 * 1 when s[0..len) is UTF-8 text without controls: no C0 control, DEL
 * or C1 control (U+0080..U+009F), no malformed sequence.
 */
int utf8_text_ok(const char *s, size_t len);

/* 1 when some byte of s[0..len) is 0x80 or above. */
int utf8_has_8bit(const char *s, size_t len);

/*
 * Append s[0..len) to out, each byte outside printable ASCII, and each
 * byte of also, as '?'; with keep_utf8 a valid UTF-8 character that is
 * no control stays as it is.  For text that goes into a header or a
 * report.
 */
void utf8_clean(struct buf *out, const char *s, size_t len, int keep_utf8,
		const char *also);

#endif
