/*
 * smtpd_anvil: asks anvil how many connections a client has and how fast
 * it makes them, over one persistent connection per smtpd process.  The
 * calls block for at most SMTPD_ANVIL_TIMEOUT seconds; on any failure the
 * connection is dropped and the client allowed (fail open), and the next
 * client reconnects.  anvil's reply is checked (numbers within bounds).
 * A generation number ties each counted session to the connection that
 * counted it: anvil forgets a closed connection's counts by itself, so a
 * disconnect is sent only on the same connection.  Run by smtpd.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "smtpd_anvil.h"

#define SMTPD_ANVIL_TIMEOUT 2 /* seconds */
#define SMTPD_ANVIL_NUM_MAX 100000000LL

static int anvil_fd = -1;
static unsigned long anvil_gen; /* bumped at each new connection */

enum smtpd_anvil_verdict
smtpd_anvil_judge(unsigned count, unsigned rate, unsigned count_limit,
		  unsigned rate_limit)
{
	if (count_limit > 0 && count > count_limit)
		return SMTPD_ANVIL_COUNT;
	if (rate_limit > 0 && rate > rate_limit)
		return SMTPD_ANVIL_RATE;
	return SMTPD_ANVIL_OK;
}

static void
anvil_drop(void)
{
	if (anvil_fd >= 0)
		close(anvil_fd);
	anvil_fd = -1;
}

static int
anvil_open(void)
{
	if (anvil_fd >= 0)
		return 0;
	anvil_fd = ipc_connect(IPC_SOCK_ANVIL, SMTPD_ANVIL_TIMEOUT);
	if (anvil_fd < 0) {
		log_warn("connect to %s: %s; connection limits not enforced",
			 IPC_SOCK_ANVIL, strerror(errno));
		return -1;
	}
	anvil_gen++;
	return 0;
}

static int
anvil_send(const char *op, const char *addr)
{
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, op);
	ipc_put_str(&f, IPC_CLIENT, addr);
	rc = ipc_send(anvil_fd, &f, -1, SMTPD_ANVIL_TIMEOUT);
	ipc_frame_free(&f);
	return rc;
}

/*
 * The reply to op=connect (count given) or op=auth (count NULL); -1 with
 * *why when there is none or it is bad.
 */
static int
anvil_read_reply(unsigned *count, unsigned *rate, const char **why)
{
	struct ipc_frame f;
	const char *status;
	long long c = 0, r = 0;
	int rc = -1;

	ipc_frame_init(&f);
	if (ipc_recv(anvil_fd, &f, SMTPD_ANVIL_TIMEOUT, why) != 1) {
		if (*why == NULL)
			*why = "connection closed";
	} else if ((status = ipc_get_str(&f, IPC_STATUS)) == NULL ||
		   strcmp(status, IPC_STATUS_OK) != 0 ||
		   (count != NULL &&
		    ipc_get_int(&f, IPC_COUNT, 0, SMTPD_ANVIL_NUM_MAX, &c) !=
			0) ||
		   ipc_get_int(&f, IPC_RATE, 0, SMTPD_ANVIL_NUM_MAX, &r) != 0) {
		*why = "malformed reply";
	} else {
		if (count != NULL)
			*count = (unsigned)c;
		*rate = (unsigned)r;
		rc = 0;
	}
	ipc_frame_free(&f);
	return rc;
}

int
smtpd_anvil_connect(const char *addr, unsigned *count, unsigned *rate,
		    unsigned long *gen)
{
	const char *why = NULL;

	if (anvil_open() != 0)
		return -1;
	if (anvil_send(IPC_OP_CONNECT, addr) != 0) {
		why = strerror(errno);
	} else if (anvil_read_reply(count, rate, &why) == 0) {
		*gen = anvil_gen;
		return 0;
	}
	log_warn("%s: %s; connection limits not enforced", IPC_SOCK_ANVIL, why);
	anvil_drop();
	return -1;
}

int
smtpd_anvil_auth(const char *addr, unsigned *rate)
{
	const char *why = NULL;

	if (anvil_open() != 0)
		return -1;
	if (anvil_send(IPC_OP_AUTH, addr) != 0)
		why = strerror(errno);
	else if (anvil_read_reply(NULL, rate, &why) == 0)
		return 0;
	log_warn("%s: %s; AUTH rate limit not enforced", IPC_SOCK_ANVIL, why);
	anvil_drop();
	return -1;
}

void
smtpd_anvil_disconnect(const char *addr, unsigned long gen)
{
	if (anvil_fd < 0 || gen != anvil_gen)
		return;
	if (anvil_send(IPC_OP_DISCONNECT, addr) != 0) {
		log_warn("%s: %s", IPC_SOCK_ANVIL, strerror(errno));
		anvil_drop();
	}
}
