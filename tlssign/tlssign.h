/*
 * tlssign: declarations shared by tlssign's files.  tlssign_check.c says
 * whether bytes smtpd asks to have signed are what a TLS handshake signs
 * (pure); tlssign_keys.c loads the private keys as root and signs;
 * tlssign.c is the daemon.  Everything smtpd sends is hostile: a
 * compromised smtpd may ask anything.
 */
#ifndef MOAT_TLSSIGN_H
#define MOAT_TLSSIGN_H

#include <stddef.h>

#include "buf.h"

/* What smtpd may ask for (ipc_proto.h: op=sign). */
enum tlssign_alg { TLSSIGN_RSA_PKCS1, TLSSIGN_RSA_PSS, TLSSIGN_ECDSA };

/* The algorithm a word names, or -1. */
int tlssign_alg_parse(const char *word);
/* 1 when data is a DER DigestInfo of SHA-256, SHA-384 or SHA-512. */
int tlssign_digestinfo_ok(const unsigned char *data, size_t len);
/* 1 when len is the length of a SHA-256, SHA-384 or SHA-512 digest. */
int tlssign_digest_ok(size_t len);
/*
 * 1 when block (len bytes: the modulus's size) is an RSASSA-PSS encoding
 * (RFC 8017 9.1.1) for a modulus of mod_bits bits, with MGF1 and a salt
 * as long as the hash (SHA-256, SHA-384 or SHA-512), as TLS 1.3 and
 * 1.2's rsa_pss_rsae schemes make them.  Anything else could be a
 * ciphertext someone wants decrypted: refused.
 */
int tlssign_pss_ok(const unsigned char *block, size_t len, int mod_bits);

/* tlssign_keys.c */
/*
 * Load every private key an smtpd service of master.conf names
 * (main.conf's smtpd_tls_key_file and the -o overrides), as root; fatal
 * on a file that is missing, badly owned or not a key, naming it.
 */
void tlssign_keys_load(const char *conf_dir);
/* How many keys are loaded. */
size_t tlssign_keys_count(void);
/*
 * The session ticket key of smtpd processes for one time window
 * (floor(time / lifetime)): name, AES and HMAC keys, derived with HKDF
 * from the private keys, so every tlssign process gives every smtpd the
 * same one and a client resumes whichever smtpd it reaches.  Only the
 * current window and the one before are given out.  0, or -1 with *why.
 */
#define TLSSIGN_TICKET_KEY_SIZE 80
int tlssign_ticket_key(long long lifetime, long long window,
		       unsigned char out[TLSSIGN_TICKET_KEY_SIZE],
		       const char **why);
/*
 * Sign data with the key named id (tls_key_id) after checking that data
 * is what alg's handshakes sign: 0 with the signature in sig, or -1 with
 * the reason in *why.
 */
int tlssign_sign(const char *id, int alg, const unsigned char *data, size_t len,
		 struct buf *sig, const char **why);

#endif
