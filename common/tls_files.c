/*
 * tls_files: read and parse smtpd's certificate and key files (see
 * tls_files.h).  Input: root-owned files, checked with fstat on the
 * descriptor that is read, then parsed by OpenSSL from memory (never by
 * path, so what was checked is what is parsed).  Key bytes are wiped
 * before they are freed.  Run as root by the master, smtpd, tlssign and
 * the moat command.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "safe_open.h"
#include "tls_files.h"

/* The directory of path must be root's alone (a link in it is then too). */
static int
tls_dir_ok(const char *path, struct buf *err)
{
	char dir[PATH_MAX];
	struct stat st;

	if (path_dirname(path, dir, sizeof(dir)) != 0) {
		buf_printf(err, "%s: path too long", path);
		return -1;
	}
	if (stat(dir, &st) != 0) {
		buf_printf(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		buf_printf(err,
			   "%s: its directory %s must be owned by root and "
			   "writable by no one else",
			   path, dir);
		return -1;
	}
	return 0;
}

/* Owner and mode of the open file, by kind. */
static int
tls_mode_ok(const char *path, const struct stat *st, enum tls_file_kind kind,
	    struct buf *err)
{
	if (!S_ISREG(st->st_mode)) {
		buf_printf(err, "%s: not a regular file", path);
		return -1;
	}
	if (st->st_uid != 0) {
		buf_printf(err, "%s: owned by uid %lu, not root", path,
			   (unsigned long)st->st_uid);
		return -1;
	}
	if (kind == TLS_FILE_CERT && (st->st_mode & 022) != 0) {
		buf_printf(err,
			   "%s: mode %04o: a certificate file must be "
			   "writable by root alone",
			   path, (unsigned)(st->st_mode & 07777));
		return -1;
	}
	if (kind == TLS_FILE_KEY && (st->st_mode & (S_IWGRP | S_IRWXO)) != 0) {
		buf_printf(err,
			   "%s: mode %04o: a private key file must not be "
			   "readable by others or writable by its group "
			   "(chmod 600)",
			   path, (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

static int
tls_read_fd(int fd, const char *path, struct buf *out, struct buf *err)
{
	if (buf_read_fd(out, fd, TLS_FILE_MAX) == 0)
		return 0;
	if (errno == EFBIG)
		buf_printf(err, "%s: larger than %d bytes", path, TLS_FILE_MAX);
	else
		buf_printf(err, "%s: read: %s", path, strerror(errno));
	return -1;
}

int
tls_file_read(const char *path, enum tls_file_kind kind, struct buf *out,
	      struct buf *err)
{
	char real[PATH_MAX];
	struct stat st;
	int fd, rc = -1;

	buf_reset(err);
	if (path[0] != '/') {
		buf_printf(err, "%s: not an absolute path", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0)
		buf_printf(err, "%s: %s", path, strerror(errno));
	else if (tls_mode_ok(path, &st, kind, err) == 0 &&
		 tls_dir_ok(path, err) == 0 &&
		 (realpath(path, real) == NULL || tls_dir_ok(real, err) == 0))
		rc = tls_read_fd(fd, path, out, err);
	close(fd);
	if (rc != 0)
		tls_buf_cleanse(out);
	return rc;
}

void
tls_buf_cleanse(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

int
tls_parse_chain(const struct buf *pem, const char *path, X509 **leaf,
		STACK_OF(X509) * *chain, struct buf *err)
{
	BIO *bio;
	X509 *x;

	*leaf = NULL;
	*chain = NULL;
	if (pem->len == 0 ||
	    memmem(pem->data, pem->len, "PRIVATE KEY-----", 16) != NULL) {
		buf_printf(err, "%s: %s", path,
			   pem->len == 0 ? "empty"
					 : "holds a private key: keys go in "
					   "smtpd_tls_key_file, certificates "
					   "in smtpd_tls_cert_file");
		return -1;
	}
	bio = BIO_new_mem_buf(pem->data, (int)pem->len);
	*chain = sk_X509_new_null();
	while (bio != NULL && *chain != NULL &&
	       (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (*leaf == NULL)
			*leaf = x;
		else if (!sk_X509_push(*chain, x))
			X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (*leaf != NULL)
		return 0;
	sk_X509_pop_free(*chain, X509_free);
	*chain = NULL;
	buf_printf(err, "%s: no PEM certificate in it", path);
	return -1;
}

EVP_PKEY *
tls_parse_key(const struct buf *pem, const char *path, struct buf *err)
{
	BIO *bio = BIO_new_mem_buf(pem->data, (int)pem->len);
	EVP_PKEY *key = NULL, *extra = NULL;

	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key != NULL)
		extra = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL || extra != NULL) {
		buf_printf(err, "%s: %s", path,
			   key == NULL ? "no PEM private key in it (or it is "
					 "encrypted)"
				       : "more than one private key in it");
		EVP_PKEY_free(key);
		EVP_PKEY_free(extra);
		return NULL;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA &&
	    EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
		buf_printf(err, "%s: neither an RSA nor an ECDSA key", path);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

int
tls_key_id(EVP_PKEY *key, char out[TLS_KEY_ID_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	int len = i2d_PUBKEY(key, &der), i;

	if (len <= 0)
		return -1;
	SHA256(der, (size_t)len, md);
	OPENSSL_free(der);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * SHA256_DIGEST_LENGTH] = '\0';
	return 0;
}
