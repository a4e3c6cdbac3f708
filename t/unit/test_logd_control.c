/*
 * test_logd_control: the master's frames to logd, parsed: a sink of
 * either kind, a channel with its program and pid, stop, and every malformed
 * request refused with a reason (unknown op or kind, a program name that
 * could not stand in a tag, a pid out of range or not a number).
 */
#include <string.h>

#include "ipc_proto.h"
#include "logd.h"
#include "tap.h"

/* Build a frame from name, value pairs and parse it as logd does. */
static int
parse(struct logd_request *r, const char **why, const char *const *kv)
{
	struct ipc_frame f, g;
	int rc;

	ipc_frame_init(&f);
	ipc_frame_init(&g);
	for (; kv[0] != NULL; kv += 2)
		ipc_put_str(&f, kv[0], kv[1]);
	*why = NULL;
	rc = ipc_parse(f.raw.data, f.raw.len, &g, why);
	if (rc == 0)
		rc = logd_control_parse(&g, r, why);
	ipc_frame_free(&f);
	ipc_frame_free(&g);
	return rc;
}

int
main(void)
{
	struct logd_request r;
	const char *why;

	ok(parse(&r, &why,
		 (const char *const[]){"op", "sink", "kind", "file", NULL}) ==
		   0 &&
	       r.op == LOGD_OP_SINK && !r.syslog,
	   "op=sink kind=file");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "sink", "kind", "syslog", NULL}) ==
		   0 &&
	       r.op == LOGD_OP_SINK && r.syslog,
	   "op=sink kind=syslog");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "channel", "program", "smtpd",
				       "pid", "4242", NULL}) == 0 &&
	       r.op == LOGD_OP_CHANNEL && strcmp(r.program, "smtpd") == 0 &&
	       r.pid == 4242,
	   "op=channel program=smtpd pid=4242");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "sink", "kind", "tape", NULL}) ==
		   -1 &&
	       why != NULL,
	   "an unknown sink kind is refused: %s", why ? why : "");
	ok(parse(&r, &why, (const char *const[]){"op", "stop", NULL}) == 0 &&
	       r.op == LOGD_OP_STOP,
	   "op=stop");
	ok(parse(&r, &why, (const char *const[]){"op", "restart", NULL}) == -1,
	   "an unknown op is refused: %s", why ? why : "");
	ok(parse(&r, &why, (const char *const[]){"kind", "file", NULL}) == -1,
	   "a frame without op is refused: %s", why ? why : "");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "channel", "program",
				       "smtpd[1]: x", "pid", "1", NULL}) == -1,
	   "a program that is not a name is refused: %s", why ? why : "");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "channel", "program", "a/b", "pid",
				       "1", NULL}) == -1,
	   "a program with a slash is refused");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "channel", "program", "smtpd",
				       "pid", "0", NULL}) == -1,
	   "pid 0 is refused: %s", why ? why : "");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "channel", "program", "smtpd",
				       "pid", "12x", NULL}) == -1,
	   "a pid that is not a number is refused");
	ok(parse(&r, &why,
		 (const char *const[]){"op", "channel", "program", "smtpd",
				       NULL}) == -1,
	   "a channel without pid is refused");
	return done_testing();
}
