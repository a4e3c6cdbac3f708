/*
 * qmgr: the queue manager.  It loads messages from active/ (woken by
 * cleanup with the new queue ID), sends each recipient to its transport's
 * delivery agent, records the results in the queue file, sends DSNs
 * through cleanup, and moves what must wait to deferred/ with a next-try
 * time.  One process, persistent, driven by the event loop.
 *
 * Delivery goes through the transports of qmgr_transport.c: local(8)
 * and remote(8), with transport_maps (opened before the chroot; a
 * rebuilt map makes qmgr finish its deliveries and restart).
 *
 * Security stance: runs as mail_owner (moat-queue), chrooted in
 * queue_directory, sandbox SANDBOX_QMGR.  Listens on private/qmgr, which
 * every local user may connect to: the skeleton checks no peer (peers
 * NULL) and qmgr checks SO_PEERCRED itself, per request (qmgr_auth.c, the
 * same credentials as server_peer_uid / ipc_peer_cred plus the gid):
 * wake-ups only from the cleanup service's user; queue
 * administration (moat queue, mailq; qmgr_admin.c) from root and
 * admin_group members, and listing or flushing from anyone when
 * restrict_mailq or restrict_qrun say no.  A refused request is answered
 * "denied" and logged with the uid.  Connections other than cleanup's are
 * limited in number so local users cannot crowd out the wake-ups.
 * Hostile input: request frames (bounded, and only a well-formed queue ID
 * is used), agents' replies, and queue files, which are trusted only
 * after queue_file_read validated them.
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

/*
 * Security stance: enforced by the skeleton (server.h).  peers NULL: each
 * request is checked here (qmgr_auth.c).
 */
static const struct server_stance qmgr_stance = {
    .user = "$mail_owner",
    .chroot = 1,
    .sandbox = SANDBOX_QMGR,
    .peers = NULL,
};

#define QMGR_WAKE_CLIENTS 64     /* connections at once */
#define QMGR_WAKE_INPUT_MAX 4096 /* bytes buffered per connection */

struct qmgr_waker {
	int fd;
	struct qmgr_peer peer;
	struct buf in;
	unsigned long timer;
};

/* Forget the connection; close_fd 0: qmgr_admin took it over. */
static void
qmgr_waker_end(struct qmgr_waker *w, int close_fd)
{
	event_remove(w->fd);
	if (w->timer != 0)
		event_timer_cancel(w->timer);
	buf_free(&w->in);
	if (close_fd) {
		close(w->fd);
		qmgr_auth_leave(&w->peer);
		server_client_done();
	}
	free(w);
}

static void
qmgr_waker_close(struct qmgr_waker *w)
{
	qmgr_waker_end(w, 1);
}

/* One frame: {op=wake, queue_id} loads that message; no ID: flush. */
static int
qmgr_wake_frame(const struct ipc_frame *f)
{
	const char *id = ipc_get_str(f, IPC_QUEUE_ID);

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
	struct qmgr_peer peer;
	const char *op;
	int r;

	(void)events;
	ipc_frame_init(&f);
	while ((r = ipc_read_frame(fd, &w->in, QMGR_WAKE_INPUT_MAX, &f,
				   &why)) == 1) {
		op = ipc_get_str(&f, IPC_OP);
		if (op != NULL && qmgr_admin_is_request(op)) {
			/* One request per connection; the rest is ignored. */
			peer = w->peer;
			qmgr_waker_end(w, 0);
			qmgr_admin_start(fd, &peer, &f);
			ipc_frame_free(&f);
			return;
		}
		if (op == NULL || strcmp(op, IPC_OP_WAKE) != 0) {
			r = -1;
			why = "not a known request";
			break;
		}
		if (!qmgr_auth_allowed(&w->peer, QMGR_PERM_WAKE)) {
			r = -1;
			why = "wake-up not permitted";
			break;
		}
		if (qmgr_wake_frame(&f) != 0) {
			r = -1;
			why = "bad wake-up";
			break;
		}
		ipc_frame_reset(&f);
	}
	ipc_frame_free(&f);
	if (r < 0 && strcmp(why, IPC_WHY_EOF) == 0)
		qmgr_waker_close(w); /* a waker says its piece and goes */
	else if (r < 0) {
		log_warn("request from uid %lu pid %ld: %s; closed",
			 (unsigned long)w->peer.uid, (long)w->peer.pid,
			 why ? why : "bad frame");
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
	struct qmgr_waker *w;
	struct qmgr_peer peer;

	qmgr_queue_start();
	if (qmgr_auth_peer(fd, &peer) != 0) {
		log_warn("refused connection: peer credentials: %s",
			 strerror(errno));
		close(fd);
		server_client_done();
		return;
	}
	if (qmgr_auth_admit(&peer) != 0) {
		log_warn("refused connection from uid=%lu pid=%ld: too many "
			 "connections",
			 (unsigned long)peer.uid, (long)peer.pid);
		close(fd);
		server_client_done();
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->peer = peer;
	w->fd = fd;
	buf_init(&w->in);
	event_set(fd, EVENT_READ, qmgr_waker_on_read, w);
	w->timer = event_timer_add(param_int("ipc_timeout") * 1000,
				   qmgr_waker_on_timeout, w);
}

/* Still root and outside the chroot: users and groups are readable. */
static void
qmgr_pre_drop(int argc, char **argv)
{
	struct rlimit rl;

	(void)argc;
	(void)argv;
	qmgr_auth_init();
	/* Two descriptors per running delivery, plus the wake-ups; here,
	 * since the sandbox has no setrlimit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	qmgr_dest_init();
}

static void
qmgr_post_drop(void)
{
	qmgr_queue_init();
	qmgr_queue_scan_startup();
	/* The skeleton made the event loop before post_drop: arm it now. */
	qmgr_queue_start();
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &qmgr_stance,
	    .persistent = 1,
	    .pre_drop = qmgr_pre_drop,
	    .post_drop = qmgr_post_drop,
	    .accept_client = qmgr_accept,
	    .busy = qmgr_deliver_running,
	    .max_clients = QMGR_WAKE_CLIENTS,
	};

	return event_server_main(argc, argv, &ops);
}
