/*
 * fuzz_address: address_parse_path, address_parse and address_path_end on
 * hostile bytes.  The first byte picks the options.  Every accepted address
 * must format, and parsing the formatted text must give the same local
 * part, domain and flags (less the route, which formatting drops, and
 * "quoted", which needless quotes do not survive).  The text is
 * printable ASCII, or with ADDR_ALLOW_UTF8 valid UTF-8 without controls,
 * and ADDR_F_UTF8 is set exactly when it holds a byte above 0x7f.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const struct address *a, unsigned opts)
{
	const unsigned keep = ~(unsigned)(ADDR_F_ROUTE | ADDR_F_QUOTED);
	char text[ADDR_TEXT_MAX];
	struct address b;
	int n = address_format(a, text, sizeof(text));

	if (n < 0)
		abort();
	if (a->is_null) {
		if (n != 0)
			abort();
		return;
	}
	if (address_parse(text, (size_t)n, opts, &b) != ADDR_OK ||
	    strcmp(a->local, b.local) != 0 ||
	    strcmp(a->domain, b.domain) != 0 ||
	    (a->flags & keep) != (b.flags & keep))
		abort();
	if (!(opts & ADDR_ALLOW_UTF8)) {
		for (const char *p = text; *p; p++)
			if ((unsigned char)*p < 0x20 ||
			    (unsigned char)*p >= 0x7f)
				abort();
	} else if (!utf8_text_ok(text, (size_t)n) ||
		   utf8_has_8bit(text, (size_t)n) !=
		       ((a->flags & ADDR_F_UTF8) != 0)) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	unsigned opts;
	struct address a;
	size_t end;

	if (size == 0)
		return 0;
	opts = data[0] &
	       (ADDR_ALLOW_NULL | ADDR_ALLOW_NO_DOMAIN | ADDR_ALLOW_UTF8);
	size--;
	if (address_parse_path(s, size, opts, &a) == ADDR_OK)
		round_trip(&a, opts);
	if (address_parse(s, size, opts, &a) == ADDR_OK)
		round_trip(&a, opts);
	end = address_path_end(s, size);
	if (end > size)
		abort();
	if (end > 0 && address_parse_path(s, end, opts, &a) == ADDR_OK)
		round_trip(&a, opts);
	return 0;
}
