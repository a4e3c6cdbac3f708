/*
 * tlssign_keys: the private keys tlssign holds, read as root before the
 * drop from the files every smtpd service names (main.conf and master.conf
 * -o overrides alike), each checked by tls_files.c (root's, not readable
 * by others) and named by its public key's SHA-256.  A signature is made
 * only for bytes tlssign_check.c accepts.  Input: the root-owned files;
 * then requests from smtpd (hostile).  Run by tlssign.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

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

static struct tlssign_key *
tlssign_find(const char *id)
{
	size_t i;

	for (i = 0; i < tlssign_nkeys; i++)
		if (strcmp(tlssign_keys[i].id, id) == 0)
			return &tlssign_keys[i];
	return NULL;
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
	tlssign_load_service(NULL);
	for (i = 0; i < t.count; i++)
		if (strcmp(t.svc[i].command, "smtpd") == 0)
			tlssign_load_service(&t.svc[i]);
	service_table_free(&t);
	buf_free(&err);
	ERR_clear_error();
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
