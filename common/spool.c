/*
 * spool: the one list of spool directories with their owners and modes.
 * maildrop/ belongs to moat-pickup (which lists, reads and removes its
 * files) and group moat-drop (postdrop, setgid, may only create files in
 * it: 01730); corrupt/ lets group moat-pickup move bad maildrop files in.
 * maps/ is rcptmap's, setgid group moat-smtpd: the recipients map it
 * writes there (0640) takes that group, so smtpd can read it and no one
 * else can.  mta-sts/ is remote's cache of MTA-STS policies, its alone.
 * screen/ is the screen's own: its cache of clients that passed.
 */
#include "spool.h"

const struct spool_entry spool_layout[] = {
	{".", "root", "root", 0755},
	{SPOOL_INCOMING, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_ACTIVE, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_DEFERRED, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_HOLD, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_CORRUPT, "$mail_owner", "moat-pickup", 0730},
	{SPOOL_MAILDROP, "moat-pickup", "moat-drop", 01730},
	{SPOOL_PRIVATE, "root", "root", 0711},
	{SPOOL_PUBLIC, "root", "moat-admin", 0710},
	{SPOOL_PID, "root", "root", 0755},
	{SPOOL_STATE, "root", "root", 0700},
	{SPOOL_MAPS, "moat-rcptmap", "moat-smtpd", 02750},
	{SPOOL_MTA_STS, "moat-remote", "moat-remote", 0700},
	{SPOOL_SCREEN, "moat-screen", "moat-screen", 0700},
};

const size_t spool_layout_count = sizeof(spool_layout) / sizeof(spool_layout[0]);
