/*
 * smtpd_keysign: stand-in private keys whose signatures tlssign(8) makes
 * (see smtpd_keysign.h).  OpenSSL 3.0 keeps a key whose RSA_METHOD or
 * EC_KEY_METHOD is not its own on its legacy path, so the TLS stack calls
 * these methods for every signature: PKCS#1 v1.5 (TLS 1.2) reaches
 * priv_enc with the DigestInfo, RSA-PSS (TLS 1.3, and 1.2 when the client
 * prefers it) reaches priv_enc with the PSS-encoded block and no padding,
 * ECDSA reaches sign with the digest.  Each stand-in carries its key id
 * (ex_data), and each signature is one blocking round trip to tlssign over
 * a connection kept per process (the keys stay there; the signature is
 * all that comes back, checked for its length).
 * XXX the RSA_METHOD and EC_KEY_METHOD interfaces are deprecated in
 * OpenSSL 3.0; a provider would replace them when they go.
 * XXX a signature blocks the event loop for one round trip to tlssign
 * (well under a millisecond for ECDSA P-256, about one for RSA 2048): the
 * time it would take to sign here.  Run by smtpd.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "smtpd_keysign.h"
#include "tls_files.h"

#define KEYSIGN_TIMEOUT 10    /* seconds for one signature */
#define KEYSIGN_DATA_MAX 1024 /* RSA 8192 bits */
#define KEYSIGN_REPLY_MAX 4096

static int keysign_fd = -1;
static RSA_METHOD *keysign_rsa_method;
static EC_KEY_METHOD *keysign_ec_method;
/* Where each stand-in keeps its key id (a string kept for good). */
static int keysign_rsa_index = -1, keysign_ec_index = -1;

void
smtpd_keysign_connect(void)
{
	if (keysign_fd >= 0)
		return;
	keysign_fd = ipc_connect(IPC_SOCK_TLSSIGN, KEYSIGN_TIMEOUT);
	if (keysign_fd < 0)
		log_warn("connect to %s: %s; TLS handshakes fail until it "
			 "answers",
			 IPC_SOCK_TLSSIGN, strerror(errno));
}

static void
keysign_drop(void)
{
	if (keysign_fd >= 0)
		close(keysign_fd);
	keysign_fd = -1;
}

/* One request on the open connection: 1 signed, 0 refused, -1 broken. */
static int
keysign_once(const struct ipc_frame *req, unsigned char *sig, size_t cap,
	     size_t *siglen)
{
	struct ipc_frame reply;
	const struct ipc_attr *s;
	const char *why = NULL, *status, *text;
	int rc = -1;

	ipc_frame_init(&reply);
	if (ipc_send(keysign_fd, req, -1, KEYSIGN_TIMEOUT) != 0 ||
	    ipc_recv(keysign_fd, &reply, KEYSIGN_TIMEOUT, &why) != 1) {
		log_warn("%s: %s", IPC_SOCK_TLSSIGN,
			 why != NULL  ? why
			 : errno != 0 ? strerror(errno)
				      : "connection closed");
	} else if ((status = ipc_get_str(&reply, IPC_STATUS)) != NULL &&
		   strcmp(status, IPC_STATUS_OK) == 0 &&
		   (s = ipc_get(&reply, IPC_SIG)) != NULL && s->value_len > 0 &&
		   s->value_len <= cap) {
		memcpy(sig, s->value, s->value_len);
		*siglen = s->value_len;
		rc = 1;
	} else {
		text = ipc_get_str(&reply, IPC_TEXT);
		log_warn("%s refused a signature: %s", IPC_SOCK_TLSSIGN,
			 text != NULL ? text : "malformed reply");
		rc = 0;
	}
	ipc_frame_free(&reply);
	return rc;
}

/* One request to tlssign, again on a new connection if it went away. */
static int
keysign_request(const struct ipc_frame *req, unsigned char *sig, size_t cap,
		size_t *siglen)
{
	int tries, r = -1;

	for (tries = 0; tries < 2 && r < 0; tries++) {
		smtpd_keysign_connect();
		if (keysign_fd < 0)
			break;
		if ((r = keysign_once(req, sig, cap, siglen)) < 0)
			keysign_drop();
	}
	return r == 1 ? 0 : -1;
}

/* Ask tlssign to sign data with the key named id; 0, or -1 (logged). */
static int
keysign_call(const char *id, const char *alg, const unsigned char *data,
	     size_t len, unsigned char *sig, size_t cap, size_t *siglen)
{
	struct ipc_frame req;
	int r;

	ipc_frame_init(&req);
	ipc_put_str(&req, IPC_OP, IPC_OP_SIGN);
	ipc_put_str(&req, IPC_KEY, id);
	ipc_put_str(&req, IPC_ALG, alg);
	ipc_put(&req, IPC_DATA, data, len);
	r = keysign_request(&req, sig, cap, siglen);
	ipc_frame_free(&req);
	return r;
}

int
smtpd_keysign_ticket(long long lifetime, long long window,
		     unsigned char out[SMTPD_TICKET_KEY_SIZE])
{
	struct ipc_frame req;
	size_t n = 0;
	int r;

	ipc_frame_init(&req);
	ipc_put_str(&req, IPC_OP, IPC_OP_TICKET);
	ipc_put_int(&req, IPC_LIFETIME, lifetime);
	ipc_put_int(&req, IPC_WINDOW, window);
	r = keysign_request(&req, out, SMTPD_TICKET_KEY_SIZE, &n);
	ipc_frame_free(&req);
	return r == 0 && n == SMTPD_TICKET_KEY_SIZE ? 0 : -1;
}

static int
keysign_rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to,
		     RSA *rsa, int padding)
{
	const char *id = RSA_get_ex_data(rsa, keysign_rsa_index), *alg;
	size_t n = 0;

	if (padding == RSA_PKCS1_PADDING)
		alg = "rsa_pkcs1";
	else if (padding == RSA_NO_PADDING)
		alg = "rsa_pss";
	else
		return -1;
	if (flen <= 0 || id == NULL ||
	    keysign_call(id, alg, from, (size_t)flen, to, (size_t)RSA_size(rsa),
			 &n) != 0 ||
	    n != (size_t)RSA_size(rsa))
		return -1;
	return (int)n;
}

/* No RSA key exchange is ever offered: nothing to decrypt, ever. */
static int
keysign_rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to,
		     RSA *rsa, int padding)
{
	(void)flen;
	(void)from;
	(void)to;
	(void)rsa;
	(void)padding;
	return -1;
}

static int
keysign_ec_sign(int type, const unsigned char *dgst, int dlen,
		unsigned char *sig, unsigned int *siglen, const BIGNUM *kinv,
		const BIGNUM *r, EC_KEY *ec)
{
	const char *id = EC_KEY_get_ex_data(ec, keysign_ec_index);
	size_t n = 0;

	(void)type;
	(void)kinv;
	(void)r;
	if (dlen <= 0 || id == NULL ||
	    keysign_call(id, "ecdsa", dgst, (size_t)dlen, sig,
			 (size_t)ECDSA_size(ec), &n) != 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

static ECDSA_SIG *
keysign_ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
		    const BIGNUM *r, EC_KEY *ec)
{
	unsigned char der[KEYSIGN_DATA_MAX];
	const unsigned char *p = der;
	unsigned int n = 0;

	if ((size_t)ECDSA_size(ec) > sizeof(der) ||
	    !keysign_ec_sign(0, dgst, dlen, der, &n, kinv, r, ec))
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, n);
}

static int
keysign_methods(void)
{
	if (keysign_rsa_index < 0)
		keysign_rsa_index =
		    RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (keysign_ec_index < 0)
		keysign_ec_index =
		    EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (keysign_rsa_index < 0 || keysign_ec_index < 0)
		return -1;
	if (keysign_rsa_method == NULL) {
		keysign_rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL());
		if (keysign_rsa_method == NULL ||
		    !RSA_meth_set1_name(keysign_rsa_method, "moat tlssign") ||
		    !RSA_meth_set_priv_enc(keysign_rsa_method,
					   keysign_rsa_priv_enc) ||
		    !RSA_meth_set_priv_dec(keysign_rsa_method,
					   keysign_rsa_priv_dec))
			return -1;
	}
	if (keysign_ec_method == NULL) {
		keysign_ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
		if (keysign_ec_method == NULL)
			return -1;
		EC_KEY_METHOD_set_sign(keysign_ec_method, keysign_ec_sign, NULL,
				       keysign_ec_sign_sig);
	}
	return 0;
}

/* A stand-in with the public key of pub, its key id and our methods. */
static EVP_PKEY *
keysign_standin(EVP_PKEY *pub)
{
	EVP_PKEY *key = EVP_PKEY_new();
	char id[TLS_KEY_ID_SIZE];
	RSA *rsa = NULL;
	EC_KEY *ec = NULL;

	if (key == NULL || tls_key_id(pub, id) != 0) {
		EVP_PKEY_free(key);
		return NULL;
	}
	/* Copies: the certificate's own key keeps OpenSSL's methods. */
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA &&
	    (rsa = RSAPublicKey_dup(EVP_PKEY_get0_RSA(pub))) != NULL &&
	    RSA_set_ex_data(rsa, keysign_rsa_index, xstrdup(id)) == 1 &&
	    RSA_set_method(rsa, keysign_rsa_method) == 1 &&
	    EVP_PKEY_assign_RSA(key, rsa) == 1)
		return key;
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC &&
	    (ec = EC_KEY_dup(EVP_PKEY_get0_EC_KEY(pub))) != NULL &&
	    EC_KEY_set_ex_data(ec, keysign_ec_index, xstrdup(id)) == 1 &&
	    EC_KEY_set_method(ec, keysign_ec_method) == 1 &&
	    EVP_PKEY_assign_EC_KEY(key, ec) == 1)
		return key;
	RSA_free(rsa);
	EC_KEY_free(ec);
	EVP_PKEY_free(key);
	return NULL;
}

EVP_PKEY *
smtpd_keysign_pkey(X509 *leaf, const char *path, struct buf *err)
{
	EVP_PKEY *pub = X509_get0_pubkey(leaf), *key = NULL;

	if (pub == NULL || keysign_methods() != 0 ||
	    (key = keysign_standin(pub)) == NULL)
		buf_printf(err,
			   "%s: its certificate's key is neither RSA nor "
			   "ECDSA, or OpenSSL cannot wrap it",
			   path);
	ERR_clear_error();
	return key;
}
