/*
 * logd_control: the master's frames to logd (ipc_proto.h, "The log
 * service"), parsed purely into a request.  Only root (the master) may
 * connect, so the frames are trusted to mean what they say, but they are
 * still checked like any peer's bytes: a known op, a known kind, a program
 * name that can stand in a tag, a pid in range.  The descriptor the frame
 * carries is checked by the caller.  Runs in logd.
 */
#include <string.h>

#include "ipc_proto.h"
#include "logd.h"

#define LOGD_PID_MAX 4194304 /* the kernel's pid_max ceiling */

static int
logd_control_sink(const struct ipc_frame *f, struct logd_request *r,
		  const char **why)
{
	const char *kind = ipc_get_str(f, IPC_KIND);

	r->op = LOGD_OP_SINK;
	if (kind != NULL && strcmp(kind, IPC_KIND_FILE) == 0)
		r->syslog = 0;
	else if (kind != NULL && strcmp(kind, IPC_KIND_SYSLOG) == 0)
		r->syslog = 1;
	else {
		*why = "sink: kind is neither file nor syslog";
		return -1;
	}
	return 0;
}

static int
logd_control_channel(const struct ipc_frame *f, struct logd_request *r,
		     const char **why)
{
	const char *program = ipc_get_str(f, IPC_PROGRAM);
	long long pid;

	r->op = LOGD_OP_CHANNEL;
	if (program == NULL || !logd_program_ok(program)) {
		*why = "channel: bad program name";
		return -1;
	}
	if (ipc_get_int(f, IPC_PID, 1, LOGD_PID_MAX, &pid) != 0) {
		*why = "channel: bad pid";
		return -1;
	}
	strlcpy(r->program, program, sizeof(r->program));
	r->pid = (long)pid;
	return 0;
}

int
logd_control_parse(const struct ipc_frame *f, struct logd_request *r,
		   const char **why)
{
	const char *op = ipc_get_str(f, IPC_OP);

	memset(r, 0, sizeof(*r));
	if (op == NULL) {
		*why = "no op";
		return -1;
	}
	if (strcmp(op, IPC_OP_SINK) == 0)
		return logd_control_sink(f, r, why);
	if (strcmp(op, IPC_OP_CHANNEL) == 0)
		return logd_control_channel(f, r, why);
	if (strcmp(op, IPC_OP_STOP) == 0) {
		r->op = LOGD_OP_STOP;
		return 0;
	}
	*why = "unknown op";
	return -1;
}
