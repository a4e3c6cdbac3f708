/*
 * smtpd_bdat: the BDAT command and its chunks (smtpd_bdat.h).  The
 * argument is hostile client text; the chunk size is checked, before a
 * byte is read, against message_size_limit with the sizes of the chunks
 * before it.  Every refused chunk is still read to its end and dropped,
 * so its bytes are never taken for commands; only a BDAT whose size
 * cannot be read closes the connection, there being no way to skip an
 * unknown number of bytes.  Pure; run by smtpd.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtpd_bdat.h"
#include "smtpd_cmd.h"

#define BDAT_SIZE_DIGITS 20 /* more is over any limit anyway */

/* "size [LAST]": 0, or -1 when it is not that. */
static int
bdat_parse(const char *arg, size_t len, size_t *size, int *last)
{
	size_t i = 0, n = 0;

	while (i < len && arg[i] >= '0' && arg[i] <= '9') {
		if (n > (SIZE_MAX - 9) / 10)
			n = SIZE_MAX; /* saturate: it is over the limit */
		else
			n = n * 10 + (size_t)(arg[i] - '0');
		i++;
	}
	if (i == 0 || i > BDAT_SIZE_DIGITS)
		return -1;
	*size = n;
	*last = 0;
	if (i == len)
		return 0;
	while (i < len && arg[i] == ' ')
		i++;
	if (len - i != 4 || strncasecmp(arg + i, "LAST", 4) != 0)
		return -1;
	*last = 1;
	return 0;
}

/* A chunk refused at its command: the reply now, its bytes dropped. */
static enum smtpd_action
bdat_refuse(struct smtpd_session *s, enum smtpd_reply_id id, int reject)
{
	size_t size = s->ext.chunk_size;
	int last = s->ext.chunk_last;
	enum smtpd_action act;

	act = reject ? smtpd_session_reject(s, "BDAT", id, NULL, NULL)
		     : smtpd_session_reply(s, id, NULL);
	if (reject) /* RFC 3030 2: a failed chunk fails the transaction */
		smtpd_session_reset(s);
	s->ext.chunk_size = size;
	s->ext.chunk_last = last;
	s->ext.chunk_store = 0;
	return act == SMTPD_ACT_CLOSE ? act : SMTPD_ACT_BDAT;
}

enum smtpd_action
smtpd_cmd_bdat(struct smtpd_session *s, const char *arg, size_t len)
{
	size_t size;
	int last;

	if (bdat_parse(arg, len, &size, &last) != 0) {
		smtpd_session_reply(s, SMTPD_R_BDAT_SYNTAX, NULL);
		s->state = SMTPD_ST_QUIT;
		return SMTPD_ACT_CLOSE;
	}
	s->ext.chunk_size = size;
	s->ext.chunk_last = last;
	s->ext.chunk_store = 0;
	if (s->state == SMTPD_ST_GREETED)
		return bdat_refuse(s, SMTPD_R_NEED_HELO, 0);
	if (!s->have_sender)
		return bdat_refuse(s, SMTPD_R_NEED_MAIL, 0);
	if (s->rcpt_count == 0)
		return bdat_refuse(s, SMTPD_R_NEED_RCPT, 0);
	if (size > s->cfg->message_size_limit ||
	    s->ext.bdat_total > s->cfg->message_size_limit - size)
		return bdat_refuse(s, SMTPD_R_SIZE_EXCEEDED, 1);
	s->ext.bdat_total += size;
	s->ext.chunk_store = 1;
	return SMTPD_ACT_BDAT;
}

enum smtpd_action
smtpd_session_bdat_started(struct smtpd_session *s, int ok)
{
	s->delay = 0;
	if (!ok)
		return bdat_refuse(s, SMTPD_R_QUEUE_ERROR, 1);
	s->ext.bdat = 1;
	return SMTPD_ACT_BDAT;
}

enum smtpd_action
smtpd_session_bdat_chunk(struct smtpd_session *s, int reject_id)
{
	char num[32];
	enum smtpd_action act;

	s->delay = 0;
	if (reject_id >= 0 && reject_id < SMTPD_R_COUNT) {
		act = smtpd_session_reject(s, "BDAT", reject_id, NULL,
					   s->rcpt_count ? s->rcpt[0] : NULL);
		smtpd_session_reset(s);
		return act;
	}
	snprintf(num, sizeof(num), "%zu", s->ext.chunk_size);
	s->cmd_ok[SMTPD_CMD_BDAT]++;
	return smtpd_session_reply(s, SMTPD_R_BDAT_OK, num);
}

int
smtpd_data_reject_id(enum smtp_data_error e)
{
	switch (e) {
	case SMTP_DATA_BARE_EOL:
		return SMTPD_R_BARE_EOL;
	case SMTP_DATA_LINE_TOO_LONG:
		return SMTPD_R_DATA_LINE_TOO_LONG;
	case SMTP_DATA_TOO_BIG:
		return SMTPD_R_DATA_TOO_BIG;
	case SMTP_DATA_OK:
		break;
	}
	return -1;
}

void
smtpd_chunk_start(struct smtpd_chunk *c, const struct smtpd_session *s)
{
	c->left = s->ext.chunk_size;
	c->store = s->ext.chunk_store;
}

size_t
smtpd_chunk_take(struct smtpd_chunk *c, struct smtp_data *d, const char *p,
		 size_t len, struct buf *out)
{
	size_t n = len < c->left ? len : c->left, used = 0;

	if (n == 0)
		return 0;
	if (c->store)
		(void)smtp_data_input(d, p, n, out, &used); /* takes all */
	c->left -= n;
	return n;
}
