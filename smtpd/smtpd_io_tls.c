/*
 * smtpd_io_tls: TLS on an SMTP connection, in the event loop.  STARTTLS
 * (RFC 3207) ends clear text for good: the input buffer is emptied of
 * whatever the client pipelined after the command (the CVE-2011-0411
 * class of injection, where such bytes were taken as commands sent
 * inside TLS), nothing more is read in clear text, the 220 is written,
 * and the socket goes to the handshake.  A wrapper port (465, RFC 8314)
 * starts the handshake at accept and greets after it.  Reads and writes
 * then go through TLS without blocking: each says whether it waits for
 * the socket to be readable or writable, and the socket is watched for
 * exactly that.  Bytes are hostile; OpenSSL takes them.  Run by smtpd.
 */
#include <string.h>

#include "event.h"
#include "log.h"
#include "smtpd_conn.h"

void
conn_starttls(struct smtpd_conn *c)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	if (c->in.len > 0)
		log_info(
		    "%s: %zu bytes sent after STARTTLS before the "
		    "handshake: discarded",
		    smtpd_session_client(&c->session, client, sizeof(client)),
		    c->in.len);
	explicit_bzero(c->in.data, c->in.len);
	buf_reset(&c->in);
	c->discarding = 0;
	c->tls_starting = 1;
}

void
conn_tls_begin(struct smtpd_conn *c)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	c->tls_starting = 0;
	c->tls = smtpd_tls_new(c->fd);
	if (c->tls == NULL) {
		log_warn(
		    "cannot start TLS for %s",
		    smtpd_session_client(&c->session, client, sizeof(client)));
		conn_close(c);
		return;
	}
	c->handshaking = 1;
	conn_arm_timer(c);
	conn_tls_handshake(c);
}

/* The handshake is done: tell the session, then greet or go on. */
static void
conn_tls_done(struct smtpd_conn *c)
{
	const char *version, *cipher;
	int bits, alg_bits;

	c->handshaking = 0;
	smtpd_tls_info(c->tls, &version, &cipher, &bits, &alg_bits);
	smtpd_session_tls_started(&c->session, version, cipher, bits, alg_bits);
	conn_drain_log(c);
	conn_arm_timer(c);
	if (c->cfg->wrapper)
		conn_greet(c); /* the greeting, inside TLS */
	else
		conn_after(c);
}

void
conn_tls_handshake(struct smtpd_conn *c)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];
	int r = smtpd_tls_handshake(c->tls);

	if (r == 1) {
		conn_tls_done(c);
		return;
	}
	if (r == SMTPD_TLS_WANT_READ || r == SMTPD_TLS_WANT_WRITE) {
		event_set(c->fd,
			  r == SMTPD_TLS_WANT_READ ? EVENT_READ : EVENT_WRITE,
			  conn_on_client, c);
		return;
	}
	smtpd_session_client(&c->session, client, sizeof(client));
	log_info("TLS handshake failed from %s: %s", client,
		 smtpd_tls_why(c->tls));
	log_info("lost connection after %s from %s",
		 c->cfg->wrapper ? "CONNECT" : "STARTTLS", client);
	c->closing = 1; /* no clear-text reply can follow */
	conn_close(c);
}

void
conn_tls_timeout(struct smtpd_conn *c)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	log_info("timeout after %s from %s",
		 c->cfg->wrapper ? "CONNECT" : "STARTTLS",
		 smtpd_session_client(&c->session, client, sizeof(client)));
	c->closing = 1;
	conn_close(c);
}

static void
conn_on_pending(void *ctx)
{
	struct smtpd_conn *c = ctx;

	c->pending_timer = 0;
	conn_on_client(c->fd, EVENT_READ, c);
}

void
conn_tls_watch(struct smtpd_conn *c, int want_read, int want_write)
{
	unsigned want = 0;

	if (want_read)
		want |= c->tls_read_wants_write ? EVENT_WRITE : EVENT_READ;
	if (want_write)
		want |= c->tls_write_wants_read ? EVENT_READ : EVENT_WRITE;
	event_set(c->fd, want, conn_on_client, c);
	/* Bytes TLS decrypted already: the socket will not say so. */
	if (want_read && c->pending_timer == 0 && smtpd_tls_pending(c->tls))
		c->pending_timer = event_timer_add(0, conn_on_pending, c);
}

int
conn_tls_flush(struct smtpd_conn *c)
{
	ssize_t n;

	c->tls_write_wants_read = 0;
	while (c->out.len > 0) {
		n = smtpd_tls_write(c->tls, c->out.data, c->out.len);
		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
		} else if (n == SMTPD_TLS_WANT_READ) {
			c->tls_write_wants_read = 1;
			return 0;
		} else if (n == SMTPD_TLS_WANT_WRITE) {
			return 0;
		} else {
			return -1;
		}
	}
	return 0;
}

ssize_t
conn_tls_recv(struct smtpd_conn *c, char *buf, size_t len)
{
	ssize_t n;

	c->tls_read_wants_write = 0;
	n = smtpd_tls_read(c->tls, buf, len);
	if (n == SMTPD_TLS_WANT_WRITE)
		c->tls_read_wants_write = 1;
	if (n == SMTPD_TLS_WANT_READ || n == SMTPD_TLS_WANT_WRITE)
		return -2;
	return n;
}
