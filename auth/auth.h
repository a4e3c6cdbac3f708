/*
 * auth: declarations shared by the auth daemon's files.  auth.c serves
 * smtpd's questions; auth_passwd.c checks them against the password map
 * (smtpd_sasl_password_maps); auth_dovecot.c asks Dovecot's auth socket,
 * whose replies auth_dovecot_parse.c reads (pure, fuzzed).
 */
#ifndef MOAT_AUTH_H
#define MOAT_AUTH_H

#include <stddef.h>

#include "buf.h"

/* A verdict, as ipc_proto.h's status words. */
enum auth_verdict { AUTH_OK, AUTH_FAIL, AUTH_TEMP };

#define AUTH_USER_MAX 255
#define AUTH_PASS_MAX 1024

/* auth_passwd.c: before the drop, open the map (failure: logged). */
void auth_passwd_open(const char *source);
enum auth_verdict auth_passwd_check(const char *user, const char *pass);
/* 1 when the map was rebuilt (or is missing): a new process must come. */
int auth_passwd_stale(void);

/* auth_dovecot.c: one question to the socket at path (in the chroot). */
enum auth_verdict auth_dovecot_check(const char *path, const char *user,
				     const char *pass, const char *client_addr,
				     int timeout);

/*
 * auth_dovecot_parse.c: the client side of Dovecot's authentication
 * protocol (version 1.x), strict.  The server's lines are hostile:
 * tab-separated fields of at most DOVECOT_LINE_MAX bytes, no NUL or CR,
 * values with Dovecot's \001 escapes.
 */
#define DOVECOT_LINE_MAX 8192

enum dovecot_state {
	DOVECOT_HANDSHAKE, /* before DONE */
	DOVECOT_READY,     /* handshake done, no answer yet */
	DOVECOT_ANSWERED,  /* OK, FAIL or CONT for our request */
};

struct dovecot_client {
	enum dovecot_state state;
	int version_ok;   /* VERSION 1.x seen */
	int plain;        /* the server offers PLAIN */
	unsigned long id; /* our request's id */
	enum auth_verdict verdict;
	char user[AUTH_USER_MAX + 1]; /* user= of OK or FAIL, "" if none */
};

void dovecot_client_init(struct dovecot_client *d, unsigned long id);
/*
 * Take every complete line of in (consumed): 1 when the conversation
 * reached the state the caller waits for (READY after the handshake,
 * ANSWERED after a request), 0 when more bytes are needed, -1 with *why
 * for anything that breaks the protocol (the conversation is over).
 */
int dovecot_client_feed(struct dovecot_client *d, struct buf *in,
			const char **why);

#endif
