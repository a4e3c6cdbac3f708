/*
 * fuzz_queue_file: arbitrary bytes as a queue file into queue_env_parse.
 * An accepted file must locate its content inside the input and every
 * recipient's status byte at a valid status, and the delay warning's
 * byte too when it has one; queue_seal_matches must agree with a hash
 * of what precedes its end record, computed here.
 */
#include <stdint.h>
#include <stdlib.h>

#include "queue_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The end record after the content holds the hash of all before it. */
static int
sealed_right(const uint8_t *data, size_t size, const struct queue_env *env)
{
	size_t end = (size_t)env->content_offset + env->content_length;
	unsigned long long seal = 0;

	if (end + QREC_HEADER_LEN + QUEUE_SEAL_LEN > size ||
	    data[end] != QREC_END)
		return 0;
	for (size_t i = 0; i < QUEUE_SEAL_LEN; i++)
		seal = seal << 8 | data[end + QREC_HEADER_LEN + i];
	return queue_seal(QUEUE_SEAL_INIT, data, end) == seal;
}

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
		if (queue_seal_matches((const char *)data, size, &env) !=
		    (env.sealed && sealed_right(data, size, &env)))
			abort();
		queue_env_free(&env);
	} else if (err.len == 0 || env.rcpt != NULL) {
		abort();
	}
	buf_free(&err);
	return 0;
}
