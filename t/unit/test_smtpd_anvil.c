/*
 * test_smtpd_anvil: smtpd's decision on the numbers (limit 0: none; a
 * limit is exceeded only above it; the fallback rate), its own counts
 * when anvil cannot be reached (no private/anvil socket: limits stay on,
 * per process, IPv6 clients per /64), and what it tells an anvil that
 * comes back: the sessions it already serves (op=restore) before the new
 * client, and the disconnects after.  Questions are answered through the
 * event loop: an anvil that accepts and never answers costs the session
 * its short deadline, then this process's own counts decide.  The anvil here is
 * a thread that answers from the real client table (anvil_table.h) and records
 * what it was sent; the daemon itself is tested in
 * t/integration/38-connlimit.t.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "anvil_table.h"
#include "buf.h"
#include "client_key.h"
#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "params.h"
#include "smtpd_anvil.h"
#include "tap.h"

static char dir[] = "/tmp/test_smtpd_anvil.XXXXXX";
static int listen_fd = -1;
static struct buf seen = BUF_INIT; /* "op client count\n" per frame */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void
record(const struct ipc_frame *f)
{
	const char *op = ipc_get_str(f, IPC_OP);
	const char *client = ipc_get_str(f, IPC_CLIENT);
	const char *count = ipc_get_str(f, IPC_COUNT);

	pthread_mutex_lock(&seen_lock);
	buf_printf(&seen, "%s %s%s%s\n", op ? op : "?", client ? client : "?",
		   count ? " " : "", count ? count : "");
	pthread_mutex_unlock(&seen_lock);
}

/* One connection, answered from a real table until the peer closes. */
static void *
anvil_thread(void *arg)
{
	struct anvil_table *t = anvil_table_new(100, 60000);
	struct anvil_peer p = {0};
	struct ipc_frame f, r;
	const char *why = NULL, *op, *client;
	char key[CLIENT_KEY_MAX];
	unsigned count, rate;
	long long n;
	int fd = accept(listen_fd, NULL, NULL);

	(void)arg;
	ipc_frame_init(&f);
	while (fd >= 0 && ipc_recv(fd, &f, 5, &why) == 1) {
		record(&f);
		op = ipc_get_str(&f, IPC_OP);
		client = ipc_get_str(&f, IPC_CLIENT);
		if (op == NULL || client == NULL ||
		    client_key(client, 64, key, sizeof(key)) != 0)
			break;
		client = key; /* as anvil counts */
		if (strcmp(op, IPC_OP_RESTORE) == 0 &&
		    ipc_get_int(&f, IPC_COUNT, 1, 1000, &n) == 0)
			(void)anvil_table_restore(t, &p, client, (unsigned)n,
						  0);
		if (strcmp(op, IPC_OP_DISCONNECT) == 0)
			anvil_table_disconnect(t, &p, client, 0);
		if (strcmp(op, IPC_OP_CONNECT) != 0)
			continue;
		(void)anvil_table_connect(t, &p, client, 0, &count, &rate);
		ipc_frame_init(&r);
		ipc_put_str(&r, IPC_STATUS, IPC_STATUS_OK);
		ipc_put_int(&r, IPC_COUNT, count);
		ipc_put_int(&r, IPC_RATE, rate);
		(void)ipc_send(fd, &r, -1, 5);
		ipc_frame_free(&r);
	}
	ipc_frame_free(&f);
	if (fd >= 0)
		close(fd);
	anvil_table_release(t, &p, 0);
	anvil_table_free(t);
	return NULL;
}

static int
anvil_listen(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	strlcpy(sun.sun_path, IPC_SOCK_ANVIL, sizeof(sun.sun_path));
	listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	(void)unlink(IPC_SOCK_ANVIL);
	return (mkdir("private", 0700) == 0 || errno == EEXIST) &&
		       bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) ==
			   0 &&
		       listen(listen_fd, 4) == 0
		   ? 0
		   : -1;
}

static void
test_judge(void)
{
	is_int(smtpd_anvil_judge(5, 5, 5, 5), SMTPD_ANVIL_OK,
	       "at the limits: allowed");
	is_int(smtpd_anvil_judge(6, 1, 5, 0), SMTPD_ANVIL_COUNT,
	       "one over the count limit: refused for concurrency");
	is_int(smtpd_anvil_judge(1, 4, 5, 3), SMTPD_ANVIL_RATE,
	       "one over the rate limit: refused for rate");
	is_int(smtpd_anvil_judge(6, 4, 5, 3), SMTPD_ANVIL_COUNT,
	       "both over: the count is named");
	is_int(smtpd_anvil_judge(100000, 100000, 0, 0), SMTPD_ANVIL_OK,
	       "limits of 0: no limit");
	is_int(smtpd_anvil_fallback_rate(50, 0), 100,
	       "anvil away, no rate limit set: twice the count limit");
	is_int(smtpd_anvil_fallback_rate(50, 7), 7,
	       "anvil away: a rate limit that is set stays");
}

/* The answer given to a question (fn of smtpd_anvil_connect). */
static int answered_by = -1;
static unsigned answered_count, answered_rate;

static void
on_answer(void *ctx, int by, unsigned count, unsigned rate)
{
	(void)ctx;
	answered_by = by;
	answered_count = count;
	answered_rate = rate;
}

/* Ask, and run the loop until the answer: 0 anvil's, 1 our own. */
static int
ask(const char *addr, unsigned *count, unsigned *rate)
{
	long long until = event_now_ms() + 3000;
	int r = smtpd_anvil_connect(addr, on_answer, NULL, count, rate);

	if (r != SMTPD_ANVIL_ASKED)
		return r;
	answered_by = -1;
	while (answered_by < 0 && event_now_ms() < until)
		event_run_once(100);
	*count = answered_count;
	*rate = answered_rate;
	return answered_by;
}

/* No anvil: this process's own counts, never none. */
static void
test_alone(void)
{
	unsigned count = 0, rate = 0;
	int i, by = -1;

	for (i = 1; i <= 3; i++)
		by = ask("192.0.2.1", &count, &rate);
	is_int(by, 1, "no anvil: counted by this process");
	ok(count == 3 && rate == 3, "three connections of one client counted");
	smtpd_anvil_disconnect("192.0.2.1");
	(void)ask("2001:db8:1:2::1", &count, &rate);
	(void)ask("2001:db8:1:2:ffff::9", &count, &rate);
	is_int(count, 2, "two addresses of one /64 are one client");
	(void)ask("2001:db8:1:3::1", &count, &rate);
	is_int(count, 1, "another /64 is another client");
}

/* An anvil that takes the connection and never answers. */
static void
test_silent(void)
{
	unsigned count = 0, rate = 0;
	long long start;
	int r;

	if (anvil_listen() != 0) {
		ok(0, "listen on private/anvil: %s", strerror(errno));
		return;
	}
	usleep(1100 * 1000); /* past the retry delay of the failures above */
	answered_by = -1;
	start = event_now_ms();
	r = smtpd_anvil_connect("198.51.100.1", on_answer, NULL, &count, &rate);
	is_int(r, SMTPD_ANVIL_ASKED, "a silent anvil: the question is asked");
	is_int(answered_by, -1, "and not answered from inside the call");
	while (answered_by < 0 && event_now_ms() < start + 3000)
		event_run_once(100);
	is_int(answered_by, 1, "no answer: this process's own counts decide");
	ok(event_now_ms() - start < 1000,
	   "after the short deadline (%lld ms), not seconds",
	   event_now_ms() - start);
	is_int(answered_count, 1, "its own count of the client");
	smtpd_anvil_disconnect("198.51.100.1");
	close(listen_fd);
	(void)unlink(IPC_SOCK_ANVIL);
}

/* anvil comes back: it learns what this process holds, then the rest. */
static void
test_restore(void)
{
	pthread_t th;
	unsigned count = 0, rate = 0;
	int by;

	if (anvil_listen() != 0) {
		ok(0, "listen on private/anvil: %s", strerror(errno));
		return;
	}
	pthread_create(&th, NULL, anvil_thread, NULL);
	usleep(1100 * 1000); /* past the retry delay of the failures above */
	by = ask("192.0.2.1", &count, &rate);
	is_int(by, 0, "anvil is back: its numbers are used");
	is_int(count, 3, "it counts the two sessions this process held");
	smtpd_anvil_disconnect("2001:db8:1:3::1");
	(void)ask("2001:db8:1:2::7", &count, &rate);
	is_int(count, 3, "the /64's sessions came back too");
	pthread_mutex_lock(&seen_lock);
	is_str(buf_cstr(&seen),
	       "restore 192.0.2.1 2\n"
	       "restore 2001:db8:1:2::/64 2\n"
	       "restore 2001:db8:1:3::/64 1\n"
	       "connect 192.0.2.1\n"
	       "disconnect 2001:db8:1:3::1\n"
	       "connect 2001:db8:1:2::7\n",
	       "restores first, then the new client; disconnects follow");
	pthread_mutex_unlock(&seen_lock);
	close(listen_fd);
	shutdown(listen_fd, SHUT_RDWR);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return 1;
	}
	event_init();
	test_judge();
	test_alone();
	test_silent();
	test_restore();
	(void)unlink(IPC_SOCK_ANVIL);
	(void)rmdir("private");
	if (chdir("/") == 0)
		(void)rmdir(dir);
	return done_testing();
}
