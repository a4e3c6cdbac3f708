/*
 * postdrop: writes one locally submitted message into maildrop/ for pickup
 * (the contract is common/maildrop.h).  `postdrop -c CONFDIR [-v] [-N
 * notify] [-R ret] [-V envid] -f SENDER -- RCPT...` with the message on
 * stdin; -N, -R and -V are sendmail's DSN requests (RFC 3461), checked
 * here again and kept in the file's DSN records.
 *
 * Security stance: installed setgid moat-drop, runs as the invoking user;
 * the group lets it create a file in maildrop/ (root:moat-drop 1730) and
 * nothing else.  Everything it is given is hostile: the environment is
 * dropped, the configuration directory is believed only when root alone
 * can change it (else a user could point queue_directory anywhere the
 * group can write), addresses go through the one address parser, and the
 * content is counted against message_size_limit.  It writes exactly one
 * file and nothing else; pickup takes the submitter from the file's owner.
 * Works while the master is stopped: the file waits in maildrop/.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "dsn.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "maildrop.h"
#include "params.h"
#include "queue_file.h"
#include "spool.h"

#define POSTDROP_RCPT_MAX 10000
#define POSTDROP_CHUNK 65536
#define POSTDROP_WAKE_TIMEOUT 2 /* seconds; pickup also scans by itself */
#define POSTDROP_CREATE_TRIES 10

struct postdrop_args {
	const char *conf_dir;
	const char *sender;
	unsigned notify;   /* -N, DSN_NOTIFY_* bits, 0: none */
	const char *ret;   /* -R, or NULL */
	const char *envid; /* -V, or NULL */
	char **rcpt;
	size_t rcpt_count;
	int verbose;
};

/* One line on stderr; control bytes from arguments are shown as '?'. */
static void __attribute__((format(printf, 1, 0)))
postdrop_vsay(const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t i;

	vsnprintf(line, sizeof(line), fmt, ap);
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	fprintf(stderr, "postdrop: %s\n", line);
}

static void __attribute__((format(printf, 1, 2)))
postdrop_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	postdrop_vsay(fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3), noreturn))
postdrop_exit(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	postdrop_vsay(fmt, ap);
	va_end(ap);
	exit(code);
}

/*
 * A clean start: no environment, descriptors 0-2 open (so no file we
 * create can become someone's stderr), nothing else inherited, and a file
 * size limit reported as an error instead of a signal.
 */
static void
postdrop_sanitize(void)
{
	int fd;

	umask(077);
	if (clearenv() != 0)
		exit(EX_OSERR);
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(EX_OSERR);
	closefrom(3);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_init("postdrop");
	log_set_fd(-1); /* params_load's warnings are the admin's business */
}

static void __attribute__((noreturn)) postdrop_usage(void)
{
	postdrop_exit(EX_USAGE, "usage: postdrop -c CONFDIR [-v] [-N notify] "
				"[-R ret] [-V envid] -f SENDER -- RCPT...");
}

/* -N, -R or -V with a value that passes dsn.c's checks: 0, else -1. */
static int
postdrop_dsn(int argc, char **argv, int *i, struct postdrop_args *a)
{
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;

	if (v == NULL)
		return -1;
	if (strcmp(argv[*i], "-N") == 0 &&
	    dsn_notify_parse(v, strlen(v), &a->notify) == 0)
		;
	else if (strcmp(argv[*i], "-R") == 0 &&
		 dsn_ret_parse(v, strlen(v)) != DSN_RET_NONE)
		a->ret = dsn_ret_name(dsn_ret_parse(v, strlen(v)));
	else if (strcmp(argv[*i], "-V") == 0 && dsn_envid_ok(v, strlen(v)))
		a->envid = v;
	else
		return -1;
	++*i;
	return 0;
}

static void
postdrop_parse(int argc, char **argv, struct postdrop_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-v") == 0)
			a->verbose = 1;
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			a->conf_dir = argv[++i];
		else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			a->sender = argv[++i];
		else if (postdrop_dsn(argc, argv, &i, a) != 0)
			postdrop_usage();
	}
	if (a->conf_dir == NULL || a->sender == NULL || i >= argc)
		postdrop_usage();
	a->rcpt = argv + i;
	a->rcpt_count = (size_t)(argc - i);
	if (a->rcpt_count > POSTDROP_RCPT_MAX)
		postdrop_exit(EX_DATAERR, "too many recipients (at most %d)",
			      POSTDROP_RCPT_MAX);
}

/*
 * The configuration is believed only when root alone can change it: every
 * directory from / down to it root's and not writable by others (unless
 * sticky, like /tmp), and main.conf root's and not group/other writable.
 */
static void
postdrop_trust_conf(const char *given, char *real, size_t size)
{
	char path[PATH_MAX];
	struct stat st;
	size_t len;
	char *p;

	if (size < PATH_MAX || realpath(given, real) == NULL)
		postdrop_exit(EX_CONFIG, "%s: %s", given, strerror(errno));
	if (getuid() == 0)
		return;
	len = strlcpy(path, real, sizeof(path));
	for (p = path + len;; *p = '\0') {
		if (lstat(path[0] != '\0' ? path : "/", &st) != 0)
			postdrop_exit(EX_CONFIG, "%s: %s", path,
				      strerror(errno));
		if (st.st_uid != 0 ||
		    ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
			postdrop_exit(EX_CONFIG,
				      "%s: may be changed by others than root; "
				      "not a configuration to trust",
				      path[0] != '\0' ? path : "/");
		if ((p = strrchr(path, '/')) == NULL || path[0] == '\0')
			break;
	}
	if (snprintf(path, sizeof(path), "%s/main.conf", real) >=
		(int)sizeof(path) ||
	    lstat(path, &st) != 0)
		postdrop_exit(EX_CONFIG, "%s/main.conf: %s", real,
			      strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		postdrop_exit(EX_CONFIG,
			      "%s: not a root-owned file only root can write",
			      path);
}

/*
 * Parse an address (bare, or <...> as in an SMTP path) and qualify a bare
 * name with myorigin; out gets the canonical text.  -1 with a reason.
 */
static int
postdrop_address(const char *text, unsigned opts, struct buf *out,
		 const char **why)
{
	char formatted[ADDR_TEXT_MAX];
	struct address a;
	enum addr_error e;
	size_t len = strlen(text);

	if (len > 0 && text[0] == '<')
		e = address_parse_path(text, len, opts | ADDR_ALLOW_NO_DOMAIN,
				       &a);
	else if (len == 0 && (opts & ADDR_ALLOW_NULL))
		e = address_parse_path("<>", 2, opts, &a);
	else
		e = address_parse(text, len, opts | ADDR_ALLOW_NO_DOMAIN, &a);
	if (e == ADDR_OK &&
	    address_format(&a, formatted, sizeof(formatted)) < 0)
		e = ADDR_ERR_TOO_LONG;
	if (e != ADDR_OK) {
		*why = address_strerror(e);
		return -1;
	}
	buf_set_str(out, formatted);
	if (a.is_null || a.domain[0] != '\0')
		return 0;
	buf_printf(out, "@%s", param_str("myorigin"));
	/* myorigin is the admin's; still, the result must parse. */
	e = address_parse(out->data, out->len, 0, &a);
	if (e != ADDR_OK) {
		*why = "myorigin does not make a valid address";
		return -1;
	}
	return 0;
}

/* A maildrop file under a fresh queue ID; the writer owns it. */
static void
postdrop_create(struct queue_writer *w, int dirfd, char id[QUEUE_ID_SIZE])
{
	int tries;

	for (tries = 0; tries < POSTDROP_CREATE_TRIES; tries++) {
		queue_id_new(id);
		if (queue_writer_open(w, dirfd, id) == 0)
			return;
		if (errno != EEXIST)
			break;
	}
	if (errno == EACCES || errno == EPERM)
		postdrop_exit(EX_NOPERM,
			      "cannot create %s/%s: %s (is postdrop installed "
			      "setgid moat-drop?)",
			      SPOOL_MAILDROP, id, strerror(errno));
	postdrop_exit(EX_TEMPFAIL, "cannot create %s/%s: %s", SPOOL_MAILDROP,
		      id, strerror(errno));
}

static void
postdrop_envelope(struct queue_writer *w, const struct postdrop_args *a)
{
	struct buf addr = BUF_INIT;
	const char *why = NULL;
	char now[32];
	size_t i;

	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	queue_writer_record(w, QREC_ARRIVAL, now, strlen(now));
	if (postdrop_address(a->sender, ADDR_ALLOW_NULL, &addr, &why) != 0) {
		queue_writer_abort(w);
		postdrop_exit(EX_DATAERR, "bad sender <%s>: %s", a->sender,
			      why);
	}
	queue_writer_record(w, QREC_SENDER, addr.data, addr.len);
	if (a->ret != NULL)
		queue_writer_record(w, QREC_DSN_RET, a->ret, strlen(a->ret));
	if (a->envid != NULL)
		queue_writer_record(w, QREC_DSN_ENVID, a->envid,
				    strlen(a->envid));
	for (i = 0; i < a->rcpt_count; i++) {
		if (postdrop_address(a->rcpt[i], 0, &addr, &why) != 0) {
			queue_writer_abort(w);
			postdrop_exit(EX_DATAERR, "bad recipient <%s>: %s",
				      a->rcpt[i], why);
		}
		queue_writer_rcpt_dsn(w, buf_cstr(&addr), NULL, a->notify,
				      NULL);
	}
	buf_free(&addr);
}

/*
 * The content from stdin, CR LF turned into LF (a CR at the end of one
 * read waits for the next).  Returns the canonical size, or exits.
 */
static size_t
postdrop_content(struct queue_writer *w, size_t limit)
{
	char in[POSTDROP_CHUNK], out[POSTDROP_CHUNK + 1];
	size_t size = 0, n, i, o;
	int held_cr = 0;
	ssize_t got;

	for (;;) {
		got = read(0, in, sizeof(in));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			queue_writer_abort(w);
			postdrop_exit(EX_IOERR, "reading the message: %s",
				      strerror(errno));
		}
		n = (size_t)got;
		o = 0;
		for (i = 0; i < n; i++) {
			if (held_cr && in[i] != '\n')
				out[o++] = '\r';
			held_cr = in[i] == '\r';
			if (!held_cr)
				out[o++] = in[i];
		}
		if (n == 0 && held_cr)
			out[o++] = '\r';
		if (o > limit - size) {
			queue_writer_abort(w);
			postdrop_exit(EX_DATAERR,
				      "message too big (limit %zu bytes)",
				      limit);
		}
		size += o;
		queue_writer_content(w, out, o);
		if (n == 0)
			return size;
	}
}

static void __attribute__((noreturn))
postdrop_io_failure(const char *what, int err)
{
	if (err == EINVAL)
		postdrop_exit(EX_DATAERR,
			      "%s: the envelope is too large or "
			      "malformed",
			      what);
	postdrop_exit(EX_TEMPFAIL, "%s: %s", what, strerror(err));
}

/* Tell pickup a file is waiting; it scans maildrop/ anyway. */
static void
postdrop_wake(void)
{
	struct ipc_frame f;
	struct buf path = BUF_INIT;
	int sock;

	buf_printf(&path, "%s/%s", param_str("queue_directory"),
		   MAILDROP_WAKE_SOCKET);
	sock = ipc_connect(buf_cstr(&path), POSTDROP_WAKE_TIMEOUT);
	if (sock >= 0) {
		ipc_frame_init(&f);
		ipc_put_str(&f, IPC_OP, IPC_OP_WAKE);
		(void)ipc_send(sock, &f, -1, POSTDROP_WAKE_TIMEOUT);
		ipc_frame_free(&f);
		close(sock);
	}
	buf_free(&path);
}

static int
postdrop_open_maildrop(void)
{
	struct buf path = BUF_INIT;
	int dirfd;

	buf_printf(&path, "%s/%s", param_str("queue_directory"),
		   SPOOL_MAILDROP);
	/* O_PATH: the group may write and search maildrop/, not read it. */
	dirfd = open(buf_cstr(&path), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		postdrop_exit(EX_TEMPFAIL, "%s: %s", buf_cstr(&path),
			      strerror(errno));
	buf_free(&path);
	return dirfd;
}

int
main(int argc, char **argv)
{
	struct postdrop_args a;
	struct queue_writer w;
	struct buf err = BUF_INIT;
	char conf[PATH_MAX], id[QUEUE_ID_SIZE];
	int dirfd, keep;

	postdrop_sanitize();
	postdrop_parse(argc, argv, &a);
	postdrop_trust_conf(a.conf_dir, conf, sizeof(conf));
	if (params_load(conf, &err) != 0)
		postdrop_exit(EX_CONFIG, "%s", buf_cstr(&err));
	dirfd = postdrop_open_maildrop();
	postdrop_create(&w, dirfd, id);
	/* A second descriptor to mark the file done after finish closes. */
	if ((keep = fcntl(w.fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		queue_writer_abort(&w);
		postdrop_exit(EX_OSERR, "dup: %s", strerror(errno));
	}
	postdrop_envelope(&w, &a);
	postdrop_content(&w, (size_t)param_int("message_size_limit"));
	if (queue_writer_finish(&w) != 0)
		postdrop_io_failure(SPOOL_MAILDROP, errno);
	/* The mode is pickup's "complete" mark: make it durable too. */
	if (fchmod(keep, MAILDROP_MODE_DONE) != 0 || fsync(keep) != 0) {
		int saved = errno;

		(void)unlinkat(dirfd, id, 0);
		postdrop_io_failure(SPOOL_MAILDROP, saved);
	}
	/*
	 * XXX the directory entry is not fsync'd: the group cannot open
	 * maildrop/ for reading.  On journalled file systems the file's fsync
	 * commits its creation too.
	 */
	close(keep);
	close(dirfd);
	if (a.verbose)
		postdrop_say("queued as %s/%s", SPOOL_MAILDROP, id);
	postdrop_wake();
	buf_free(&err);
	return EX_OK;
}
