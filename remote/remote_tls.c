/*
 * remote_tls: OpenSSL for the SMTP client: one client context made as
 * root before the chroot (OpenSSL's configuration read, TLS 1.2 or
 * newer, DANE enabled, the CA certificates loaded into memory, since the
 * chroot has no /etc/ssl), then per connection an SSL object on the
 * connection's non-blocking socket: SNI, the reference names or the TLSA
 * records the plan gives, the handshake bounded by a deadline, and the
 * verdict.  Verification never stops the handshake (SSL_VERIFY_NONE):
 * the result is read afterwards, so that may and encrypt can report
 * Trusted or Untrusted and the stricter plans can say why they refuse.
 * Hostile input: everything the server sends in the handshake (OpenSSL
 * parses it).  Runs in remote (mail servers and the MTA-STS policy
 * server).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ipc.h"
#include "log.h"
#include "params.h"
#include "remote_tls.h"

static SSL_CTX *tls_ctx;

static const char *const tls_trust_names[] = {
    [TLS_UNTRUSTED] = "Untrusted",
    [TLS_TRUSTED] = "Trusted",
    [TLS_VERIFIED] = "Verified",
};

const char *
remote_tls_trust_name(enum tls_trust t)
{
	return t <= TLS_VERIFIED ? tls_trust_names[t] : "?";
}

/* OpenSSL's first error, or what failed. */
static const char *
tls_error_text(char *out, size_t size, const char *what)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(out, size, "%s", what);
	else
		ERR_error_string_n(e, out, size);
	ERR_clear_error();
	return out;
}

/* The CA certificates, read now: nothing is looked up in /etc later. */
static int
tls_load_cas(struct buf *err)
{
	const char *file = param_str("smtp_tls_cafile");
	char text[256];

	if (file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(tls_ctx, file, NULL) == 1)
			return 0;
		buf_printf(err, "smtp_tls_cafile: %s: %s", file,
			   tls_error_text(text, sizeof(text), "cannot load"));
		return -1;
	}
	file = X509_get_default_cert_file();
	if (SSL_CTX_load_verify_locations(tls_ctx, file, NULL) != 1)
		log_warn("tls: no CA certificates in %s (%s): servers are "
			 "never Trusted, and verify, secure and MTA-STS "
			 "deliveries fail; install ca-certificates or set "
			 "smtp_tls_cafile",
			 file, tls_error_text(text, sizeof(text), "missing"));
	return 0;
}

int
remote_tls_init(struct buf *err)
{
	char text[256];

	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 ||
	    (tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		buf_printf(err, "OpenSSL: %s",
			   tls_error_text(text, sizeof(text), "no context"));
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_dane_enable(tls_ctx) <= 0) {
		buf_printf(err, "OpenSSL: %s",
			   tls_error_text(text, sizeof(text), "setup"));
		return -1;
	}
	SSL_CTX_set_options(tls_ctx,
			    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
	return tls_load_cas(err);
}

/* 1 when name is an IPv4 or IPv6 address (no SNI, an IP check). */
static int
tls_is_address(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	       inet_pton(AF_INET6, name, a) == 1;
}

/* The reference names of a PKIX plan (OpenSSL: a leading dot matches
 * any subdomain). */
static int
tls_set_names(SSL *ssl, const struct remote_tls_plan *p)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	size_t i;

	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (i = 0; i < p->nnames; i++) {
		const char *n = p->names[i];
		int ok = tls_is_address(n)
			     ? X509_VERIFY_PARAM_set1_ip_asc(vp, n)
			     : (i == 0 ? SSL_set1_host(ssl, n)
				       : SSL_add1_host(ssl, n));
		if (ok != 1)
			return -1;
	}
	return 0;
}

/* DANE: the base domain, more names for DANE-TA, the records.  The
 * number of records OpenSSL took (0: none was usable after all). */
static int
tls_set_dane(SSL *ssl, const struct remote_tls_plan *p)
{
	const struct dane_set *d = &p->dane;
	size_t i;
	int added = 0;

	if (SSL_dane_enable(ssl, d->base) <= 0)
		return -1;
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < p->nnames; i++)
		if (strcmp(p->names[i], d->base) != 0 &&
		    SSL_add1_host(ssl, p->names[i]) != 1)
			return -1;
	for (i = 0; i < d->count; i++)
		if (SSL_dane_tlsa_add(ssl, d->rec[i].usage, d->rec[i].selector,
				      d->rec[i].mtype, d->rec[i].data,
				      d->rec[i].len) > 0)
			added++;
	ERR_clear_error(); /* records OpenSSL refused are unusable */
	return added;
}

static SSL *
tls_new(struct remote_conn *c, const struct remote_tls_plan *p,
	enum tls_auth *auth, struct buf *why)
{
	char text[256];
	SSL *ssl = SSL_new(tls_ctx);
	int r = 0;

	*auth = p->auth;
	if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1)
		r = -1;
	if (r == 0 && p->sni[0] != '\0' && !tls_is_address(p->sni) &&
	    SSL_set_tlsext_host_name(ssl, p->sni) != 1)
		r = -1;
	if (r == 0 && p->auth == TLS_AUTH_PKIX)
		r = tls_set_names(ssl, p);
	if (r == 0 && p->auth == TLS_AUTH_DANE) {
		r = tls_set_dane(ssl, p);
		if (r == 0) /* all refused: RFC 7672 2.2, encrypt */
			*auth = TLS_AUTH_NONE;
		r = r < 0 ? -1 : 0;
	}
	if (r != 0) {
		buf_printf(why, "Cannot start TLS: %s",
			   tls_error_text(text, sizeof(text), "setup failed"));
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* SSL_connect until done or the deadline: 0, or -1 with why. */
static int
tls_handshake(struct remote_conn *c, SSL *ssl, long long deadline,
	      struct buf *why)
{
	char text[256];
	int r, e;

	for (;;) {
		ERR_clear_error();
		r = SSL_connect(ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (ipc_wait(c->fd,
				     e == SSL_ERROR_WANT_READ ? POLLIN
							      : POLLOUT,
				     deadline) == 0)
				continue;
			buf_printf(why, "Cannot start TLS: handshake %s",
				   errno == ETIMEDOUT ? "timed out"
						      : strerror(errno));
			return -1;
		}
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			buf_printf(
			    why, "Cannot start TLS: handshake failure: %s",
			    r == 0 ? "connection closed" : strerror(errno));
		else
			buf_printf(why,
				   "Cannot start TLS: handshake failure: %s",
				   tls_error_text(text, sizeof(text), "?"));
		return -1;
	}
}

static void
tls_info(SSL *ssl, struct remote_tls_info *info)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);

	snprintf(info->protocol, sizeof(info->protocol), "%s",
		 SSL_get_version(ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s",
		 cipher != NULL ? SSL_CIPHER_get_name(cipher) : "?");
	info->bits =
	    cipher != NULL ? SSL_CIPHER_get_bits(cipher, &info->alg_bits) : 0;
}

/* The verdict on the certificate: 0, or -2 with why. */
static int
tls_verdict(SSL *ssl, enum tls_auth auth, struct remote_tls_info *info,
	    struct buf *why)
{
	long v = SSL_get_verify_result(ssl);
	const char *detail = X509_verify_cert_error_string(v);

	if (auth == TLS_AUTH_NONE) {
		info->trust = v == X509_V_OK ? TLS_TRUSTED : TLS_UNTRUSTED;
		return 0;
	}
	if (auth == TLS_AUTH_DANE) {
		if (v == X509_V_OK &&
		    SSL_get0_dane_authority(ssl, NULL, NULL) >= 0) {
			info->trust = TLS_VERIFIED;
			return 0;
		}
		buf_printf(why, "Server certificate not verified (DANE: %s)",
			   v == X509_V_OK ? "no TLSA record matched" : detail);
		return -2;
	}
	if (v == X509_V_OK) {
		info->trust = TLS_VERIFIED;
		return 0;
	}
	buf_printf(why, "Server certificate not %s: %s",
		   v == X509_V_ERR_HOSTNAME_MISMATCH ||
			   v == X509_V_ERR_IP_ADDRESS_MISMATCH
		       ? "verified"
		       : "trusted",
		   detail);
	return -2;
}

int
remote_tls_start(struct remote_conn *c, const struct remote_tls_plan *p,
		 int timeout, struct remote_tls_info *info, struct buf *why)
{
	long long deadline = ipc_deadline(timeout);
	enum tls_auth auth;
	SSL *ssl;
	int r;

	memset(info, 0, sizeof(*info));
	if (tls_ctx == NULL) {
		buf_printf(why, "Cannot start TLS: no TLS context");
		return -1;
	}
	if ((ssl = tls_new(c, p, &auth, why)) == NULL)
		return -1;
	if (tls_handshake(c, ssl, deadline, why) != 0) {
		SSL_free(ssl);
		return -1;
	}
	tls_info(ssl, info);
	c->tls = ssl;
	r = tls_verdict(ssl, auth, info, why);
	if (r != 0)
		remote_tls_close(c);
	return r;
}

/*
 * A non-blocking SSL call's outcome as recv/send would give it.  An end
 * without close_notify is an end too, marked in c->tls_cut: SMTP has its
 * own framing, and HTTP needs a Content-Length then (remote_mta_sts).
 */
static ssize_t
tls_io_result(struct remote_conn *c, int r, short *events)
{
	SSL *ssl = c->tls;
	int e = SSL_get_error(ssl, r);

	if (r > 0)
		return r;
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
				      SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		c->tls_cut = 1;
		return 0;
	}
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_SYSCALL && errno == 0) {
		c->tls_cut = 1;
		return 0;
	}
	ERR_clear_error();
	if (e != SSL_ERROR_SYSCALL)
		errno = EPROTO;
	return -1;
}

ssize_t
remote_tls_read(struct remote_conn *c, char *p, size_t n, short *events)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_read(c->tls, p, n > INT32_MAX ? INT32_MAX : (int)n);
	return tls_io_result(c, r, events);
}

ssize_t
remote_tls_write(struct remote_conn *c, const char *p, size_t n, short *events)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(c->tls, p, n > INT32_MAX ? INT32_MAX : (int)n);
	return tls_io_result(c, r, events);
}

void
remote_tls_close(struct remote_conn *c)
{
	if (c->tls == NULL)
		return;
	(void)SSL_shutdown(c->tls); /* non-blocking: sent if it fits */
	SSL_free(c->tls);
	ERR_clear_error();
	c->tls = NULL;
}
