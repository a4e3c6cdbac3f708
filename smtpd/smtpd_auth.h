/*
 * smtpd_auth: smtpd's side of the password check (ipc_proto.h): the
 * credentials a client gave in AUTH go to auth(8) over private/auth, one
 * connection per attempt, connected, written and answered from the event
 * loop, so the session waits and the others go on.  smtpd never sees a password
 * hash.  auth's answer is checked before it is believed.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_AUTH_H
#define MOAT_SMTPD_AUTH_H

#include "buf.h"
#include "smtpd_session.h"

/*
 * The question for auth(8), framed into out (empty on entry): the
 * session's user, password, mechanism and client address.  The password
 * is wiped from the session and from every copy but out; empty when it
 * cannot be framed.
 */
void smtpd_auth_frame(struct smtpd_session *s, struct buf *out);
/* Wipe all of out's bytes (the password is among them) and free it. */
void smtpd_auth_wipe(struct buf *out);
/*
 * Read what auth sent so far (never blocks): 1 with the verdict in *r,
 * 0 more to come, -1 a broken or missing answer (logged; *r TEMP).
 */
int smtpd_auth_read(int fd, struct buf *in, enum smtpd_auth_result *r);

#endif
