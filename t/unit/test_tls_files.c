/*
 * test_tls_files: the rules for smtpd's certificate and key files, on
 * real files: a key of mode 600 or 640 is read, 644 or 660 is refused
 * and so is one owned by another user or in a directory others may
 * change; a certificate is read at 644 but not when others may write
 * it; a link is followed and what it leads to is judged; a certificate
 * file that holds a key is refused; the key id of a certificate is its
 * key's.  Run as root (files are chowned); skipped otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>

#include "tap.h"
#include "tls_files.h"

static char dir[] = "/tmp/test_tls_files.XXXXXX";

static void
put(const char *name, const char *text, mode_t mode, uid_t uid)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	if (chown(path, uid, 0) != 0)
		perror(path);
}

/* 0 when read; the error text in why. */
static int
try_read(const char *name, enum tls_file_kind kind, struct buf *why)
{
	char path[256];
	struct buf out = BUF_INIT;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf_reset(why);
	rc = tls_file_read(path, kind, &out, why);
	tls_buf_cleanse(&out);
	return rc;
}

/* A PEM key and a self-signed certificate for it. */
static void
make_pair(struct buf *key_pem, struct buf *cert_pem, EVP_PKEY **key)
{
	BIO *b = BIO_new(BIO_s_mem());
	X509 *x = X509_new();
	char *data;
	long n;

	*key = EVP_EC_gen("P-256");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, *key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, *key, EVP_sha256());
	PEM_write_bio_PrivateKey(b, *key, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &data);
	buf_append(key_pem, data, (size_t)n);
	BIO_reset(b);
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &data);
	buf_append(cert_pem, data, (size_t)n);
	BIO_free(b);
	X509_free(x);
}

static void
modes(const struct buf *key, const struct buf *cert)
{
	struct buf why = BUF_INIT;

	put("k", buf_cstr(key), 0600, 0);
	is_int(try_read("k", TLS_FILE_KEY, &why), 0, "a key of mode 600");
	put("k", buf_cstr(key), 0640, 0);
	is_int(try_read("k", TLS_FILE_KEY, &why), 0, "a key of mode 640");
	put("k", buf_cstr(key), 0644, 0);
	ok(try_read("k", TLS_FILE_KEY, &why) == -1 &&
	       strstr(buf_cstr(&why), "/k: mode 0644: a private key file") !=
		   NULL,
	   "a key readable by others: refused, naming the file (%s)",
	   buf_cstr(&why));
	put("k", buf_cstr(key), 0660, 0);
	is_int(try_read("k", TLS_FILE_KEY, &why), -1,
	       "a key its group may write: refused");
	put("k", buf_cstr(key), 0600, 65534);
	ok(try_read("k", TLS_FILE_KEY, &why) == -1 &&
	       strstr(buf_cstr(&why), "not root") != NULL,
	   "a key owned by another user: refused");
	put("c", buf_cstr(cert), 0644, 0);
	is_int(try_read("c", TLS_FILE_CERT, &why), 0, "a certificate at 644");
	put("c", buf_cstr(cert), 0666, 0);
	is_int(try_read("c", TLS_FILE_CERT, &why), -1,
	       "a certificate others may write: refused");
	put("k", buf_cstr(key), 0600, 0);
	put("c", buf_cstr(cert), 0644, 0);
	chmod(dir, 0777);
	ok(try_read("k", TLS_FILE_KEY, &why) == -1 &&
	       strstr(buf_cstr(&why), "its directory") != NULL,
	   "in a directory others may change: refused");
	chmod(dir, 0755);
	buf_free(&why);
}

static void
links_and_content(const struct buf *key, const struct buf *cert, EVP_PKEY *pkey)
{
	char link_path[256], target[256], want[TLS_KEY_ID_SIZE],
	    have[TLS_KEY_ID_SIZE];
	struct buf why = BUF_INIT, pem = BUF_INIT, both = BUF_INIT;
	STACK_OF(X509) *chain = NULL;
	X509 *leaf = NULL;
	EVP_PKEY *k;

	snprintf(link_path, sizeof(link_path), "%s/live", dir);
	snprintf(target, sizeof(target), "%s/k", dir);
	unlink(link_path);
	ok(symlink(target, link_path) == 0 &&
	       try_read("live", TLS_FILE_KEY, &why) == 0,
	   "a link (certbot's live/) is followed");
	chmod(target, 0644);
	is_int(try_read("live", TLS_FILE_KEY, &why), -1,
	       "and what it leads to is judged");
	chmod(target, 0600);
	ok(tls_parse_chain(cert, "c", &leaf, &chain, &why) == 0 &&
	       sk_X509_num(chain) == 0,
	   "a certificate is parsed");
	k = tls_parse_key(key, "k", &why);
	ok(k != NULL && tls_key_id(k, have) == 0 &&
	       tls_key_id(X509_get0_pubkey(leaf), want) == 0 &&
	       strcmp(want, have) == 0 && strlen(want) == 64,
	   "a certificate's key id is its key's");
	ok(EVP_PKEY_eq(k, pkey) == 1, "the key read is the key written");
	buf_append(&both, key->data, key->len);
	buf_append(&both, cert->data, cert->len);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	ok(tls_parse_chain(&both, "both", &leaf, &chain, &why) == -1 &&
	       strstr(buf_cstr(&why), "holds a private key") != NULL,
	   "a certificate file with a key in it is refused");
	ok(tls_parse_key(cert, "c", &why) == NULL, "a certificate is no key");
	EVP_PKEY_free(k);
	buf_free(&why);
	buf_free(&pem);
	buf_free(&both);
}

static void
remove_all(void)
{
	static const char *const names[] = {"k", "c", "live"};
	char path[256];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	struct buf key = BUF_INIT, cert = BUF_INIT;
	EVP_PKEY *pkey;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (files are chowned)\n");
		return 0;
	}
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		return 1;
	make_pair(&key, &cert, &pkey);
	modes(&key, &cert);
	links_and_content(&key, &cert, pkey);
	EVP_PKEY_free(pkey);
	tls_buf_cleanse(&key);
	buf_free(&cert);
	remove_all();
	return done_testing();
}
