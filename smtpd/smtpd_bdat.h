/*
 * smtpd_bdat: CHUNKING (RFC 3030) in the session, pure.  "BDAT size
 * [LAST]" is followed by exactly size bytes of content, read by the
 * caller as bytes, never as lines: smtpd_cmd_bdat decides whether they
 * are stored or discarded (a refused chunk), and the caller takes them
 * with smtpd_chunk_take through the DATA reader in chunked mode
 * (common/smtp_data.h), so BDAT content meets the same line-end rules and
 * limits and the same cleanup path as DATA.  Run by smtpd, its unit test
 * and fuzz target.
 */
#ifndef MOAT_SMTPD_BDAT_H
#define MOAT_SMTPD_BDAT_H

#include <stddef.h>

#include "buf.h"
#include "smtp_data.h"
#include "smtpd_session.h"

/*
 * After SMTPD_ACT_BDAT for the first stored chunk of a transaction (the
 * caller opened cleanup): ok 0 refuses the chunk with 451 and ends the
 * transaction (its bytes are then discarded).
 */
enum smtpd_action smtpd_session_bdat_started(struct smtpd_session *s, int ok);
/*
 * A stored chunk that was not LAST has been taken.  reject_id: -1, or
 * the refusal of the DATA reader (an enum smtpd_reply_id), which ends the
 * transaction.  (The LAST chunk ends with smtpd_session_data_done.)
 */
enum smtpd_action smtpd_session_bdat_chunk(struct smtpd_session *s,
					   int reject_id);

/* The reply that refuses a message for e (of DATA or BDAT), or -1. */
int smtpd_data_reject_id(enum smtp_data_error e);

/* The bytes of one chunk still to come. */
struct smtpd_chunk {
	size_t left;
	int store;
};

/* Start taking the chunk smtpd_cmd_bdat announced. */
void smtpd_chunk_start(struct smtpd_chunk *c, const struct smtpd_session *s);
/*
 * Take at most c->left of the len bytes at p: stored ones go through d
 * into out (canonical content), discarded ones nowhere.  Returns the
 * bytes taken; the chunk is complete when c->left is 0.
 */
size_t smtpd_chunk_take(struct smtpd_chunk *c, struct smtp_data *d,
			const char *p, size_t len, struct buf *out);

#endif
