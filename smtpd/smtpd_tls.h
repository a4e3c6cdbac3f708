/*
 * smtpd_tls: smtpd's TLS with OpenSSL: one server context per process,
 * built before the privilege drop from the certificate files (read as
 * root; the private keys stay in tlssign(8), see smtpd_keysign.h), and
 * one non-blocking TLS connection per session, driven by the event loop:
 * every call returns at once, saying whether it must wait for the socket
 * to become readable or writable.  TLS 1.2 and 1.3 only, forward-secret
 * AEAD ciphers, no compression, no renegotiation, session tickets whose
 * keys rotate every smtpd_tls_session_cache_timeout.  Bytes from the
 * network are hostile; OpenSSL parses them.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_TLS_H
#define MOAT_SMTPD_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* What smtpd_tls_init needs, from the service's parameters. */
struct smtpd_tls_config {
	char *const *cert_files; /* smtpd_tls_cert_file */
	size_t ncert;
	const char *cipher_list;  /* TLS 1.2 */
	const char *ciphersuites; /* TLS 1.3 */
	int ticket_lifetime;      /* seconds; 0: no session tickets */
	const char *service;      /* session id context */
};

/*
 * Results of the non-blocking calls below (besides a byte count > 0).
 * WANT_READ and WANT_WRITE: call again when the socket is readable or
 * writable, whatever the call was.
 */
#define SMTPD_TLS_EOF 0
#define SMTPD_TLS_ERROR (-1)
#define SMTPD_TLS_WANT_READ (-2)
#define SMTPD_TLS_WANT_WRITE (-3)

/* Before the drop: 0, or -1 with the reason (naming the file) in err. */
int smtpd_tls_init(const struct smtpd_tls_config *cfg, struct buf *err);
/* 1 once smtpd_tls_init succeeded. */
int smtpd_tls_ready(void);

struct smtpd_tls_conn;
/* A server-side TLS connection on a connected socket, or NULL. */
struct smtpd_tls_conn *smtpd_tls_new(int fd);
/* Send close_notify if it can go without waiting; then free. */
void smtpd_tls_free(struct smtpd_tls_conn *t);

/* 1: done; SMTPD_TLS_WANT_*; SMTPD_TLS_ERROR (smtpd_tls_why says why). */
int smtpd_tls_handshake(struct smtpd_tls_conn *t);
/* Bytes read (> 0), SMTPD_TLS_EOF, _ERROR or _WANT_*. */
ssize_t smtpd_tls_read(struct smtpd_tls_conn *t, void *buf, size_t len);
/* Bytes written (> 0), SMTPD_TLS_ERROR or _WANT_*. */
ssize_t smtpd_tls_write(struct smtpd_tls_conn *t, const void *buf, size_t len);
/* 1 when decrypted bytes wait inside the TLS layer. */
int smtpd_tls_pending(struct smtpd_tls_conn *t);
/* The protocol and cipher of an established connection. */
void smtpd_tls_info(struct smtpd_tls_conn *t, const char **version,
		    const char **cipher, int *bits, int *alg_bits);
/* Why the last call failed ("unexpected eof while reading", ...). */
const char *smtpd_tls_why(struct smtpd_tls_conn *t);

#endif
