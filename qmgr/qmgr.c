/*
 * qmgr: the queue manager.  It loads messages from active/ (woken by
 * cleanup with the new queue ID), sends each recipient to its transport's
 * delivery agent, records the results in the queue file, sends DSNs
 * through cleanup, and moves what must wait to deferred/ with a next-try
 * time.  One process, persistent, driven by the event loop.
 *
 * Security stance: runs as mail_owner (moat-queue), chrooted in
 * queue_directory, sandbox SANDBOX_QMGR.  Listens on private/qmgr for
 * wake-ups from cleanup and, as root, the admin command (SO_PEERCRED is
 * checked by the skeleton).  Hostile input: wake frames (bounded, and only
 * a well-formed queue ID is used), agents' replies, and queue files, which
 * are trusted only after queue_file_read validated them.
 * On SIGHUP (reload) it starts no new delivery and exits once those in
 * flight have answered (the skeleton's busy hook), so a reload delivers
 * nothing twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "qmgr.h"
#include "server.h"

#define QMGR_WAKE_CLIENTS 64     /* wake connections at once */
#define QMGR_WAKE_INPUT_MAX 4096 /* bytes buffered per connection */

struct qmgr_waker {
	int fd;
	struct buf in;
	unsigned long timer;
};

static void
qmgr_waker_close(struct qmgr_waker *w)
{
	event_remove(w->fd);
	close(w->fd);
	if (w->timer != 0)
		event_timer_cancel(w->timer);
	buf_free(&w->in);
	free(w);
	server_client_done();
}

/* One frame: {op=wake, queue_id} loads that message; no ID: flush. */
static int
qmgr_wake_frame(const struct ipc_frame *f)
{
	const char *op = ipc_get_str(f, IPC_OP);
	const char *id = ipc_get_str(f, IPC_QUEUE_ID);

	if (op == NULL || strcmp(op, IPC_OP_WAKE) != 0)
		return -1;
	if (ipc_get(f, IPC_QUEUE_ID) == NULL) {
		qmgr_queue_flush();
		return 0;
	}
	if (id == NULL || !queue_id_valid(id))
		return -1;
	qmgr_queue_want(id);
	return 0;
}

static void
qmgr_waker_on_read(int fd, unsigned events, void *ctx)
{
	struct qmgr_waker *w = ctx;
	const char *why = NULL;
	struct ipc_frame f;
	char chunk[1024];
	ssize_t n;
	int r;

	(void)events;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || w->in.len + (size_t)n > QMGR_WAKE_INPUT_MAX) {
		if (n > 0)
			log_warn("wake-up: over-long input; closed");
		qmgr_waker_close(w);
		return;
	}
	buf_append(&w->in, chunk, (size_t)n);
	ipc_frame_init(&f);
	while ((r = ipc_take_frame(&w->in, &f, &why)) == 1) {
		if (qmgr_wake_frame(&f) != 0) {
			r = -1;
			why = "not a wake-up";
			break;
		}
		ipc_frame_reset(&f);
	}
	ipc_frame_free(&f);
	if (r < 0) {
		log_warn("wake-up from uid %ld: %s; closed",
			 (long)server_peer_uid(fd), why ? why : "bad frame");
		qmgr_waker_close(w);
	}
}

static void
qmgr_waker_on_timeout(void *ctx)
{
	struct qmgr_waker *w = ctx;

	w->timer = 0;
	qmgr_waker_close(w);
}

static void
qmgr_accept(int fd)
{
	struct qmgr_waker *w = xcalloc(1, sizeof(*w));

	qmgr_queue_start();
	w->fd = fd;
	buf_init(&w->in);
	event_set(fd, EVENT_READ, qmgr_waker_on_read, w);
	w->timer = event_timer_add(param_int("ipc_timeout") * 1000,
				   qmgr_waker_on_timeout, w);
}

static void
qmgr_post_drop(void)
{
	struct rlimit rl;

	/* Two descriptors per running delivery, plus the wake-ups. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	qmgr_queue_init();
	qmgr_queue_scan_startup();
	/* The skeleton made the event loop before post_drop: arm it now. */
	qmgr_queue_start();
}

int
main(int argc, char **argv)
{
	static const char *const peers[] = {"cleanup", "root", NULL};
	static const struct server_ops ops = {
	    .sandbox = SANDBOX_QMGR,
	    .peers = peers,
	    .persistent = 1,
	    .post_drop = qmgr_post_drop,
	    .accept_client = qmgr_accept,
	    .busy = qmgr_deliver_running,
	    .max_clients = QMGR_WAKE_CLIENTS,
	};

	return event_server_main(argc, argv, &ops);
}
