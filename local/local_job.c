/*
 * local_job: what the root parent makes of a job request from local's
 * resolver.  The resolver reads the message, the aliases and .forward
 * files, so it is the first process an attacker would own: every request
 * is hostile.  local_job_parse checks its shape (pure): known attributes,
 * each at most once, bounded lengths, no control bytes, a recipient that
 * parses, the fields each job needs and no others.  local_job_check then
 * decides with the password database, looked up here again from the name:
 * an unknown user or root is refused with the result the recipient gets
 * (an honest resolver asks that too); a rule that only a lying resolver
 * breaks (an alias target not as default_privs, a .forward target not as
 * the owner of a .forward read in this delivery, a command or file while
 * they are off, too many jobs) is a lie, which ends the resolver and
 * defers the recipient.  Runs in local's root parent; the unit tests and
 * fuzz_local_job call it directly.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "ipc_proto.h"
#include "local.h"
#include "resolve.h"

static const char *const job_names[] = {
    [JOB_MAILBOX] = "mailbox",
    [JOB_COMMAND] = "command",
    [JOB_FILE] = "file",
    [JOB_FORWARD] = "forward",
};

/* The attributes a job request may carry, each at most once. */
static const char *const job_attrs[] = {
    IPC_OP,
    LOCAL_ATTR_JOB,
    LOCAL_ATTR_USER,
    IPC_RCPT,
    LOCAL_ATTR_TARGET,
    LOCAL_ATTR_EXTENSION,
    LOCAL_ATTR_SOURCE,
    LOCAL_ATTR_ALIAS,
    LOCAL_ATTR_LAST,
};
#define JOB_ATTR_COUNT (sizeof(job_attrs) / sizeof(job_attrs[0]))

static int
job_attrs_ok(const struct ipc_frame *f, const char **why)
{
	unsigned seen = 0;
	size_t i, k;

	for (i = 0; i < f->count; i++) {
		for (k = 0; k < JOB_ATTR_COUNT; k++)
			if (strcmp(f->attr[i].name, job_attrs[k]) == 0)
				break;
		if (k == JOB_ATTR_COUNT) {
			*why = "unknown attribute";
			return -1;
		}
		if (seen & (1U << k)) {
			*why = "repeated attribute";
			return -1;
		}
		seen |= 1U << k;
	}
	return 0;
}

/*
 * Copy attribute name into out (size bytes with its NUL): 0 when copied,
 * 1 when absent, -1 when too long, empty, or holding a byte that
 * byte_ok refuses.
 */
static int
job_text(const struct ipc_frame *f, const char *name, char *out, size_t size,
	 int (*byte_ok)(unsigned char))
{
	const struct ipc_attr *a = ipc_get(f, name);

	out[0] = '\0';
	if (a == NULL)
		return 1;
	if (a->value_len == 0 || a->value_len >= size)
		return -1;
	for (size_t i = 0; i < a->value_len; i++)
		if (!byte_ok((unsigned char)a->value[i]))
			return -1;
	memcpy(out, a->value, a->value_len);
	out[a->value_len] = '\0';
	return 0;
}

/* Names, addresses, extensions: printable ASCII. */
static int
job_printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/*
 * Recipients and alias names: printable ASCII or UTF-8 bytes, which the
 * address parser then checks (a UTF-8 local part names an alias).
 */
static int
job_addr_byte(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

/* Targets: what local_target_classify accepts (8-bit paths, tabs). */
static int
job_target_byte(unsigned char c)
{
	return (c >= 0x20 && c != 0x7f) || c == '\t';
}

static int
job_type(const char *s, enum local_job_type *type)
{
	for (size_t i = 0; i < sizeof(job_names) / sizeof(job_names[0]); i++)
		if (strcmp(s, job_names[i]) == 0) {
			*type = (enum local_job_type)i;
			return 0;
		}
	return -1;
}

/* source and alias: for command and file jobs only, alias with "alias". */
static const char *
job_source(const struct ipc_frame *f, struct local_job_req *req)
{
	char source[16];
	int target_job = req->type == JOB_COMMAND || req->type == JOB_FILE;
	int has_source, has_alias;

	has_source = job_text(f, LOCAL_ATTR_SOURCE, source, sizeof(source),
			      job_printable);
	has_alias = job_text(f, LOCAL_ATTR_ALIAS, req->alias,
			     sizeof(req->alias), job_addr_byte);
	req->source = SOURCE_NONE;
	if (has_source < 0 || has_alias < 0)
		return "bad source or alias";
	if (!target_job)
		return has_source == 0 || has_alias == 0
			   ? "source given for a mailbox or .forward job"
			   : NULL;
	if (has_source != 0)
		return "no source";
	if (strcmp(source, "alias") == 0)
		req->source = SOURCE_ALIAS;
	else if (strcmp(source, "forward") == 0)
		req->source = SOURCE_FORWARD;
	else
		return "unknown source";
	if ((req->source == SOURCE_ALIAS) != (has_alias == 0))
		return "alias given without source alias, or missing";
	return NULL;
}

/* last: "1", on a mailbox job only. */
static const char *
job_last(const struct ipc_frame *f, struct local_job_req *req)
{
	const char *last = ipc_get_str(f, LOCAL_ATTR_LAST);

	if (ipc_get(f, LOCAL_ATTR_LAST) == NULL)
		return NULL;
	if (last == NULL || strcmp(last, "1") != 0)
		return "bad last";
	if (req->type != JOB_MAILBOX)
		return "last given for a job other than a mailbox";
	req->last = 1;
	return NULL;
}

/* target and extension: what each job needs and nothing more. */
static const char *
job_target(const struct ipc_frame *f, struct local_job_req *req)
{
	int has_target = job_text(f, LOCAL_ATTR_TARGET, req->target,
				  sizeof(req->target), job_target_byte);
	int has_ext = job_text(f, LOCAL_ATTR_EXTENSION, req->extension,
			       sizeof(req->extension), job_printable);

	if (has_target < 0 || has_ext < 0)
		return "bad target or extension";
	if (has_ext == 0 && req->type != JOB_COMMAND)
		return "extension given for a job other than a command";
	if (req->type == JOB_MAILBOX || req->type == JOB_FORWARD)
		return has_target == 0 ? "target given for a mailbox or "
					 ".forward job"
				       : NULL;
	if (has_target != 0)
		return "no target";
	if (req->type == JOB_FILE && req->target[0] != '/')
		return "file target is not an absolute path";
	if (req->type == JOB_COMMAND &&
	    (req->target[0] == ' ' || req->target[0] == '\t'))
		return "command target starts with a blank";
	return NULL;
}

int
local_job_parse(const struct ipc_frame *f, struct local_job_req *req,
		const char **why)
{
	const char *op = ipc_get_str(f, IPC_OP);
	const char *type = ipc_get_str(f, LOCAL_ATTR_JOB);
	struct address a;

	memset(req, 0, sizeof(*req));
	*why = NULL;
	if (f->fd >= 0)
		*why = "a descriptor came with the request";
	else if (op == NULL || strcmp(op, LOCAL_OP_JOB) != 0)
		*why = "not a job request";
	else if (job_attrs_ok(f, why) != 0)
		return -1;
	else if (type == NULL || job_type(type, &req->type) != 0)
		*why = "unknown job";
	else if (job_text(f, LOCAL_ATTR_USER, req->user, sizeof(req->user),
			  job_printable) != 0)
		*why = "missing or bad user";
	else if (job_text(f, IPC_RCPT, req->rcpt, sizeof(req->rcpt),
			  job_addr_byte) != 0 ||
		 address_parse(req->rcpt, strlen(req->rcpt),
			       ADDR_ALLOW_NO_DOMAIN | ADDR_ALLOW_UTF8,
			       &a) != ADDR_OK)
		*why = "missing or bad rcpt";
	else if ((*why = job_target(f, req)) == NULL &&
		 (*why = job_source(f, req)) == NULL)
		*why = job_last(f, req);
	return *why == NULL ? 0 : -1;
}

void
local_job_ctx_init(struct local_job_ctx *ctx, const char *default_privs,
		   int commands, int files)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->default_privs = default_privs;
	ctx->commands = commands;
	ctx->files = files;
	buf_init(&ctx->key);
}

static void
job_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
local_job_ctx_free(struct local_job_ctx *ctx)
{
	job_strings_free(ctx->owners, ctx->nowners);
	job_strings_free(ctx->keys, ctx->nkeys);
	buf_free(&ctx->key);
	ctx->owners = ctx->keys = NULL;
	ctx->nowners = ctx->nkeys = 0;
}

static int
job_strings_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
job_strings_add(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
}

void
local_job_ctx_owner(struct local_job_ctx *ctx, const char *user)
{
	if (!job_strings_has(ctx->owners, ctx->nowners, user))
		job_strings_add(&ctx->owners, &ctx->nowners, user);
}

/*
 * The last account found, believed for LOCAL_ACCOUNT_KEEP_MS: a batch's
 * jobs, all for one user, read the password database once, not once each
 * (getpwnam reads the whole file).  Only a found account is kept: a user
 * added meanwhile is found at once, a change counts that much later.
 */
static struct {
	char asked[LOCAL_USER_MAX + 1];
	struct local_user u;
	long long until_ms; /* event_now_ms */
} job_account_kept;

/* A login name we are willing to look up (resolve.h's one rule). */
static int
job_getpw(const char *name, struct local_user *u)
{
	struct passwd *pw;
	long long now = event_now_ms();

	if (strlen(name) > LOCAL_USER_MAX || !resolve_login_ok(name))
		return -1;
	if (job_account_kept.until_ms > now &&
	    strcmp(job_account_kept.asked, name) == 0) {
		*u = job_account_kept.u;
		return 0;
	}
	pw = getpwnam(name);
	if (pw == NULL ||
	    strlcpy(u->name, pw->pw_name, sizeof(u->name)) >= sizeof(u->name) ||
	    strlcpy(u->home, pw->pw_dir, sizeof(u->home)) >= sizeof(u->home))
		return -1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	strlcpy(job_account_kept.asked, name, sizeof(job_account_kept.asked));
	job_account_kept.u = *u;
	job_account_kept.until_ms = now + LOCAL_ACCOUNT_KEEP_MS;
	return 0;
}

/* The account the job runs as, by its kind's rule; the verdict. */
static enum local_job_verdict
job_account(const struct local_job_req *req, struct local_job_ctx *ctx,
	    struct local_user *u, struct local_result *refusal,
	    const char **why)
{
	int found;

	if (req->source == SOURCE_ALIAS &&
	    strcmp(req->user, ctx->default_privs) != 0) {
		*why = "an alias target not run as default_privs";
		return LOCAL_JOB_LIE;
	}
	if (req->source == SOURCE_FORWARD &&
	    !job_strings_has(ctx->owners, ctx->nowners, req->user)) {
		*why = "a .forward target not run as the owner of a .forward "
		       "read for this recipient";
		return LOCAL_JOB_LIE;
	}
	found = job_getpw(req->user, u) == 0;
	if (found && u->uid != 0)
		return LOCAL_JOB_RUN;
	if (req->source == SOURCE_ALIAS)
		local_result_set(refusal, LOCAL_DEFER, "4.3.0",
				 "default_privs %s is not a usable account",
				 req->user);
	else if (found)
		local_result_set(refusal, LOCAL_DEFER, "4.3.0",
				 "mail for root must be aliased to a person "
				 "(add an alias for %s)",
				 req->user);
	else
		local_result_set(refusal,
				 req->source == SOURCE_NONE ? LOCAL_BOUNCE
							    : LOCAL_DEFER,
				 req->source == SOURCE_NONE ? "5.1.1" : "4.3.0",
				 "unknown user: \"%s\"", req->user);
	return LOCAL_JOB_REFUSED;
}

/* The destination's name in the journal and in this request's list. */
static void
job_key(const struct local_job_req *req, const struct local_user *u,
	struct buf *key)
{
	buf_reset(key);
	if (req->type == JOB_COMMAND || req->type == JOB_FILE)
		buf_printf(key, "%s:%lu:%s", job_names[req->type],
			   (unsigned long)u->uid, req->target);
	else
		buf_printf(key, "%s:0:%s", job_names[req->type], u->name);
}

enum local_job_verdict
local_job_check(const struct local_job_req *req, struct local_job_ctx *ctx,
		struct local_job *job, struct local_result *refusal,
		const char **why)
{
	enum local_job_verdict v;

	memset(job, 0, sizeof(*job));
	job->journal_fd = -1;
	*why = NULL;
	if (++ctx->jobs > LOCAL_JOBS_MAX)
		*why = "too many jobs for one recipient";
	else if (req->type == JOB_COMMAND && !ctx->commands)
		*why = "a command while allow_mail_to_commands = no";
	else if (req->type == JOB_FILE && !ctx->files)
		*why = "a file while allow_mail_to_files = no";
	if (*why != NULL)
		return LOCAL_JOB_LIE;
	v = job_account(req, ctx, &job->user, refusal, why);
	if (v != LOCAL_JOB_RUN)
		return v;
	job_key(req, &job->user, &ctx->key);
	if (job_strings_has(ctx->keys, ctx->nkeys, ctx->key.data)) {
		/* Two names of one account: honest, and done once. */
		local_result_set(refusal, LOCAL_SENT, "2.0.0",
				 "this destination already has the message");
		return LOCAL_JOB_REFUSED;
	}
	job_strings_add(&ctx->keys, &ctx->nkeys, ctx->key.data);
	job->type = req->type;
	job->target = req->type == JOB_COMMAND || req->type == JOB_FILE
			  ? req->target
			  : NULL;
	job->rcpt = req->rcpt;
	job->extension = req->extension;
	job->source = req->source;
	job->alias = req->source == SOURCE_ALIAS ? req->alias : NULL;
	job->journal_key = req->type == JOB_FORWARD ? NULL : ctx->key.data;
	return LOCAL_JOB_RUN;
}
