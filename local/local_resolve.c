/*
 * local_resolve: where mail for one local recipient goes.  The local part
 * (lower-cased, recipient_delimiter extension stripped) is looked up in
 * the aliases map, then taken as a login name; that user's ~/.forward is
 * read by a child of the root parent running as the user, which sends
 * its items back here.  Every target (alias value, .forward item) goes
 * through the pure parsers of local_forward.c and is judged here: local
 * addresses recurse (at most LOCAL_DEPTH_MAX deep, each destination
 * once), |commands and /files are asked for as default_privs for aliases
 * and as the owner for a .forward, remote addresses are collected for one
 * resubmission to cleanup.  A message whose header already says
 * "Delivered-To: ADDR" for an address on the way is a forwarding loop.
 * Whether a name is a login, and whether it is root's, the parent says
 * when it answers the job: this process does not read the password
 * database.  A UTF-8 local part (SMTPUTF8) may be an alias key; it is
 * never a login name.  Runs in local's resolver (local_resolver_user),
 * which never opens a user's file and cannot run a job itself.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "event.h"
#include "local.h"
#include "local_resolve.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "resolve.h"
#include "utf8.h"

#define R_NO_ALIAS 0x1
#define R_NO_FORWARD 0x2

/*
 * Login names whose owner's child found no .forward in the last
 * LOCAL_FORWARD_NONE_MS: the next recipient for the same user (a batch,
 * a burst) is delivered to the mailbox without asking again, which saves
 * a job (four frames, two processes woken) per message.  Only "none" is
 * kept: a .forward that exists is read every time, and one created
 * meanwhile counts from the next look, at most that long after.
 */
#define FORWARD_NONE_SLOTS 8
static struct forward_none {
	char name[LOCAL_USER_MAX + 1];
	long long until_ms; /* event_now_ms */
} forward_none[FORWARD_NONE_SLOTS];

/* 1 when name had no .forward a moment ago. */
static int
forward_none_fresh(const char *name)
{
	long long now = event_now_ms();

	for (size_t i = 0; i < FORWARD_NONE_SLOTS; i++)
		if (forward_none[i].until_ms > now &&
		    strcmp(forward_none[i].name, name) == 0)
			return 1;
	return 0;
}

/* name has no .forward now: its slot, or the one that ends first. */
static void
forward_none_note(const char *name)
{
	struct forward_none *slot = &forward_none[0];

	if (strlen(name) > LOCAL_USER_MAX)
		return;
	for (size_t i = 0; i < FORWARD_NONE_SLOTS; i++) {
		if (strcmp(forward_none[i].name, name) == 0) {
			slot = &forward_none[i];
			break;
		}
		if (forward_none[i].until_ms < slot->until_ms)
			slot = &forward_none[i];
	}
	strlcpy(slot->name, name, sizeof(slot->name));
	slot->until_ms = event_now_ms() + LOCAL_FORWARD_NONE_MS;
}

static void resolve_address(struct local_expansion *st, const struct address *a,
			    int depth, unsigned flags);

/* The lower-cased base of a local part is key (an alias to itself). */
static int
resolve_is_self(const struct address *a, const char *key)
{
	char local[sizeof(a->local)], base[sizeof(a->local)];
	size_t i;

	if (a->domain[0] != '\0' && !resolve_domain_is_local(a->domain))
		return 0;
	for (i = 0; a->local[i] != '\0'; i++)
		local[i] = (char)tolower((unsigned char)a->local[i]);
	local[i] = '\0';
	return resolve_local_base(local, base, sizeof(base)) == 0 &&
	       strcmp(base, key) == 0;
}

/* One target of an alias (key) or of owner's .forward (owner != NULL). */
static void
resolve_target(struct local_expansion *st, const struct local_target *t,
	       const char *key, const char *owner, const char *to,
	       const char *ext, int depth)
{
	struct local_runas as = {owner, SOURCE_FORWARD, NULL};

	if (t->type == TARGET_INCLUDE) {
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.3.0",
				":include:%s is not supported", t->text);
		return;
	}
	if (t->type == TARGET_ADDRESS || t->type == TARGET_NOFORWARD) {
		int self = resolve_is_self(&t->addr, key);
		if (self && owner != NULL)
			local_dest_mailbox(st, owner, to);
		else if (t->type == TARGET_NOFORWARD)
			resolve_address(st, &t->addr, depth + 1,
					R_NO_ALIAS | R_NO_FORWARD);
		else
			resolve_address(st, &t->addr, depth + 1,
					self ? R_NO_ALIAS : 0);
		return;
	}
	if (owner == NULL) /* the root parent checks the same rule */
		as = (struct local_runas){param_str("default_privs"),
					  SOURCE_ALIAS, key};
	if (t->type == TARGET_COMMAND)
		local_dest_command(st, t->text, &as, to, ext);
	else
		local_dest_file(st, t->text, &as, to);
}

/* Classify and follow each item of an alias or a .forward. */
static void
resolve_items(struct local_expansion *st, const struct local_items *items,
	      const char *key, const char *owner, const char *to,
	      const char *ext, int depth)
{
	struct local_target *t = xmalloc(sizeof(*t));
	const char *why, *item;

	for (size_t i = 0; i < items->count && !st->too_big; i++) {
		item = local_item(items, i);
		if (local_target_classify(item, strlen(item), t, &why) != 0)
			local_dest_fail(st, to, LOCAL_BOUNCE, "5.1.3",
					"%s%s: bad target \"%s\": %s",
					owner != NULL ? "~" : "alias ", key,
					item, why);
		else
			resolve_target(st, t, key, owner, to, ext, depth);
	}
	free(t);
}

/* 1 when key is an alias (expanded or failed here), 0 when it is not. */
static int
resolve_alias(struct local_expansion *st, const char *key, const char *to,
	      const char *ext, int depth)
{
	struct buf value = BUF_INIT;
	struct local_items items;
	const char *why;
	int rc;

	if (st->rs->aliases == NULL)
		return 0;
	rc = map_lookup(st->rs->aliases, key, &value);
	if (rc < 0)
		local_dest_fail(st, to, LOCAL_DEFER, "4.3.0",
				"alias database lookup of %s failed", key);
	if (rc != 1 || local_dest_seen(st, "alias", "", key)) {
		buf_free(&value);
		return rc != 0;
	}
	local_items_init(&items);
	if (local_targets_split(value.data ? value.data : "", value.len, &items,
				&why) != 0)
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.3.0", "alias %s: %s",
				key, why);
	else
		resolve_items(st, &items, key, NULL, to, ext, depth);
	local_items_free(&items);
	buf_free(&value);
	return 1;
}

/*
 * 1 when name's .forward decided (targets followed, or a failure such as
 * an unknown user or root, as the parent answered); 0: deliver to name.
 */
static int
resolve_forward(struct local_expansion *st, const char *name, const char *to,
		const char *ext, int depth)
{
	struct local_job_req *req = xcalloc(1, sizeof(*req));
	struct local_items items;
	struct local_result r;
	int used = 1;

	if (local_dest_seen(st, "forward", "", name)) {
		free(req);
		return 1;
	}
	if (forward_none_fresh(name)) {
		free(req);
		return 0;
	}
	req->type = JOB_FORWARD;
	strlcpy(req->user, name, sizeof(req->user));
	strlcpy(req->rcpt, to, sizeof(req->rcpt));
	local_items_init(&items);
	if (local_resolver_job(st->rs->sock, req, &r, &items) != 0 ||
	    r.status != LOCAL_SENT)
		local_dest_record(st, to, &r);
	else if (items.count == 0) {
		used = 0;
		forward_none_note(name);
	} else
		resolve_items(st, &items, name, name, to, ext, depth);
	local_items_free(&items);
	free(req);
	return used;
}

static void
resolve_user(struct local_expansion *st, const char *base, const char *to,
	     const char *ext, int depth, unsigned flags)
{
	/* Login names are ASCII: a UTF-8 local part is only an alias. */
	if (strlen(base) > LOCAL_NAME_MAX ||
	    utf8_has_8bit(base, strlen(base))) {
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.1.1",
				"unknown user: \"%s\"", base);
		return;
	}
	if ((flags & R_NO_FORWARD) ||
	    !resolve_forward(st, base, to, ext, depth)) {
		/* The recipient itself, no alias, no .forward: the one. */
		st->last = depth == 0 && st->recorded == 0 && st->nremote == 0;
		local_dest_mailbox(st, base, to);
		st->last = 0;
	}
}

/* The canonical local address (lower-cased local part) of a; -1. */
static int
resolve_canonical(struct local_expansion *st, const struct address *a,
		  struct address *q, char *to, size_t size)
{
	size_t i;

	*q = *a;
	for (i = 0; q->local[i] != '\0'; i++)
		q->local[i] = (char)tolower((unsigned char)q->local[i]);
	if (q->domain[0] == '\0' &&
	    strlcpy(q->domain, st->domain, sizeof(q->domain)) >=
		sizeof(q->domain))
		return -1;
	return address_format(q, to, size) < 0 ? -1 : 0;
}

static void
resolve_address(struct local_expansion *st, const struct address *a, int depth,
		unsigned flags)
{
	char base[sizeof(a->local)], to[ADDR_TEXT_MAX];
	struct address q;
	const char *ext;

	if (st->too_big)
		return;
	if (++st->visits > LOCAL_VISITS_MAX) {
		st->too_big = 1;
		local_dest_fail(st, st->top, LOCAL_BOUNCE, "5.4.6",
				"alias expansion of %s is too large", st->top);
		return;
	}
	if (a->domain[0] != '\0' && !resolve_domain_is_local(a->domain)) {
		local_dest_remote(st, a);
		return;
	}
	if (resolve_canonical(st, a, &q, to, sizeof(to)) != 0 ||
	    resolve_local_base(q.local, base, sizeof(base)) != 0) {
		local_dest_fail(st, st->top, LOCAL_BOUNCE, "5.1.3",
				"bad address %s", a->local);
		return;
	}
	ext = q.local[strlen(base)] != '\0' ? q.local + strlen(base) + 1 : "";
	if (depth > LOCAL_DEPTH_MAX)
		local_dest_fail(
		    st, to, LOCAL_BOUNCE, "5.4.6",
		    "mail forwarding loop for %s: nested more than %d "
		    "levels of aliases and .forward files",
		    to, LOCAL_DEPTH_MAX);
	else if (local_header_has_delivered_to(st->header.data, st->header.len,
					       to))
		local_dest_fail(st, to, LOCAL_BOUNCE, "5.4.6",
				"mail forwarding loop for %s", to);
	else if ((flags & R_NO_ALIAS) ||
		 !resolve_alias(st, base, to, ext, depth))
		resolve_user(st, base, to, ext, depth, flags);
}

/* Read the start of the message: the header block, bounded. */
static void
resolve_read_header(struct local_expansion *st)
{
	off_t max = (off_t)param_int("header_size_limit");
	size_t want = (size_t)(st->msg->length < max ? st->msg->length : max);
	ssize_t n;

	buf_reserve(&st->header, want + 1);
	n = pread(st->msg->fd, st->header.data, want, st->msg->offset);
	st->header.len = n > 0 ? (size_t)n : 0;
	st->header.data[st->header.len] = '\0';
}

int
local_resolve_deliver(const struct local_msg *msg,
		      const struct local_resolver *rs, struct local_result *r)
{
	struct local_expansion st = {.msg = msg, .rs = rs};
	struct address a, q;

	local_result_set(&st.worst, LOCAL_SENT, "2.0.0", "delivered");
	buf_init(&st.header);
	/* A UTF-8 local part (SMTPUTF8) can only name an alias. */
	if (address_parse(msg->rcpt, strlen(msg->rcpt),
			  ADDR_ALLOW_NO_DOMAIN | ADDR_ALLOW_UTF8,
			  &a) != ADDR_OK) {
		local_result_set(r, LOCAL_BOUNCE, "5.1.3",
				 "bad recipient address syntax");
		return 0;
	}
	st.domain = a.domain[0] != '\0' ? a.domain : param_str("myorigin");
	if (resolve_canonical(&st, &a, &q, st.top, sizeof(st.top)) != 0)
		strlcpy(st.top, msg->rcpt, sizeof(st.top));
	resolve_read_header(&st);
	resolve_address(&st, &a, 0, 0);
	if (!st.handed)
		local_dest_finish(&st, r);
	for (size_t i = 0; i < st.nseen; i++)
		free(st.seen[i]);
	for (size_t i = 0; i < st.nremote; i++)
		free(st.remote[i]);
	free(st.seen);
	free(st.remote);
	buf_free(&st.header);
	return st.handed;
}
