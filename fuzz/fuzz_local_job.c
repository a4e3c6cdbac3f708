/*
 * fuzz_local_job: hostile bytes from local's resolver into the root
 * parent's parsers: frames (ipc_take_frame) into local_job_parse,
 * local_result_parse and, for a request that parses, local_job_check
 * against the real password database.  The input is read as a stream of
 * frames twice, whole and in chunks whose size the first byte picks, and
 * the two descriptions of what was parsed must be equal.  A request that
 * parses must hold only bounded, NUL-terminated, control-free fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "local.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_req(const struct local_job_req *req)
{
	int target_job = req->type == JOB_COMMAND || req->type == JOB_FILE;

	if (strlen(req->user) == 0 || strlen(req->user) > LOCAL_NAME_MAX ||
	    strlen(req->rcpt) == 0 || strchr(req->user, '\n') != NULL ||
	    strchr(req->target, '\n') != NULL ||
	    (target_job != (req->source != SOURCE_NONE)) ||
	    (target_job != (req->target[0] != '\0')) ||
	    ((req->source == SOURCE_ALIAS) != (req->alias[0] != '\0')) ||
	    (req->type == JOB_FILE && req->target[0] != '/') ||
	    (req->last && req->type != JOB_MAILBOX))
		abort();
}

/* What the parent makes of one frame, as text. */
static void
describe(const struct ipc_frame *f, struct buf *out)
{
	struct local_job_req *req = malloc(sizeof(*req));
	struct local_job_ctx ctx;
	struct local_result r;
	struct local_job job;
	const char *why;

	if (req == NULL)
		abort();
	if (local_job_parse(f, req, &why) == 0) {
		check_req(req);
		buf_printf(out, "job %d %d [%s] [%s] [%s] [%s] [%s] %d\n",
			   (int)req->type, (int)req->source, req->user,
			   req->rcpt, req->target, req->extension, req->alias,
			   req->last);
		local_job_ctx_init(&ctx, "nobody", 1, 1);
		local_job_ctx_owner(&ctx, req->user);
		buf_printf(out, "verdict %d\n",
			   (int)local_job_check(req, &ctx, &job, &r, &why));
		local_job_ctx_free(&ctx);
	} else
		buf_printf(out, "bad %s\n", why);
	if (local_result_parse(f, &r) == 0)
		buf_printf(out, "result %d %s %s\n", (int)r.status, r.dsn,
			   r.text);
	free(req);
}

/* Take every frame out of in; 0, or -1 at bytes that are no frame. */
static int
drain(struct buf *in, struct ipc_frame *f, struct buf *out)
{
	const char *why;
	int rc;

	while ((rc = ipc_take_frame(in, f, &why)) == 1)
		describe(f, out);
	if (rc < 0)
		buf_printf(out, "stream error\n");
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf in = BUF_INIT, whole = BUF_INIT, chunked = BUF_INIT;
	size_t step = size > 0 ? (size_t)data[0] % 7 + 1 : 1;
	struct ipc_frame f;
	const char *why;

	ipc_frame_init(&f);
	if (ipc_parse((const char *)data, size, &f, &why) == 0) {
		struct buf one = BUF_INIT;
		describe(&f, &one);
		buf_free(&one);
	}
	buf_append(&in, data, size);
	(void)drain(&in, &f, &whole);
	buf_reset(&in);
	for (size_t off = 0; off < size; off += step) {
		buf_append(&in, data + off,
			   size - off < step ? size - off : step);
		if (drain(&in, &f, &chunked) < 0)
			break;
	}
	if (!buf_equal(&whole, &chunked))
		abort();
	ipc_frame_free(&f);
	buf_free(&in);
	buf_free(&whole);
	buf_free(&chunked);
	return 0;
}
