/*
 * fuzz_local_forward: local's parsers of hostile target lists (alias
 * values, users' .forward files, items a delivery child reports), command
 * lines and the Delivered-To scan of a header block.  The input is used
 * three ways: as a whole .forward text, item by item, and as a header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "local.h"

static struct local_target target;
static struct local_argv argv_store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *why;
	struct local_items items;

	local_items_init(&items);
	if (local_targets_split(s, size, &items, &why) == 0) {
		for (size_t i = 0; i < items.count; i++) {
			const char *item = local_item(&items, i);
			if (local_target_classify(item, strlen(item), &target,
						  &why) != 0 ||
			    target.type != TARGET_COMMAND)
				continue;
			(void)local_command_split(target.text,
						  strlen(target.text),
						  &argv_store, &why);
		}
	}
	local_items_free(&items);
	(void)local_target_classify(s, size, &target, &why);
	(void)local_command_split(s, size, &argv_store, &why);
	(void)local_header_has_delivered_to(s, size, "user@example.com");
	return 0;
}
