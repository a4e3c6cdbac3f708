/*
 * ipc_serve: the request loop of event servers whose peers keep one
 * connection and send frame after frame (see ipc_serve_frames in ipc.h).
 * The peer's bytes are hostile: ipc.h's bounded reader takes them, and
 * anything that is not a frame ends the connection.  Run by anvil and
 * tlssign.
 */
#include <string.h>

#include "ipc.h"
#include "log.h"

int
ipc_serve_frames(int fd, struct buf *in, size_t max, ipc_request_fn fn,
		 void *ctx)
{
	const char *why = NULL;
	struct ipc_frame f;
	int r;

	ipc_frame_init(&f);
	while ((r = ipc_read_frame(fd, in, max, &f, &why)) == 1) {
		r = fn(ctx, &f, &why);
		ipc_frame_reset(&f);
		if (r != 0)
			break;
	}
	ipc_frame_free(&f);
	if (r >= 0)
		return 0;
	if (why == NULL || strcmp(why, IPC_WHY_EOF) != 0)
		log_warn("peer fd=%d: %s; closed", fd, why ? why : "bad frame");
	return -1;
}
