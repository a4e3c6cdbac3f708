/*
 * fuzz_cleanup_envelope: a hostile peer's op=begin and op=rcpt frames as
 * cleanup checks them.  The input is one IPC payload; whatever parses is
 * checked as both frames.  What is accepted must be bounded and free of
 * control bytes, as the queue writer requires.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len > max)
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_frame f;
	struct cleanup_envelope env;
	struct cleanup_rcpt rcpt;
	const char *why = NULL;

	ipc_frame_init(&f);
	if (ipc_parse((const char *)data, size, &f, &why) == 0) {
		if (cleanup_begin_parse(&f, (enum cleanup_origin)(size % 5),
					"origin.example", &env,
					&why) == CLEANUP_FRAME_OK) {
			check_text(env.sender, ADDR_TEXT_MAX - 1);
			check_text(env.helo, CLEANUP_HELO_MAX);
			check_text(env.client_name, CLEANUP_CLIENT_NAME_MAX);
		}
		if (cleanup_rcpt_parse(
			&f,
			&(struct cleanup_envelope){.is_local = (int)(size & 1),
						   .smtputf8 = (int)(size & 2)},
			"origin.example", &rcpt, &why) == CLEANUP_FRAME_OK) {
			check_text(rcpt.addr, ADDR_TEXT_MAX - 1);
			check_text(rcpt.orig, CLEANUP_ORIG_MAX);
			if (rcpt.addr[0] == '\0')
				abort();
		}
	}
	ipc_frame_free(&f);
	return 0;
}
