/*
 * local_mbox: append a message to an mbox file (a user's mailbox, or a
 * /file target): a dot-lock NAME.lock beside the file (stale after
 * LOCAL_LOCK_STALE seconds) and an fcntl lock, a "From " line, the message
 * with mboxrd quoting, an empty line, fsync; any failure cuts the file back
 * to its old size.  The file and its directory are hostile: the mailbox is
 * opened through safe_open (no symbolic link, one hard link, the right
 * owner) and a refused one is left untouched.  The message bytes are
 * hostile too: quoting keeps them from forging a message boundary.
 * Runs in local's delivery child, as the mailbox's user (never root), and
 * in the unit tests (the quoting and From line are pure).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
#include "log.h"
#include "safe_open.h"

static const char mbox_from[] = "From ";

void
local_mbox_quote_init(struct local_mbox_quote *q)
{
	q->in_line = 0;
	q->gt = 0;
	q->matched = 0;
	q->last = -1;
}

/* Write out a line start that turned out not to be "^>*From ". */
static void
mbox_quote_flush(struct local_mbox_quote *q, struct buf *out)
{
	for (; q->gt > 0; q->gt--) {
		buf_append_char(out, '>');
		q->last = '>';
	}
	if (q->matched > 0) {
		buf_append(out, mbox_from, q->matched);
		q->last = mbox_from[q->matched - 1];
		q->matched = 0;
	}
}

/* Inside a line: copy up to and including its newline; bytes used. */
static size_t
mbox_quote_line(struct local_mbox_quote *q, const char *in, size_t len,
		struct buf *out)
{
	const char *nl = memchr(in, '\n', len);
	size_t n = nl != NULL ? (size_t)(nl - in) + 1 : len;

	buf_append(out, in, n);
	q->last = (unsigned char)in[n - 1];
	q->in_line = nl == NULL;
	return n;
}

void
local_mbox_quote(struct local_mbox_quote *q, const char *in, size_t len,
		 struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		char c = in[i];

		if (q->in_line) {
			i += mbox_quote_line(q, in + i, len - i, out);
			continue;
		}
		i++;
		if (q->matched == 0 && c == '>') {
			q->gt++;
			continue;
		}
		if (c == mbox_from[q->matched]) {
			if (++q->matched < sizeof(mbox_from) - 1)
				continue;
			buf_append_char(out, '>');
			mbox_quote_flush(q, out);
			q->in_line = 1;
			continue;
		}
		mbox_quote_flush(q, out);
		buf_append_char(out, c);
		q->last = (unsigned char)c;
		q->in_line = c != '\n';
	}
}

void
local_mbox_quote_end(struct local_mbox_quote *q, struct buf *out)
{
	mbox_quote_flush(q, out);
	if (q->last != '\n' && q->last != -1)
		buf_append_char(out, '\n');
	buf_append_char(out, '\n');
	q->last = '\n';
	q->in_line = 0;
}

int
local_mbox_from_line(const char *sender, time_t when, char *out, size_t size)
{
	char date[64];
	struct tm tm;
	size_t i, n;
	int len;

	if (localtime_r(&when, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		return -1;
	if (sender[0] == '\0')
		sender = "MAILER-DAEMON";
	len = snprintf(out, size, "From %s %s\n", sender, date);
	if (len < 0 || (size_t)len >= size)
		return -1;
	n = strlen(sender);
	for (i = 5; i < 5 + n; i++)
		if ((unsigned char)out[i] <= ' ' || out[i] == 0x7f)
			out[i] = '_';
	return len;
}

/*
 * 0 locked, 1 no permission to lock here (the fcntl lock must do), -1.
 * XXX in a world-writable sticky spool another user can plant NAME.lock
 * and hold up NAME's mail; a group-writable spool (root:mail 2775) cannot.
 */
static int
mbox_dotlock(int dirfd, const char *lock, struct local_result *r)
{
	time_t deadline = time(NULL) + LOCAL_LOCK_WAIT;
	struct stat st;
	int fd;

	for (;;) {
		fd = openat(
		    dirfd, lock,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 1;
		if (errno != EEXIST) {
			local_result_set(r, LOCAL_DEFER, "4.2.0",
					 "cannot create lock file %s: %s", lock,
					 strerror(errno));
			return -1;
		}
		if (fstatat(dirfd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime + LOCAL_LOCK_STALE < time(NULL)) {
			if (unlinkat(dirfd, lock, 0) == 0) {
				log_warn("removed stale lock file %s", lock);
				continue;
			}
			/* Not ours to remove (a sticky directory): wait. */
		}
		if (local_aborted())
			return local_abort_result(r);
		if (time(NULL) >= deadline) {
			local_result_set(r, LOCAL_DEFER, "4.2.0",
					 "mailbox is locked: %s exists", lock);
			return -1;
		}
		sleep(1);
	}
}

static int
mbox_fcntl_lock(int fd, struct local_result *r)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct timespec pause = {0, 200 * 1000 * 1000};
	int tries = LOCAL_LOCK_WAIT * 5;

	while (fcntl(fd, F_SETLK, &fl) != 0) {
		if (local_aborted())
			return local_abort_result(r);
		if ((errno != EACCES && errno != EAGAIN && errno != EINTR) ||
		    --tries <= 0) {
			local_result_set(
			    r, LOCAL_DEFER, "4.2.0", "cannot lock mailbox: %s",
			    tries <= 0 ? "locked by another process"
				       : strerror(errno));
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

struct mbox_sink {
	int fd;
	struct local_mbox_quote quote;
	struct buf out;
	off_t size; /* the file's size before delivery */
	off_t written;
	off_t limit;
	int over;
	struct local_result *r;
};

static int
mbox_sink_flush(struct mbox_sink *s)
{
	if (local_write_all(s->fd, s->out.data, s->out.len) != 0)
		return -1;
	s->written += (off_t)s->out.len;
	buf_reset(&s->out);
	if (s->limit > 0 && s->size + s->written > s->limit) {
		s->over = 1;
		return -1;
	}
	return 0;
}

static int
mbox_sink_write(void *ctx, const char *data, size_t len)
{
	struct mbox_sink *s = ctx;

	local_mbox_quote(&s->quote, data, len, &s->out);
	return mbox_sink_flush(s);
}

/* From line, prefix, message, end; fsync.  0 or -1 (r set). */
static int
mbox_write(struct mbox_sink *s, const struct local_mbox *mb,
	   const struct local_msg *msg)
{
	char from[ADDR_TEXT_MAX + 80];
	struct buf prefix = BUF_INIT;
	int len, rc = -1;

	len = local_mbox_from_line(msg->sender, time(NULL), from, sizeof(from));
	if (len < 0) {
		local_result_set(s->r, LOCAL_DEFER, "4.3.0",
				 "cannot format the From line");
		return -1;
	}
	buf_append(&s->out, from, (size_t)len);
	local_msg_prefix(&prefix, msg->sender, mb->rcpt);
	local_mbox_quote(&s->quote, prefix.data, prefix.len, &s->out);
	buf_free(&prefix);
	if (mbox_sink_flush(s) == 0 &&
	    local_msg_copy(msg, mbox_sink_write, s, s->r) == 0) {
		local_mbox_quote_end(&s->quote, &s->out);
		if (mbox_sink_flush(s) == 0 && fsync(s->fd) == 0)
			rc = local_commit_ok() ? 0 : local_abort_result(s->r);
	}
	if (rc != 0 && s->over)
		local_result_set(s->r, LOCAL_BOUNCE, "5.2.2",
				 "mailbox full: the size limit is %lld bytes",
				 (long long)s->limit);
	else if (rc != 0 && s->r->text[0] == '\0')
		local_result_set(s->r, LOCAL_DEFER, "4.3.0",
				 "cannot update %s: %s", mb->what,
				 strerror(errno));
	return rc;
}

/* Open, lock, append, unlock.  The dot-lock is already held. */
static int
mbox_append(const struct local_mbox *mb, const struct local_msg *msg,
	    struct local_result *r)
{
	struct mbox_sink s = {.limit = mb->size_limit, .r = r};
	struct buf why = BUF_INIT;
	struct stat st;
	int rc = -1;

	s.fd = safe_open(mb->dirfd, mb->name, O_WRONLY | O_APPEND, 0600,
			 mb->owner, SAFE_CREATE, &st, &why);
	if (s.fd < 0) {
		log_warn("%s: refusing %s %s: %s", msg->queue_id, mb->what,
			 mb->name, buf_cstr(&why));
		local_result_set(r, LOCAL_DEFER, "4.2.0", "cannot open %s: %s",
				 mb->what, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	if (mbox_fcntl_lock(s.fd, r) != 0 || fstat(s.fd, &st) != 0)
		goto out;
	s.size = st.st_size;
	if (s.limit > 0 && s.size + msg->length > s.limit) {
		local_result_set(r, LOCAL_BOUNCE, "5.2.2",
				 "mailbox full: the size limit is %lld bytes",
				 (long long)s.limit);
		goto out;
	}
	local_mbox_quote_init(&s.quote);
	r->text[0] = '\0';
	rc = mbox_write(&s, mb, msg);
	if (rc != 0 && (ftruncate(s.fd, s.size) != 0 || fsync(s.fd) != 0))
		log_error("%s: cannot truncate %s back to %lld bytes: %s",
			  msg->queue_id, mb->name, (long long)s.size,
			  strerror(errno));
out:
	buf_free(&s.out);
	close(s.fd);
	return rc;
}

int
local_mbox_deliver(const struct local_mbox *mb, const struct local_msg *msg,
		   struct local_result *r)
{
	char lock[NAME_MAX + 1];
	int locked, rc;

	if (snprintf(lock, sizeof(lock), "%s.lock", mb->name) >=
	    (int)sizeof(lock)) {
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "mailbox name too long: %s", mb->name);
		return -1;
	}
	locked = mbox_dotlock(mb->dirfd, lock, r);
	if (locked < 0)
		return -1;
	rc = mbox_append(mb, msg, r);
	if (locked == 0)
		(void)unlinkat(mb->dirfd, lock, 0);
	if (rc == 0)
		local_result_set(r, LOCAL_SENT, "2.0.0", "delivered to %s",
				 mb->what);
	return rc;
}
