/*
 * smtpd_keysign: private keys smtpd never holds.  For each certificate
 * smtpd makes a stand-in key from the certificate's public key whose
 * private operations OpenSSL hands to RSA and EC method callbacks; they
 * ask tlssign(8) over private/tlssign for the signature (ipc_proto.h),
 * naming the key by its public key's SHA-256.  A compromised smtpd can
 * have handshakes signed while it runs, but cannot take a key away, nor
 * use tlssign to decrypt: tlssign only signs digests and PSS blocks.
 * Run by smtpd: the stand-ins are made before the drop, the signatures
 * asked for during handshakes.
 */
#ifndef MOAT_SMTPD_KEYSIGN_H
#define MOAT_SMTPD_KEYSIGN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"

/* The stand-in key for leaf's public key; NULL with err (naming path). */
EVP_PKEY *smtpd_keysign_pkey(X509 *leaf, const char *path, struct buf *err);
/*
 * The session ticket key (80 bytes: name, AES, HMAC) of the window
 * floor(time / lifetime), from tlssign: the same in every smtpd process,
 * so a client resumes whichever process it reaches.  0, or -1 (logged).
 */
#define SMTPD_TICKET_KEY_SIZE 80
int smtpd_keysign_ticket(long long lifetime, long long window,
			 unsigned char out[SMTPD_TICKET_KEY_SIZE]);
/*
 * Connect to tlssign now (after the drop), so that this process keeps
 * the tlssign of its own generation through a reload; a failure is
 * retried at the first signature.
 */
void smtpd_keysign_connect(void);

#endif
