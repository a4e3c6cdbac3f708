/*
 * local_message: the pieces every kind of local delivery shares: results
 * and their validation, the commit question, the lines prepended to a
 * delivered copy, streaming the message from qmgr's read-only descriptor,
 * and the Delivered-To scan of the header block that detects forwarding
 * loops.  The message bytes and the text a child or the resolver reports
 * are hostile: the scan is bounded and pure, result texts are cleaned
 * before they reach a log line or qmgr.  Runs in local's parent, its
 * resolver and its delivery children.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "local.h"
#include "log.h"

static volatile sig_atomic_t message_abort;

static void
message_on_term(int sig)
{
	(void)sig;
	message_abort = 1;
}

void
local_abort_arm(pid_t parent)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = message_on_term; /* no SA_RESTART: waits end */
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	/* Set after the drop: a change of uid clears it. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != parent)
		message_abort = 1;
}

int
local_aborted(void)
{
	return message_abort != 0;
}

static int message_commit_sock = -1;

void
local_commit_arm(int sock)
{
	message_commit_sock = sock;
}

/* Send f to the parent and read its {go}; 1 for yes (and not aborted). */
static int
message_ask(struct ipc_frame *f)
{
	const char *why, *go;
	int yes = 0;

	if (ipc_send(message_commit_sock, f, -1, 60) == 0) {
		ipc_frame_reset(f);
		if (ipc_recv(message_commit_sock, f, 60, &why) == 1 &&
		    (go = ipc_get_str(f, LOCAL_ATTR_GO)) != NULL)
			yes = strcmp(go, "yes") == 0;
	}
	return yes && !local_aborted();
}

int
local_commit_ok(void)
{
	struct ipc_frame f;
	int yes;

	if (local_aborted())
		return 0;
	if (message_commit_sock < 0)
		return 1;
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, LOCAL_OP_COMMIT);
	yes = message_ask(&f);
	ipc_frame_free(&f);
	return yes;
}

void
local_commit_delivered(void)
{
	struct ipc_frame f;

	if (message_commit_sock < 0)
		return;
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, LOCAL_OP_DELIVERED);
	(void)ipc_send(message_commit_sock, &f, -1, 60);
	ipc_frame_free(&f);
}

int
local_commit_delivered_index(size_t index)
{
	struct ipc_frame f;
	int yes;

	if (message_commit_sock < 0)
		return !local_aborted();
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, LOCAL_OP_DELIVERED);
	ipc_put_int(&f, LOCAL_ATTR_INDEX, (long long)index);
	yes = message_ask(&f);
	ipc_frame_free(&f);
	return yes;
}

int
local_client_alive(int fd)
{
	return ipc_peer_alive(fd);
}

int
local_queue_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n <= LOCAL_QUEUE_ID_MAX &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789") == n;
}

int
local_abort_result(struct local_result *r)
{
	local_result_set(r, LOCAL_DEFER, "4.3.0",
			 "delivery cancelled: local or qmgr stopped");
	return -1;
}

/* Close every descriptor from 3 up except the (at most three) kept ones. */
void
local_close_fds(int keep1, int keep2, int keep3)
{
	int keep[3] = {keep1, keep2, keep3}, t;
	unsigned from = 3;
	size_t i, j;

	for (i = 0; i < 3; i++) /* sort the three */
		for (j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (i = 0; i < 3; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned)keep[i] > from)
			(void)close_range(from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	(void)close_range(from, ~0U, 0);
}

void
local_log_result(const struct local_msg *m, const char *to,
		 const struct local_result *r)
{
	int orig = strcasecmp(to, m->rcpt) != 0;
	struct timespec now;
	double delay;

	clock_gettime(CLOCK_REALTIME, &now);
	delay = (double)(now.tv_sec - m->arrival) + now.tv_nsec / 1e9;
	/* Postfix's shape: local logs its deliveries, qmgr does not repeat. */
	log_info("%s: to=<%s>%s%s%s, relay=local, delay=%.2f, dsn=%s, "
		 "status=%s (%s)",
		 m->queue_id, to, orig ? ", orig_to=<" : "",
		 orig ? m->rcpt : "", orig ? ">" : "", delay < 0 ? 0 : delay,
		 r->dsn,
		 r->status == LOCAL_SENT     ? "sent"
		 : r->status == LOCAL_BOUNCE ? "bounced"
					     : "deferred",
		 r->text);
}

void
local_result_set(struct local_result *r, enum local_status status,
		 const char *dsn, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	strlcpy(r->dsn, dsn, sizeof(r->dsn));
	va_start(ap, fmt);
	(void)vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	local_text_clean(r->text);
}

static int
message_rank(enum local_status status)
{
	return status == LOCAL_DEFER ? 2 : status == LOCAL_BOUNCE ? 1 : 0;
}

void
local_result_merge(struct local_result *worst, const struct local_result *r)
{
	if (message_rank(r->status) > message_rank(worst->status))
		*worst = *r;
}

const char *
local_status_name(enum local_status status)
{
	switch (status) {
	case LOCAL_SENT:
		return "sent";
	case LOCAL_BOUNCE:
		return "bounce";
	case LOCAL_DEFER:
		return "defer";
	}
	return "defer";
}

int
local_status_parse(const char *word, enum local_status *status)
{
	if (strcmp(word, "sent") == 0)
		*status = LOCAL_SENT;
	else if (strcmp(word, "bounce") == 0)
		*status = LOCAL_BOUNCE;
	else if (strcmp(word, "defer") == 0)
		*status = LOCAL_DEFER;
	else
		return -1;
	return 0;
}

/* One to three digits starting at s; the count of digits, or 0. */
static size_t
message_digits(const char *s)
{
	size_t n = 0;

	while (n < 4 && isdigit((unsigned char)s[n]))
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

int
local_dsn_valid(const char *dsn, enum local_status status)
{
	static const char want[] = {'2', '5', '4'};
	size_t n;

	if (dsn[0] != want[status] || dsn[1] != '.')
		return 0;
	dsn += 2;
	if ((n = message_digits(dsn)) == 0 || dsn[n] != '.')
		return 0;
	dsn += n + 1;
	return (n = message_digits(dsn)) != 0 && dsn[n] == '\0';
}

int
local_result_parse(const struct ipc_frame *f, struct local_result *r)
{
	const char *status = ipc_get_str(f, IPC_STATUS);
	const char *dsn = ipc_get_str(f, IPC_DSN);
	const char *text = ipc_get_str(f, IPC_TEXT);
	enum local_status st;

	if (status == NULL || dsn == NULL || text == NULL ||
	    local_status_parse(status, &st) != 0 ||
	    strlen(dsn) >= sizeof(r->dsn) || !local_dsn_valid(dsn, st) ||
	    strlen(text) >= sizeof(r->text))
		return -1;
	local_result_set(r, st, dsn, "%s", text);
	return 0;
}

void
local_result_put(struct ipc_frame *f, const struct local_result *r)
{
	ipc_put_str(f, IPC_STATUS, local_status_name(r->status));
	ipc_put_str(f, IPC_DSN, r->dsn);
	ipc_put_str(f, IPC_TEXT, r->text);
}

void
local_msg_put(struct ipc_frame *f, const struct local_msg *m, const char *rcpt,
	      const char *orig_rcpt)
{
	ipc_put_str(f, IPC_QUEUE_ID, m->queue_id);
	ipc_put_str(f, IPC_SENDER, m->sender);
	ipc_put_str(f, IPC_RCPT, rcpt);
	ipc_put_str(f, IPC_ORIG_RCPT, orig_rcpt);
	ipc_put_int(f, IPC_CONTENT_OFFSET, (long long)m->offset);
	ipc_put_int(f, IPC_CONTENT_LENGTH, (long long)m->length);
	ipc_put_int(f, IPC_ARRIVAL, (long long)m->arrival);
	ipc_put_int(f, LOCAL_ATTR_DEADLINE, (long long)m->deadline);
}

/* An address field of a kept process's request: present and bounded. */
static const char *
message_field(const struct ipc_frame *f, const char *name)
{
	const char *s = ipc_get_str(f, name);

	return s != NULL && strlen(s) < ADDR_TEXT_MAX ? s : NULL;
}

int
local_msg_take(const struct ipc_frame *f, struct local_msg *m)
{
	long long off, len, arrival, deadline;

	m->queue_id = ipc_get_str(f, IPC_QUEUE_ID);
	m->sender = message_field(f, IPC_SENDER);
	m->rcpt = message_field(f, IPC_RCPT);
	m->orig_rcpt = message_field(f, IPC_ORIG_RCPT);
	if (f->fd < 0 || m->sender == NULL || m->rcpt == NULL ||
	    m->orig_rcpt == NULL || !local_queue_id_ok(m->queue_id) ||
	    ipc_get_int(f, IPC_CONTENT_OFFSET, 0, 1LL << 40, &off) != 0 ||
	    ipc_get_int(f, IPC_CONTENT_LENGTH, 0, 1LL << 40, &len) != 0 ||
	    ipc_get_int(f, IPC_ARRIVAL, 0, 1LL << 40, &arrival) != 0 ||
	    ipc_get_int(f, LOCAL_ATTR_DEADLINE, 0, 1LL << 40, &deadline) != 0)
		return -1;
	m->fd = f->fd;
	m->offset = (off_t)off;
	m->length = (off_t)len;
	m->arrival = (time_t)arrival;
	m->deadline = (time_t)deadline;
	m->client_fd = -1;
	return 0;
}

void
local_text_clean(char *text)
{
	size_t i, n = 0;

	for (i = 0; text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (n == 0 || text[n - 1] == ' '))
			continue;
		text[n++] = (char)c;
	}
	while (n > 0 && text[n - 1] == ' ')
		n--;
	text[n] = '\0';
}

int
local_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void
local_msg_prefix(struct buf *out, const char *sender, const char *rcpt)
{
	buf_printf(out, "Return-Path: <%s>\nDelivered-To: %s\n", sender, rcpt);
}

int
local_msg_copy(const struct local_msg *m, local_sink_fn sink, void *ctx,
	       struct local_result *r)
{
	static char chunk[LOCAL_CHUNK];
	off_t done = 0;
	ssize_t n;
	size_t want;

	r->text[0] = '\0';
	while (done < m->length) {
		if (local_aborted())
			return local_abort_result(r);
		want = m->length - done < (off_t)sizeof(chunk)
			   ? (size_t)(m->length - done)
			   : sizeof(chunk);
		n = pread(m->fd, chunk, want, m->offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			local_result_set(
			    r, LOCAL_DEFER, "4.3.0", "cannot read message: %s",
			    n == 0 ? "queue file truncated" : strerror(errno));
			return -1;
		}
		if (sink(ctx, chunk, (size_t)n) != 0) {
			if (r->text[0] == '\0')
				local_result_set(r, LOCAL_DEFER, "4.3.0",
						 "write error: %s",
						 strerror(errno));
			return -1;
		}
		done += n;
	}
	return 0;
}

/* Compare a header value (folding removed, <> and blanks ignored). */
static int
message_value_is(const char *v, size_t len, const char *addr)
{
	char text[ADDR_TEXT_MAX + 8];
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		char c = v[i] == '\n' || v[i] == '\t' ? ' ' : v[i];
		if (c == '\r')
			continue;
		if (n + 1 >= sizeof(text))
			return 0;
		text[n++] = c;
	}
	text[n] = '\0';
	for (i = 0; text[i] == ' '; i++)
		;
	while (n > i && text[n - 1] == ' ')
		n--;
	if (n - i >= 2 && text[i] == '<' && text[n - 1] == '>') {
		i++;
		n--;
	}
	return n - i == strlen(addr) && strncasecmp(text + i, addr, n - i) == 0;
}

int
local_header_has_delivered_to(const char *hdr, size_t len, const char *addr)
{
	static const char name[] = "Delivered-To:";
	size_t nlen = sizeof(name) - 1, i = 0, end;

	while (i < len && hdr[i] != '\n') {
		/* A logical header line ends at a newline not followed by
		 * folding white space. */
		end = i;
		while (end < len &&
		       !(hdr[end] == '\n' &&
			 (end + 1 >= len ||
			  (hdr[end + 1] != ' ' && hdr[end + 1] != '\t'))))
			end++;
		if (end - i >= nlen && strncasecmp(hdr + i, name, nlen) == 0 &&
		    message_value_is(hdr + i + nlen, end - i - nlen, addr))
			return 1;
		i = end + 1;
	}
	return 0;
}
