/*
 * local_dest: the destinations one recipient's expansion reaches (a
 * mailbox, a command, a file, a remote address) and the bookkeeping of
 * their results: each destination at most once, at most LOCAL_LEAVES_MAX
 * of them, one log line each in Postfix's shape, and the overall result
 * (defer over bounce over sent).  Mailbox, command and file deliveries are
 * jobs the root parent runs in children as their users (after its own
 * checks and a look in the journal); the remote addresses go to cleanup in
 * one resubmission at the end, made here.  Input: targets already
 * validated by the parsers, and the parent's answers (checked by
 * local_resolver.c).  Runs in local's resolver.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local.h"
#include "local_resolve.h"
#include "log.h"
#include "params.h"

void
local_dest_record(struct local_expansion *st, const char *to,
		  const struct local_result *r)
{
	local_log_result(st->msg, to, r);
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
local_dest_seen(struct local_expansion *st, const char *kind, const char *who,
		const char *name)
{
	struct buf key = BUF_INIT;

	buf_printf(&key, "%s:%s:%s", kind, who, name);
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

/* Ask the parent for one job and record what it answers. */
static void
dest_job(struct local_expansion *st, enum local_job_type type, const char *user,
	 const char *target, const struct local_runas *as, const char *to,
	 const char *ext)
{
	struct local_job_req *req = xcalloc(1, sizeof(*req));
	struct local_result r;

	req->type = type;
	req->source = as != NULL ? as->source : SOURCE_NONE;
	req->last = type == JOB_MAILBOX && st->last;
	if (strlcpy(req->user, user, sizeof(req->user)) >= sizeof(req->user) ||
	    strlcpy(req->target, target != NULL ? target : "",
		    sizeof(req->target)) >= sizeof(req->target) ||
	    strlcpy(req->rcpt, to, sizeof(req->rcpt)) >= sizeof(req->rcpt) ||
	    strlcpy(req->extension, ext, sizeof(req->extension)) >=
		sizeof(req->extension) ||
	    strlcpy(req->alias, as != NULL && as->alias ? as->alias : "",
		    sizeof(req->alias)) >= sizeof(req->alias))
		local_result_set(&r, LOCAL_BOUNCE, "5.3.0",
				 "destination too long for %s", user);
	else if (local_resolver_job(st->rs->sock, req, &r, NULL) == 1) {
		st->handed = 1; /* the parent logs and reports it */
		free(req);
		return;
	}
	local_dest_record(st, to, &r);
	free(req);
}

void
local_dest_mailbox(struct local_expansion *st, const char *user, const char *to)
{
	if (local_dest_seen(st, "mailbox", "", user) || dest_leaf(st, to))
		return;
	dest_job(st, JOB_MAILBOX, user, NULL, NULL, to, "");
}

void
local_dest_command(struct local_expansion *st, const char *line,
		   const struct local_runas *as, const char *to,
		   const char *ext)
{
	if (!param_bool("allow_mail_to_commands")) {
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.7.1",
				"mail to commands is disabled "
				"(allow_mail_to_commands = no)");
		return;
	}
	if (local_dest_seen(st, "command", as->user, line) || dest_leaf(st, to))
		return;
	dest_job(st, JOB_COMMAND, as->user, line, as, to, ext);
}

void
local_dest_file(struct local_expansion *st, const char *path,
		const struct local_runas *as, const char *to)
{
	struct local_result r;

	if (local_dest_seen(st, "file", as->user, path) || dest_leaf(st, to))
		return;
	if (strcmp(path, "/dev/null") == 0) {
		local_result_set(&r, LOCAL_SENT, "2.0.0",
				 "delivered to file: /dev/null");
		local_dest_record(st, to, &r);
	} else if (!param_bool("allow_mail_to_files"))
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.7.1",
				"mail to files is disabled "
				"(allow_mail_to_files = no)");
	else
		dest_job(st, JOB_FILE, as->user, path, as, to, "");
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
	if (local_dest_seen(st, "remote", "", key) || dest_leaf(st, text))
		return;
	st->remote = xreallocarray(st->remote, st->nremote + 1, sizeof(char *));
	st->remote[st->nremote++] = xstrdup(text);
}

/*
 * Resubmit the remote addresses, unless the journal (as the parent read
 * it) says this recipient's forwarding was done; on success the parent
 * journals it.
 */
static void
dest_forward(struct local_expansion *st)
{
	struct local_msg fwd = *st->msg;
	struct local_result rr;

	fwd.rcpt = st->top;
	if (st->rs->forwarded)
		local_result_set(&rr, LOCAL_SENT, "2.0.0",
				 "already forwarded (journal)");
	else if (local_resubmit(&fwd, (const char *const *)st->remote,
				st->nremote, &rr) == 0 &&
		 rr.status == LOCAL_SENT)
		local_resolver_forwarded(st->rs->sock);
	for (size_t i = 0; i < st->nremote; i++)
		local_log_result(st->msg, st->remote[i], &rr);
	st->recorded++;
	if (rr.status == LOCAL_SENT && st->sent++ == 0)
		st->first = rr;
	local_result_merge(&st->worst, &rr);
}

/*
 * qmgr records one status per recipient, not per destination of its
 * expansion: the journal (local_journal.c) remembers which destinations
 * took the message, so a retry skips them.
 */
void
local_dest_finish(struct local_expansion *st, struct local_result *r)
{
	if (st->nremote > 0)
		dest_forward(st);
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
