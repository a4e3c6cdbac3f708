/*
 * smtpd_auth: smtpd's side of the password check (ipc_proto.h): the
 * credentials a client gave in AUTH go to auth(8) over private/auth, one
 * connection per attempt, and the answer is read from the event loop, so
 * the session waits and the others go on.  smtpd never sees a password
 * hash.  auth's answer is checked before it is believed.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_AUTH_H
#define MOAT_SMTPD_AUTH_H

#include "buf.h"
#include "smtpd_session.h"

/*
 * Connect to auth(8) and send the session's user, password (which is
 * wiped from the session and the frame), mechanism and client address.
 * The connected socket to read the answer from, or -1 (logged).
 */
int smtpd_auth_send(struct smtpd_session *s, int timeout);
/*
 * Read what auth sent so far (never blocks): 1 with the verdict in *r,
 * 0 more to come, -1 a broken or missing answer (logged; *r TEMP).
 */
int smtpd_auth_read(int fd, struct buf *in, enum smtpd_auth_result *r);

#endif
