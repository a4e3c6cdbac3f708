/*
 * test_cleanup_envelope: cleanup's checks of the op=begin and op=rcpt
 * frames a peer sends: required and optional attributes, bounds, control
 * bytes, the null sender, and myorigin for local submissions only; the
 * SMTPUTF8 flag that alone lets UTF-8 addresses in, and the DSN
 * attributes.
 */
#include <string.h>

#include "cleanup.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "tap.h"

static struct ipc_frame f;

static void
frame(const char *op)
{
	ipc_frame_reset(&f);
	ipc_put_str(&f, IPC_OP, op);
}

static enum cleanup_frame_result
begin_from(enum cleanup_origin origin, struct cleanup_envelope *env,
	   const char **why)
{
	struct ipc_frame g;
	enum cleanup_frame_result r;

	/* Parse the encoded frame, as cleanup sees it. */
	ipc_frame_init(&g);
	if (ipc_parse(f.raw.data, f.raw.len, &g, why) < 0)
		return CLEANUP_FRAME_MALFORMED;
	r = cleanup_begin_parse(&g, origin, "Origin.Example", env, why);
	ipc_frame_free(&g);
	return r;
}

/* Most checks do not depend on the origin: those come from pickup. */
static enum cleanup_frame_result
begin(struct cleanup_envelope *env, const char **why)
{
	return begin_from(CLEANUP_FROM_PICKUP, env, why);
}

static enum cleanup_frame_result
rcpt_in(const struct cleanup_envelope *env, struct cleanup_rcpt *out,
	const char **why)
{
	struct ipc_frame g;
	enum cleanup_frame_result r;

	ipc_frame_init(&g);
	if (ipc_parse(f.raw.data, f.raw.len, &g, why) < 0)
		return CLEANUP_FRAME_MALFORMED;
	r = cleanup_rcpt_parse(&g, env, "origin.example", out, why);
	ipc_frame_free(&g);
	return r;
}

/* A recipient of a local submission (is_local) or of an SMTP one. */
static enum cleanup_frame_result
rcpt(int is_local, struct cleanup_rcpt *out, const char **why)
{
	struct cleanup_envelope env;

	memset(&env, 0, sizeof(env));
	env.is_local = is_local;
	return rcpt_in(&env, out, why);
}

static void
test_begin(void)
{
	struct cleanup_envelope env;
	const char *why = "";
	char big[CLEANUP_HELO_MAX + 2];

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "Alice@Example.ORG");
	ipc_put_str(&f, IPC_PROTOCOL, "ESMTP");
	ipc_put_str(&f, IPC_CLIENT_ADDR, "192.0.2.1");
	ipc_put_str(&f, IPC_HELO, "client.example.net");
	is_int(begin_from(CLEANUP_FROM_SMTPD, &env, &why), CLEANUP_FRAME_OK,
	       "a full op=begin from smtpd");
	is_str(env.sender, "Alice@example.org", "sender's domain lower-cased");
	is_str(env.helo, "client.example.net", "helo kept");
	is_str(env.client_name, "", "absent client_name is empty");
	is_int(env.submit_uid, -1, "no submit_uid");
	ok(!env.is_local, "ESMTP is not local");

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "");
	is_int(begin(&env, &why), CLEANUP_FRAME_OK, "the null sender");
	is_str(env.sender, "", "null sender is empty");

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "alice");
	ipc_put_str(&f, IPC_PROTOCOL, "SMTP");
	is_int(begin_from(CLEANUP_FROM_SMTPD, &env, &why),
	       CLEANUP_FRAME_BAD_ADDRESS, "a bare sender over SMTP is refused");
	is_int(begin(&env, &why), CLEANUP_FRAME_OK,
	       "a bare sender from a local submission (pickup)");
	is_str(env.sender, "alice@origin.example", "myorigin appended");
	is_str(env.protocol, "local", "pickup's protocol is local");

	/* The origin, not the frame, says what a submission is. */
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "alice");
	ipc_put_str(&f, IPC_PROTOCOL, "local");
	is_int(begin_from(CLEANUP_FROM_SMTPD, &env, &why),
	       CLEANUP_FRAME_MALFORMED,
	       "smtpd claiming protocol=local is refused");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	is_int(begin_from(CLEANUP_FROM_SMTPD, &env, &why),
	       CLEANUP_FRAME_MALFORMED, "smtpd naming no protocol is refused");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_PROTOCOL, "ESMTPSA");
	ipc_put_str(&f, IPC_SUBMIT_UID, "0");
	ipc_put_str(&f, IPC_SUBMIT_USER, "root");
	is_int(begin_from(CLEANUP_FROM_SMTPD, &env, &why), CLEANUP_FRAME_OK,
	       "smtpd with ESMTPSA and a submit_uid");
	ok(env.submit_uid == -1 && env.submit_user[0] == '\0' && !env.is_local,
	   "a submit_uid from smtpd counts for nothing");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "");
	ipc_put_str(&f, IPC_PROTOCOL, "local");
	ipc_put_str(&f, IPC_SUBMIT_UID, "1000");
	is_int(begin_from(CLEANUP_FROM_QMGR, &env, &why), CLEANUP_FRAME_OK,
	       "a bounce from qmgr");
	ok(strcmp(env.protocol, "bounce") == 0 && env.submit_uid == -1 &&
	       !env.is_local,
	   "qmgr's submission is a bounce whatever it claims");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_SUBMIT_UID, "1000");
	is_int(begin_from(CLEANUP_FROM_LOCAL, &env, &why), CLEANUP_FRAME_OK,
	       "forwarding from local");
	ok(strcmp(env.protocol, "local") == 0 && env.submit_uid == -1,
	   "local forwards with protocol local and no submitting uid");
	is_int(begin_from(CLEANUP_FROM_UNKNOWN, &env, &why),
	       CLEANUP_FRAME_MALFORMED,
	       "a peer of no known service is refused");

	frame(IPC_OP_BEGIN);
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED, "no sender");
	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED,
	       "op=rcpt where op=begin is due");

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_HELO, "evil\r\nX-Header: 1");
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED,
	       "CR LF in helo is refused");

	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_HELO, big);
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED,
	       "helo over CLEANUP_HELO_MAX is refused");

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put(&f, IPC_CLIENT_NAME, "x\0y", 3);
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED,
	       "NUL in client_name is refused");

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_SUBMIT_UID, "1000");
	is_int(begin(&env, &why), CLEANUP_FRAME_OK, "submit_uid parsed");
	is_int(env.submit_uid, 1000, "submit_uid value");
	is_str(env.submit_user, "", "no submit_user: empty");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_SUBMIT_UID, "1000");
	ipc_put_str(&f, IPC_SUBMIT_USER, "alice");
	is_int(begin(&env, &why), CLEANUP_FRAME_OK, "submit_user parsed");
	is_str(env.submit_user, "alice", "submit_user value");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_SUBMIT_USER, "al\nice");
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED,
	       "a control byte in submit_user is refused");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@b.example");
	ipc_put_str(&f, IPC_SUBMIT_UID, "-5");
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED,
	       "negative submit_uid is refused");

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a\xc3\xa9@b.example");
	is_int(begin(&env, &why), CLEANUP_FRAME_BAD_ADDRESS,
	       "8-bit sender is a bad address");
}

static void
test_rcpt(void)
{
	struct cleanup_rcpt r;
	const char *why = "";

	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_ADDR, "bob@example.net");
	ipc_put_str(&f, IPC_ORIG, "rfc822;Bob@Example.NET");
	is_int(rcpt(0, &r, &why), CLEANUP_FRAME_OK, "a recipient");
	is_str(r.addr, "bob@example.net", "address");
	is_str(r.orig, "rfc822;Bob@Example.NET", "orig kept as sent");

	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_ADDR, "bob");
	is_int(rcpt(0, &r, &why), CLEANUP_FRAME_BAD_ADDRESS,
	       "bare recipient over SMTP refused");
	is_int(rcpt(1, &r, &why), CLEANUP_FRAME_OK, "bare local recipient");
	is_str(r.addr, "bob@origin.example", "myorigin appended");

	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_ADDR, "a@b@c.example");
	is_int(rcpt(0, &r, &why), CLEANUP_FRAME_BAD_ADDRESS, "two @ refused");
	frame(IPC_OP_RCPT);
	is_int(rcpt(0, &r, &why), CLEANUP_FRAME_MALFORMED, "no addr");
	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_ADDR, "x@y.example");
	ipc_put_str(&f, IPC_ORIG, "bad\norig");
	is_int(rcpt(0, &r, &why), CLEANUP_FRAME_MALFORMED, "LF in orig");
	frame(IPC_OP_DATA);
	ipc_put_str(&f, IPC_ADDR, "x@y.example");
	is_int(rcpt(0, &r, &why), CLEANUP_FRAME_MALFORMED,
	       "op=data is no rcpt");
}

static void
test_esmtp(void)
{
	struct cleanup_envelope env;
	struct cleanup_rcpt r;
	const char *why = "";

	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "j\xc3\xb6rg@example.org");
	ipc_put_str(&f, IPC_PROTOCOL, "UTF8SMTP");
	is_int(begin_from(CLEANUP_FROM_SMTPD, &env, &why),
	       CLEANUP_FRAME_BAD_ADDRESS, "a UTF-8 sender without smtputf8");
	ipc_put_str(&f, IPC_SMTPUTF8, "1");
	ipc_put_str(&f, IPC_DSN_RET, "HDRS");
	ipc_put_str(&f, IPC_DSN_ENVID, "QQ314159");
	is_int(begin_from(CLEANUP_FROM_SMTPD, &env, &why), CLEANUP_FRAME_OK,
	       "with smtputf8");
	ok(env.smtputf8 && env.dsn_ret == DSN_RET_HDRS, "SMTPUTF8 and RET");
	is_str(env.dsn_envid, "QQ314159", "ENVID");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@example.org");
	ipc_put_str(&f, IPC_DSN_RET, "ALL");
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED, "a bad RET");
	frame(IPC_OP_BEGIN);
	ipc_put_str(&f, IPC_SENDER, "a@example.org");
	ipc_put_str(&f, IPC_DSN_ENVID, "a\tb");
	is_int(begin(&env, &why), CLEANUP_FRAME_MALFORMED, "a bad ENVID");

	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_ADDR, "j\xc3\xb6rg@example.net");
	ipc_put_str(&f, IPC_DSN_NOTIFY, "SUCCESS,FAILURE");
	ipc_put_str(&f, IPC_DSN_ORCPT, "rfc822;J\xc3\xb6rg@example.net");
	memset(&env, 0, sizeof(env));
	is_int(rcpt_in(&env, &r, &why), CLEANUP_FRAME_BAD_ADDRESS,
	       "a UTF-8 recipient without smtputf8");
	env.smtputf8 = 1;
	is_int(rcpt_in(&env, &r, &why), CLEANUP_FRAME_OK, "with smtputf8");
	is_int(r.dsn_notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, "NOTIFY");
	is_str(r.dsn_orcpt, "rfc822;J\xc3\xb6rg@example.net", "ORCPT");
	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_ADDR, "a@example.net");
	ipc_put_str(&f, IPC_DSN_NOTIFY, "NEVER,DELAY");
	is_int(rcpt_in(&env, &r, &why), CLEANUP_FRAME_MALFORMED,
	       "a bad NOTIFY");
	frame(IPC_OP_RCPT);
	ipc_put_str(&f, IPC_ADDR, "a@example.net");
	ipc_put_str(&f, IPC_DSN_ORCPT, "a@example.net");
	is_int(rcpt_in(&env, &r, &why), CLEANUP_FRAME_MALFORMED,
	       "an ORCPT without a type");
}

int
main(void)
{
	ipc_frame_init(&f);
	test_begin();
	test_rcpt();
	test_esmtp();
	ipc_frame_free(&f);
	return done_testing();
}
