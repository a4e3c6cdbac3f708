/*
 * resolve: where an address goes.  One answer for smtpd (relay decisions),
 * cleanup and qmgr (transport choice): a domain is local when it is empty
 * or listed in mydestination (case-insensitively, with $ expansion).
 * And which login names local delivery takes (rcptmap, local).
 * Pure apart from reading parameters.
 */
#ifndef MOAT_RESOLVE_H
#define MOAT_RESOLVE_H

#include <stddef.h>

int resolve_domain_is_local(const char *domain);

/*
 * Split a local part at recipient_delimiter: copies the base (e.g. "user"
 * of "user+ext") into out.  Returns 0, or -1 when it does not fit.
 */
int resolve_local_base(const char *local, char *out, size_t size);

#define RESOLVE_LOGIN_MAX 64 /* the longest login name delivered to */
/*
 * 1 when name is a login name local delivery looks up: 1 to
 * RESOLVE_LOGIN_MAX bytes of [a-z0-9._-], not starting with '-' or '.'.
 * rcptmap takes only such accounts as recipients, so nothing accepted at
 * RCPT time bounces for want of a mailbox owner.
 */
int resolve_login_ok(const char *name);

#endif
