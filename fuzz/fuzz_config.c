/*
 * fuzz_config: main.conf syntax (config_parse) and the value checks
 * (param_check_value) on whatever the parser yields.  Checks that an error
 * always carries the file name, and that a value never holds a newline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_cb(const char *name, const char *value, unsigned lineno, void *ctx,
	struct buf *err)
{
	const struct param_def *def = param_find(name);
	struct buf reason = BUF_INIT;

	if (lineno == 0 || strchr(value, '\n') != NULL || name[0] == '\0')
		abort();
	if (def != NULL)
		(void)param_check_value(def, value, &reason);
	buf_free(&reason);
	if (strcmp(name, "fail") == 0) {
		buf_printf(err, "refused");
		return -1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;

	if (config_parse((const char *)data, size, "fuzz.conf", fuzz_cb, NULL,
			 &err) != 0 &&
	    strncmp(buf_cstr(&err), "fuzz.conf:", 10) != 0)
		abort();
	buf_free(&err);
	return 0;
}
