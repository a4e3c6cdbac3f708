/*
 * cleanup: the queue writer.  Each connection on private/cleanup submits
 * one message (ipc_proto.h, "Submission to cleanup"); cleanup checks it,
 * adds its Received header and any missing Message-ID, Date (and From for
 * local submissions), enforces the header and size limits, writes
 * incoming/ID durably, moves it to active/ID and wakes qmgr.
 *
 * Security stance: runs as mail_owner (moat-queue), chrooted in
 * queue_directory, sandbox SANDBOX_CLEANUP, one submission at a time per
 * process (the master runs several).  Peers: the users of the smtpd,
 * local, qmgr and pickup services, and root (local's parent runs as root
 * and resubmits forwarded mail; root could write the queue anyway).  All
 * their bytes are hostile: every frame is validated and every length
 * bounded.  The submitting uid a frame claims is believed only from the
 * pickup service's user.
 */
#include <errno.h>
#include <fcntl.h>
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

static const char *const cleanup_peers[] = {"smtpd",  "local", "qmgr",
					    "pickup", "root",  NULL};

static struct cleanup_config cleanup_cfg = {
    .incoming_fd = -1, .active_fd = -1, .pickup_uid = (uid_t)-1};

/* The user of a service running command, or NULL. */
static const char *
cleanup_service_user(const struct service_table *t, const char *command)
{
	const struct service *svc = service_find_command(t, command);

	return svc != NULL ? svc->user : NULL;
}

/*
 * Learn the pickup service's uid, the only peer whose submit_uid counts.
 * A pickup that shares its user with another peer, or runs as root, could
 * not be told apart from it: then nobody's claim is believed.
 */
static void
cleanup_find_pickup(void)
{
	static const char *const others[] = {"smtpd", "local", "qmgr"};
	struct service_table t;
	struct buf err = BUF_INIT;
	const char *user, *other;
	gid_t gid;
	uid_t uid;
	size_t i;

	if (service_table_load(server_config_dir(), &t, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	user = cleanup_service_user(&t, "pickup");
	if (user == NULL || privilege_user_ids(user, &uid, &gid) != 0 ||
	    uid == 0) {
		service_table_free(&t);
		return;
	}
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		other = cleanup_service_user(&t, others[i]);
		if (other != NULL && strcmp(other, user) == 0) {
			log_warn("pickup runs as %s like %s: submit_uid is "
				 "never believed",
				 user, others[i]);
			service_table_free(&t);
			return;
		}
	}
	cleanup_cfg.pickup_uid = uid;
	service_table_free(&t);
}

static void
cleanup_pre_drop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cleanup_find_pickup();
	cleanup_cfg.myhostname = param_str("myhostname");
	cleanup_cfg.myorigin = param_str("myorigin");
	cleanup_cfg.timeout = (int)param_int("ipc_timeout");
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
	    .sandbox = SANDBOX_CLEANUP,
	    .peers = cleanup_peers,
	    .pre_drop = cleanup_pre_drop,
	    .post_drop = cleanup_post_drop,
	    .serve = cleanup_serve,
	};

	return single_server_main(argc, argv, &ops);
}
