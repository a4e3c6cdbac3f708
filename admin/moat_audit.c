/*
 * moat_audit: `moat audit [--json]` compares a running instance with what
 * its daemons declare.  For every process of the master's tree it reads
 * /proc (moat_audit_proc.c), asks each program for its stance
 * (moat_audit_stance.c), and checks: the real, effective, saved and
 * filesystem ids and the groups are the stance user's; the root directory
 * is the spool exactly when the stance says chroot; a daemon with a
 * sandbox profile runs in seccomp filter mode with no_new_privs; an
 * unprivileged process has no capabilities; no network-facing process
 * holds the log, a password file, a queue file or a TLS private key
 * (only tlssign(8) reads those, and it keeps no descriptor of one), and
 * when a log service
 * runs nobody else holds the log; a daemon's children never run as root.
 * It also checks master.conf against the stances, the services' sockets
 * and the spool against spool.h.  Output: a table (or JSON), and exit 1
 * on any deviation.  Runs as root (complete) or as a member of
 * admin_group (without what /proc hides from others).
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat.h"
#include "moat_audit.h"
#include "params.h"
#include "service_table.h"
#include "tls_files.h"

/* Programs that read bytes from the network. */
static const char *const audit_network_programs[] = {"smtpd", "remote",
						     "screen", NULL};

static int
audit_in(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* root, or a member of admin_group (primary or supplementary). */
static int
audit_allowed(void)
{
	struct group *gr = getgrnam(param_str("admin_group"));
	gid_t groups[256];
	int n, i;

	if (geteuid() == 0)
		return 1;
	if (gr == NULL)
		return 0;
	if (getegid() == gr->gr_gid)
		return 1;
	n = getgroups(256, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return 1;
	return 0;
}

static int
audit_network_facing(const struct audit_proc *p)
{
	size_t i;

	if (audit_in(p->program, audit_network_programs))
		return 1;
	for (i = 0; i < p->nfds; i++)
		if (p->fds[i].kind == AUDIT_FD_LISTEN &&
		    strncmp(p->fds[i].text, "tcp", 3) == 0)
			return 1;
	return 0;
}

static void
audit_check_ids(struct audit_world *w, const struct audit_proc *p,
		const struct audit_stance *st)
{
	struct passwd *pw = getpwnam(st->resolved);
	int i;

	if (pw == NULL) {
		audit_deviation(w,
				"%s[%ld]: its stance's user %s does not "
				"exist",
				p->program, (long)p->pid, st->resolved);
		return;
	}
	for (i = 0; i < 4; i++)
		if (p->uid[i] != pw->pw_uid || p->gid[i] != pw->pw_gid) {
			audit_deviation(w,
					"%s[%ld]: runs as uid %lu gid %lu, its "
					"stance is %s (%lu:%lu)",
					p->program, (long)p->pid,
					(unsigned long)p->uid[i],
					(unsigned long)p->gid[i], st->resolved,
					(unsigned long)pw->pw_uid,
					(unsigned long)pw->pw_gid);
			return;
		}
	if (pw->pw_uid == 0)
		return;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] != pw->pw_gid)
			audit_deviation(w,
					"%s[%ld]: keeps supplementary group "
					"%lu",
					p->program, (long)p->pid,
					(unsigned long)p->groups[i]);
}

static int
audit_caps_zero(const char *hex)
{
	return hex[0] != '\0' && strspn(hex, "0") == strlen(hex);
}

/* A daemon started by the master, against its stance. */
static void
audit_check_daemon(struct audit_world *w, const struct audit_proc *p)
{
	const struct audit_stance *st = audit_stance_of(p->program);
	const char *want_root;

	if (st == NULL || !st->known) {
		audit_deviation(w, "%s[%ld]: declares no stance (%s -S)",
				p->program, (long)p->pid, p->program);
		return;
	}
	audit_check_ids(w, p, st);
	want_root = st->chroot ? w->spool : "/";
	if (strcmp(p->root, "?") != 0 && strcmp(p->root, want_root) != 0)
		audit_deviation(w,
				"%s[%ld]: root directory %s, its stance "
				"wants %s",
				p->program, (long)p->pid, p->root, want_root);
	if (strcmp(st->sandbox, "none") != 0 && p->seccomp != 2)
		audit_deviation(w,
				"%s[%ld]: seccomp mode %d, its stance "
				"wants filter mode 2 (profile %s)",
				p->program, (long)p->pid, p->seccomp,
				st->sandbox);
	if (p->no_new_privs != 1)
		audit_deviation(w, "%s[%ld]: no_new_privs is not set",
				p->program, (long)p->pid);
	if (strcmp(st->resolved, "root") != 0 &&
	    (!audit_caps_zero(p->cap_eff) || !audit_caps_zero(p->cap_prm)))
		audit_deviation(w,
				"%s[%ld]: holds capabilities (CapEff %s, "
				"CapPrm %s)",
				p->program, (long)p->pid, p->cap_eff,
				p->cap_prm);
}

/* A process forked by a daemon: never root once it runs on its own. */
static void
audit_check_child(struct audit_world *w, const struct audit_proc *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (p->uid[i] == 0) {
			audit_deviation(w,
					"%s[%ld]: a child of a daemon runs "
					"with uid 0",
					p->program, (long)p->pid);
			return;
		}
	if (p->no_new_privs != 1)
		audit_deviation(w, "%s[%ld]: no_new_privs is not set",
				p->program, (long)p->pid);
}

static void
audit_check_fds(struct audit_world *w, const struct audit_proc *p,
		int log_service)
{
	int net = audit_network_facing(p), log_ok;
	size_t i;

	log_ok = p->depth == 0 ||
		 (log_service ? strcmp(p->program, "logd") == 0 : !net);
	for (i = 0; i < p->nfds; i++) {
		const struct audit_fd *f = &p->fds[i];
		if ((f->kind == AUDIT_FD_LOG && !log_ok) ||
		    (f->kind == AUDIT_FD_TLS_KEY && p->depth > 0 &&
		     (net || strcmp(p->program, "tlssign") != 0)) ||
		    (net &&
		     (f->kind == AUDIT_FD_PASSWD || f->kind == AUDIT_FD_QUEUE)))
			audit_deviation(w, "%s[%ld]: holds %s on fd %d: %s",
					p->program, (long)p->pid,
					audit_fd_kind_name(f->kind), f->fd,
					f->text);
	}
}

/* master.conf's user and chroot columns against each stance. */
static void
audit_check_conf(struct audit_world *w, const struct service_table *t)
{
	struct buf why = BUF_INIT;
	size_t i;

	for (i = 0; i < t->count; i++) {
		buf_reset(&why);
		if (audit_service_stance(&t->svc[i], &why) != 0)
			audit_deviation(w, "%s", buf_cstr(&why));
	}
	buf_free(&why);
}

static void
audit_spool_report(void *ctx, const char *what)
{
	audit_deviation(ctx, "spool: %s", what);
}

static void
audit_check(struct audit_world *w, const struct service_table *t)
{
	int log_service = 0;
	size_t i;

	for (i = 0; i < w->count; i++)
		if (w->proc[i].depth == 1 &&
		    strcmp(w->proc[i].program, "logd") == 0)
			log_service = 1;
	audit_check_conf(w, t);
	for (i = 0; i < w->count; i++) {
		const struct audit_proc *p = &w->proc[i];
		if (p->program[0] == '\0')
			continue; /* exited while we looked */
		if (p->depth == 1)
			audit_check_daemon(w, p);
		else if (p->depth > 1)
			audit_check_child(w, p);
		audit_check_fds(w, p, log_service);
	}
	moat_spool_verify(audit_spool_report, w);
}

static void
audit_add_keys(struct audit_world *w, const struct service *svc)
{
	struct tls_file_list l;
	struct buf err = BUF_INIT;
	char real[PATH_MAX];
	size_t i;

	if (tls_service_files(svc, &l, &err) == 0)
		for (i = 0; i < l.nkey; i++) {
			w->tls_keys =
			    xreallocarray(w->tls_keys, w->ntls_keys + 1,
					  sizeof(*w->tls_keys));
			w->tls_keys[w->ntls_keys++] =
			    xstrdup(realpath(l.key[i], real) ? real : l.key[i]);
		}
	tls_file_list_free(&l);
	buf_free(&err);
}

/* The key files of main.conf and of every smtpd line's overrides. */
static void
audit_load_keys(struct audit_world *w, const struct service_table *t)
{
	size_t i;

	audit_add_keys(w, NULL);
	for (i = 0; i < t->count; i++)
		if (strcmp(t->svc[i].command, "smtpd") == 0)
			audit_add_keys(w, &t->svc[i]);
}

static int
audit_setup(struct audit_world *w, const struct service_table *t)
{
	const char *log = param_str("maillog_file");

	memset(w, 0, sizeof(*w));
	if (realpath(param_str("queue_directory"), w->spool) == NULL) {
		moat_error("%s: %s", param_str("queue_directory"),
			   strerror(errno));
		return -1;
	}
	if (log[0] != '\0' && realpath(log, w->log_path) == NULL)
		strlcpy(w->log_path, log, sizeof(w->log_path));
	audit_load_keys(w, t);
	return 0;
}

int
moat_audit(const char *conf_dir, int argc, char **argv)
{
	struct audit_world w;
	struct service_table t;
	struct buf err = BUF_INIT;
	int json = argc > 1 && strcmp(argv[1], "--json") == 0;
	long master;

	if (argc > 2 || (argc == 2 && !json)) {
		moat_error("usage: moat audit [--json]");
		return 2;
	}
	if (moat_load_params(conf_dir) != 0)
		return 1;
	if (!audit_allowed()) {
		moat_error("audit: only root and members of %s may audit",
			   param_str("admin_group"));
		return 1;
	}
	if ((master = moat_master_pid(param_str("queue_directory"))) <= 0) {
		if (master == 0)
			moat_error("the mail system is not running");
		return 1;
	}
	if (service_table_load(conf_dir, &t, &err) != 0) {
		moat_error("%s", buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	if (audit_setup(&w, &t) != 0 || audit_collect(&w, (pid_t)master) != 0 ||
	    audit_sockets(&w, conf_dir) != 0) {
		service_table_free(&t);
		return 1;
	}
	audit_check(&w, &t);
	if (json)
		audit_print_json(&w);
	else
		audit_print_text(&w);
	service_table_free(&t);
	buf_free(&err);
	return w.ndeviations > 0 ? 1 : 0;
}
