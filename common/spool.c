/* spool: the one list of spool directories with their owners and modes. */
#include "spool.h"

const struct spool_entry spool_layout[] = {
	{".", "root", "root", 0755},
	{SPOOL_INCOMING, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_ACTIVE, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_DEFERRED, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_HOLD, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_CORRUPT, "$mail_owner", "$mail_owner", 0700},
	{SPOOL_MAILDROP, "root", "moat-drop", 01730},
	{SPOOL_PRIVATE, "root", "root", 0711},
	{SPOOL_PUBLIC, "root", "moat-admin", 0710},
	{SPOOL_PID, "root", "root", 0755},
};

const size_t spool_layout_count = sizeof(spool_layout) / sizeof(spool_layout[0]);
