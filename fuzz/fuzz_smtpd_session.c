/*
 * fuzz_smtpd_session: hostile client bytes into the SMTP state machine,
 * with BDAT chunks taken by their byte count as smtpd_io.c takes them
 * (smtpd_bdat.c, the DATA reader in chunked mode).  The first byte
 * chooses a trusted or untrusted client, small or default limits, whether
 * the service offers STARTTLS (bit 4; bit 8: requires it) and AUTH, and
 * the piece size of a second run; the rest is the byte stream: command
 * lines split at LF (a trailing CR removed, as smtpd does), and after a
 * BDAT command exactly the chunk's bytes.  A DATA or first-chunk go-ahead
 * is answered alternately with success and failure, and DATA with a
 * queued or refused end, so every state is reached; a STARTTLS answered
 * 220 is followed by a finished handshake, an AUTH whose credentials are
 * complete by each of auth's verdicts in turn, and MAIL FROM meets the
 * sender restrictions.  Checks that every reply is well formed, and that
 * feeding the stream in pieces gives the same replies and the same stored
 * content as feeding it whole (a chunk's bytes must never depend on how
 * they arrive, nor leak into commands).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd_bdat.h"
#include "smtpd_reply.h"
#include "smtpd_security.h"
#include "smtpd_session.h"
#include "tls_files.h"

static int
fuzz_domain(void *ctx, const char *domain)
{
	(void)ctx;
	if (strcmp(domain, "fail.example") == 0)
		return -1;
	return strcmp(domain, "example.com") == 0;
}

static int
fuzz_user(void *ctx, const char *local)
{
	(void)ctx;
	if (strcmp(local, "tempfail") == 0)
		return -1;
	return strcmp(local, "alice") == 0 || strcmp(local, "postmaster") == 0;
}

static int
fuzz_logins(void *ctx, const char *key, struct buf *logins)
{
	(void)ctx;
	if (strcmp(key, "alice@example.com") == 0 ||
	    strcmp(key, "@example.org") == 0) {
		buf_append_str(logins, "alice, bob");
		return 1;
	}
	return strcmp(key, "fail@example.com") == 0 ? -1 : 0;
}

/* Every reply line: three digits, then ' ' or '-', then text, CR LF. */
static void
check_reply(const struct buf *r)
{
	size_t i = 0, end;

	while (i < r->len) {
		const char *nl = memchr(r->data + i, '\n', r->len - i);

		if (nl == NULL)
			abort();
		end = (size_t)(nl - r->data);
		if (end - i < 5 || r->data[end - 1] != '\r')
			abort();
		if (r->data[i] < '2' || r->data[i] > '5' ||
		    (r->data[i + 3] != ' ' && r->data[i + 3] != '-'))
			abort();
		for (size_t k = i; k < end - 1; k++)
			if ((unsigned char)r->data[k] < 0x20 ||
			    (unsigned char)r->data[k] == 0x7f)
				abort();
		i = end + 1;
	}
}

/* One client connection, as smtpd_io.c drives it. */
struct conn {
	struct smtpd_session s;
	struct smtp_data d;
	struct smtpd_chunk chunk;
	int in_chunk, closed;
	unsigned turn;
	struct buf pending; /* bytes not yet taken */
	struct buf out;     /* replies, then stored content, in order */
	struct buf content;
};

static void
drain(struct conn *c, enum smtpd_action act)
{
	check_reply(&c->s.reply);
	buf_append(&c->out, c->s.reply.data, c->s.reply.len);
	buf_reset(&c->s.reply);
	buf_reset(&c->s.log);
	if (act == SMTPD_ACT_CLOSE)
		c->closed = 1;
}

static void
end_message(struct conn *c, int reject_id)
{
	struct smtpd_data_result r = {
	    -1, 250, "2.0.0", "Ok", "0123456789ABCDEF0123456", 10};

	r.reject_id = reject_id;
	if (reject_id < 0 && c->turn++ % 2)
		r.reject_id = SMTPD_R_QUEUE_ERROR;
	drain(c, smtpd_session_data_done(&c->s, &r));
}

static void
end_chunk(struct conn *c)
{
	c->in_chunk = 0;
	if (!c->chunk.store)
		return;
	buf_append(&c->out, "<", 1);
	buf_append(&c->out, c->content.data, c->content.len);
	buf_append(&c->out, ">", 1);
	buf_reset(&c->content);
	if (!c->s.ext.chunk_last) {
		drain(c, smtpd_session_bdat_chunk(
			     &c->s, smtpd_data_reject_id(c->d.error)));
		return;
	}
	smtp_data_end_chunked(&c->d);
	end_message(c, smtpd_data_reject_id(c->d.error));
}

static void
start_chunk(struct conn *c)
{
	enum smtpd_action act;

	if (c->s.ext.chunk_store && !c->s.ext.bdat) {
		int ok = c->turn++ % 3 != 2;

		smtp_data_init_chunked(&c->d, 1000, 4096);
		act = smtpd_session_bdat_started(&c->s, ok);
		drain(c, act);
		if (act != SMTPD_ACT_BDAT)
			return;
	}
	smtpd_chunk_start(&c->chunk, &c->s);
	c->in_chunk = 1;
	if (c->chunk.left == 0)
		end_chunk(c);
}

static void
on_action(struct conn *c, enum smtpd_action act)
{
	drain(c, act);
	if (act == SMTPD_ACT_STARTTLS) {
		smtpd_session_tls_started(&c->s, "TLSv1.3",
					  "TLS_AES_256_GCM_SHA384", 256, 256);
	} else if (act == SMTPD_ACT_AUTH) {
		drain(c, smtpd_session_auth_done(
			     &c->s, (enum smtpd_auth_result)(c->turn++ % 4)));
	} else if (act == SMTPD_ACT_BDAT) {
		start_chunk(c);
	} else if (act == SMTPD_ACT_DATA) {
		act = smtpd_session_data_started(&c->s, c->turn++ % 3 != 2);
		drain(c, act);
		if (c->s.state == SMTPD_ST_DATA)
			end_message(c,
				    c->turn % 5 == 0 ? SMTPD_R_BARE_EOL : -1);
	}
}

/* Take what the pending bytes allow: chunk bytes, or whole lines. */
static void
process(struct conn *c)
{
	const char *nl;
	size_t len, n;

	while (!c->closed && c->s.state != SMTPD_ST_QUIT &&
	       c->pending.len > 0) {
		if (c->in_chunk) {
			n = smtpd_chunk_take(&c->chunk, &c->d, c->pending.data,
					     c->pending.len, &c->content);
			buf_consume(&c->pending, n);
			if (c->chunk.left == 0)
				end_chunk(c);
			continue;
		}
		nl = memchr(c->pending.data, '\n', c->pending.len);
		if (nl == NULL)
			return;
		len = (size_t)(nl - c->pending.data);
		n = len + 1;
		if (len > 0 && c->pending.data[len - 1] == '\r')
			len--;
		on_action(
		    c, smtpd_session_input_line(&c->s, c->pending.data, len));
		buf_consume(&c->pending, n);
	}
}

static void
run(const struct smtpd_config *cfg, int trusted, const char *p, size_t size,
    size_t piece, struct buf *out)
{
	static const struct smtpd_lookup lookup = {NULL, fuzz_domain,
						   fuzz_user};
	struct conn c;
	size_t off, n;

	memset(&c, 0, sizeof(c));
	buf_init(&c.pending);
	buf_init(&c.content);
	c.out = *out;
	smtpd_session_init(&c.s, cfg, &lookup, "192.0.2.1", "unknown", trusted);
	smtpd_session_greeting(&c.s);
	drain(&c, SMTPD_ACT_REPLY);
	for (off = 0; off < size; off += n) {
		n = size - off < piece ? size - off : piece;
		buf_append(&c.pending, p + off, n);
		process(&c);
	}
	if (!c.closed && c.s.state != SMTPD_ST_QUIT)
		drain(&c, smtpd_session_timeout(&c.s));
	smtpd_session_disconnect(&c.s);
	smtpd_session_free(&c.s);
	buf_free(&c.pending);
	buf_free(&c.content);
	*out = c.out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpd_config cfg = {.myhostname = "mx.example.com",
				   .banner = "mx.example.com ESMTP",
				   .message_size_limit = 10240000,
				   .recipient_limit = 1000,
				   .soft_error_limit = 10,
				   .hard_error_limit = 20};
	static const struct restriction senders[] = {
	    {.kind = RESTRICT_REJECT_SENDER_LOGIN_MISMATCH, .index = -1},
	    {.kind = RESTRICT_PERMIT_SASL_AUTHENTICATED, .index = -1},
	    {.kind = RESTRICT_PERMIT_MYNETWORKS, .index = -1},
	    {.kind = RESTRICT_REJECT, .index = -1}};
	struct smtpd_security sec = {
	    .tls_level = TLS_LEV_MAY,
	    .tls_ready = 1,
	    .sasl_enable = 1,
	    .list = {[SMTPD_STAGE_SENDER] = {senders, 4}},
	    .sender_logins = fuzz_logins};
	struct buf whole = BUF_INIT, pieces = BUF_INIT;

	if (size == 0)
		return 0;
	if (data[0] & 2) {
		cfg.message_size_limit = 2048;
		cfg.recipient_limit = 2;
		cfg.soft_error_limit = 1;
		cfg.hard_error_limit = 3;
	}
	if (data[0] & 4)
		cfg.sec = &sec;
	if (data[0] & 8)
		sec.tls_level = TLS_LEV_ENCRYPT;
	run(&cfg, data[0] & 1, (const char *)data + 1, size - 1, size, &whole);
	run(&cfg, data[0] & 1, (const char *)data + 1, size - 1,
	    1 + (data[0] >> 2), &pieces);
	if (!buf_equal(&whole, &pieces))
		abort();
	buf_free(&whole);
	buf_free(&pieces);
	return 0;
}
