/*
 * moat_queue: `moat queue list [--json|--mailq]`, `show [--raw] ID`,
 * `flush`, and `hold`, `release`, `requeue`, `delete ID...`.  Each request
 * goes to qmgr over queue_directory/private/qmgr (protocol in
 * ipc_proto.h); qmgr decides from the kernel's peer credentials whether
 * this user may do it (root, admin_group, restrict_mailq, restrict_qrun),
 * so this command needs no privilege of its own: it runs as whoever calls
 * it, also as mailq and sendmail -q.  Input: qmgr's replies (checked
 * before use, printed with control bytes neutralised) and, for show, the
 * queue file qmgr passes, which is validated with queue_file_read before
 * anything of it is printed.  Exit status: 0, 1 (an error, or no such
 * message), 2 (usage), 75 (qmgr not reachable), 77 (not permitted).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "moat.h"
#include "params.h"
#include "queue_file.h"
#include "queue_format.h"

int
moat_queue_send(const char *op, const char *id, int *sock)
{
	struct ipc_frame f;
	int timeout = (int)param_int("ipc_timeout"), saved;

	/* Relative: a deep queue_directory still fits in sun_path. */
	if (chdir(param_str("queue_directory")) != 0 ||
	    (*sock = ipc_connect(IPC_SOCK_QMGR, timeout)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			moat_error("cannot reach qmgr: the mail system is not "
				   "running?");
		else
			moat_error("cannot reach qmgr: %s", strerror(errno));
		return EX_TEMPFAIL;
	}
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, op);
	if (id != NULL)
		ipc_put_str(&f, IPC_QUEUE_ID, id);
	if (ipc_send(*sock, &f, -1, timeout) != 0) {
		saved = errno;
		ipc_frame_free(&f);
		close(*sock);
		moat_error("cannot reach qmgr: %s", strerror(saved));
		return EX_TEMPFAIL;
	}
	ipc_frame_free(&f);
	return 0;
}

int
moat_queue_recv(int sock, struct ipc_frame *f)
{
	const char *why = "connection closed";
	int r = ipc_recv(sock, f, (int)param_int("ipc_timeout"), &why);

	if (r == 1)
		return 0;
	moat_error("no answer from qmgr: %s", why);
	return EX_TEMPFAIL;
}

int
moat_queue_status(const struct ipc_frame *f, const char *id)
{
	const char *status = ipc_get_str(f, IPC_STATUS);
	const char *text = ipc_get_str(f, IPC_TEXT);
	struct buf safe = BUF_INIT;
	int rc;

	if (status == NULL) {
		moat_error("bad reply from qmgr");
		return 1;
	}
	if (strcmp(status, IPC_STATUS_OK) == 0)
		return 0;
	queue_format_safe(&safe, text != NULL ? text : "(no reason given)");
	if (id != NULL)
		moat_error("%s: %s", id, buf_cstr(&safe));
	else
		moat_error("%s", buf_cstr(&safe));
	rc = strcmp(status, IPC_STATUS_DENIED) == 0 ? EX_NOPERM : 1;
	buf_free(&safe);
	return rc;
}

/* One request that is answered by one status frame. */
static int
moat_queue_simple(const char *op, const char *id, int quiet)
{
	struct ipc_frame f;
	struct buf safe = BUF_INIT;
	const char *text;
	int sock, rc;

	if ((rc = moat_queue_send(op, id, &sock)) != 0)
		return rc;
	ipc_frame_init(&f);
	rc = moat_queue_recv(sock, &f);
	if (rc == 0)
		rc = moat_queue_status(&f, id);
	if (rc == 0 && !quiet && (text = ipc_get_str(&f, IPC_TEXT)) != NULL) {
		queue_format_safe(&safe, text);
		moat_say("%s: %s", id, buf_cstr(&safe));
	}
	buf_free(&safe);
	ipc_frame_free(&f);
	close(sock);
	return rc;
}

static int
moat_queue_change(const char *op, int argc, char **argv)
{
	int i, rc = 0, r;

	if (argc < 2) {
		moat_error("usage: moat queue %s ID...", op);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (!queue_id_valid(argv[i])) {
			moat_error("%s: not a queue ID", argv[i]);
			r = 2;
		} else {
			r = moat_queue_simple(op, argv[i], 0);
		}
		if (r != 0 && rc == 0)
			rc = r;
	}
	return rc;
}

static int
moat_queue_usage(void)
{
	moat_error("usage: moat queue list [--json | --mailq] | show [--raw] "
		   "ID | flush | hold ID... | release ID... | requeue ID... | "
		   "delete ID...");
	return 2;
}

int
moat_queue(const char *conf_dir, int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		return moat_queue_usage();
	if (moat_load_params(conf_dir) != 0)
		return 1;
	sub = argv[1];
	argc--;
	argv++;
	if (strcmp(sub, "list") == 0)
		return moat_queue_list(argc, argv);
	if (strcmp(sub, "show") == 0)
		return moat_queue_show(argc, argv);
	if (strcmp(sub, "flush") == 0) {
		if (argc != 1)
			return moat_queue_usage();
		return moat_queue_simple(IPC_OP_FLUSH, NULL, 1);
	}
	if (strcmp(sub, "hold") == 0)
		return moat_queue_change(IPC_OP_HOLD, argc, argv);
	if (strcmp(sub, "release") == 0)
		return moat_queue_change(IPC_OP_RELEASE, argc, argv);
	if (strcmp(sub, "requeue") == 0)
		return moat_queue_change(IPC_OP_REQUEUE, argc, argv);
	if (strcmp(sub, "delete") == 0)
		return moat_queue_change(IPC_OP_DELETE, argc, argv);
	moat_error("queue: unknown command %s", sub);
	return moat_queue_usage();
}
