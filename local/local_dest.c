/*
 * local_dest: the destinations one recipient's expansion reaches (a
 * mailbox, a command, a file, a remote address) and the bookkeeping of
 * their results: each destination at most once, at most LOCAL_LEAVES_MAX
 * of them, one log line each in Postfix's shape, and the overall result
 * (defer over bounce over sent).  Mailbox, command and file deliveries run
 * in children (local_child.c); the remote addresses go to cleanup in one
 * resubmission at the end.  Input: targets already validated by the
 * parsers, and results from children (validated there).
 * Runs in local's root parent.
 */
#include <ctype.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "local.h"
#include "local_resolve.h"
#include "log.h"
#include "params.h"

static void
dest_log(struct local_expansion *st, const char *to,
	 const struct local_result *r)
{
	const struct local_msg *m = st->msg;
	int orig = strcasecmp(to, m->rcpt) != 0;

	struct timespec now;
	double delay;

	clock_gettime(CLOCK_REALTIME, &now);
	delay = (double)(now.tv_sec - m->arrival) + now.tv_nsec / 1e9;
	/* Postfix's shape: local logs its deliveries, qmgr does not repeat. */
	log_info("%s: to=<%s>%s%s%s, relay=local, delay=%.2f, dsn=%s, "
		 "status=%s (%s)",
		 m->queue_id, to, orig ? ", orig_to=<" : "",
		 orig ? m->rcpt : "", orig ? ">" : "", delay < 0 ? 0 : delay,
		 r->dsn,
		 r->status == LOCAL_SENT     ? "sent"
		 : r->status == LOCAL_BOUNCE ? "bounced"
					     : "deferred",
		 r->text);
}

void
local_dest_record(struct local_expansion *st, const char *to,
		  const struct local_result *r)
{
	dest_log(st, to, r);
	st->recorded++;
	if (r->status == LOCAL_SENT && st->sent++ == 0)
		st->first = *r;
	local_result_merge(&st->worst, r);
}

void
local_dest_fail(struct local_expansion *st, const char *to,
		enum local_status status, const char *dsn, const char *fmt, ...)
{
	struct local_result r;
	va_list ap;

	va_start(ap, fmt);
	r.status = status;
	strlcpy(r.dsn, dsn, sizeof(r.dsn));
	(void)vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	local_text_clean(r.text);
	local_dest_record(st, to, &r);
}

/* 1 when key was seen before in this delivery; else remember it. */
int
local_dest_seen(struct local_expansion *st, const char *kind, unsigned long id,
		const char *name)
{
	struct buf key = BUF_INIT;

	buf_printf(&key, "%s:%lu:%s", kind, id, name);
	for (size_t i = 0; i < st->nseen; i++)
		if (strcmp(st->seen[i], key.data) == 0) {
			buf_free(&key);
			return 1;
		}
	st->seen = xreallocarray(st->seen, st->nseen + 1, sizeof(char *));
	st->seen[st->nseen++] = xstrdup(key.data);
	buf_free(&key);
	return 0;
}

/* The key local_dest_seen remembered last: the destination's name. */
static const char *
dest_key(const struct local_expansion *st)
{
	return st->seen[st->nseen - 1];
}

/* Count a destination; -1 (recorded as a bounce) past the limit. */
static int
dest_leaf(struct local_expansion *st, const char *to)
{
	if (++st->leaves <= LOCAL_LEAVES_MAX)
		return 0;
	if (st->leaves == LOCAL_LEAVES_MAX + 1)
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.4.6",
				"alias expansion of %s has more than %d "
				"destinations",
				st->top, LOCAL_LEAVES_MAX);
	return -1;
}

/* A login name we are willing to look up: [a-z0-9._-], not -x or .x. */
int
local_dest_getpw(const char *name, struct local_user *u)
{
	struct passwd *pw;
	size_t n = strlen(name);

	if (n == 0 || n > LOCAL_USER_MAX || name[0] == '-' || name[0] == '.' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return -1;
	pw = getpwnam(name);
	if (pw == NULL ||
	    strlcpy(u->name, pw->pw_name, sizeof(u->name)) >= sizeof(u->name) ||
	    strlcpy(u->home, pw->pw_dir, sizeof(u->home)) >= sizeof(u->home))
		return -1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

/*
 * Run one destination in a child, unless the journal says it took this
 * message already (a retry after a crash or after another destination
 * deferred).  key is the destination's name in the journal.
 */
static void
dest_job(struct local_expansion *st, enum local_job_type type,
	 const struct local_user *u, const char *target, const char *to,
	 const char *ext, const char *key)
{
	struct local_job job = {type, *u, target, to, ext, -1, key};
	struct local_result r;

	if (local_journal_seen(st->msg, key)) {
		local_result_set(
		    &r, LOCAL_SENT, "2.0.0",
		    "this destination already has the message (journal)");
		local_dest_record(st, to, &r);
		return;
	}
	job.journal_fd = local_journal_open();
	(void)local_child_run(&job, st->msg, &r, NULL);
	local_journal_close(job.journal_fd);
	local_dest_record(st, to, &r);
}

void
local_dest_mailbox(struct local_expansion *st, const struct local_user *u,
		   const char *to)
{
	if (local_dest_seen(st, "mailbox", 0, u->name) || dest_leaf(st, to))
		return;
	dest_job(st, JOB_MAILBOX, u, NULL, to, "", dest_key(st));
}

void
local_dest_command(struct local_expansion *st, const char *line,
		   const struct local_user *u, const char *to, const char *ext)
{
	if (!param_bool("allow_mail_to_commands")) {
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.7.1",
				"mail to commands is disabled "
				"(allow_mail_to_commands = no)");
		return;
	}
	if (local_dest_seen(st, "command", u->uid, line) || dest_leaf(st, to))
		return;
	dest_job(st, JOB_COMMAND, u, line, to, ext, dest_key(st));
}

void
local_dest_file(struct local_expansion *st, const char *path,
		const struct local_user *u, const char *to)
{
	struct local_result r;
	const char *key;

	if (local_dest_seen(st, "file", u->uid, path) || dest_leaf(st, to))
		return;
	key = dest_key(st);
	if (strcmp(path, "/dev/null") == 0) {
		local_result_set(&r, LOCAL_SENT, "2.0.0",
				 "delivered to file: /dev/null");
		local_dest_record(st, to, &r);
	} else if (!param_bool("allow_mail_to_files"))
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.7.1",
				"mail to files is disabled "
				"(allow_mail_to_files = no)");
	else
		dest_job(st, JOB_FILE, u, path, to, "", key);
}

void
local_dest_remote(struct local_expansion *st, const struct address *a)
{
	char text[ADDR_TEXT_MAX], key[ADDR_TEXT_MAX];
	size_t i;

	if (address_format(a, text, sizeof(text)) < 0)
		return;
	for (i = 0; text[i] != '\0'; i++)
		key[i] = (char)tolower((unsigned char)text[i]);
	key[i] = '\0';
	if (local_dest_seen(st, "remote", 0, key) || dest_leaf(st, text))
		return;
	st->remote = xreallocarray(st->remote, st->nremote + 1, sizeof(char *));
	st->remote[st->nremote++] = xstrdup(text);
}

/*
 * qmgr records one status per recipient, not per destination of its
 * expansion: the journal (local_journal.c) remembers which destinations
 * took the message, so a retry skips them.
 */
void
local_dest_finish(struct local_expansion *st, struct local_result *r)
{
	struct local_msg fwd = *st->msg;
	struct local_result rr;

	if (st->nremote > 0) {
		struct buf key = BUF_INIT;

		buf_printf(&key, "resubmit:0:%s", st->top);
		fwd.rcpt = st->top;
		if (local_journal_seen(st->msg, key.data))
			local_result_set(&rr, LOCAL_SENT, "2.0.0",
					 "already forwarded (journal)");
		else if (local_resubmit(&fwd, (const char *const *)st->remote,
					st->nremote, &rr) == 0 &&
			 rr.status == LOCAL_SENT) {
			int fd = local_journal_open();

			local_journal_write(fd, st->msg, key.data);
			local_journal_close(fd);
		}
		buf_free(&key);
		for (size_t i = 0; i < st->nremote; i++)
			dest_log(st, st->remote[i], &rr);
		st->recorded++;
		if (rr.status == LOCAL_SENT && st->sent++ == 0)
			st->first = rr;
		local_result_merge(&st->worst, &rr);
	}
	if (st->recorded == 0)
		local_dest_fail(st, st->top, LOCAL_BOUNCE, "5.4.6",
				"mail forwarding loop for %s: the aliases lead "
				"nowhere",
				st->top);
	*r = st->worst;
	if (r->status == LOCAL_SENT && st->sent == 1)
		*r = st->first;
	else if (r->status == LOCAL_SENT)
		local_result_set(r, LOCAL_SENT, "2.0.0",
				 "delivered to %zu destinations", st->sent);
}
