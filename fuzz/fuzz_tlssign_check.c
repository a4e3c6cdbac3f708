/*
 * fuzz_tlssign_check: hostile "please sign this" bytes, as a compromised
 * smtpd would send them, into tlssign's checks.  None may crash or read
 * out of bounds, whatever the claimed modulus size; a block accepted as
 * PSS must end in 0xbc and have the modulus's length; a DigestInfo
 * accepted must be 51, 67 or 83 bytes; a digest 32, 48 or 64.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tlssign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int bits;

	if (size < 2)
		return 0;
	bits = 1024 + (data[0] | data[1] << 8) % 7169;
	data += 2;
	size -= 2;
	if (tlssign_pss_ok(data, size, bits) &&
	    (data[size - 1] != 0xbc || size != ((size_t)bits + 7) / 8))
		abort();
	if (tlssign_digestinfo_ok(data, size) && size != 51 && size != 67 &&
	    size != 83)
		abort();
	if (tlssign_digest_ok(size) && size != 32 && size != 48 && size != 64)
		abort();
	return 0;
}
