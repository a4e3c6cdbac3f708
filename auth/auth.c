/*
 * auth: checks the passwords smtpd's clients give in AUTH, so that no
 * hash, and no path to one, is ever in the network-facing process.
 * smtpd connects to private/auth once per attempt and sends
 * {op=auth, mech, user, pass, client_addr}; auth answers ok, fail or
 * temp (ipc_proto.h).  The backend is smtpd_sasl_type: "moat", the
 * password map smtpd_sasl_password_maps (auth_passwd.c, opened before
 * the drop), or "dovecot", Dovecot's authentication socket
 * smtpd_sasl_path inside the spool (auth_dovecot.c).  One process checks
 * one password at a time (a yescrypt hash is costly on purpose); the
 * master starts more when all are busy.
 *
 * Security stance: runs as moat-auth, chrooted in queue_directory,
 * sandbox SANDBOX_AUTH, single_server_main; peers: smtpd only
 * (SO_PEERCRED, by the skeleton).  Hostile input: every request (user
 * and password bounded, no NUL or control bytes in the name), and
 * Dovecot's answers.  After the drop it opens nothing; it connects only
 * to Dovecot's socket.  Passwords are wiped from memory once checked.
 */
#include <string.h>

#include "auth.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "server.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const auth_peers[] = {"smtpd", NULL};
static const struct server_stance auth_stance = {
    .user = "moat-auth",
    .chroot = 1,
    .sandbox = SANDBOX_AUTH,
    .peers = auth_peers,
};

static int auth_dovecot;
static const char *auth_dovecot_path;
static int auth_timeout;

/* A name: 1..AUTH_USER_MAX bytes, none blank or control. */
static int
auth_user_ok(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > AUTH_USER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

static void
auth_reply(int fd, enum auth_verdict v)
{
	static const char *const words[] = {IPC_STATUS_OK, IPC_STATUS_FAIL,
					    IPC_STATUS_TEMP};
	struct ipc_frame r;

	ipc_frame_init(&r);
	ipc_put_str(&r, IPC_STATUS, words[v]);
	if (ipc_send(fd, &r, -1, auth_timeout) != 0)
		log_warn("smtpd went away before its answer");
	ipc_frame_free(&r);
}

static enum auth_verdict
auth_check(const char *user, const char *pass, const char *client)
{
	if (auth_dovecot)
		return auth_dovecot_check(auth_dovecot_path, user, pass, client,
					  auth_timeout);
	return auth_passwd_check(user, pass);
}

static void
auth_serve(int fd)
{
	const char *why = NULL, *op, *user, *pass, *client;
	enum auth_verdict v;
	struct ipc_frame f;

	ipc_frame_init(&f);
	if (ipc_recv(fd, &f, auth_timeout, &why) != 1) {
		log_warn("no request: %s", why != NULL ? why : "closed");
		ipc_frame_free(&f);
		return;
	}
	op = ipc_get_str(&f, IPC_OP);
	user = ipc_get_str(&f, IPC_USER);
	pass = ipc_get_str(&f, IPC_PASS);
	client = ipc_get_str(&f, IPC_CLIENT_ADDR);
	if (op == NULL || strcmp(op, IPC_OP_AUTH) != 0 || user == NULL ||
	    !auth_user_ok(user) || pass == NULL || pass[0] == '\0' ||
	    strlen(pass) > AUTH_PASS_MAX) {
		log_warn("malformed request; closed");
	} else {
		v = auth_check(user, pass, client);
		auth_reply(fd, v);
	}
	explicit_bzero(f.raw.data, f.raw.cap);
	ipc_frame_free(&f);
	if (!auth_dovecot && auth_passwd_stale())
		server_wind_down(); /* the next process reads the new map */
}

static void
auth_pre_drop(int argc, char **argv)
{
	const char *type = param_str("smtpd_sasl_type");

	(void)argc;
	(void)argv;
	auth_timeout = (int)param_int("ipc_timeout");
	if (strcmp(type, "dovecot") == 0) {
		auth_dovecot = 1;
		auth_dovecot_path = xstrdup(param_str("smtpd_sasl_path"));
		if (auth_dovecot_path[0] == '/' || auth_dovecot_path[0] == '\0')
			log_fatal("smtpd_sasl_path %s: must be a path inside "
				  "queue_directory, where auth runs chrooted "
				  "(such as private/dovecot-auth)",
				  auth_dovecot_path);
	} else if (strcmp(type, "moat") == 0) {
		auth_passwd_open(param_str("smtpd_sasl_password_maps"));
	} else {
		log_fatal("smtpd_sasl_type: expected moat or dovecot, not %s",
			  type);
	}
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &auth_stance,
	    .pre_drop = auth_pre_drop,
	    .serve = auth_serve,
	};

	return single_server_main(argc, argv, &ops);
}
