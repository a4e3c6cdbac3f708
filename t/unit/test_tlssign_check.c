/*
 * test_tlssign_check: what tlssign agrees to sign.  Real PSS blocks
 * (made by OpenSSL's signing and recovered with the public key) pass for
 * SHA-256, -384 and -512 and for moduli whose size is not a multiple of
 * eight bits; so do real DigestInfo structures.  What a decryption
 * oracle would be asked for does not: a random block, a ciphertext of
 * the key, a PSS block with a short salt, a block with a changed byte,
 * a DigestInfo of SHA-1 or with a changed length.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "tap.h"
#include "tlssign.h"

/* The encoded block of a signature: the public operation, no padding. */
static size_t
recover(EVP_PKEY *key, const unsigned char *sig, size_t len, int padding,
	unsigned char *out, size_t cap)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	size_t n = cap;

	if (c == NULL || EVP_PKEY_verify_recover_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, padding) != 1 ||
	    EVP_PKEY_verify_recover(c, out, &n, sig, len) != 1)
		n = 0;
	EVP_PKEY_CTX_free(c);
	return n;
}

/* Sign a digest of md with padding (and salt length for PSS). */
static size_t
sign(EVP_PKEY *key, const EVP_MD *md, int padding, int salt, unsigned char *sig,
     size_t cap)
{
	unsigned char dgst[EVP_MAX_MD_SIZE];
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	size_t n = cap;

	memset(dgst, 0x5a, sizeof(dgst));
	if (c == NULL || EVP_PKEY_sign_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, padding) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c, md) != 1 ||
	    (padding == RSA_PKCS1_PSS_PADDING &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(c, salt) != 1) ||
	    EVP_PKEY_sign(c, sig, &n, dgst, (size_t)EVP_MD_get_size(md)) != 1)
		n = 0;
	EVP_PKEY_CTX_free(c);
	return n;
}

static void
pss(unsigned want)
{
	EVP_PKEY *key = EVP_RSA_gen(want);
	int bits = EVP_PKEY_get_bits(key);
	const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512()};
	unsigned char sig[1024], em[1024];
	size_t n, m, i;
	int all = 1;

	for (i = 0; i < 3; i++) {
		/* The block must hold the hash, a salt as long and 2 bytes. */
		if (2 * EVP_MD_get_size(mds[i]) + 2 > (bits - 1 + 7) / 8)
			continue;
		n = sign(key, mds[i], RSA_PKCS1_PSS_PADDING,
			 RSA_PSS_SALTLEN_DIGEST, sig, sizeof(sig));
		m = recover(key, sig, n, RSA_NO_PADDING, em, sizeof(em));
		all &= m > 0 && tlssign_pss_ok(em, m, bits);
	}
	ok(all,
	   "%d bits: TLS's PSS blocks for SHA-256/384/512 pass (those "
	   "that fit)",
	   bits);
	n = sign(key, EVP_sha256(), RSA_PKCS1_PSS_PADDING, 20, sig,
		 sizeof(sig));
	m = recover(key, sig, n, RSA_NO_PADDING, em, sizeof(em));
	ok(m > 0 && !tlssign_pss_ok(em, m, bits),
	   "%d bits: a salt shorter than the hash does not", bits);
	n = sign(key, EVP_sha256(), RSA_PKCS1_PSS_PADDING,
		 RSA_PSS_SALTLEN_DIGEST, sig, sizeof(sig));
	m = recover(key, sig, n, RSA_NO_PADDING, em, sizeof(em));
	em[2] ^= 1; /* in the zero padding (a salt byte would pass) */
	ok(!tlssign_pss_ok(em, m, bits), "%d bits: one changed byte does not",
	   bits);
	RAND_bytes(em, (int)m);
	em[0] = 0;
	em[m - 1] = 0xbc;
	ok(!tlssign_pss_ok(em, m, bits),
	   "%d bits: random bytes ending in 0xbc do not", bits);
	EVP_PKEY_free(key);
}

/* What an attacker would have decrypted: the key's own ciphertext. */
static void
ciphertext(void)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	unsigned char secret[48], ct[256];
	size_t n = sizeof(ct);

	memset(secret, 0x42, sizeof(secret));
	ok(c != NULL && EVP_PKEY_encrypt_init(c) == 1 &&
	       EVP_PKEY_encrypt(c, ct, &n, secret, sizeof(secret)) == 1 &&
	       !tlssign_pss_ok(ct, n, 2048),
	   "a ciphertext is no PSS block: tlssign decrypts nothing");
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(key);
}

static void
digestinfo(void)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512()};
	unsigned char sig[512], di[512];
	size_t n, m, i;
	int all = 1;

	for (i = 0; i < 3; i++) {
		n = sign(key, mds[i], RSA_PKCS1_PADDING, 0, sig, sizeof(sig));
		m = recover(key, sig, n, RSA_PKCS1_PADDING, di, sizeof(di));
		all &= m > 0 && tlssign_digestinfo_ok(di, m);
	}
	ok(all, "DigestInfo of SHA-256/384/512 pass");
	n = sign(key, EVP_sha1(), RSA_PKCS1_PADDING, 0, sig, sizeof(sig));
	m = recover(key, sig, n, RSA_PKCS1_PADDING, di, sizeof(di));
	ok(m > 0 && !tlssign_digestinfo_ok(di, m), "SHA-1's does not");
	n = sign(key, EVP_sha256(), RSA_PKCS1_PADDING, 0, sig, sizeof(sig));
	m = recover(key, sig, n, RSA_PKCS1_PADDING, di, sizeof(di));
	ok(!tlssign_digestinfo_ok(di, m - 1) && !tlssign_digestinfo_ok(di, 32),
	   "a cut one, or a bare digest, does not");
	ok(tlssign_digest_ok(32) && tlssign_digest_ok(64) &&
	       !tlssign_digest_ok(20) && !tlssign_digest_ok(256),
	   "ECDSA: digests of SHA-256/384/512 only");
	ok(tlssign_alg_parse("rsa_pss") == TLSSIGN_RSA_PSS &&
	       tlssign_alg_parse("rsa_raw") < 0,
	   "the algorithm words");
	EVP_PKEY_free(key);
}

int
main(void)
{
	pss(2048);
	pss(3072);
	pss(2050);
	pss(1025); /* a block one byte longer than the encoding: a zero */
	ciphertext();
	digestinfo();
	return done_testing();
}
