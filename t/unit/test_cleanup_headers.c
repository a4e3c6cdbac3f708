/*
 * test_cleanup_headers: cleanup's header block processor and the trace
 * headers it writes.  Golden files t/unit/golden/cleanup_headers/NAME.in
 * are message contents; NAME.out is the content cleanup would queue (its
 * Received: header, the block, the added headers, the body) or the reply of
 * a rejection.  Golden runs use small limits (GOLDEN_*) so the inputs stay
 * small.  Each input is fed whole, in 7-byte chunks and byte by byte: the
 * result must not depend on where chunks end.  Set MOAT_GOLDEN_WRITE=1 to
 * write missing .out files (then read them before committing).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "cleanup_headers.h"
#include "tap.h"

#define GOLDEN_DIR "t/unit/golden/cleanup_headers"
#define GOLDEN_SIZE 2048
#define GOLDEN_COUNT 50
#define GOLDEN_HOPS 10
#define TEST_DATE "Sun, 22 Nov 2026 22:58:01 +0000"

static const struct cleanup_trace smtp_trace = {
    .queue_id = "0123456789ABCDEF0",
    .myhostname = "mx.example.org",
    .protocol = "ESMTP",
    .helo = "client.example.net",
    .client_name = "mail.example.net",
    .client_addr = "192.0.2.1",
    .rcpt = "bob@example.net",
    .uid = -1,
    .date = TEST_DATE,
    .from = NULL,
};

struct limits {
	size_t size, count, hops;
};

/* Run content through the processor in chunks; the result goes to out. */
static void
process(const char *in, size_t len, size_t chunk, const struct limits *lim,
	const struct cleanup_trace *t, struct buf *out)
{
	struct cleanup_headers h;
	struct buf body = BUF_INIT;
	const char *prefix;
	size_t off, n, took, prefix_len;

	cleanup_headers_init(&h, lim->size, lim->count, lim->hops);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		took = cleanup_headers_feed(&h, in + off, n);
		if (h.state == HDR_STATE_BODY)
			buf_append(&body, in + off + took, n - took);
	}
	cleanup_headers_finish(&h);
	buf_reset(out);
	if (h.state == HDR_STATE_REJECT) {
		buf_printf(out, "reject %d %s %s\n",
			   cleanup_headers_reject_code(h.reject),
			   cleanup_headers_reject_dsn(h.reject),
			   cleanup_headers_reject_text(h.reject));
	} else {
		cleanup_headers_emit(&h, t, out);
		cleanup_headers_prefix(&h, &prefix, &prefix_len);
		buf_append(out, prefix, prefix_len);
		buf_append(out, body.data, body.len);
	}
	buf_free(&body);
	cleanup_headers_free(&h);
}

static int
read_file(const char *path, struct buf *out)
{
	char tmp[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf_reset(out);
	if (fd < 0)
		return -1;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(out, tmp, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

static void
write_file(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd < 0 || write(fd, b->data, b->len) != (ssize_t)b->len)
		printf("# cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void
golden_one(const char *name)
{
	static const size_t chunks[] = {SIZE_MAX, 7, 1};
	struct limits lim = {GOLDEN_SIZE, GOLDEN_COUNT, GOLDEN_HOPS};
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	char path[512];
	size_t i;

	snprintf(path, sizeof(path), "%s/%s.in", GOLDEN_DIR, name);
	if (read_file(path, &in) < 0) {
		ok(0, "golden %s: read %s", name, path);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.out", GOLDEN_DIR, name);
	if (read_file(path, &want) < 0) {
		if (getenv("MOAT_GOLDEN_WRITE") != NULL) {
			process(in.data, in.len, SIZE_MAX, &lim, &smtp_trace,
				&got);
			write_file(path, &got);
		}
		ok(0, "golden %s: %s exists", name, path);
		goto out;
	}
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		process(in.data, in.len, chunks[i], &lim, &smtp_trace, &got);
		ok(got.len == want.len &&
		       memcmp(got.data, want.data, got.len) == 0,
		   "golden %s (chunks of %zu) matches %s", name,
		   chunks[i] == SIZE_MAX ? in.len : chunks[i], path);
		if (got.len != want.len ||
		    memcmp(got.data, want.data, got.len) != 0)
			printf("#   expected:\n%s\n#   got:\n%s\n",
			       buf_cstr(&want), buf_cstr(&got));
	}
out:
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
golden_all(void)
{
	DIR *d = opendir(GOLDEN_DIR);
	struct dirent *e;
	char *names[256];
	size_t n = 0, i, len;

	if (d == NULL) {
		ok(0, "open %s (run from the top directory)", GOLDEN_DIR);
		return;
	}
	while ((e = readdir(d)) != NULL && n < 256) {
		len = strlen(e->d_name);
		if (len > 3 && strcmp(e->d_name + len - 3, ".in") == 0)
			names[n++] = xstrndup(e->d_name, len - 3);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	ok(n >= 10, "found %zu golden inputs (want at least 10)", n);
	for (i = 0; i < n; i++) {
		golden_one(names[i]);
		free(names[i]);
	}
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The "thousands of To: lines" attack: rejected, and in linear time. */
static void
test_many_to_lines(void)
{
	struct limits dflt = {102400, 1000, 50}, big = {64 << 20, 100000, 50};
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct timespec start;
	int i;

	for (i = 0; i < 5000; i++)
		buf_printf(&in, "To: user%d@example.net\n", i);
	buf_append_str(&in, "\nbody\n");
	clock_gettime(CLOCK_MONOTONIC, &start);
	process(in.data, in.len, 512, &dflt, &smtp_trace, &out);
	printf("# 5000 To: lines, default limits: %.6f s\n",
	       seconds_since(&start));
	is_str(buf_cstr(&out),
	       "reject 552 5.3.4 Error: too many message headers\n",
	       "5000 To: lines over header_count_limit 1000 are rejected");

	clock_gettime(CLOCK_MONOTONIC, &start);
	process(in.data, in.len, 512, &big, &smtp_trace, &out);
	printf("# 5000 To: lines, accepted with high limits: %.6f s\n",
	       seconds_since(&start));
	ok(out.len > in.len &&
	       memcmp(out.data + out.len - 6, "\nbody\n", 6) == 0,
	   "5000 To: lines under high limits pass through with their body");
	buf_free(&in);
	buf_free(&out);
}

/* Physical lines count too: one header folded into 5000 tiny lines. */
static void
test_tiny_lines(void)
{
	struct limits dflt = {102400, 1000, 50};
	struct buf in = BUF_INIT, out = BUF_INIT;
	int i;

	buf_append_str(&in, "Subject: x\n");
	for (i = 0; i < 5000; i++)
		buf_append_str(&in, " y\n");
	buf_append_str(&in, "\nbody\n");
	process(in.data, in.len, 4096, &dflt, &smtp_trace, &out);
	is_str(buf_cstr(&out),
	       "reject 552 5.3.4 Error: too many message headers\n",
	       "one header folded into 5000 lines is rejected by line count");
	buf_free(&in);
	buf_free(&out);
}

static void
test_message_id(void)
{
	static const char in[] = "From: a@example.org\n"
				 "Message-ID:\n  <folded.id@example.org> \n"
				 "Message-ID: <second@example.org>\n\nbody\n";
	struct cleanup_headers h;
	size_t took;

	cleanup_headers_init(&h, 4096, 100, 10);
	took = cleanup_headers_feed(&h, in, sizeof(in) - 1);
	is_int(h.state, HDR_STATE_BODY, "a separator line ends the block");
	is_int(took, sizeof(in) - 1 - strlen("\nbody\n"),
	       "the separator line is left to the body");
	is_str(h.message_id, "<folded.id@example.org>",
	       "the first Message-ID is kept, unfolded and trimmed");
	is_int(h.headers, 3, "three logical headers");
	is_int(h.lines, 4, "four physical lines");
	ok(h.seen & HDR_SEEN_MESSAGE_ID && h.seen & HDR_SEEN_FROM &&
	       !(h.seen & HDR_SEEN_DATE),
	   "seen: Message-ID and From, not Date");
	is_int(cleanup_headers_feed(&h, "more", 4), 0,
	       "nothing is taken once in the body");
	cleanup_headers_free(&h);
}

static void
test_reject_takes_everything(void)
{
	struct cleanup_headers h;
	char big[3000];

	memset(big, 'a', sizeof(big));
	memcpy(big, "Subject: ", 9);
	cleanup_headers_init(&h, 1024, 100, 10);
	is_int(cleanup_headers_feed(&h, big, sizeof(big)), sizeof(big),
	       "a rejected block takes the whole chunk");
	is_int(h.state, HDR_STATE_REJECT, "over header_size_limit: rejected");
	is_int(h.reject, HDR_REJECT_SIZE, "the reason is the size");
	ok(h.block.cap == 0, "the block's memory is released on rejection");
	is_int(cleanup_headers_feed(&h, "\n\nbody", 6), 6,
	       "later bytes are taken and dropped");
	cleanup_headers_finish(&h);
	is_int(h.state, HDR_STATE_REJECT, "finish keeps the rejection");
	cleanup_headers_free(&h);
}

static void
test_local_trace(void)
{
	struct cleanup_trace t = {.queue_id = "0123456789ABCDEF0",
				  .myhostname = "host.example.org",
				  .protocol = "local",
				  .uid = 1000,
				  .date = TEST_DATE,
				  .rcpt = NULL};
	struct buf out = BUF_INIT;

	cleanup_received_format(&t, &out);
	is_str(buf_cstr(&out),
	       "Received: by host.example.org with local id 0123456789ABCDEF0"
	       " (uid 1000);\n\t" TEST_DATE "\n",
	       "local submission: Received without client, with the uid");
	buf_reset(&out);
	t.user = "alice";
	cleanup_received_format(&t, &out);
	is_str(buf_cstr(&out),
	       "Received: by host.example.org with local id 0123456789ABCDEF0"
	       " (uid 1000, user alice);\n\t" TEST_DATE "\n",
	       "local submission from pickup: the uid and the user name");
	buf_reset(&out);
	t.user = "a (b)\nc";
	cleanup_received_format(&t, &out);
	is_str(buf_cstr(&out),
	       "Received: by host.example.org with local id 0123456789ABCDEF0"
	       " (uid 1000, user a??b??c);\n\t" TEST_DATE "\n",
	       "a user name cannot break out of the comment or the line");
	buf_reset(&out);
	t.user = NULL;
	t.rcpt = "root@host.example.org";
	t.uid = -1;
	cleanup_received_format(&t, &out);
	is_str(buf_cstr(&out),
	       "Received: by host.example.org with local id 0123456789ABCDEF0"
	       "\n\tfor <root@host.example.org>; " TEST_DATE "\n",
	       "one recipient: the for clause, no uid when there is none");
	buf_free(&out);
}

static size_t
longest_line(const struct buf *b)
{
	size_t max = 0, cur = 0, i;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\n') {
			max = cur > max ? cur : max;
			cur = 0;
		} else {
			cur++;
		}
	}
	return cur > max ? cur : max;
}

/* Hostile HELO and client names: no header injection, no long line. */
static void
test_hostile_trace(void)
{
	char helo[3000], rcpt[ADDR_TEXT_MAX];
	struct cleanup_trace t = smtp_trace;
	struct buf out = BUF_INIT;
	size_t i, lf = 0;

	memset(helo, 'h', sizeof(helo) - 1);
	helo[sizeof(helo) - 1] = '\0';
	memcpy(helo, "evil\nX-Injected: yes\r\n(", 23);
	memset(rcpt, 'r', sizeof(rcpt) - 1);
	rcpt[sizeof(rcpt) - 1] = '\0';
	t.helo = helo;
	t.client_name = helo;
	t.client_addr = helo;
	t.myhostname = helo;
	t.protocol = helo;
	t.rcpt = rcpt;
	cleanup_received_format(&t, &out);
	for (i = 0; i < out.len; i++)
		lf += out.data[i] == '\n';
	is_int(lf, 3, "a hostile HELO cannot add lines to Received");
	ok(strstr(buf_cstr(&out), "\nX-Injected") == NULL,
	   "no injected header");
	ok(longest_line(&out) <= HDR_LINE_MAX,
	   "no line over 998 bytes (longest %zu)", longest_line(&out));
	ok(strstr(buf_cstr(&out), "from evil?X-Injected:?yes???h") != NULL,
	   "controls, spaces and '(' become '?'");
	buf_reset(&out);
	t = smtp_trace;
	t.helo = "";
	t.client_name = NULL;
	cleanup_received_format(&t, &out);
	is_str(buf_cstr(&out),
	       "Received: from unknown (unknown [192.0.2.1])\n\tby "
	       "mx.example.org with ESMTP id 0123456789ABCDEF0\n\tfor "
	       "<bob@example.net>; " TEST_DATE "\n",
	       "no HELO and no client name: unknown");
	buf_free(&out);
}

/* A local submission without From: gets one; others never do. */
static void
test_from_added(void)
{
	static const char in[] = "Subject: hi\n\nbody\n";
	struct limits lim = {4096, 100, 10};
	struct cleanup_trace t = smtp_trace;
	struct buf out = BUF_INIT;

	t.from = "alice@example.org";
	process(in, sizeof(in) - 1, 3, &lim, &t, &out);
	ok(strstr(buf_cstr(&out), "\nFrom: <alice@example.org>\n\nbody\n") !=
	       NULL,
	   "From: <sender> added after the other missing headers");
	process("From: x@y\n", 10, 3, &lim, &t, &out);
	ok(strstr(buf_cstr(&out), "From: <alice") == NULL,
	   "no From: added when the message has one");
	buf_free(&out);
}

static void
test_date(void)
{
	char date[HDR_DATE_MAX];
	const char *tz = getenv("TZ");
	char *saved = tz != NULL ? xstrdup(tz) : NULL;

	setenv("TZ", "UTC", 1);
	tzset();
	is_int(cleanup_date_format(1795388281, date, sizeof(date)), 0,
	       "date formats");
	is_str(date, "Sun, 22 Nov 2026 22:58:01 +0000",
	       "RFC 5322 date with a numeric zone");
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	cleanup_date_format(1795388281, date, sizeof(date));
	is_str(date, "Sun, 22 Nov 2026 23:58:01 +0100",
	       "the zone offset is local time's");
	is_int(cleanup_date_format(1795388281, date, 10), -1,
	       "a short buffer is an error");
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	free(saved);
	tzset();
}

/* smtpd's TLS and an authenticated sender, as the Received header says. */
static void
test_tls_trace(void)
{
	struct cleanup_trace t = smtp_trace;
	struct buf out = BUF_INIT;

	t.protocol = "ESMTPSA";
	t.tls = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
	cleanup_received_format(&t, &out);
	is_str(buf_cstr(&out),
	       "Received: from client.example.net (mail.example.net "
	       "[192.0.2.1])\n\t(using TLSv1.3 with cipher "
	       "TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby mx.example.org "
	       "with ESMTPSA id 0123456789ABCDEF0\n\tfor "
	       "<bob@example.net>; " TEST_DATE "\n",
	       "TLS: a using clause; AUTH: ESMTPSA, the user not named");
	buf_reset(&out);
	t.auth_user = "alice";
	cleanup_received_format(&t, &out);
	ok(strstr(buf_cstr(&out),
		  "(256/256 bits))\n\t(Authenticated sender: alice)\n\tby ") !=
	       NULL,
	   "smtpd_sasl_authenticated_header: the user named");
	buf_reset(&out);
	t.auth_user = "a) (b\nX-Evil: 1";
	cleanup_received_format(&t, &out);
	ok(strstr(buf_cstr(&out), "(Authenticated sender: a???b?X-Evil:?1)") !=
	       NULL,
	   "a hostile user name cannot leave its comment or line");
	buf_free(&out);
}

int
main(void)
{
	golden_all();
	test_tls_trace();
	test_many_to_lines();
	test_tiny_lines();
	test_message_id();
	test_reject_takes_everything();
	test_local_trace();
	test_hostile_trace();
	test_from_added();
	test_date();
	return done_testing();
}
