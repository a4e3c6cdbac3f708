/*
 * smtpload: the benchmark's SMTP client (bench/compare.py runs it).  It
 * sends N messages to one recipient over C sessions, each a thread with
 * blocking sockets, either a new connection per message (connect,
 * EHLO, MAIL, RCPT, DATA, QUIT) or, with -k, one connection per session
 * for all its messages.  MAIL, RCPT and DATA go in one write when the
 * server offers PIPELINING.  It prints one line of figures:
 *
 *   sent=N ok=N failed=N seconds=S rate=R p50_ms=A p99_ms=B max_ms=C
 *
 * The latency of a message is connect to the reply to QUIT (new
 * connections) or MAIL to the reply after the dot (-k).  With -L FILE it
 * also writes every latency (ms), one a line.  With -T TAG each message
 * gets a first header line "X-Smtpload: TAG-I" (I its number), and -A
 * FILE writes the tokens of the messages answered 2xx after the dot, one
 * a line as each is answered (so a load stopped by a signal leaves a true
 * list): the crash tests compare them with what was delivered.  Hostile
 * input: the
 * server's replies, read through a bounded buffer; a reply longer than
 * the buffer or a connection that stalls (-t seconds) fails that message.
 * It only ever connects to the address given (the bench gives loopback).
 * Runs as the benchmark's user, never inside an instance.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 8192
#define LINE_LEN 76

struct load {
	struct sockaddr_in addr;
	const char *rcpt, *sender, *tag;
	char *body; /* CRLF lines, no line starting with a dot, ends CRLF */
	size_t body_len;
	long count;
	int keep;
	int timeout;
	atomic_long next; /* messages handed out */
	atomic_long ok, failed;
	double *lat;    /* ms, indexed by message number; -1 when failed */
	FILE *accepted; /* -A: tokens of the messages answered 2xx */
	pthread_mutex_t lock;
};

struct conn {
	int fd;
	char buf[REPLY_MAX];
	size_t len;
	int pipelining;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Length of the first complete line in c->buf (with its LF), or 0. */
static size_t
line_end(const struct conn *c)
{
	const char *lf = memchr(c->buf, '\n', c->len);

	return lf == NULL ? 0 : (size_t)(lf - c->buf) + 1;
}

/*
 * Read one whole reply (its last line has a space or nothing after the
 * code); returns its code, -1 on EOF, error or an over-long line.  Sets
 * c->pipelining when a line of it says PIPELINING (EHLO).
 */
static int
read_reply(struct conn *c)
{
	size_t n;
	ssize_t got;
	int code;

	for (;;) {
		while ((n = line_end(c)) == 0) {
			if (c->len == sizeof(c->buf))
				return -1;
			got = recv(c->fd, c->buf + c->len,
				   sizeof(c->buf) - c->len, 0);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				return -1;
			c->len += (size_t)got;
		}
		if (n < 4)
			return -1;
		code = (c->buf[0] - '0') * 100 + (c->buf[1] - '0') * 10 +
		       (c->buf[2] - '0');
		if (n >= 14 && memcmp(c->buf + 4, "PIPELINING", 10) == 0)
			c->pipelining = 1;
		int last = c->buf[3] != '-';
		memmove(c->buf, c->buf + n, c->len - n);
		c->len -= n;
		if (last)
			return code;
	}
}

static int
command(struct conn *c, const char *text, int want)
{
	if (write_all(c->fd, text, strlen(text)) != 0)
		return -1;
	return read_reply(c) / 100 == want ? 0 : -1;
}

static int
conn_open(struct load *l, struct conn *c)
{
	struct timeval tv = {.tv_sec = l->timeout};
	int one = 1;

	c->len = 0;
	c->pipelining = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&l->addr, sizeof(l->addr)) != 0 ||
	    read_reply(c) != 220 ||
	    command(c, "EHLO load.example\r\n", 2) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void
conn_close(struct conn *c, int quit)
{
	if (c->fd < 0)
		return;
	if (quit)
		(void)command(c, "QUIT\r\n", 2);
	close(c->fd);
	c->fd = -1;
}

/* One transaction on an open connection: 0 when the dot got a 2xx. */
static int
transaction(struct load *l, struct conn *c, long i)
{
	char env[1024], token[256];
	int n, tn = 0;

	n = snprintf(env, sizeof(env), "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n",
		     l->sender, l->rcpt);
	if (n < 0 || (size_t)n >= sizeof(env))
		return -1;
	if (c->pipelining) {
		if (strlcat(env, "DATA\r\n", sizeof(env)) >= sizeof(env) ||
		    write_all(c->fd, env, strlen(env)) != 0 ||
		    read_reply(c) / 100 != 2 || read_reply(c) / 100 != 2 ||
		    read_reply(c) != 354)
			return -1;
	} else {
		const char *rcpt = strchr(env, '\n') + 1;
		char mail[1024];

		memcpy(mail, env, (size_t)(rcpt - env));
		mail[rcpt - env] = '\0';
		if (command(c, mail, 2) != 0 || command(c, rcpt, 2) != 0 ||
		    command(c, "DATA\r\n", 3) != 0)
			return -1;
	}
	if (l->tag != NULL) {
		tn = snprintf(token, sizeof(token), "X-Smtpload: %s-%ld\r\n",
			      l->tag, i);
		if (tn < 0 || (size_t)tn >= sizeof(token))
			return -1;
	}
	if ((tn > 0 && write_all(c->fd, token, (size_t)tn) != 0) ||
	    write_all(c->fd, l->body, l->body_len) != 0 ||
	    write_all(c->fd, ".\r\n", 3) != 0)
		return -1;
	return read_reply(c) / 100 == 2 ? 0 : -1;
}

static void
record(struct load *l, long i, int r, double t0)
{
	l->lat[i] = r == 0 ? now_ms() - t0 : -1;
	if (r == 0 && l->accepted != NULL) {
		pthread_mutex_lock(&l->lock);
		fprintf(l->accepted, "%s-%ld\n", l->tag ? l->tag : "", i);
		fflush(l->accepted);
		pthread_mutex_unlock(&l->lock);
	}
	if (r == 0)
		atomic_fetch_add(&l->ok, 1);
	else
		atomic_fetch_add(&l->failed, 1);
}

static void *
session(void *arg)
{
	struct load *l = arg;
	struct conn c = {.fd = -1};
	long i;
	double t0;
	int r;

	while ((i = atomic_fetch_add(&l->next, 1)) < l->count) {
		t0 = now_ms();
		if (c.fd < 0 && conn_open(l, &c) != 0) {
			record(l, i, -1, t0);
			continue;
		}
		if (l->keep)
			t0 = now_ms();
		r = transaction(l, &c, i);
		if (!l->keep || r != 0) {
			if (r == 0 && command(&c, "QUIT\r\n", 2) != 0)
				r = -1;
			conn_close(&c, 0);
		}
		record(l, i, r, t0);
	}
	conn_close(&c, 1);
	return NULL;
}

/* A body of about size bytes: a Subject and 76-character lines. */
static int
make_body(struct load *l, size_t size)
{
	static const char head[] = "Subject: smtpload\r\n\r\n";
	size_t lines =
	    size > sizeof(head) ? (size - sizeof(head)) / (LINE_LEN + 2) : 0;
	char *p;

	if (lines == 0)
		lines = 1;
	l->body_len = sizeof(head) - 1 + lines * (LINE_LEN + 2);
	if ((l->body = malloc(l->body_len)) == NULL)
		return -1;
	memcpy(l->body, head, sizeof(head) - 1);
	p = l->body + sizeof(head) - 1;
	for (size_t i = 0; i < lines; i++, p += LINE_LEN + 2) {
		memset(p, 'a' + (int)(i % 26), LINE_LEN);
		memcpy(p + LINE_LEN, "\r\n", 2);
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
percentile(const double *v, long n, double p)
{
	long i = (long)(p * (double)(n - 1) + 0.5);

	return n == 0 ? 0 : v[i];
}

static void
report(struct load *l, double seconds, const char *lat_file)
{
	double *v = malloc(sizeof(double) * (size_t)(l->count + 1));
	long n = 0;
	FILE *f = lat_file != NULL ? fopen(lat_file, "w") : NULL;

	for (long i = 0; v != NULL && i < l->count; i++) {
		if (l->lat[i] >= 0)
			v[n++] = l->lat[i];
		if (f != NULL && l->lat[i] >= 0)
			fprintf(f, "%.3f\n", l->lat[i]);
	}
	if (f != NULL)
		fclose(f);
	if (v != NULL)
		qsort(v, (size_t)n, sizeof(double), cmp_double);
	printf("sent=%ld ok=%ld failed=%ld seconds=%.3f rate=%.1f "
	       "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       l->count, atomic_load(&l->ok), atomic_load(&l->failed), seconds,
	       seconds > 0 ? (double)atomic_load(&l->ok) / seconds : 0,
	       v ? percentile(v, n, 0.5) : 0, v ? percentile(v, n, 0.99) : 0,
	       v && n ? v[n - 1] : 0);
	free(v);
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtpload -p PORT -r RCPT [-a ADDR] [-n MSGS] "
			"[-c SESSIONS] [-s BYTES] [-k] [-f SENDER] [-t SECS] "
			"[-L FILE] [-T TAG] [-A FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct load l = {
	    .sender = "load@example.org", .count = 100, .timeout = 120};
	const char *addr = "127.0.0.1", *lat_file = NULL, *acc_file = NULL;
	long sessions = 1, size = 2000, port = 0;
	pthread_t *th;
	double t0;
	int ch;

	while ((ch = getopt(argc, argv, "A:a:c:f:kL:n:p:r:s:T:t:")) != -1) {
		switch (ch) {
		case 'A':
			acc_file = optarg;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'c':
			sessions = atol(optarg);
			break;
		case 'f':
			l.sender = optarg;
			break;
		case 'k':
			l.keep = 1;
			break;
		case 'L':
			lat_file = optarg;
			break;
		case 'n':
			l.count = atol(optarg);
			break;
		case 'p':
			port = atol(optarg);
			break;
		case 'r':
			l.rcpt = optarg;
			break;
		case 's':
			size = atol(optarg);
			break;
		case 'T':
			l.tag = optarg;
			break;
		case 't':
			l.timeout = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (l.rcpt == NULL || port <= 0 || port > 65535 || sessions < 1 ||
	    sessions > 1000 || l.count < 1 || size < 1 || l.timeout < 1)
		usage();
	l.addr.sin_family = AF_INET;
	l.addr.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &l.addr.sin_addr) != 1)
		usage();
	l.lat = calloc((size_t)l.count, sizeof(double));
	th = calloc((size_t)sessions, sizeof(*th));
	if (l.lat == NULL || th == NULL || make_body(&l, (size_t)size) != 0) {
		perror("smtpload");
		return 1;
	}
	pthread_mutex_init(&l.lock, NULL);
	if (acc_file != NULL && (l.accepted = fopen(acc_file, "w")) == NULL) {
		perror(acc_file);
		return 1;
	}
	t0 = now_ms();
	for (long i = 0; i < sessions; i++)
		if (pthread_create(&th[i], NULL, session, &l) != 0) {
			perror("smtpload: pthread_create");
			return 1;
		}
	for (long i = 0; i < sessions; i++)
		pthread_join(th[i], NULL);
	report(&l, (now_ms() - t0) / 1000.0, lat_file);
	if (l.accepted != NULL && fclose(l.accepted) != 0) {
		perror(acc_file);
		return 1;
	}
	return atomic_load(&l.failed) == 0 ? 0 : 1;
}
