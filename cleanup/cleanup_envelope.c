/*
 * cleanup_envelope: checks the op=begin and op=rcpt frames of a submission
 * to cleanup.  The frames come from cleanup's peers (smtpd, pickup, local,
 * qmgr) and are hostile: every attribute is bounded, text attributes must
 * be printable ASCII (so nothing reaches a queue record, a Received header
 * or a log line that could split it), and addresses go through the one
 * address parser (UTF-8 in them only for an SMTPUTF8 envelope).  What the frame
 * may claim depends on the peer's origin (cleanup.h), an input here.  Pure: no
 * I/O, no logging, no globals. Runs in cleanup.
 */
#include <string.h>

#include "cleanup.h"
#include "ipc_proto.h"

static int
env_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
env_op_is(const struct ipc_frame *f, const char *op)
{
	const char *v = ipc_get_str(f, IPC_OP);

	return v != NULL && strcmp(v, op) == 0;
}

/* An optional text attribute: absent is "", present must be clean. */
static int
env_opt_str(const struct ipc_frame *f, const char *name, size_t max, char *out,
	    const char **why)
{
	const struct ipc_attr *a = ipc_get(f, name);

	out[0] = '\0';
	if (a == NULL)
		return 0;
	if (a->value_len > max) {
		*why = "attribute too long";
		return -1;
	}
	if (!env_printable(a->value, a->value_len)) {
		*why = "control or 8-bit bytes in attribute";
		return -1;
	}
	memcpy(out, a->value, a->value_len);
	out[a->value_len] = '\0';
	return 0;
}

/*
 * Parse an address attribute; a missing domain is myorigin's when
 * no_domain_ok (local submissions); UTF-8 only with utf8 (SMTPUTF8).
 * The canonical text goes to out.
 */
static enum cleanup_frame_result
env_address(const struct ipc_attr *a, int no_domain_ok, int utf8,
	    const char *myorigin, char out[ADDR_TEXT_MAX], const char **why)
{
	struct address addr;
	enum addr_error e;
	size_t i, olen = strlen(myorigin);

	e = address_parse(a->value, a->value_len,
			  (no_domain_ok ? ADDR_ALLOW_NO_DOMAIN : 0) |
			      (utf8 ? ADDR_ALLOW_UTF8 : 0),
			  &addr);
	if (e != ADDR_OK) {
		*why = address_strerror(e);
		return CLEANUP_FRAME_BAD_ADDRESS;
	}
	if (addr.domain[0] == '\0') {
		if (olen == 0 || olen >= sizeof(addr.domain)) {
			*why = "no domain, and myorigin is unusable";
			return CLEANUP_FRAME_BAD_ADDRESS;
		}
		for (i = 0; i <= olen; i++)
			addr.domain[i] =
			    (char)((myorigin[i] >= 'A' && myorigin[i] <= 'Z')
				       ? myorigin[i] - 'A' + 'a'
				       : myorigin[i]);
	}
	if (address_format(&addr, out, ADDR_TEXT_MAX) < 0) {
		*why = "address too long";
		return CLEANUP_FRAME_BAD_ADDRESS;
	}
	return CLEANUP_FRAME_OK;
}

/* The protocols smtpd may name (RFC 3848's words, as in Received). */
static int
env_smtp_protocol(const char *p)
{
	static const char *const names[] = {
	    "SMTP",     "ESMTP",     "ESMTPS",    "ESMTPA",     "ESMTPSA",
	    "UTF8SMTP", "UTF8SMTPS", "UTF8SMTPA", "UTF8SMTPSA", NULL};
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(p, names[i]) == 0)
			return 1;
	return 0;
}

/* What the origin claims, in place of whatever the frame said. */
static int
env_apply_origin(struct cleanup_envelope *env, enum cleanup_origin origin,
		 const char **why)
{
	switch (origin) {
	case CLEANUP_FROM_SMTPD:
		if (!env_smtp_protocol(env->protocol)) {
			*why = "protocol is not an SMTP protocol";
			return -1;
		}
		break;
	case CLEANUP_FROM_PICKUP:
	case CLEANUP_FROM_LOCAL:
		strlcpy(env->protocol, "local", sizeof(env->protocol));
		env->is_local = 1;
		break;
	case CLEANUP_FROM_QMGR:
		strlcpy(env->protocol, "bounce", sizeof(env->protocol));
		break;
	default:
		*why = "not a peer service";
		return -1;
	}
	if (origin != CLEANUP_FROM_PICKUP) {
		env->submit_uid = -1;
		env->submit_user[0] = '\0';
	}
	return 0;
}

/*
 * An optional DSN attribute that dsn.c's rule ok must pass, copied into
 * out (which holds the rule's largest value and a NUL); "" when absent.
 */
static int
env_dsn_str(const struct ipc_frame *f, const char *name,
	    int (*ok)(const char *, size_t), char *out, const char **why)
{
	const struct ipc_attr *a = ipc_get(f, name);

	out[0] = '\0';
	if (a == NULL)
		return 0;
	if (!ok(a->value, a->value_len)) {
		*why = name;
		return -1;
	}
	memcpy(out, a->value, a->value_len);
	out[a->value_len] = '\0';
	return 0;
}

/* SMTPUTF8, RET and ENVID of op=begin. */
static int
env_esmtp(const struct ipc_frame *f, struct cleanup_envelope *env,
	  const char **why)
{
	const struct ipc_attr *ret = ipc_get(f, IPC_DSN_RET);

	env->smtputf8 = ipc_get(f, IPC_SMTPUTF8) != NULL;
	if (ret != NULL && (env->dsn_ret = dsn_ret_parse(
				ret->value, ret->value_len)) == DSN_RET_NONE) {
		*why = "bad dsn_ret";
		return -1;
	}
	return env_dsn_str(f, IPC_DSN_ENVID, dsn_envid_ok, env->dsn_envid, why);
}

static int
env_optional(const struct ipc_frame *f, struct cleanup_envelope *env,
	     const char **why)
{
	if (env_opt_str(f, IPC_PROTOCOL, CLEANUP_PROTOCOL_MAX, env->protocol,
			why) < 0 ||
	    env_opt_str(f, IPC_CLIENT_ADDR, CLEANUP_CLIENT_ADDR_MAX,
			env->client_addr, why) < 0 ||
	    env_opt_str(f, IPC_CLIENT_NAME, CLEANUP_CLIENT_NAME_MAX,
			env->client_name, why) < 0 ||
	    env_opt_str(f, IPC_HELO, CLEANUP_HELO_MAX, env->helo, why) < 0 ||
	    env_opt_str(f, IPC_AUTH_USER, CLEANUP_AUTH_USER_MAX, env->auth_user,
			why) < 0 ||
	    env_opt_str(f, IPC_SUBMIT_USER, CLEANUP_SUBMIT_USER_MAX,
			env->submit_user, why) < 0)
		return -1;
	env->submit_uid = -1;
	if (ipc_get(f, IPC_SUBMIT_UID) != NULL &&
	    ipc_get_int(f, IPC_SUBMIT_UID, 0, 0x7fffffff, &env->submit_uid) <
		0) {
		*why = "bad submit_uid";
		return -1;
	}
	return 0;
}

enum cleanup_frame_result
cleanup_begin_parse(const struct ipc_frame *f, enum cleanup_origin origin,
		    const char *myorigin, struct cleanup_envelope *env,
		    const char **why)
{
	const struct ipc_attr *sender;

	memset(env, 0, sizeof(*env));
	env->submit_uid = -1;
	if (!env_op_is(f, IPC_OP_BEGIN)) {
		*why = "expected op=begin";
		return CLEANUP_FRAME_MALFORMED;
	}
	if (env_optional(f, env, why) < 0 || env_esmtp(f, env, why) < 0 ||
	    env_apply_origin(env, origin, why) < 0)
		return CLEANUP_FRAME_MALFORMED;
	sender = ipc_get(f, IPC_SENDER);
	if (sender == NULL) {
		*why = "no sender";
		return CLEANUP_FRAME_MALFORMED;
	}
	if (sender->value_len == 0)
		return CLEANUP_FRAME_OK; /* the null sender */
	return env_address(sender, env->is_local, env->smtputf8, myorigin,
			   env->sender, why);
}

/* NOTIFY and ORCPT of op=rcpt. */
static int
env_rcpt_dsn(const struct ipc_frame *f, struct cleanup_rcpt *rcpt,
	     const char **why)
{
	const struct ipc_attr *notify = ipc_get(f, IPC_DSN_NOTIFY);

	if (notify != NULL && dsn_notify_parse(notify->value, notify->value_len,
					       &rcpt->dsn_notify) != 0) {
		*why = "bad dsn_notify";
		return -1;
	}
	return env_dsn_str(f, IPC_DSN_ORCPT, dsn_orcpt_ok, rcpt->dsn_orcpt,
			   why);
}

enum cleanup_frame_result
cleanup_rcpt_parse(const struct ipc_frame *f,
		   const struct cleanup_envelope *env, const char *myorigin,
		   struct cleanup_rcpt *rcpt, const char **why)
{
	const struct ipc_attr *addr;

	memset(rcpt, 0, sizeof(*rcpt));
	if (!env_op_is(f, IPC_OP_RCPT)) {
		*why = "expected op=rcpt";
		return CLEANUP_FRAME_MALFORMED;
	}
	if (env_opt_str(f, IPC_ORIG, CLEANUP_ORIG_MAX, rcpt->orig, why) < 0 ||
	    env_rcpt_dsn(f, rcpt, why) < 0)
		return CLEANUP_FRAME_MALFORMED;
	addr = ipc_get(f, IPC_ADDR);
	if (addr == NULL) {
		*why = "no addr";
		return CLEANUP_FRAME_MALFORMED;
	}
	return env_address(addr, env->is_local, env->smtputf8, myorigin,
			   rcpt->addr, why);
}

enum cleanup_origin
cleanup_origin_of(const struct cleanup_config *cfg, uid_t uid)
{
	enum cleanup_origin o;

	for (o = 0; o < CLEANUP_FROM_UNKNOWN; o++)
		if (cfg->origin_known[o] && cfg->origin_uid[o] == uid)
			return o;
	return CLEANUP_FROM_UNKNOWN;
}

const char *
cleanup_origin_name(enum cleanup_origin origin)
{
	static const char *const names[] = {
	    [CLEANUP_FROM_SMTPD] = "smtpd",
	    [CLEANUP_FROM_QMGR] = "qmgr",
	    [CLEANUP_FROM_LOCAL] = "local",
	    [CLEANUP_FROM_PICKUP] = "pickup",
	    [CLEANUP_FROM_UNKNOWN] = "unknown",
	};

	return (unsigned)origin <= CLEANUP_FROM_UNKNOWN ? names[origin]
							: "unknown";
}
