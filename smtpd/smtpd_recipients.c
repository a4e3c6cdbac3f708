/*
 * smtpd_recipients: the RCPT check against rcptmap's recipients map
 * (smtpd_recipients.h).  The map is opened by its path inside the chroot
 * at the first lookup; at each lookup a stat of the path tells whether
 * it still names the open file (device and inode); when rcptmap has
 * renamed a new map over it, the new one is opened in its place, so a
 * user added a second ago is known to a session already open.  While no map can
 * be opened, every local recipient is "try again", never "unknown".  Input:
 * local parts from the network, bounded and already parsed.  Runs in smtpd.
 */
#include <errno.h>
#include <string.h>

#include "address.h"
#include "log.h"
#include "maps.h"
#include "resolve.h"
#include "smtpd_recipients.h"
#include "spool.h"

static struct map *smtpd_recipients;
static int smtpd_recipients_errno; /* of the last failure logged, or 0 */

/* The current map, or NULL (logged once per kind of failure). */
static struct map *
smtpd_recipients_map(void)
{
	struct buf err = BUF_INIT;

	if (smtpd_recipients != NULL &&
	    map_still_at(smtpd_recipients, SPOOL_RECIPIENTS_MAP))
		return smtpd_recipients;
	map_close(smtpd_recipients);
	smtpd_recipients = map_open(SPOOL_RECIPIENTS_MAP, &err);
	if (smtpd_recipients == NULL && errno != smtpd_recipients_errno) {
		smtpd_recipients_errno = errno;
		log_warn("recipients map %s; local recipients get 451 until "
			 "rcptmap builds it",
			 buf_cstr(&err));
	} else if (smtpd_recipients != NULL && smtpd_recipients_errno != 0) {
		smtpd_recipients_errno = 0;
		log_info("recipients map %s.lmdb opened", SPOOL_RECIPIENTS_MAP);
	}
	buf_free(&err);
	return smtpd_recipients;
}

static int
smtpd_recipients_lookup(struct map *m, const char *key)
{
	struct buf value = BUF_INIT;
	int r = map_lookup(m, key, &value);

	buf_free(&value);
	return r;
}

int
smtpd_recipient_exists(const char *local)
{
	char lower[ADDR_LOCAL_MAX * 2 + 3], base[sizeof(lower)];
	struct map *m = smtpd_recipients_map();
	size_t i;
	int r;

	if (m == NULL)
		return -1;
	if (strlcpy(lower, local, sizeof(lower)) >= sizeof(lower))
		return 0;
	for (i = 0; lower[i] != '\0'; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	r = smtpd_recipients_lookup(m, lower);
	if (r != 0 || resolve_local_base(lower, base, sizeof(base)) != 0 ||
	    strcmp(base, lower) == 0)
		return r;
	return smtpd_recipients_lookup(m, base);
}
