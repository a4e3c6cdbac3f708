/*
 * fuzz_smtpd_session: hostile command lines into the SMTP state machine.
 * The first byte chooses a trusted or untrusted client and small or
 * default limits; the rest is split at LF into command lines (a trailing
 * CR removed, as smtpd does).  A DATA go-ahead is answered alternately
 * with success and failure, and the message with a queued or refused end,
 * so every state is reached.  With bit 4 of the first byte the service
 * offers STARTTLS (bit 8: requires it) and AUTH: a STARTTLS that is
 * answered 220 is followed by a finished handshake, an AUTH whose
 * credentials are complete by each of auth's verdicts in turn, and MAIL
 * FROM meets the sender restrictions.  Checks that every reply is well
 * formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static void
step(struct smtpd_session *s, enum smtpd_action act, unsigned *turn)
{
	struct smtpd_data_result r = {
	    -1, 250, "2.0.0", "Ok", "0123456789ABCDEF0123456", 10};

	check_reply(&s->reply);
	buf_reset(&s->reply);
	buf_reset(&s->log);
	if (act == SMTPD_ACT_STARTTLS)
		smtpd_session_tls_started(s, "TLSv1.3",
					  "TLS_AES_256_GCM_SHA384", 256, 256);
	if (act == SMTPD_ACT_AUTH) {
		smtpd_session_auth_done(
		    s, (enum smtpd_auth_result)((*turn)++ % 4));
		check_reply(&s->reply);
		buf_reset(&s->reply);
		buf_reset(&s->log);
	}
	if (act != SMTPD_ACT_DATA)
		return;
	act = smtpd_session_data_started(s, (*turn)++ % 3 != 2);
	check_reply(&s->reply);
	buf_reset(&s->reply);
	if (s->state != SMTPD_ST_DATA)
		return;
	if (*turn % 2)
		r.reject_id = SMTPD_R_BARE_EOL;
	smtpd_session_data_done(s, &r);
	check_reply(&s->reply);
	buf_reset(&s->reply);
	buf_reset(&s->log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct smtpd_lookup lookup = {NULL, fuzz_domain,
						   fuzz_user};
	struct smtpd_config cfg = {.myhostname = "mx.example.com",
				   .banner = "mx.example.com ESMTP",
				   .message_size_limit = 10240000,
				   .recipient_limit = 1000,
				   .soft_error_limit = 10,
				   .hard_error_limit = 20};
	struct smtpd_security sec = {
	    .tls_level = TLS_LEVEL_MAY,
	    .tls_ready = 1,
	    .sasl_enable = 1,
	    .restriction = {SENDER_REJECT_LOGIN_MISMATCH,
			    SENDER_PERMIT_SASL_AUTHENTICATED,
			    SENDER_PERMIT_MYNETWORKS, SENDER_REJECT},
	    .nrestrictions = 4,
	    .sender_logins = fuzz_logins};
	struct smtpd_session s;
	const char *p = (const char *)data, *nl;
	unsigned turn = 0;
	size_t len;

	if (size == 0)
		return 0;
	if (data[0] & 2) {
		cfg.recipient_limit = 2;
		cfg.soft_error_limit = 1;
		cfg.hard_error_limit = 3;
	}
	if (data[0] & 4)
		cfg.sec = &sec;
	if (data[0] & 8)
		sec.tls_level = TLS_LEVEL_ENCRYPT;
	smtpd_session_init(&s, &cfg, &lookup, "192.0.2.1", "unknown",
			   data[0] & 1);
	smtpd_session_greeting(&s);
	step(&s, SMTPD_ACT_REPLY, &turn);
	p++;
	size--;
	while (size > 0 && s.state != SMTPD_ST_QUIT) {
		nl = memchr(p, '\n', size);
		len = nl ? (size_t)(nl - p) : size;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		step(&s, smtpd_session_input_line(&s, p, len), &turn);
		len = nl ? (size_t)(nl - p) + 1 : size;
		p += len;
		size -= len;
	}
	smtpd_session_timeout(&s);
	smtpd_session_disconnect(&s);
	smtpd_session_free(&s);
	return 0;
}
