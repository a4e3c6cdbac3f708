/*
 * smtpd_auth: ask auth(8) whether a user's password is right (see
 * smtpd_auth.h).  The password leaves the session in one frame whose
 * bytes are wiped as soon as it is sent (smtpd_io_auth.c sends it).  auth is a
 * local daemon, yet its answer is read with ipc.h's bounded reader and only
 * "ok", "fail" and "temp" mean anything.  Run by smtpd.
 */
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "smtpd_auth.h"
#include "smtpd_sasl.h"

#define AUTH_REPLY_MAX 4096

void
smtpd_auth_frame(struct smtpd_session *s, struct buf *out)
{
	struct ipc_frame f;
	size_t need = strlen(s->sec.auth_user) + strlen(s->sec.auth_pass) +
		      strlen(s->client_addr) + 256;

	/* Room for all of it first: no growing copy of the password is
	 * left behind, unwiped, by realloc. */
	ipc_frame_init(&f);
	buf_reserve(&f.raw, need);
	buf_reserve(out, need + IPC_HEADER_LEN);
	ipc_put_str(&f, IPC_OP, IPC_OP_AUTH);
	ipc_put_str(&f, IPC_MECH, smtpd_sasl_mech_name(s->sec.auth_mech));
	ipc_put_str(&f, IPC_USER, s->sec.auth_user);
	ipc_put_str(&f, IPC_PASS, s->sec.auth_pass);
	ipc_put_str(&f, IPC_CLIENT_ADDR, s->client_addr);
	smtpd_session_auth_forget(s);
	if (ipc_frame_append(out, &f) != 0)
		smtpd_auth_wipe(out); /* too big for a frame: nothing to send */
	explicit_bzero(f.raw.data, f.raw.cap);
	ipc_frame_free(&f);
}

void
smtpd_auth_wipe(struct buf *out)
{
	if (out->data != NULL)
		explicit_bzero(out->data, out->cap);
	buf_free(out);
}

int
smtpd_auth_read(int fd, struct buf *in, enum smtpd_auth_result *r)
{
	struct ipc_frame f;
	const char *why = NULL, *status;
	int got;

	*r = SMTPD_AUTH_TEMP;
	ipc_frame_init(&f);
	got = ipc_read_frame(fd, in, AUTH_REPLY_MAX, &f, &why);
	if (got == 1) {
		status = ipc_get_str(&f, IPC_STATUS);
		if (status != NULL && strcmp(status, IPC_STATUS_OK) == 0)
			*r = SMTPD_AUTH_OK;
		else if (status != NULL && strcmp(status, IPC_STATUS_FAIL) == 0)
			*r = SMTPD_AUTH_FAIL;
		else if (status == NULL ||
			 strcmp(status, IPC_STATUS_TEMP) != 0) {
			why = "malformed answer";
			got = -1;
		}
	}
	ipc_frame_free(&f);
	if (got < 0)
		log_warn("%s: %s", IPC_SOCK_AUTH, why ? why : "no answer");
	return got;
}
