/*
 * spool: the layout of queue_directory, declared once.  `moat init` creates
 * it from this list and `moat check` verifies it.  Owner "$mail_owner" is
 * the queue owner parameter; daemons chrooted into the spool use the
 * relative names below.
 */
#ifndef MOAT_SPOOL_H
#define MOAT_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

#define SPOOL_INCOMING "incoming"	/* cleanup's shared sync page */
#define SPOOL_ACTIVE "active"		/* complete, being delivered */
#define SPOOL_DEFERRED "deferred"	/* waiting for a retry (mtime) */
#define SPOOL_HOLD "hold"		/* held by the administrator */
#define SPOOL_CORRUPT "corrupt"		/* unreadable queue and maildrop files */
#define SPOOL_MAILDROP "maildrop"	/* local submissions: postdrop, pickup */
#define SPOOL_PRIVATE "private"		/* daemons' sockets */
#define SPOOL_PUBLIC "public"		/* the admin socket */
#define SPOOL_PID "pid"			/* master.pid */
#define SPOOL_STATE "state"		/* local's delivery journal (root) */
#define SPOOL_MAPS "maps"		/* maps daemons keep: rcptmap's */
#define SPOOL_MTA_STS "mta-sts"		/* remote's MTA-STS policy cache */
#define SPOOL_SCREEN "screen"		/* the screen's cache (moat-screen) */
/* The local recipients, as map_open takes it (the file adds .lmdb). */
#define SPOOL_RECIPIENTS_MAP SPOOL_MAPS "/recipients"
/* The services' last failures: the master writes it, moat status reads. */
#define SPOOL_MASTER_STATE SPOOL_PID "/master.state"
/* The screen's cache of clients that passed (LMDB, with its -lock). */
#define SPOOL_SCREEN_CACHE SPOOL_SCREEN "/cache.lmdb"

struct spool_entry {
	const char *name;	/* relative to queue_directory; "." = itself */
	const char *owner;	/* a user name, or "$mail_owner" */
	const char *group;	/* a group name, or "$mail_owner"'s group */
	mode_t mode;
};

extern const struct spool_entry spool_layout[];
extern const size_t spool_layout_count;

#endif
