/*
 * fuzz_server_pass: what a compromised passer could send on a pass
 * service (server_pass.h): a stream of frames, each parsed as an offer.
 * The first byte chooses the piece size the stream
 * is taken in; the verdicts must not depend on it (checked against the
 * whole stream); an accepted offer's address must be a canonical IPv4 or
 * IPv6 address and its port within 1..65535.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_pass.h"

static void
verdict(const struct ipc_frame *f, struct buf *out)
{
	struct server_pass_offer o;
	unsigned char bytes[16];
	char again[INET6_ADDRSTRLEN];
	const char *why = NULL;
	int family;

	if (server_pass_parse_offer(f, &o, &why) == 0) {
		family = strchr(o.addr, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(family, o.addr, bytes) != 1 ||
		    server_pass_addr_text(family, bytes, again,
					  sizeof(again)) != 0 ||
		    strcmp(again, o.addr) != 0 || o.port < 1 ||
		    o.port > 65535 || (o.trusted != 0 && o.trusted != 1))
			abort();
		buf_printf(out, "offer %s %u %d\n", o.addr, o.port, o.trusted);
	} else if (why == NULL) {
		abort();
	}
}

/* Frames of p taken piece by piece; the verdicts into out. */
static void
run(const char *p, size_t size, size_t piece, struct buf *out)
{
	struct buf in = BUF_INIT;
	struct ipc_frame f;
	const char *why = NULL;
	size_t off, n;
	int r = 0;

	ipc_frame_init(&f);
	for (off = 0; off < size && r >= 0; off += n) {
		n = size - off < piece ? size - off : piece;
		buf_append(&in, p + off, n);
		while ((r = ipc_take_frame(&in, &f, &why)) == 1)
			verdict(&f, out);
	}
	buf_printf(out, "end %d\n", r < 0 ? -1 : 0);
	ipc_frame_free(&f);
	buf_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	if (size == 0)
		return 0;
	run((const char *)data + 1, size - 1, size, &a);
	run((const char *)data + 1, size - 1, 1 + data[0] % 64, &b);
	if (!buf_equal(&a, &b))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
