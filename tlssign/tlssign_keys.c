/*
 * tlssign_keys: the private keys tlssign holds, read as root before the
 * drop from the files every smtpd service names (main.conf and master.conf
 * -o overrides alike), each checked by tls_files.c (root's, not readable
 * by others) and named by its public key's SHA-256.  A signature is made
 * only for bytes tlssign_check.c accepts.  Input: the root-owned files;
 * then requests from smtpd (hostile).  Run by tlssign.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "log.h"
#include "service_table.h"
#include "tls_files.h"
#include "tlssign.h"

#define TLSSIGN_KEYS_MAX 64

struct tlssign_key {
	char id[TLS_KEY_ID_SIZE];
	EVP_PKEY *key;
};

static struct tlssign_key tlssign_keys[TLSSIGN_KEYS_MAX];
static size_t tlssign_nkeys;
/* The secret ticket keys are derived from: SHA-256 of every key's DER. */
static unsigned char tlssign_ticket_secret[SHA256_DIGEST_LENGTH];
static EVP_MD_CTX *tlssign_ticket_sha;

static struct tlssign_key *
tlssign_find(const char *id)
{
	size_t i;

	for (i = 0; i < tlssign_nkeys; i++)
		if (strcmp(tlssign_keys[i].id, id) == 0)
			return &tlssign_keys[i];
	return NULL;
}

/* Add a private key's DER to the ticket secret. */
static void
tlssign_ticket_absorb(EVP_PKEY *key)
{
	unsigned char *der = NULL;
	int n = i2d_PrivateKey(key, &der);

	if (n <= 0)
		log_fatal("cannot encode a private key");
	if (EVP_DigestUpdate(tlssign_ticket_sha, der, (size_t)n) != 1)
		log_fatal("SHA-256 failed");
	OPENSSL_clear_free(der, (size_t)n);
}

static void
tlssign_load_file(const char *path)
{
	struct buf pem = BUF_INIT, err = BUF_INIT;
	char id[TLS_KEY_ID_SIZE];
	EVP_PKEY *key;

	if (tls_file_read(path, TLS_FILE_KEY, &pem, &err) != 0 ||
	    (key = tls_parse_key(&pem, path, &err)) == NULL)
		log_fatal("%s", buf_cstr(&err));
	tls_buf_cleanse(&pem);
	buf_free(&err);
	if (tls_key_id(key, id) != 0)
		log_fatal("%s: cannot encode its public key", path);
	if (tlssign_find(id) != NULL) {
		EVP_PKEY_free(key);
		return;
	}
	if (tlssign_nkeys == TLSSIGN_KEYS_MAX)
		log_fatal("more than %d private keys", TLSSIGN_KEYS_MAX);
	strlcpy(tlssign_keys[tlssign_nkeys].id, id, sizeof(id));
	tlssign_keys[tlssign_nkeys++].key = key;
	tlssign_ticket_absorb(key);
}

static void
tlssign_load_service(const struct service *svc)
{
	struct tls_file_list l;
	struct buf err = BUF_INIT;
	size_t i;

	if (tls_service_files(svc, &l, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	for (i = 0; i < l.nkey; i++)
		tlssign_load_file(l.key[i]);
	tls_file_list_free(&l);
	buf_free(&err);
}

void
tlssign_keys_load(const char *conf_dir)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	size_t i;

	if (service_table_load(conf_dir, &t, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	tlssign_ticket_sha = EVP_MD_CTX_new();
	if (tlssign_ticket_sha == NULL ||
	    EVP_DigestInit_ex(tlssign_ticket_sha, EVP_sha256(), NULL) != 1)
		log_fatal("SHA-256 failed");
	tlssign_load_service(NULL);
	for (i = 0; i < t.count; i++)
		if (strcmp(t.svc[i].command, "smtpd") == 0)
			tlssign_load_service(&t.svc[i]);
	service_table_free(&t);
	buf_free(&err);
	if (EVP_DigestFinal_ex(tlssign_ticket_sha, tlssign_ticket_secret,
			       NULL) != 1)
		log_fatal("SHA-256 failed");
	EVP_MD_CTX_free(tlssign_ticket_sha);
	tlssign_ticket_sha = NULL;
	ERR_clear_error();
}

int
tlssign_ticket_key(long long lifetime, long long window,
		   unsigned char out[TLSSIGN_TICKET_KEY_SIZE], const char **why)
{
	static const char salt[] = "moat tlssign session tickets";
	long long now = (long long)time(NULL);
	char info[64];
	OSSL_PARAM params[5];
	EVP_KDF_CTX *ctx = NULL;
	EVP_KDF *kdf;
	int rc = -1;

	*why = NULL;
	if (tlssign_nkeys == 0)
		*why = "no keys";
	else if (lifetime < 1 || lifetime > 86400)
		*why = "lifetime out of range";
	else if (window != now / lifetime && window != now / lifetime - 1)
		*why = "not the current window or the one before";
	if (*why != NULL)
		return -1;
	snprintf(info, sizeof(info), "smtpd ticket %lld %lld", lifetime,
		 window);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, tlssign_ticket_secret,
	    sizeof(tlssign_ticket_secret));
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SALT, (void *)salt, sizeof(salt) - 1);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
						      strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf != NULL && (ctx = EVP_KDF_CTX_new(kdf)) != NULL &&
	    EVP_KDF_derive(ctx, out, TLSSIGN_TICKET_KEY_SIZE, params) == 1)
		rc = 0;
	else
		*why = "HKDF failed";
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	ERR_clear_error();
	return rc;
}

size_t
tlssign_keys_count(void)
{
	return tlssign_nkeys;
}

/* Whether alg may be used with key, and data is what it signs. */
static const char *
tlssign_refusal(EVP_PKEY *key, int alg, const unsigned char *data, size_t len)
{
	int is_rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;

	if (alg == TLSSIGN_ECDSA)
		return is_rsa                   ? "an RSA key cannot sign ecdsa"
		       : tlssign_digest_ok(len) ? NULL
						: "not a digest";
	if (!is_rsa)
		return "an ECDSA key cannot sign RSA";
	if (alg == TLSSIGN_RSA_PKCS1)
		return tlssign_digestinfo_ok(data, len)
			   ? NULL
			   : "not a DigestInfo of SHA-256/384/512";
	return tlssign_pss_ok(data, len, EVP_PKEY_get_bits(key))
		   ? NULL
		   : "not a PSS-encoded block";
}

int
tlssign_sign(const char *id, int alg, const unsigned char *data, size_t len,
	     struct buf *sig, const char **why)
{
	struct tlssign_key *k = tlssign_find(id);
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = 0;
	int rc = -1;

	*why =
	    k == NULL ? "no such key" : tlssign_refusal(k->key, alg, data, len);
	if (*why != NULL)
		return -1;
	*why = "signing failed";
	if ((ctx = EVP_PKEY_CTX_new(k->key, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1 ||
	    (alg != TLSSIGN_ECDSA &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, alg == TLSSIGN_RSA_PSS
						   ? RSA_NO_PADDING
						   : RSA_PKCS1_PADDING) != 1) ||
	    EVP_PKEY_sign(ctx, NULL, &n, data, len) != 1)
		goto done;
	buf_reset(sig);
	buf_reserve(sig, n);
	if (EVP_PKEY_sign(ctx, (unsigned char *)sig->data, &n, data, len) ==
	    1) {
		sig->len = n;
		sig->data[n] = '\0';
		rc = 0;
		*why = NULL;
	}
done:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}
