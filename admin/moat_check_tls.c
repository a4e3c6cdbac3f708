/*
 * moat_check_tls: the part of `moat check` about TLS and AUTH.  For every
 * smtpd service (main.conf with the line's -o overrides): the security
 * level, the certificate and key files (root's; a key readable by no one
 * else; each key the pair of its certificate), the tlssign service that
 * must hold the keys; the restriction lists (moat_check_restrict.c); and
 * where AUTH is on, the auth service and its backend: a
 * password map that is root's, open to no one else and not older than its
 * source, or a Dovecot socket path inside the spool.  Input: the
 * instance's files, read as root.  Runs in the moat command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "moat.h"
#include "params.h"
#include "service_table.h"
#include "tls_files.h"

static void
moat_tls_report(void *ctx, const char *what)
{
	(void)ctx;
	moat_problem("%s", what);
}

const char *
moat_svc_value(const struct service *svc, const char *name, struct buf *v)
{
	struct buf err = BUF_INIT;

	if (service_param(svc, name, v, &err) != 0) {
		moat_problem("master.conf:%u: %s: %s", svc->lineno, name,
			     buf_cstr(&err));
		buf_reset(v);
	}
	buf_free(&err);
	return buf_cstr(v);
}

void
moat_check_secret_map(const char *source, int secret)
{
	struct buf lmdb = BUF_INIT;
	struct stat src, map;

	buf_printf(&lmdb, "%s.lmdb", source);
	if (stat(source, &src) != 0) {
		moat_problem("%s: %s%s", source, strerror(errno),
			     secret ? ": add users with moat passwd USER" : "");
	} else if (src.st_uid != 0 || (src.st_mode & (secret ? 077 : 022))) {
		moat_problem("%s must be owned by root with mode %s", source,
			     secret ? "600 (it holds password hashes)"
				    : "644 or stricter");
	} else if (stat(buf_cstr(&lmdb), &map) != 0 ||
		   map.st_mtim.tv_sec < src.st_mtim.tv_sec) {
		moat_problem("%s is missing or older than %s: run moat map "
			     "build %s",
			     buf_cstr(&lmdb), source, source);
	} else if (map.st_uid != 0 || (map.st_mode & (secret ? 077 : 022))) {
		moat_problem("%s must be owned by root with mode %s",
			     buf_cstr(&lmdb), secret ? "600" : "644");
	}
	buf_free(&lmdb);
}

static void
moat_check_auth(const struct service_table *t)
{
	const char *type = param_str("smtpd_sasl_type");
	const char *path = param_str("smtpd_sasl_path");

	if (service_find_command(t, "auth") == NULL)
		moat_problem("master.conf: AUTH is enabled but no auth service "
			     "checks passwords; add the line \"private/auth "
			     "unix moat-auth y 4 auth\"");
	if (strcmp(type, "dovecot") == 0) {
		if (path[0] == '\0' || path[0] == '/' || strstr(path, ".."))
			moat_problem("smtpd_sasl_path %s: must be a path "
				     "inside queue_directory (auth runs "
				     "chrooted there), such as "
				     "private/dovecot-auth",
				     path);
	} else if (strcmp(type, "moat") == 0) {
		if (param_str("smtpd_sasl_password_maps")[0] == '\0')
			moat_problem("smtpd_sasl_password_maps is empty: no "
				     "password can be right");
		else
			moat_check_secret_map(
			    param_str("smtpd_sasl_password_maps"), 1);
	} else {
		moat_problem("smtpd_sasl_type: expected moat or dovecot, not "
			     "%s",
			     type);
	}
}

void
moat_check_security(const struct service_table *t)
{
	struct buf v = BUF_INIT;
	int auth = 0;
	size_t i;

	(void)tls_check_services(t, 1, moat_tls_report, NULL);
	for (i = 0; i < t->count; i++) {
		if (strcmp(t->svc[i].command, "smtpd") != 0)
			continue;
		moat_check_restrictions(&t->svc[i]);
		auth |= strcmp(moat_svc_value(&t->svc[i],
					      "smtpd_sasl_auth_enable", &v),
			       "yes") == 0;
	}
	if (auth)
		moat_check_auth(t);
	if (param_str("smtpd_sender_login_maps")[0] != '\0')
		moat_check_secret_map(param_str("smtpd_sender_login_maps"), 0);
	buf_free(&v);
}
