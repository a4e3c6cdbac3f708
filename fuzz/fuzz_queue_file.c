/*
 * fuzz_queue_file: arbitrary bytes as a queue file into queue_env_parse.
 * An accepted file must locate its content inside the input and every
 * recipient's status byte at a valid status, and the delay warning's
 * byte too when it has one.
 */
#include <stdint.h>
#include <stdlib.h>

#include "queue_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env env;
	struct buf err = BUF_INIT;
	size_t i;

	if (queue_env_parse((const char *)data, size, &env, &err) == 0) {
		if (env.content_offset < 0 ||
		    (size_t)env.content_offset + env.content_length > size ||
		    env.rcpt_count == 0 || env.sender == NULL)
			abort();
		for (i = 0; i < env.rcpt_count; i++) {
			off_t o = env.rcpt[i].status_offset;
			if (o < 0 || (size_t)o >= size ||
			    data[o] != (uint8_t)env.rcpt[i].status)
				abort();
		}
		if (env.warn != 0 &&
		    (env.warn_offset < 0 || (size_t)env.warn_offset >= size ||
		     data[env.warn_offset] != (uint8_t)env.warn))
			abort();
		queue_env_free(&env);
	} else if (err.len == 0 || env.rcpt != NULL) {
		abort();
	}
	buf_free(&err);
	return 0;
}
