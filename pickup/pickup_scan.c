/*
 * pickup_scan: the decisions pickup takes about a maildrop entry, from
 * what fstat reports and what the queue file parser found, and about
 * cleanup's answer.  The entries are hostile (any user can make postdrop
 * write one, and a broken or hostile postdrop can leave anything); these
 * functions only look at numbers and parsed fields.  Pure: no I/O, no
 * logging, no globals.  Runs in pickup and its unit test.
 */
#include <string.h>

#include "ipc_proto.h"
#include "maildrop.h"
#include "pickup.h"

static enum pickup_action
pickup_not_regular(const struct stat *st, struct buf *why)
{
	if (S_ISDIR(st->st_mode)) {
		buf_set_str(why, "a directory");
		return PICKUP_IGNORE;
	}
	if (S_ISLNK(st->st_mode))
		buf_set_str(why, "a symbolic link");
	else if (S_ISFIFO(st->st_mode))
		buf_set_str(why, "a fifo");
	else if (S_ISSOCK(st->st_mode))
		buf_set_str(why, "a socket");
	else
		buf_set_str(why, "a device or other special file");
	return PICKUP_REMOVE;
}

/*
 * A file without the owner execute bit is still being written.  Its age
 * is its ctime, which its owner cannot set back (utimes changes mtime).
 */
static enum pickup_action
pickup_incomplete(const struct stat *st, time_t now,
		  const struct pickup_limits *lim, struct buf *why)
{
	if ((long long)now - (long long)st->st_ctime <= lim->incomplete_max)
		return PICKUP_WAIT;
	buf_printf(why, "incomplete for more than %lld seconds",
		   lim->incomplete_max);
	return PICKUP_CORRUPT;
}

enum pickup_action
pickup_classify(const struct stat *st, time_t now,
		const struct pickup_limits *lim, struct buf *why)
{
	buf_reset(why);
	if (!S_ISREG(st->st_mode))
		return pickup_not_regular(st, why);
	if (st->st_nlink != 1) {
		buf_printf(why, "%lu hard links", (unsigned long)st->st_nlink);
		return PICKUP_CORRUPT;
	}
	if (!(st->st_mode & S_IXUSR))
		return pickup_incomplete(st, now, lim, why);
	if ((st->st_mode & 07777) != MAILDROP_MODE_DONE) {
		buf_printf(why, "mode %04o, expected %04o",
			   (unsigned)(st->st_mode & 07777),
			   (unsigned)MAILDROP_MODE_DONE);
		return PICKUP_CORRUPT;
	}
	if (st->st_size < 0 ||
	    (unsigned long long)st->st_size > lim->size_max) {
		buf_printf(why, "file too large (%lld bytes, limit %llu)",
			   (long long)st->st_size, lim->size_max);
		return PICKUP_CORRUPT;
	}
	if ((long long)st->st_uid > PICKUP_UID_MAX) {
		buf_printf(why, "owner uid %lu out of range",
			   (unsigned long)st->st_uid);
		return PICKUP_CORRUPT;
	}
	return PICKUP_READ;
}

int
pickup_check_env(const struct queue_env *env, size_t message_size_limit,
		 struct buf *why)
{
	size_t i;

	buf_reset(why);
	if (env->content_length > message_size_limit) {
		buf_printf(why,
			   "message too large (%zu bytes, "
			   "message_size_limit %zu)",
			   env->content_length, message_size_limit);
		return -1;
	}
	if (env->sender == NULL || env->rcpt_count == 0) {
		buf_set_str(why, "no sender or no recipient");
		return -1;
	}
	for (i = 0; i < env->rcpt_count; i++) {
		if (env->rcpt[i].status != QRCPT_TODO) {
			buf_set_str(why, "a recipient not marked new");
			return -1;
		}
	}
	return 0;
}

enum pickup_verdict
pickup_verdict_of(const char *status)
{
	if (status == NULL)
		return PICKUP_DEFER;
	if (strcmp(status, IPC_STATUS_OK) == 0)
		return PICKUP_QUEUED;
	if (strcmp(status, IPC_STATUS_REJECT) == 0)
		return PICKUP_REFUSED;
	return PICKUP_DEFER;
}

int
pickup_user_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= PICKUP_USER_MAX || (unsigned char)s[i] <= ' ' ||
		    (unsigned char)s[i] > '~')
			return 0;
	return i > 0;
}
