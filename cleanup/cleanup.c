/*
 * cleanup: the queue writer.  Each connection on private/cleanup submits
 * one message (ipc_proto.h, "Submission to cleanup"); cleanup checks it,
 * adds its Received header and any missing Message-ID, Date (and From for
 * local submissions), enforces the header and size limits, writes
 * active/ID durably (partial until complete) and wakes qmgr.
 *
 * Security stance: runs as mail_owner (moat-queue), chrooted in
 * queue_directory, sandbox SANDBOX_CLEANUP, one submission at a time per
 * process (the master runs several).  Peers: the users of the smtpd, qmgr
 * and pickup services, and local_resolver_user (moat-local: local's
 * unprivileged resolver, which resubmits forwarded mail); never root.
 * All their bytes are hostile: every frame is validated and every length
 * bounded.  What a submission may claim (local submission, the submitting
 * uid, a bounce, forwarding) follows from which of these users the peer
 * is (SO_PEERCRED), never from a field of the frame (cleanup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "log.h"
#include "params.h"
#include "privilege.h"
#include "server.h"
#include "service_table.h"
#include "spool.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const cleanup_peers[] = {"smtpd", "qmgr", "pickup",
					    "$local_resolver_user", NULL};
static const struct server_stance cleanup_stance = {
    .user = "$mail_owner",
    .chroot = 1,
    .sandbox = SANDBOX_CLEANUP,
    .peers = cleanup_peers,
};

static struct group_sync cleanup_active_sync;
static struct cleanup_config cleanup_cfg = {
    .incoming_fd = -1, .active_fd = -1, .active_sync = &cleanup_active_sync};

static const char *const cleanup_origin_label[CLEANUP_FROM_UNKNOWN] = {
    [CLEANUP_FROM_SMTPD] = "smtpd",
    [CLEANUP_FROM_QMGR] = "qmgr",
    [CLEANUP_FROM_LOCAL] = "local_resolver_user",
    [CLEANUP_FROM_PICKUP] = "pickup",
};

/*
 * uid (the account user) means origin o.  A uid that means two origins
 * gets the less trusted one, with a warning: cleanup could not tell them
 * apart.  root means nothing: it is no peer.
 */
static void
cleanup_learn_origin(enum cleanup_origin o, const char *user)
{
	enum cleanup_origin other;
	uid_t uid;
	gid_t gid;

	if (privilege_user_ids(user, &uid, &gid) != 0 || uid == 0)
		return;
	other = cleanup_origin_of(&cleanup_cfg, uid);
	if (other != CLEANUP_FROM_UNKNOWN && other != o) {
		log_warn("%s and %s both run as %s: its submissions are taken "
			 "as %s's",
			 cleanup_origin_label[o], cleanup_origin_label[other],
			 user, cleanup_origin_label[other < o ? other : o]);
		if (other < o)
			return;
		cleanup_cfg.origin_known[other] = 0;
	}
	cleanup_cfg.origin_uid[o] = uid;
	cleanup_cfg.origin_known[o] = 1;
}

/*
 * Learn which uid means which origin (cleanup.h): the users of the smtpd,
 * qmgr and pickup services in master.conf, and local_resolver_user for
 * local's forwarding (local's own service runs as root and never submits).
 */
static void
cleanup_learn_origins(void)
{
	static const enum cleanup_origin services[] = {
	    CLEANUP_FROM_SMTPD, CLEANUP_FROM_QMGR, CLEANUP_FROM_PICKUP};
	struct service_table t;
	struct buf err = BUF_INIT;
	size_t i, k;

	if (service_table_load(server_config_dir(), &t, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	for (i = 0; i < t.count; i++)
		for (k = 0; k < sizeof(services) / sizeof(services[0]); k++)
			if (strcmp(t.svc[i].command,
				   cleanup_origin_label[services[k]]) == 0)
				cleanup_learn_origin(services[k],
						     t.svc[i].user);
	service_table_free(&t);
	cleanup_learn_origin(CLEANUP_FROM_LOCAL,
			     param_str("local_resolver_user"));
}

static void
cleanup_pre_drop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cleanup_learn_origins();
	cleanup_cfg.myhostname = param_str("myhostname");
	cleanup_cfg.myorigin = param_str("myorigin");
	cleanup_cfg.timeout = (int)param_int("ipc_timeout");
	cleanup_cfg.time_limit = param_int("cleanup_submission_time_limit");
	cleanup_cfg.min_rate =
	    (unsigned long long)param_int("cleanup_submission_min_rate");
	cleanup_cfg.message_size_limit =
	    (size_t)param_int("message_size_limit");
	cleanup_cfg.header_size_limit = (size_t)param_int("header_size_limit");
	cleanup_cfg.header_count_limit =
	    (size_t)param_int("header_count_limit");
	cleanup_cfg.hopcount_limit = (size_t)param_int("hopcount_limit");
}

static int
cleanup_open_dir(const char *name)
{
	int fd = open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		log_fatal("open %s: %s", name, strerror(errno));
	return fd;
}

/* In queue_directory (or its chroot), as mail_owner. */
static void
cleanup_post_drop(void)
{
	cleanup_cfg.incoming_fd = cleanup_open_dir(SPOOL_INCOMING);
	cleanup_cfg.active_fd = cleanup_open_dir(SPOOL_ACTIVE);
	if (group_sync_open(&cleanup_active_sync, cleanup_cfg.incoming_fd,
			    CLEANUP_ACTIVE_SYNC) < 0)
		log_warn("%s/%s: %s: each submission syncs active/ alone",
			 SPOOL_INCOMING, CLEANUP_ACTIVE_SYNC, strerror(errno));
	if (atexit(cleanup_file_drop_spare) != 0)
		log_fatal("atexit: %s", strerror(errno));
	cleanup_file_make_spare(&cleanup_cfg);
}

static void
cleanup_serve(int client_fd)
{
	cleanup_submit(client_fd, &cleanup_cfg);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &cleanup_stance,
	    .pre_drop = cleanup_pre_drop,
	    .post_drop = cleanup_post_drop,
	    .on_term = cleanup_file_drop_spare,
	    .serve = cleanup_serve,
	};

	return single_server_main(argc, argv, &ops);
}
