/*
 * resolve: where an address goes.  One answer for smtpd (relay decisions),
 * cleanup and qmgr (transport choice): a domain is local when it is empty
 * or listed in mydestination (case-insensitively, with $ expansion).
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

#endif
