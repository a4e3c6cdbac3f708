/*
 * fuzz_ipc: hostile bytes from a peer into ipc_parse (one payload) and
 * ipc_take_frame (a stream of framed payloads, fed in two pieces so the
 * "need more bytes" path runs too).  Every parsed attribute must lie inside
 * the frame's storage and be NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

static void
check_frame(const struct ipc_frame *f)
{
	size_t i;

	for (i = 0; i < f->count; i++) {
		const struct ipc_attr *a = &f->attr[i];
		if (a->name < f->raw.data || a->value < f->raw.data ||
		    a->value + a->value_len >= f->raw.data + f->raw.len ||
		    a->value[a->value_len] != '\0' || strlen(a->name) == 0 ||
		    strlen(a->name) > IPC_NAME_MAX)
			abort();
	}
	if (f->count > 0)
		(void)ipc_get_str(f, f->attr[0].name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_frame f;
	struct buf in = BUF_INIT;
	const char *why = NULL;
	long long v;
	size_t half = size / 2;
	int r;

	ipc_frame_init(&f);
	if (ipc_parse((const char *)data, size, &f, &why) == 0) {
		check_frame(&f);
		(void)ipc_get_int(&f, "n", -1000, 1000, &v);
	} else if (why == NULL || f.count != 0)
		abort();
	buf_append(&in, data, half);
	while ((r = ipc_take_frame(&in, &f, &why)) == 1)
		check_frame(&f);
	if (r == 0) {
		buf_append(&in, data + half, size - half);
		while (ipc_take_frame(&in, &f, &why) == 1)
			check_frame(&f);
	}
	buf_free(&in);
	ipc_frame_free(&f);
	return 0;
}
