/*
 * moat_tls: the demonstration certificates `moat init` and `moat setup`
 * make, so that STARTTLS works from the first minute: an ECDSA P-256 and
 * an RSA 2048 key, each with a self-signed certificate for myhostname,
 * made with OpenSSL's library (no openssl program, no shell) into
 * CONFDIR/tls/: keys root's with mode 600, certificates 644.  Replace
 * them with a CA's (certbot's fullchain.pem and privkey.pem) and run moat
 * reload.  Existing files are never overwritten.  Input: myhostname, a
 * root-owned parameter.  Runs in the moat command (as root).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "moat.h"
#include "params.h"

#define MOAT_TLS_DAYS 825 /* the longest life browsers ever took */

static int
moat_tls_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A random positive 63-bit serial number. */
static int
moat_tls_serial(X509 *x)
{
	unsigned char b[8];
	uint64_t v = 0;
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	for (i = 0; i < sizeof(b); i++)
		v = v << 8 | b[i];
	v &= 0x7fffffffffffffffULL;
	return ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), v | 1) == 1
		   ? 0
		   : -1;
}

/* A self-signed server certificate for host and key. */
static X509 *
moat_tls_cert(EVP_PKEY *key, const char *host)
{
	X509 *x = X509_new();
	X509_NAME *name;
	struct buf san = BUF_INIT;
	int rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA, rc = -1;

	buf_printf(&san, "DNS:%s", host);
	name = x != NULL ? X509_get_subject_name(x) : NULL;
	if (x != NULL && X509_set_version(x, 2) == 1 &&
	    moat_tls_serial(x) == 0 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x),
			    (long)MOAT_TLS_DAYS * 86400) != NULL &&
	    X509_set_pubkey(x, key) == 1 &&
	    (strlen(host) > 64 ||
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)host, -1, -1,
					0) == 1) &&
	    X509_set_issuer_name(x, name) == 1 &&
	    moat_tls_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
	    moat_tls_ext(x, NID_key_usage,
			 rsa ? "critical,digitalSignature,keyEncipherment"
			     : "critical,digitalSignature") == 0 &&
	    moat_tls_ext(x, NID_ext_key_usage, "serverAuth") == 0 &&
	    moat_tls_ext(x, NID_subject_alt_name, buf_cstr(&san)) == 0 &&
	    moat_tls_ext(x, NID_subject_key_identifier, "hash") == 0 &&
	    X509_sign(x, key, EVP_sha256()) > 0)
		rc = 0;
	buf_free(&san);
	if (rc != 0) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* PEM of a key (secret) or a certificate, into out. */
static int
moat_tls_pem(EVP_PKEY *key, X509 *cert, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int ok;

	ok = bio != NULL &&
	     (key != NULL ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
						     NULL, NULL)
			  : PEM_write_bio_X509(bio, cert)) == 1;
	if (ok && (n = BIO_get_mem_data(bio, &data)) > 0)
		buf_append(out, data, (size_t)n);
	else
		ok = 0;
	BIO_free(bio); /* a mem BIO wipes nothing: the key's text is ours */
	return ok ? 0 : -1;
}

/* DIR/NAME.key and DIR/NAME.crt for one fresh key. */
static int
moat_tls_pair(const char *dir, const char *name, EVP_PKEY *key,
	      const char *host)
{
	struct buf path = BUF_INIT, pem = BUF_INIT;
	X509 *cert = key != NULL ? moat_tls_cert(key, host) : NULL;
	int rc = -1;

	if (cert == NULL) {
		moat_error("cannot make the %s certificate: %s", name,
			   ERR_reason_error_string(ERR_get_error()));
		goto done;
	}
	buf_printf(&path, "%s/%s.key", dir, name);
	if (moat_tls_pem(key, NULL, &pem) != 0 ||
	    moat_write_file(buf_cstr(&path), pem.data, pem.len, 0600) != 0)
		goto done;
	explicit_bzero(pem.data, pem.cap);
	buf_reset(&pem);
	buf_reset(&path);
	buf_printf(&path, "%s/%s.crt", dir, name);
	if (moat_tls_pem(NULL, cert, &pem) == 0 &&
	    moat_write_file(buf_cstr(&path), pem.data, pem.len, 0644) == 0)
		rc = 0;
done:
	if (pem.data != NULL)
		explicit_bzero(pem.data, pem.cap);
	buf_free(&pem);
	buf_free(&path);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

int
moat_tls_demo(const char *conf_dir)
{
	const char *host = param_str("myhostname");
	struct buf dir = BUF_INIT, probe = BUF_INIT;
	EVP_PKEY *ec = NULL, *rsa = NULL;
	struct stat st;
	int rc = 0;

	buf_printf(&dir, "%s/tls", conf_dir);
	buf_printf(&probe, "%s/ecdsa.key", buf_cstr(&dir));
	if (lstat(buf_cstr(&probe), &st) == 0 || errno != ENOENT)
		goto done; /* there already: never overwritten */
	if ((rc = moat_mkdir(buf_cstr(&dir), 0755, "root", "root")) != 0)
		goto done;
	ec = EVP_EC_gen("P-256");
	rsa = EVP_RSA_gen(2048);
	rc = moat_tls_pair(buf_cstr(&dir), "ecdsa", ec, host);
	if (rc == 0)
		rc = moat_tls_pair(buf_cstr(&dir), "rsa", rsa, host);
	if (rc == 0)
		moat_say("made self-signed certificates for %s in %s: replace "
			 "them with a CA's and run moat reload",
			 host, buf_cstr(&dir));
done:
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	buf_free(&dir);
	buf_free(&probe);
	return rc;
}
