/*
 * qmgr_auth: who may do what on qmgr's socket.  private/qmgr is open to
 * every local user (mode 0666 in a 0711 directory), so qmgr checks each
 * connection's SO_PEERCRED itself: wake-ups come from the cleanup
 * service's user only (no root process sends one: the admin commands
 * flush and requeue instead); listing needs root, admin_group or
 * restrict_mailq = no; flushing root, admin_group or restrict_qrun = no;
 * reading a message and changing the queue root or admin_group only.
 * admin_group membership (its members, users whose primary group it is,
 * and callers running with its gid) and the cleanup users are resolved in
 * pre_drop, before the chroot, since NSS is gone after it.
 * XXX a membership change takes effect at the next start of qmgr.
 * Connections are counted in pools so that local users cannot take the
 * slots cleanup's wake-ups need.  Input: the kernel's credentials of the
 * peer, and the group and password databases.  Runs in qmgr.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "params.h"
#include "privilege.h"
#include "qmgr.h"
#include "server.h"
#include "service_table.h"

#define QMGR_CLEANUP_COMMAND "cleanup"

static uid_t *qmgr_cleanup_uids, *qmgr_admin_uids;
static size_t qmgr_cleanup_count, qmgr_admin_count;
static gid_t qmgr_admin_gid;
static int qmgr_admin_gid_known;
static unsigned qmgr_pool_used[QMGR_POOL_COUNT];

static const unsigned qmgr_pool_limit[QMGR_POOL_COUNT] = {
    [QMGR_POOL_CLEANUP] = 0, /* the skeleton's max_clients only */
    [QMGR_POOL_ADMIN] = QMGR_ADMIN_CLIENTS,
    [QMGR_POOL_USER] = QMGR_USER_CLIENTS,
};

static int
qmgr_auth_has(const uid_t *set, size_t n, uid_t uid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == uid)
			return 1;
	return 0;
}

static void
qmgr_auth_add(uid_t **set, size_t *n, uid_t uid)
{
	if (qmgr_auth_has(*set, *n, uid))
		return;
	*set = xreallocarray(*set, *n + 1, sizeof(**set));
	(*set)[(*n)++] = uid;
}

/* The users of every service running cleanup (root grants nothing). */
static void
qmgr_auth_load_cleanup(void)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	uid_t uid;
	gid_t gid;
	size_t i;

	if (service_table_load(server_config_dir(), &t, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	for (i = 0; i < t.count; i++) {
		if (strcmp(t.svc[i].command, QMGR_CLEANUP_COMMAND) != 0)
			continue;
		if (privilege_user_ids(t.svc[i].user, &uid, &gid) != 0)
			log_warn("service=%s: peer cleanup: unknown user %s",
				 server_service_name(), t.svc[i].user);
		else if (uid != 0)
			qmgr_auth_add(&qmgr_cleanup_uids, &qmgr_cleanup_count,
				      uid);
	}
	service_table_free(&t);
	buf_free(&err);
	if (qmgr_cleanup_count == 0)
		log_warn("service=%s: no cleanup service in master.conf: "
			 "nobody can wake qmgr",
			 server_service_name());
}

/* admin_group's gid, its listed members and its primary members. */
static void
qmgr_auth_load_admins(void)
{
	const char *name = param_str("admin_group");
	struct passwd *pw;
	struct group *gr;
	char **m;

	if (name[0] == '\0')
		return;
	errno = 0;
	gr = getgrnam(name);
	if (gr == NULL) {
		log_warn("admin_group %s: %s; only root may administer the "
			 "queue",
			 name, errno != 0 ? strerror(errno) : "no such group");
		return;
	}
	qmgr_admin_gid = gr->gr_gid;
	qmgr_admin_gid_known = 1;
	for (m = gr->gr_mem; m != NULL && *m != NULL; m++) {
		pw = getpwnam(*m);
		if (pw != NULL)
			qmgr_auth_add(&qmgr_admin_uids, &qmgr_admin_count,
				      pw->pw_uid);
	}
	/* XXX a huge remote password database makes this start slow. */
	setpwent();
	while ((pw = getpwent()) != NULL)
		if (pw->pw_gid == qmgr_admin_gid)
			qmgr_auth_add(&qmgr_admin_uids, &qmgr_admin_count,
				      pw->pw_uid);
	endpwent();
}

void
qmgr_auth_init(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	/* The checks here need SO_PEERCRED: never serve anything else. */
	if (getsockname(SERVER_LISTEN_FD, (struct sockaddr *)&ss, &len) != 0 ||
	    ss.ss_family != AF_UNIX)
		log_fatal("service=%s: qmgr serves only a unix socket",
			  server_service_name());
	qmgr_auth_load_cleanup();
	qmgr_auth_load_admins();
}

/* SO_PEERCRED: ipc_peer_cred's uid, plus the gid qmgr needs here. */
int
qmgr_auth_peer(int fd, struct qmgr_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	if (len != sizeof(cred)) {
		errno = EPROTO;
		return -1;
	}
	p->uid = cred.uid;
	p->gid = cred.gid;
	p->pid = cred.pid;
	p->cleanup =
	    qmgr_auth_has(qmgr_cleanup_uids, qmgr_cleanup_count, p->uid);
	p->admin = p->uid == 0 ||
		   qmgr_auth_has(qmgr_admin_uids, qmgr_admin_count, p->uid) ||
		   (qmgr_admin_gid_known && p->gid == qmgr_admin_gid);
	if (p->cleanup)
		p->pool = QMGR_POOL_CLEANUP;
	else if (p->admin)
		p->pool = QMGR_POOL_ADMIN;
	else
		p->pool = QMGR_POOL_USER;
	return 0;
}

int
qmgr_auth_admit(const struct qmgr_peer *p)
{
	unsigned limit = qmgr_pool_limit[p->pool];

	if (limit != 0 && qmgr_pool_used[p->pool] >= limit)
		return -1;
	qmgr_pool_used[p->pool]++;
	return 0;
}

void
qmgr_auth_leave(const struct qmgr_peer *p)
{
	if (qmgr_pool_used[p->pool] > 0)
		qmgr_pool_used[p->pool]--;
}

int
qmgr_auth_allowed(const struct qmgr_peer *p, enum qmgr_perm perm)
{
	switch (perm) {
	case QMGR_PERM_WAKE:
		return p->cleanup;
	case QMGR_PERM_SEE:
		return p->admin || !param_bool("restrict_mailq");
	case QMGR_PERM_RUN:
		return p->admin || !param_bool("restrict_qrun");
	case QMGR_PERM_READ:
	case QMGR_PERM_CHANGE:
		return p->admin;
	}
	return 0;
}

const char *
qmgr_auth_denial(enum qmgr_perm perm)
{
	switch (perm) {
	case QMGR_PERM_SEE:
	case QMGR_PERM_READ:
		return "You are not permitted to see the queue";
	case QMGR_PERM_RUN:
		return "You are not permitted to run the queue";
	case QMGR_PERM_WAKE:
	case QMGR_PERM_CHANGE:
		break;
	}
	return "You are not permitted to change the queue";
}
