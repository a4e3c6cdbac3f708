/*
 * smtpd_recipients: is a local part one of this host's recipients?  The
 * answer comes from the recipients map that rcptmap(8) keeps in the spool
 * (maps/recipients.lmdb: the accounts that may receive mail and the alias
 * keys), opened read-only inside the chroot and reopened in place when
 * rcptmap has replaced it.  Input: local parts from the network, already
 * through the address parser; here they are only case-folded, split at
 * recipient_delimiter and bounded.  Runs in smtpd, after the drop.
 */
#ifndef MOAT_SMTPD_RECIPIENTS_H
#define MOAT_SMTPD_RECIPIENTS_H

/*
 * 1: a recipient (the local part, or its base before recipient_delimiter,
 * folded to lower case, is a key); 0: unknown; -1: the map cannot be read
 * now (none built yet, or unreadable): try again later.
 */
int smtpd_recipient_exists(const char *local);

#endif
