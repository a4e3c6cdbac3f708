/*
 * fuzz_logd_control: bytes as the payload of a frame to logd, parsed as
 * logd parses the master's requests: whole (ipc_parse) and as a stream fed
 * in two pieces (ipc_take_frame; the first byte chooses the split).  Both
 * must agree, and an accepted request must name a known op, a program that
 * can stand in a tag and a pid in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "logd.h"

static void
check(const struct logd_request *r)
{
	if (r->op == LOGD_OP_CHANNEL &&
	    (!logd_program_ok(r->program) || r->pid < 1))
		abort();
	if (r->op != LOGD_OP_CHANNEL && r->op != LOGD_OP_SINK &&
	    r->op != LOGD_OP_STOP)
		abort();
}

static int
same(const struct logd_request *a, const struct logd_request *b)
{
	return a->op == b->op && a->syslog == b->syslog && a->pid == b->pid &&
	       strcmp(a->program, b->program) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logd_request a, b;
	struct ipc_frame f;
	struct buf in = BUF_INIT;
	unsigned char header[IPC_HEADER_LEN];
	const char *why = NULL;
	size_t split, len;
	int ra = -1, rb = -1, r;

	if (size == 0)
		return 0;
	len = size - 1;
	ipc_frame_init(&f);
	if (ipc_parse((const char *)data + 1, len, &f, &why) == 0) {
		ra = logd_control_parse(&f, &a, &why);
		if (ra == 0)
			check(&a);
		else if (why == NULL)
			abort();
	}
	header[0] = (unsigned char)(len >> 24);
	header[1] = (unsigned char)(len >> 16);
	header[2] = (unsigned char)(len >> 8);
	header[3] = (unsigned char)len;
	buf_append(&in, header, sizeof(header));
	split = data[0] % (len + 1);
	buf_append(&in, data + 1, split);
	r = ipc_take_frame(&in, &f, &why);
	if (r == 0) {
		buf_append(&in, data + 1 + split, len - split);
		r = ipc_take_frame(&in, &f, &why);
	}
	if (r == 1)
		rb = logd_control_parse(&f, &b, &why);
	if (ra != rb || (ra == 0 && !same(&a, &b)))
		abort();
	buf_free(&in);
	ipc_frame_free(&f);
	return 0;
}
