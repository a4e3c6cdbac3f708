/*
 * fuzz_maps: arbitrary text as a map source into map_parse, in both
 * formats (the first byte chooses).  Every entry handed to the callback
 * must have a lower-case key within MAP_KEY_MAX and a value within
 * MAP_VALUE_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"

static int
check_entry(const char *key, const char *value, unsigned lineno, void *ctx,
	    struct buf *err)
{
	size_t i, len = strlen(key);

	if (len == 0 || len > MAP_KEY_MAX || strlen(value) == 0 ||
	    strlen(value) > MAP_VALUE_MAX || lineno == 0)
		abort();
	for (i = 0; i < len; i++)
		if (key[i] >= 'A' && key[i] <= 'Z')
			abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	enum map_format fmt;

	if (size == 0)
		return 0;
	fmt = data[0] & 1 ? MAP_ALIASES : MAP_TABLE;
	if (map_parse((const char *)data + 1, size - 1, fmt, "fuzz",
		      check_entry, NULL, &err) < 0 &&
	    err.len == 0)
		abort();
	buf_free(&err);
	return 0;
}
