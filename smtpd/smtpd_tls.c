/*
 * smtpd_tls: the server TLS context and the per-session TLS connections
 * (see smtpd_tls.h).  The context is built as root before the drop; each
 * certificate's private key is a stand-in whose signatures tlssign(8)
 * makes (smtpd_keysign.c), so no key is ever in this process.  Session
 * tickets are sealed with the key of the current time window
 * (smtpd_tls_session_cache_timeout long), which tlssign derives the same
 * for every smtpd process, so a client resumes whichever process it
 * reaches; the key of the window before still opens tickets.  Should
 * tlssign not answer, a key of this process's own is used.  Input: TLS
 * records from the network, parsed by OpenSSL.  Run by smtpd.
 */
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "smtpd_keysign.h"
#include "smtpd_tls.h"
#include "tls_files.h"

#define TLS_GROUPS "X25519:P-256:P-384"

struct ticket_key {
	long long window; /* floor(time / lifetime); -1: empty */
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
};

struct smtpd_tls_conn {
	SSL *ssl;
	char why[128];
};

static SSL_CTX *tls_ctx;
static struct ticket_key tls_ticket[2] = {
    {-1, {0}, {0}, {0}}, {-1, {0}, {0}, {0}}}; /* newest first */
static long long tls_ticket_life;

static long long
tls_window(void)
{
	return (long long)time(NULL) / tls_ticket_life;
}

/*
 * The key of window w: kept, else tlssign's (the same in every smtpd
 * process), else, when make says so, one of this process alone (its
 * tickets then resume only here).  NULL when there is none.
 */
static struct ticket_key *
ticket_key(long long w, int make)
{
	unsigned char k[SMTPD_TICKET_KEY_SIZE];
	struct ticket_key *slot;
	int i;

	for (i = 0; i < 2; i++)
		if (tls_ticket[i].window == w)
			return &tls_ticket[i];
	if (smtpd_keysign_ticket(tls_ticket_life, w, k) != 0 &&
	    (!make || RAND_bytes(k, sizeof(k)) <= 0))
		return NULL;
	if (w > tls_ticket[0].window) {
		tls_ticket[1] = tls_ticket[0];
		slot = &tls_ticket[0];
	} else {
		slot = &tls_ticket[1];
	}
	slot->window = w;
	memcpy(slot->name, k, 16);
	memcpy(slot->aes, k + 16, 32);
	memcpy(slot->hmac, k + 48, 32);
	OPENSSL_cleanse(k, sizeof(k));
	return slot;
}

static int
ticket_mac_init(EVP_MAC_CTX *hctx, const struct ticket_key *k)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	return EVP_MAC_init(hctx, k->hmac, sizeof(k->hmac), params);
}

/*
 * OpenSSL's ticket key callback: 1 use, 2 use and renew (a key of the
 * window before), 0 unknown.  A ticket lives one to two windows.
 */
static int
ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
	  EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	long long w = tls_window();
	struct ticket_key *k;
	int i;

	(void)ssl;
	if (enc) {
		if ((k = ticket_key(w, 1)) == NULL ||
		    RAND_bytes(iv, EVP_MAX_IV_LENGTH) <= 0)
			return -1;
		memcpy(name, k->name, sizeof(k->name));
		if (!EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes,
					iv) ||
		    !ticket_mac_init(hctx, k))
			return -1;
		return 1;
	}
	for (i = 0; i < 2; i++) {
		k = ticket_key(w - i, 0);
		if (k == NULL || memcmp(name, k->name, sizeof(k->name)) != 0)
			continue;
		if (!ticket_mac_init(hctx, k) ||
		    !EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes,
					iv))
			return -1;
		return i == 0 ? 1 : 2;
	}
	return 0;
}

static int
tls_ctx_options(const struct smtpd_tls_config *cfg, struct buf *err)
{
	const char *id = cfg->service != NULL ? cfg->service : "smtpd";

	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(tls_ctx, TLS1_3_VERSION);
	/* OpenSSL 3 refuses renegotiation by clients already; no ours. */
	SSL_CTX_set_options(tls_ctx, SSL_OP_NO_COMPRESSION |
					 SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_clear_options(tls_ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_cipher_list(tls_ctx, cfg->cipher_list) != 1 ||
	    SSL_CTX_set_ciphersuites(tls_ctx, cfg->ciphersuites) != 1) {
		buf_printf(err, "smtpd_tls_cipher_list or "
				"smtpd_tls_ciphersuites: no cipher OpenSSL "
				"knows");
		return -1;
	}
	if (SSL_CTX_set1_groups_list(tls_ctx, TLS_GROUPS) != 1 ||
	    SSL_CTX_set_session_id_context(tls_ctx, (const unsigned char *)id,
					   strlen(id) < SSL_MAX_SID_CTX_LENGTH
					       ? strlen(id)
					       : SSL_MAX_SID_CTX_LENGTH) != 1) {
		buf_printf(err, "TLS: cannot set groups or session context");
		return -1;
	}
	tls_ticket_life = cfg->ticket_lifetime;
	if (tls_ticket_life <= 0) {
		SSL_CTX_set_options(tls_ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(tls_ctx, 0);
		return 0;
	}
	SSL_CTX_set_timeout(tls_ctx, tls_ticket_life);
	SSL_CTX_set_num_tickets(tls_ctx, 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(tls_ctx, ticket_cb);
	return 0;
}

/* One certificate file: its chain, and the stand-in for its key. */
static int
tls_ctx_cert(const char *path, struct buf *err)
{
	struct buf pem = BUF_INIT;
	STACK_OF(X509) *chain = NULL;
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (tls_file_read(path, TLS_FILE_CERT, &pem, err) == 0 &&
	    tls_parse_chain(&pem, path, &leaf, &chain, err) == 0 &&
	    (key = smtpd_keysign_pkey(leaf, path, err)) != NULL) {
		if (SSL_CTX_use_cert_and_key(tls_ctx, leaf, key, chain, 1) == 1)
			rc = 0;
		else
			buf_printf(err,
				   "%s: OpenSSL refused the certificate: "
				   "%s",
				   path,
				   ERR_reason_error_string(ERR_get_error()));
	}
	buf_free(&pem);
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return rc;
}

int
smtpd_tls_init(const struct smtpd_tls_config *cfg, struct buf *err)
{
	size_t i;

	buf_reset(err);
	if (cfg->ncert == 0) {
		buf_printf(err, "no smtpd_tls_cert_file");
		return -1;
	}
	tls_ctx = SSL_CTX_new(TLS_server_method());
	if (tls_ctx == NULL) {
		buf_printf(err, "TLS: no context: %s",
			   ERR_reason_error_string(ERR_get_error()));
		return -1;
	}
	if (tls_ctx_options(cfg, err) != 0)
		goto fail;
	for (i = 0; i < cfg->ncert; i++)
		if (tls_ctx_cert(cfg->cert_files[i], err) != 0)
			goto fail;
	if (RAND_status() != 1) {
		buf_printf(err, "TLS: no randomness");
		goto fail;
	}
	return 0;
fail:
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
	return -1;
}

int
smtpd_tls_ready(void)
{
	return tls_ctx != NULL;
}

struct smtpd_tls_conn *
smtpd_tls_new(int fd)
{
	struct smtpd_tls_conn *t;
	SSL *ssl;

	if (tls_ctx == NULL || (ssl = SSL_new(tls_ctx)) == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	t = xcalloc(1, sizeof(*t));
	t->ssl = ssl;
	return t;
}

void
smtpd_tls_free(struct smtpd_tls_conn *t)
{
	if (t == NULL)
		return;
	ERR_clear_error();
	if (SSL_is_init_finished(t->ssl))
		(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
}

/* Map an OpenSSL result to ours, keeping the reason of a failure. */
static int
tls_result(struct smtpd_tls_conn *t, int r)
{
	unsigned long e;

	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return SMTPD_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return SMTPD_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		strlcpy(t->why, "closed by the client", sizeof(t->why));
		return SMTPD_TLS_EOF;
	default:
		e = ERR_get_error();
		strlcpy(t->why,
			e != 0 && ERR_reason_error_string(e) != NULL
			    ? ERR_reason_error_string(e)
			    : "connection lost",
			sizeof(t->why));
		ERR_clear_error();
		return SMTPD_TLS_ERROR;
	}
}

int
smtpd_tls_handshake(struct smtpd_tls_conn *t)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1)
		return 1;
	r = tls_result(t, r);
	return r == SMTPD_TLS_EOF ? SMTPD_TLS_ERROR : r;
}

ssize_t
smtpd_tls_read(struct smtpd_tls_conn *t, void *buf, size_t len)
{
	size_t got = 0;
	int r;

	ERR_clear_error();
	r = SSL_read_ex(t->ssl, buf, len, &got);
	if (r == 1)
		return (ssize_t)got;
	return tls_result(t, r);
}

ssize_t
smtpd_tls_write(struct smtpd_tls_conn *t, const void *buf, size_t len)
{
	size_t sent = 0;
	int r;

	ERR_clear_error();
	r = SSL_write_ex(t->ssl, buf, len, &sent);
	if (r == 1)
		return (ssize_t)sent;
	r = tls_result(t, r);
	return r == SMTPD_TLS_EOF ? SMTPD_TLS_ERROR : r;
}

int
smtpd_tls_pending(struct smtpd_tls_conn *t)
{
	return SSL_pending(t->ssl) > 0;
}

void
smtpd_tls_info(struct smtpd_tls_conn *t, const char **version,
	       const char **cipher, int *bits, int *alg_bits)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);

	*version = SSL_get_version(t->ssl);
	*cipher = c != NULL ? SSL_CIPHER_get_name(c) : "unknown";
	*alg_bits = 0;
	*bits = c != NULL ? SSL_CIPHER_get_bits(c, alg_bits) : 0;
}

const char *
smtpd_tls_why(struct smtpd_tls_conn *t)
{
	return t->why[0] != '\0' ? t->why : "unknown error";
}
