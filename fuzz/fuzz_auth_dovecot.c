/*
 * fuzz_auth_dovecot: hostile bytes from "Dovecot's" socket into auth's
 * client of the authentication protocol.  The first byte chooses where
 * the stream is cut into reads; the handshake and then the answer to
 * request 1 are read from the whole stream at once and from the pieces,
 * and both runs must end in the same state, verdict and user (the state
 * machine must not depend on how the bytes arrive).  A user name taken
 * must fit its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

struct run {
	struct dovecot_client d;
	int failed; /* a protocol error */
};

/* Feed bytes in reads of every bytes; the conversation's two steps. */
static void
play(const uint8_t *data, size_t size, size_t every, struct run *r)
{
	struct buf in = BUF_INIT;
	const char *why = NULL;
	size_t off = 0, n;
	int got;

	dovecot_client_init(&r->d, 1);
	r->failed = 0;
	while (off < size && r->d.state != DOVECOT_ANSWERED) {
		n = size - off < every ? size - off : every;
		buf_append(&in, data + off, n);
		off += n;
		while ((got = dovecot_client_feed(&r->d, &in, &why)) == 1 &&
		       r->d.state != DOVECOT_ANSWERED)
			;
		if (got < 0) {
			r->failed = 1;
			break;
		}
	}
	if (strlen(r->d.user) >= sizeof(r->d.user))
		abort();
	buf_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, parts;

	if (size == 0)
		return 0;
	play(data + 1, size - 1, size, &whole);
	play(data + 1, size - 1, (size_t)(data[0] % 17) + 1, &parts);
	if (whole.failed != parts.failed)
		abort();
	if (!whole.failed && (whole.d.state != parts.d.state ||
			      whole.d.verdict != parts.d.verdict ||
			      whole.d.plain != parts.d.plain ||
			      strcmp(whole.d.user, parts.d.user) != 0))
		abort();
	return 0;
}
