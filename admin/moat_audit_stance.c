/*
 * moat_audit_stance: what each daemon program declares about itself.
 * `daemon_directory/PROG -S` prints its stance (common/server.h) as
 * name=value lines and exits before it reads anything; the audit runs it
 * once per program, directly (no shell, clean environment), and keeps the
 * answer.  Input: that output, from a root-owned program, still parsed
 * with bounds.  Also the services' sockets: their mode, owner, and the
 * users of the peers each server lets in.  Runs in `moat audit`.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "moat.h"
#include "moat_audit.h"
#include "params.h"
#include "service_table.h"

#define AUDIT_STANCES_MAX 32
#define AUDIT_STANCE_OUTPUT_MAX 4096

static struct audit_stance audit_stances[AUDIT_STANCES_MAX];
static size_t audit_nstances;

static void
audit_stance_field(struct audit_stance *st, const char *name, const char *value)
{
	if (strcmp(name, "user") == 0)
		strlcpy(st->user, value, sizeof(st->user));
	else if (strcmp(name, "chroot") == 0)
		st->chroot = strcmp(value, "y") == 0;
	else if (strcmp(name, "sandbox") == 0)
		strlcpy(st->sandbox, value, sizeof(st->sandbox));
	else if (strcmp(name, "peers") == 0)
		strlcpy(st->peers, value, sizeof(st->peers));
	else if (strcmp(name, "pass_peers") == 0)
		strlcpy(st->pass_peers, value, sizeof(st->pass_peers));
}

/* The account "$param" stands for, or the name itself. */
static void
audit_stance_resolve(struct audit_stance *st)
{
	const char *v = st->user;

	if (st->user[0] == '$')
		v = param_find(st->user + 1) != NULL ? param_str(st->user + 1)
						     : "";
	strlcpy(st->resolved, v, sizeof(st->resolved));
}

static void
audit_stance_parse(struct audit_stance *st, char *text)
{
	char *line, *save = NULL, *eq;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		audit_stance_field(st, line, eq + 1);
	}
	st->known = st->user[0] != '\0' && st->sandbox[0] != '\0';
	audit_stance_resolve(st);
}

const struct audit_stance *
audit_stance_of(const char *program)
{
	struct audit_stance *st;
	struct buf path = BUF_INIT, out = BUF_INIT;
	char *argv[3];
	size_t i;

	for (i = 0; i < audit_nstances; i++)
		if (strcmp(audit_stances[i].program, program) == 0)
			return &audit_stances[i];
	if (audit_nstances == AUDIT_STANCES_MAX)
		return NULL;
	st = &audit_stances[audit_nstances++];
	memset(st, 0, sizeof(*st));
	strlcpy(st->program, program, sizeof(st->program));
	if (strchr(program, '/') != NULL || program[0] == '\0' ||
	    program[0] == '.')
		return st; /* not a program name: unknown */
	buf_printf(&path, "%s/%s", param_str("daemon_directory"), program);
	argv[0] = (char *)program;
	argv[1] = (char *)"-S";
	argv[2] = NULL;
	if (moat_run_output(buf_cstr(&path), argv, &out,
			    AUDIT_STANCE_OUTPUT_MAX) == 0 &&
	    out.data != NULL)
		audit_stance_parse(st, out.data);
	buf_free(&path);
	buf_free(&out);
	return st;
}

/*
 * "smtpd(moat-smtpd) root": the users behind a stance's list of peer
 * commands (its peers, or its pass_peers for a pass service).
 */
static void
audit_peer_users(const char *list, const struct service_table *t, char *out,
		 size_t size)
{
	char peers[256], *cmd, *save = NULL;
	struct buf b = BUF_INIT;
	size_t i;

	if (strcmp(list, "*") == 0 || list[0] == '\0') {
		strlcpy(out, list[0] ? "* (anyone)" : "-", size);
		return;
	}
	strlcpy(peers, list, sizeof(peers));
	for (cmd = strtok_r(peers, ",", &save); cmd != NULL;
	     cmd = strtok_r(NULL, ",", &save)) {
		if (strcmp(cmd, "root") == 0) {
			buf_printf(&b, "%sroot", b.len ? " " : "");
			continue;
		}
		for (i = 0; i < t->count; i++)
			if (strcmp(t->svc[i].command, cmd) == 0)
				break;
		buf_printf(&b, "%s%s(%s)", b.len ? " " : "", cmd,
			   i < t->count ? t->svc[i].user : "not running");
	}
	strlcpy(out, buf_cstr(&b), size);
	buf_free(&b);
}

static void
audit_socket_stat(struct audit_world *w, struct audit_socket *s)
{
	char path[PATH_MAX], mode[11] = "----------";
	struct passwd *pw;
	struct group *gr;
	struct stat st;
	int i;

	i = snprintf(path, sizeof(path), "%s/%s", w->spool, s->name);
	if (i < 0 || (size_t)i >= sizeof(path) || lstat(path, &st) != 0) {
		strlcpy(s->mode, "-", sizeof(s->mode));
		audit_deviation(w, "socket %s: %s", path, strerror(errno));
		return;
	}
	mode[0] = S_ISSOCK(st.st_mode) ? 's' : '?';
	for (i = 0; i < 9; i++)
		if (st.st_mode & (0400 >> i))
			mode[1 + i] = "rwxrwxrwx"[i];
	strlcpy(s->mode, mode, sizeof(s->mode));
	pw = getpwuid(st.st_uid);
	gr = getgrgid(st.st_gid);
	snprintf(s->owner, sizeof(s->owner), "%s:%s", pw ? pw->pw_name : "?",
		 gr ? gr->gr_name : "?");
	/* The master makes them root's, 0666: SO_PEERCRED decides. */
	if (!S_ISSOCK(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 07777) != 0666)
		audit_deviation(w,
				"socket %s is %s %s, expected a socket, "
				"root's, 0666",
				path, s->mode, s->owner);
}

static void
audit_no_pass_peers(struct audit_world *w, const struct service *svc,
		    struct audit_socket *s)
{
	strlcpy(s->peers, "-", sizeof(s->peers));
	audit_deviation(w,
			"master.conf line %u: %s is a pass service, but %s "
			"takes no passed clients",
			svc->lineno, svc->name, svc->command);
}

int
audit_sockets(struct audit_world *w, const char *conf_dir)
{
	struct service_table t;
	struct buf err = BUF_INIT;
	const struct audit_stance *st;
	size_t i;

	if (service_table_load(conf_dir, &t, &err) != 0) {
		moat_error("%s", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	w->sock = xcalloc(t.count + 1, sizeof(*w->sock));
	for (i = 0; i < t.count; i++) {
		struct audit_socket *s = &w->sock[w->nsock++];
		strlcpy(s->name, t.svc[i].name, sizeof(s->name));
		s->is_unix = SERVICE_IS_SOCKET_PATH(t.svc[i].type);
		strlcpy(s->mode, "-", sizeof(s->mode));
		if (s->is_unix)
			audit_socket_stat(w, s);
		st = audit_stance_of(t.svc[i].command);
		if (st == NULL || !st->known)
			strlcpy(s->peers, "?", sizeof(s->peers));
		else if (t.svc[i].type != SERVICE_PASS)
			audit_peer_users(st->peers, &t, s->peers,
					 sizeof(s->peers));
		else if (st->pass_peers[0] != '\0')
			audit_peer_users(st->pass_peers, &t, s->peers,
					 sizeof(s->peers));
		else
			audit_no_pass_peers(w, &t.svc[i], s);
	}
	service_table_free(&t);
	return 0;
}

int
audit_service_stance(const struct service *svc, struct buf *why)
{
	const struct audit_stance *st = audit_stance_of(svc->command);

	if (st == NULL || !st->known)
		return 0; /* no declaration to compare with */
	if (strcmp(svc->user, st->resolved) == 0 && svc->chroot == st->chroot)
		return 0;
	buf_printf(why,
		   "master.conf line %u: %s runs as %s chroot %s, its "
		   "stance is %s chroot %s",
		   svc->lineno, svc->command, svc->user,
		   svc->chroot ? "y" : "n", st->resolved,
		   st->chroot ? "y" : "n");
	return -1;
}
