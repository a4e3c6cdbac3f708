/*
 * test_local_job: what local's root parent makes of a resolver's job
 * requests (local_job.c), and the delivery child's check that a command
 * or file target is in its source (local_source.c).  The resolver is the
 * process an attacker owns first, so these are forged requests: garbage
 * and over-long frames, a job for uid 0, an alias command as another user
 * than default_privs, a .forward target for a user whose .forward was not
 * read, a target its alias or .forward does not name.  The accounts are
 * the system's real ones (root, daemon, nobody on Debian); the alias map
 * is a real LMDB file and the .forward a real file.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc_proto.h"
#include "local.h"
#include "maps.h"
#include "params.h"
#include "tap.h"

#define RCPT "alice@example.com"

static char top[] = "/tmp/test_local_job.XXXXXX";

/* A received frame: built as a sender would, then parsed as the parent. */
static void
frame(struct ipc_frame *f, const char *const *kv)
{
	struct ipc_frame out;
	const char *why;

	ipc_frame_init(&out);
	for (; kv[0] != NULL; kv += 2)
		ipc_put_str(&out, kv[0], kv[1]);
	ipc_frame_reset(f);
	if (ipc_parse(out.raw.data, out.raw.len, f, &why) != 0)
		ok(0, "test frame does not parse: %s", why);
	ipc_frame_free(&out);
}

/* local_job_parse of kv: 0 or -1, why in *why. */
static int
parse(const char *const *kv, struct local_job_req *req, const char **why)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	frame(&f, kv);
	rc = local_job_parse(&f, req, why);
	ipc_frame_free(&f);
	return rc;
}

/* Forged requests, each wrong in one way; the parser refuses them all. */
#define J "op", "job", "job"
static const struct {
	const char *name;
	const char *kv[18];
} forged[] = {
    {"another op", {"op", "commit", NULL}},
    {"no op", {"job", "mailbox", "user", "a", "rcpt", RCPT, NULL}},
    {"an unknown job", {J, "shell", "user", "a", "rcpt", RCPT, NULL}},
    {"an unknown attribute",
     {J, "mailbox", "user", "a", "rcpt", RCPT, "uid", "0", NULL}},
    {"a repeated attribute",
     {J, "mailbox", "user", "a", "user", "root", "rcpt", RCPT, NULL}},
    {"no user", {J, "mailbox", "rcpt", RCPT, NULL}},
    {"a control byte in the user",
     {J, "mailbox", "user", "a\nroot", "rcpt", RCPT, NULL}},
    {"an empty user", {J, "mailbox", "user", "", "rcpt", RCPT, NULL}},
    {"a recipient that is no address",
     {J, "mailbox", "user", "a", "rcpt", "a@@b", NULL}},
    {"a target on a mailbox job",
     {J, "mailbox", "user", "a", "rcpt", RCPT, "target", "/x", NULL}},
    {"a source on a .forward job",
     {J, "forward", "user", "a", "rcpt", RCPT, "source", "alias", "alias", "a",
      NULL}},
    {"a command without a source",
     {J, "command", "user", "a", "rcpt", RCPT, "target", "prog", NULL}},
    {"a command without a target",
     {J, "command", "user", "a", "rcpt", RCPT, "source", "forward", NULL}},
    {"source alias without the alias",
     {J, "command", "user", "nobody", "rcpt", RCPT, "target", "p", "source",
      "alias", NULL}},
    {"an alias with source forward",
     {J, "command", "user", "a", "rcpt", RCPT, "target", "p", "source",
      "forward", "alias", "x", NULL}},
    {"an unknown source",
     {J, "command", "user", "a", "rcpt", RCPT, "target", "p", "source", "root",
      NULL}},
    {"a relative file target",
     {J, "file", "user", "a", "rcpt", RCPT, "target", "tmp/x", "source",
      "forward", NULL}},
    {"a newline in a command",
     {J, "command", "user", "a", "rcpt", RCPT, "target", "prog\nrm", "source",
      "forward", NULL}},
    {"an extension on a mailbox job",
     {J, "mailbox", "user", "a", "rcpt", RCPT, "extension", "x", NULL}},
    {"last on a .forward job",
     {J, "forward", "user", "a", "rcpt", RCPT, "last", "1", NULL}},
    {"last on a command job",
     {J, "command", "user", "a", "rcpt", RCPT, "target", "p", "source",
      "forward", "last", "1", NULL}},
    {"last other than 1",
     {J, "mailbox", "user", "a", "rcpt", RCPT, "last", "yes", NULL}},
};
#undef J

static void
refused_frame(const char *name, const char *const *kv)
{
	struct local_job_req req;
	const char *why = NULL;
	int rc = parse(kv, &req, &why);

	ok(rc == -1 && why != NULL, "refused: %s (%s)", name,
	   rc == 0 ? "accepted" : why);
}

static void
parse_cases(void)
{
	char long_user[LOCAL_NAME_MAX + 2], long_target[LOCAL_ITEM_MAX + 2];
	struct local_job_req req;
	const char *why;

	memset(long_user, 'a', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = '\0';
	memset(long_target, 'x', sizeof(long_target) - 1);
	long_target[0] = '/';
	long_target[sizeof(long_target) - 1] = '\0';

	const char *mbox[] = {"op",     "job",  "job", "mailbox", "user",
			      "daemon", "rcpt", RCPT,  NULL};
	is_int(parse(mbox, &req, &why), 0, "a mailbox job parses");
	ok(req.type == JOB_MAILBOX && strcmp(req.user, "daemon") == 0 &&
	       strcmp(req.rcpt, RCPT) == 0 && req.source == SOURCE_NONE &&
	       !req.last,
	   "  its fields");
	const char *last[] = {"op",   "job",    "job",  "mailbox",
			      "user", "daemon", "rcpt", RCPT,
			      "last", "1",      NULL};
	is_int(parse(last, &req, &why), 0,
	       "a mailbox job as the recipient's last parses");
	ok(req.type == JOB_MAILBOX && req.last, "  last is set");
	const char *cmd[] = {"op",     "job",   "job",   "command", "user",
			     "nobody", "rcpt",  RCPT,    "target",  "prog a",
			     "source", "alias", "alias", "team",    "extension",
			     "box",    NULL};
	is_int(parse(cmd, &req, &why), 0, "a command job from an alias parses");
	ok(req.source == SOURCE_ALIAS && strcmp(req.alias, "team") == 0 &&
	       strcmp(req.target, "prog a") == 0 &&
	       strcmp(req.extension, "box") == 0,
	   "  its fields");

	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++)
		refused_frame(forged[i].name, forged[i].kv);
	refused_frame("an over-long user",
		      (const char *[]){"op", "job", "job", "mailbox", "user",
				       long_user, "rcpt", RCPT, NULL});
	refused_frame("an over-long file target",
		      (const char *[]){"op", "job", "job", "file", "user", "a",
				       "rcpt", RCPT, "target", long_target,
				       "source", "forward", NULL});
}

static void
garbage_cases(void)
{
	static const char *const payloads[] = {"",
					       "garbage",
					       "2:op,3:job",
					       "99999:op,3:job,",
					       "2:op,3:job,3:job,",
					       "0:,0:,"};
	struct local_job_req req;
	struct ipc_frame f;
	const char *why;
	int fds[2];

	ipc_frame_init(&f);
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		ipc_frame_reset(&f);
		why = NULL;
		if (ipc_parse(payloads[i], strlen(payloads[i]), &f, &why) != 0)
			ok(why != NULL, "garbage payload %zu: no frame (%s)", i,
			   why);
		else {
			int rc = local_job_parse(&f, &req, &why);
			ok(rc == -1, "garbage payload %zu: no job (%s)", i,
			   rc == 0 ? "accepted" : why);
		}
	}
	frame(&f, (const char *[]){"op", "job", "job", "mailbox", "user",
				   "daemon", "rcpt", RCPT, NULL});
	if (pipe(fds) == 0) {
		int rc;

		f.fd = fds[0];
		rc = local_job_parse(&f, &req, &why);
		ok(rc == -1, "refused: a descriptor with the request (%s)",
		   rc == 0 ? "accepted" : why);
		close(fds[1]);
	}
	ipc_frame_free(&f); /* closes fds[0] */
}

/* local_job_check of a request; the verdict, the refusal in r. */
static enum local_job_verdict
check(struct local_job_ctx *ctx, const char *const *kv, struct local_job *job,
      struct local_result *r, const char **why)
{
	struct local_job_req *req = xmalloc(sizeof(*req));
	static struct local_job_req keep; /* job points into it */
	enum local_job_verdict v = LOCAL_JOB_LIE;

	*why = "does not parse";
	if (parse(kv, req, why) == 0) {
		keep = *req;
		v = local_job_check(&keep, ctx, job, r, why);
	}
	free(req);
	return v;
}

/* Requests that parse; what the parent decides depends on its context. */
#define J "op", "job", "job"
static const char *const mbox_daemon[] = {J,      "mailbox", "user", "daemon",
					  "rcpt", RCPT,      NULL};
static const char *const mbox_root[] = {J,      "mailbox", "user", "root",
					"rcpt", RCPT,      NULL};
static const char *const fwd_root[] = {J,      "forward", "user", "root",
				       "rcpt", RCPT,      NULL};
static const char *const mbox_unknown[] = {
    J, "mailbox", "user", "no-such-user-x", "rcpt", RCPT, NULL};
static const char *const mbox_upper[] = {J,      "mailbox", "user", "Root",
					 "rcpt", RCPT,      NULL};
static const char *const mbox_nobody[] = {J,      "mailbox", "user", "nobody",
					  "rcpt", RCPT,      NULL};
static const char *const alias_cmd_daemon[] = {
    J,      "command", "user",  "daemon", "rcpt", RCPT, "target",
    "prog", "source",  "alias", "alias",  "team", NULL};
static const char *const alias_cmd_root[] = {
    J,      "command", "user",  "root",  "rcpt", RCPT, "target",
    "prog", "source",  "alias", "alias", "team", NULL};
static const char *const alias_cmd_nobody[] = {
    J,      "command", "user",  "nobody", "rcpt", RCPT, "target",
    "prog", "source",  "alias", "alias",  "team", NULL};
static const char *const fwd_cmd_daemon[] = {
    J,        "command", "user",   "daemon",  "rcpt", RCPT,
    "target", "prog",    "source", "forward", NULL};
static const char *const fwd_file_root[] = {
    J,        "file",   "user",   "root",    "rcpt", RCPT,
    "target", "/tmp/x", "source", "forward", NULL};
#undef J

static void
check_cases(void)
{
	struct local_job_ctx ctx;
	struct local_job job;
	struct local_result r;
	const char *why;
	uid_t daemon_uid = getpwnam("daemon")->pw_uid;

	local_job_ctx_init(&ctx, "nobody", 1, 1);
	is_int(check(&ctx, mbox_daemon, &job, &r, &why), LOCAL_JOB_RUN,
	       "a mailbox job for daemon runs");
	ok(job.user.uid == daemon_uid && job.type == JOB_MAILBOX &&
	       strcmp(job.journal_key, "mailbox:0:daemon") == 0,
	   "  as daemon's uid, looked up by the parent, key %s",
	   job.journal_key);
	is_int(check(&ctx, mbox_daemon, &job, &r, &why), LOCAL_JOB_REFUSED,
	       "the same mailbox again is not run again");
	is_int(r.status, LOCAL_SENT, "  and counts as delivered");
	is_int(check(&ctx, mbox_root, &job, &r, &why), LOCAL_JOB_REFUSED,
	       "a mailbox job for root is refused");
	ok(r.status == LOCAL_DEFER && strstr(r.text, "mail for root") != NULL,
	   "  deferred: %s", r.text);
	is_int(check(&ctx, fwd_root, &job, &r, &why), LOCAL_JOB_REFUSED,
	       "a .forward job for root is refused");
	is_int(check(&ctx, mbox_unknown, &job, &r, &why), LOCAL_JOB_REFUSED,
	       "an unknown user is refused");
	ok(r.status == LOCAL_BOUNCE && strcmp(r.dsn, "5.1.1") == 0,
	   "  bounced 5.1.1: %s", r.text);
	is_int(check(&ctx, mbox_upper, &job, &r, &why), LOCAL_JOB_REFUSED,
	       "a name outside [a-z0-9._-] is not looked up");

	is_int(check(&ctx, alias_cmd_daemon, &job, &r, &why), LOCAL_JOB_LIE,
	       "an alias command as daemon, not default_privs, is a lie");
	is_int(check(&ctx, alias_cmd_root, &job, &r, &why), LOCAL_JOB_LIE,
	       "an alias command as root is a lie");
	is_int(check(&ctx, alias_cmd_nobody, &job, &r, &why), LOCAL_JOB_RUN,
	       "an alias command as default_privs runs");
	ok(job.source == SOURCE_ALIAS && strcmp(job.alias, "team") == 0 &&
	       strcmp(job.target, "prog") == 0,
	   "  with its source, for the child to check");
	is_int(check(&ctx, fwd_cmd_daemon, &job, &r, &why), LOCAL_JOB_LIE,
	       "a .forward command before daemon's .forward gave targets is "
	       "a lie");
	local_job_ctx_owner(&ctx, "daemon");
	is_int(check(&ctx, fwd_cmd_daemon, &job, &r, &why), LOCAL_JOB_RUN,
	       "after it, a .forward command as daemon runs");
	ok(strncmp(job.journal_key, "command:", 8) == 0,
	   "  journal key %s (by uid)", job.journal_key);
	local_job_ctx_owner(&ctx, "root");
	is_int(check(&ctx, fwd_file_root, &job, &r, &why), LOCAL_JOB_REFUSED,
	       "a .forward file as root never runs");
	ok(r.status == LOCAL_DEFER, "  deferred");
	local_job_ctx_free(&ctx);

	local_job_ctx_init(&ctx, "root", 0, 0);
	is_int(check(&ctx, alias_cmd_root, &job, &r, &why), LOCAL_JOB_LIE,
	       "a command while allow_mail_to_commands = no is a lie");
	local_job_ctx_free(&ctx);
	local_job_ctx_init(&ctx, "root", 1, 1);
	is_int(check(&ctx, alias_cmd_root, &job, &r, &why), LOCAL_JOB_REFUSED,
	       "default_privs = root: an alias command never runs as root");
	ok(r.status == LOCAL_DEFER && strstr(r.text, "default_privs") != NULL,
	   "  deferred: %s", r.text);
	ctx.jobs = LOCAL_JOBS_MAX;
	is_int(check(&ctx, mbox_nobody, &job, &r, &why), LOCAL_JOB_LIE,
	       "one job more than LOCAL_JOBS_MAX is a lie");
	local_job_ctx_free(&ctx);
}

static void
result_cases(void)
{
	struct local_result r;
	struct ipc_frame f;
	char text[LOCAL_TEXT_MAX + 10];

	ipc_frame_init(&f);
	frame(&f, (const char *[]){"status", "sent", "dsn", "2.0.0", "text",
				   "ok", NULL});
	is_int(local_result_parse(&f, &r), 0, "a result parses");
	frame(&f, (const char *[]){"status", "sent", "dsn", "5.1.1", "text",
				   "ok", NULL});
	is_int(local_result_parse(&f, &r), -1,
	       "a result whose dsn contradicts its status is refused");
	frame(&f, (const char *[]){"status", "delivered", "dsn", "2.0.0",
				   "text", "ok", NULL});
	is_int(local_result_parse(&f, &r), -1, "an unknown status is refused");
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	frame(&f, (const char *[]){"status", "sent", "dsn", "2.0.0", "text",
				   text, NULL});
	is_int(local_result_parse(&f, &r), -1, "an over-long text is refused");
	ipc_frame_free(&f);
}

/* Run local_source_ok for a command job; 1 when the target is found. */
static int
source_ok(enum local_source source, const char *alias, const char *target)
{
	struct local_job job = {.type = JOB_COMMAND,
				.target = target,
				.source = source,
				.alias = alias,
				.journal_fd = -1};
	struct local_msg msg = {.queue_id = "TEST"};
	struct local_source_handle h;
	struct local_result r;
	int found;

	job.user.uid = geteuid();
	job.user.gid = getegid();
	strlcpy(job.user.name, "tester", sizeof(job.user.name));
	strlcpy(job.user.home, top, sizeof(job.user.home));
	local_source_open(&job, &h);
	found = local_source_ok(&job, &msg, &h, &r);
	if (h.forward_fd >= 0)
		close(h.forward_fd);
	if (h.aliases != NULL)
		map_close(h.aliases);
	return found;
}

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, name);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, 0644);
}

static void
source_cases(void)
{
	struct buf err = BUF_INIT;
	char path[256];

	write_file(".forward", "bob, |\"filter\" -x\n/var/tmp/box\n");
	is_int(source_ok(SOURCE_FORWARD, NULL, "\"filter\" -x"), 1,
	       "a command the .forward names passes the child's check");
	is_int(source_ok(SOURCE_FORWARD, NULL, "filter -x --evil"), 0,
	       "a command the .forward does not name is refused");
	is_int(source_ok(SOURCE_FORWARD, NULL, "/var/tmp/box"), 0,
	       "a file target does not pass as a command");
	snprintf(path, sizeof(path), "%s/aliases", top);
	write_file("aliases", "team: alice, |archive --all\n");
	ok(map_build(path, MAP_ALIASES, &err) == 0, "an aliases map %s",
	   buf_cstr(&err));
	ok(params_set("alias_maps", path, &err) == 0, "alias_maps set");
	is_int(source_ok(SOURCE_ALIAS, "team", "archive --all"), 1,
	       "a command the alias names passes the child's check");
	is_int(source_ok(SOURCE_ALIAS, "team", "archive --delete"), 0,
	       "a command the alias does not name is refused");
	is_int(source_ok(SOURCE_ALIAS, "nosuchalias", "archive --all"), 0,
	       "a command of an alias that does not exist is refused");
	snprintf(path, sizeof(path), "%s/.forward", top);
	chmod(path, 0666);
	is_int(source_ok(SOURCE_FORWARD, NULL, "\"filter\" -x"), 0,
	       "a .forward that others can write is not trusted");
	buf_free(&err);
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path);
}

int
main(void)
{
	if (mkdtemp(top) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	parse_cases();
	garbage_cases();
	if (getpwnam("daemon") != NULL && getpwnam("nobody") != NULL)
		check_cases();
	else
		ok(1, "# SKIP no daemon or nobody account");
	result_cases();
	source_cases();
	nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
