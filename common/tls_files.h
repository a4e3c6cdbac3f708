/*
 * tls_files: smtpd's certificates and private keys on disk.  They are
 * read only by root, before any privilege drop: the certificate chains by
 * smtpd (which never reads a key), the keys by tlssign(8), and both by
 * the master and `moat check` to refuse a bad setup before anything runs.
 * A file must be a regular file owned by root in a directory only root
 * can change; a certificate file writable by no one else, a key file
 * neither writable by its group nor open to others at all.  Links are
 * followed (certbot's live/ directory is made of them), and both the
 * link's directory and the file's own are checked.  The files' contents
 * are trusted no more than that: PEM is parsed by OpenSSL with bounds,
 * and a certificate file holding a private key is refused, so that smtpd
 * never has a key in memory.  Run by the master, smtpd, tlssign and moat.
 */
#ifndef MOAT_TLS_FILES_H
#define MOAT_TLS_FILES_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"

#define TLS_FILE_MAX (1024 * 1024) /* bytes of one PEM file */
#define TLS_KEY_ID_SIZE 65         /* hex SHA-256, with the NUL */
#define TLS_FILES_MAX 8            /* certificate/key pairs of a service */

enum tls_file_kind { TLS_FILE_CERT, TLS_FILE_KEY };

/*
 * Read a certificate or key file as described above: 0 with its bytes in
 * out, or -1 with "PATH: reason" in err.  A key's bytes are secret: free
 * them with tls_buf_cleanse.
 */
int tls_file_read(const char *path, enum tls_file_kind kind, struct buf *out,
		  struct buf *err);
/* Overwrite a buffer's bytes, then free it. */
void tls_buf_cleanse(struct buf *b);

/*
 * The certificates of a PEM text: the first is the server's, the rest its
 * chain (*chain may be empty).  -1 with "PATH: reason" in err for no
 * certificate, a bad one, or a private key in the text.
 */
int tls_parse_chain(const struct buf *pem, const char *path, X509 **leaf,
		    STACK_OF(X509) * *chain, struct buf *err);
/* The one private key of a PEM text; NULL with "PATH: reason" in err. */
EVP_PKEY *tls_parse_key(const struct buf *pem, const char *path,
			struct buf *err);
/*
 * The name tlssign and smtpd give a key pair: the hex SHA-256 of its
 * public key (SubjectPublicKeyInfo DER); 0, or -1.
 */
int tls_key_id(EVP_PKEY *key, char out[TLS_KEY_ID_SIZE]);

/*
 * The certificate and key files one smtpd service uses: its -o
 * overrides of smtpd_tls_cert_file and smtpd_tls_key_file, else
 * main.conf's (svc NULL: main.conf's).
 */
struct tls_file_list {
	char *cert[TLS_FILES_MAX];
	char *key[TLS_FILES_MAX];
	size_t ncert, nkey;
};
struct service;
int tls_service_files(const struct service *svc, struct tls_file_list *l,
		      struct buf *err);
void tls_file_list_free(struct tls_file_list *l);

/*
 * Every smtpd service of the table (main.conf loaded): a known security
 * level, as many key files as certificate files, certificates where the
 * level or wrapper mode needs them, a tlssign service to hold the keys,
 * and each file readable as tls_file_read wants it.  deep: also parse
 * them and check that each key belongs to its certificate.  Each problem
 * is passed to report; returns how many there were.
 */
struct service_table;
unsigned tls_check_services(const struct service_table *t, int deep,
			    void (*report)(void *ctx, const char *what),
			    void *ctx);

#endif
