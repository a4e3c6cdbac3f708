/*
 * tlssign_check: what tlssign agrees to sign.  A signing service is an
 * RSA private-key oracle unless it looks at what it signs: a raw RSA
 * operation on chosen bytes also decrypts.  So PKCS#1 v1.5 requests must
 * be DigestInfo structures, raw requests must be well-formed PSS blocks
 * (which a ciphertext, or a blinded one, is not, but with negligible
 * chance), and ECDSA requests must be digests.  Input: bytes from smtpd,
 * hostile, with their lengths.  Pure (OpenSSL's digests only).  Run by
 * tlssign; its unit test and fuzz target call it.
 */
#include <string.h>

#include <openssl/evp.h>

#include "tlssign.h"

#define DIGESTINFO_PREFIX 19

/* The DER of DigestInfo up to the digest, for SHA-256, -384, -512. */
static const struct {
	size_t hlen;
	unsigned char prefix[DIGESTINFO_PREFIX];
} digestinfo[] = {
    {32,
     {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}},
    {48,
     {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30}},
    {64,
     {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40}},
};

int
tlssign_alg_parse(const char *word)
{
	if (strcmp(word, "rsa_pkcs1") == 0)
		return TLSSIGN_RSA_PKCS1;
	if (strcmp(word, "rsa_pss") == 0)
		return TLSSIGN_RSA_PSS;
	if (strcmp(word, "ecdsa") == 0)
		return TLSSIGN_ECDSA;
	return -1;
}

int
tlssign_digestinfo_ok(const unsigned char *data, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(digestinfo) / sizeof(digestinfo[0]); i++)
		if (len == DIGESTINFO_PREFIX + digestinfo[i].hlen &&
		    memcmp(data, digestinfo[i].prefix, DIGESTINFO_PREFIX) == 0)
			return 1;
	return 0;
}

int
tlssign_digest_ok(size_t len)
{
	return len == 32 || len == 48 || len == 64;
}

/* MGF1 (RFC 8017 B.2.1) of seed, XORed into out (len bytes). */
static int
mgf1_xor(unsigned char *out, size_t len, const unsigned char *seed, size_t hlen,
	 const EVP_MD *md)
{
	unsigned char in[64 + 4], h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	size_t done = 0, i;
	unsigned counter = 0;

	memcpy(in, seed, hlen);
	while (done < len) {
		in[hlen] = (unsigned char)(counter >> 24);
		in[hlen + 1] = (unsigned char)(counter >> 16);
		in[hlen + 2] = (unsigned char)(counter >> 8);
		in[hlen + 3] = (unsigned char)counter;
		if (EVP_Digest(in, hlen + 4, h, &hl, md, NULL) != 1 ||
		    hl != hlen)
			return -1;
		for (i = 0; i < hlen && done < len; i++)
			out[done++] ^= h[i];
		counter++;
	}
	return 0;
}

/* The PSS check for one hash: em is emLen bytes, emBits bits wide. */
static int
pss_ok_with(const unsigned char *em, size_t em_len, size_t em_bits, size_t hlen,
	    const EVP_MD *md)
{
	unsigned char db[1024];
	size_t db_len, i, zero_bits = 8 * em_len - em_bits;

	if (em_len < 2 * hlen + 2 || em_len - hlen - 1 > sizeof(db))
		return 0;
	db_len = em_len - hlen - 1;
	memcpy(db, em, db_len);
	if (mgf1_xor(db, db_len, em + db_len, hlen, md) != 0)
		return 0;
	db[0] &= (unsigned char)(0xff >> zero_bits);
	/* DB = PS (zeros) || 0x01 || salt, the salt as long as the hash */
	for (i = 0; i < db_len - hlen - 1; i++)
		if (db[i] != 0)
			return 0;
	return db[db_len - hlen - 1] == 0x01;
}

int
tlssign_pss_ok(const unsigned char *block, size_t len, int mod_bits)
{
	size_t em_bits, em_len;
	const unsigned char *em = block;

	if (mod_bits < 1024 || mod_bits > 8192 ||
	    len != ((size_t)mod_bits + 7) / 8)
		return 0;
	em_bits = (size_t)mod_bits - 1;
	em_len = (em_bits + 7) / 8;
	if (em_len < len) { /* a whole leading byte the modulus leaves 0 */
		if (block[0] != 0)
			return 0;
		em++;
	}
	if (em[em_len - 1] != 0xbc ||
	    (em[0] >> (8 - (8 * em_len - em_bits))) != 0)
		return 0;
	return pss_ok_with(em, em_len, em_bits, 32, EVP_sha256()) ||
	       pss_ok_with(em, em_len, em_bits, 48, EVP_sha384()) ||
	       pss_ok_with(em, em_len, em_bits, 64, EVP_sha512());
}
