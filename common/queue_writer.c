/*
 * queue_writer: writes one queue file (format in queue_file.h) through a
 * buffer.  It refuses, by itself, to write anything queue_env_parse would
 * reject (over-long fields, CR/LF in strings, envelope after content), so
 * a file it finishes is always readable.  The first error sticks: every
 * later call fails with the same errno and finish reports it.  Its input
 * comes from cleanup, which has validated it; runs in cleanup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsn.h"
#include "queue_file.h"

#define QWRITER_FLUSH (64 * 1024)
#define QREC_CONTENT_MAX 0xFFFFFFFFULL

static int
qw_fail(struct queue_writer *w, int err)
{
	if (w->error == 0)
		w->error = err;
	errno = w->error;
	return -1;
}

static int
qw_write_all(struct queue_writer *w, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(w->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return qw_fail(w, errno);
		}
		p += n;
		len -= (size_t)n;
		w->pos += n;
	}
	return 0;
}

static int
qw_flush(struct queue_writer *w)
{
	int r = qw_write_all(w, w->out.data, w->out.len);

	buf_reset(&w->out);
	return r;
}

/* A record's length, 4 bytes big-endian, at p. */
static void
qw_put_length(unsigned char *p, size_t len)
{
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
}

static void
qw_header(struct queue_writer *w, int type, size_t len)
{
	unsigned char h[QREC_HEADER_LEN];

	h[0] = (unsigned char)type;
	qw_put_length(h + 1, len);
	buf_append(&w->out, h, sizeof(h));
}

static off_t
qw_offset(const struct queue_writer *w)
{
	return w->pos + (off_t)w->out.len;
}

/* The version record, written before whatever the caller writes first. */
static void
qw_start(struct queue_writer *w)
{
	if (qw_offset(w) == 0) {
		qw_header(w, QREC_VERSION, 1);
		buf_append_char(&w->out, '1');
	}
}

static int
qw_init(struct queue_writer *w, int dirfd, const char *name)
{
	size_t len = strlen(name);

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->dirfd = dirfd;
	w->content_header = -1;
	buf_init(&w->out);
	if (len == 0 || len >= sizeof(w->name) || strchr(name, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	memcpy(w->name, name, len + 1);
	return 0;
}

int
queue_writer_open(struct queue_writer *w, int dirfd, const char *name)
{
	if (qw_init(w, dirfd, name) < 0)
		return -1;
	w->fd = openat(dirfd, name,
		       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       QUEUE_MODE);
	if (w->fd < 0) {
		w->name[0] = '\0'; /* not ours: abort must not remove it */
		return -1;
	}
	return 0;
}

int
queue_writer_adopt(struct queue_writer *w, int dirfd, const char *name, int fd,
		   size_t filled)
{
	if (qw_init(w, dirfd, name) < 0) {
		close(fd);
		return -1;
	}
	w->fd = fd;
	w->filled = filled;
	return 0;
}

static int
qw_clean(const char *p, size_t len)
{
	return memchr(p, '\0', len) == NULL && memchr(p, '\r', len) == NULL &&
	       memchr(p, '\n', len) == NULL;
}

/* One envelope record made of a prefix (0 or 1 byte) and data. */
static int
qw_record(struct queue_writer *w, int type, const char *prefix, size_t plen,
	  const void *data, size_t len)
{
	if (w->error != 0)
		return qw_fail(w, w->error);
	if (w->content_header >= 0 || len > QREC_FIELD_MAX - plen)
		return qw_fail(w, EINVAL);
	qw_start(w);
	/* Leave room for the end record, which counts as envelope. */
	if ((size_t)qw_offset(w) + 2 * QREC_HEADER_LEN + plen + len >
	    QREC_ENVELOPE_MAX)
		return qw_fail(w, EFBIG);
	qw_header(w, type, plen + len);
	buf_append(&w->out, prefix, plen);
	buf_append(&w->out, data, len);
	if (w->out.len >= QWRITER_FLUSH)
		return qw_flush(w);
	return 0;
}

int
queue_writer_record(struct queue_writer *w, int type, const void *data,
		    size_t len)
{
	switch (type) {
	case QREC_VERSION:
		/* Written by the writer itself; accept a matching repeat. */
		if (w->error == 0 && w->content_header < 0 && len == 1 &&
		    *(const char *)data == '1' &&
		    qw_offset(w) <= QREC_HEADER_LEN + 1) {
			qw_start(w);
			return 0;
		}
		return qw_fail(w, EINVAL);
	case QREC_ARRIVAL:
	case QREC_SUBMIT_UID:
		if (len == 0)
			return qw_fail(w, EINVAL);
		break;
	case QREC_SMTPUTF8:
		if (len != 0)
			return qw_fail(w, EINVAL);
		break;
	case QREC_DSN_RET:
		if (dsn_ret_parse(data, len) == DSN_RET_NONE)
			return qw_fail(w, EINVAL);
		break;
	case QREC_DSN_ENVID:
		if (!dsn_envid_ok(data, len))
			return qw_fail(w, EINVAL);
		break;
	case QREC_WARN:
		if (len != 1 || (*(const char *)data != QWARN_DUE &&
				 *(const char *)data != QWARN_SENT))
			return qw_fail(w, EINVAL);
		break;
	case QREC_SENDER:
	case QREC_CLIENT_ADDR:
	case QREC_CLIENT_NAME:
	case QREC_HELO:
	case QREC_PROTOCOL:
	case QREC_AUTH_USER:
		break;
	default: /* M, E, and R with O, n, o have their own calls */
		return qw_fail(w, EINVAL);
	}
	if (!qw_clean(data, len))
		return qw_fail(w, EINVAL);
	return qw_record(w, type, "", 0, data, len);
}

int
queue_writer_rcpt(struct queue_writer *w, const char *addr, const char *orig)
{
	return queue_writer_rcpt_dsn(w, addr, orig, 0, NULL);
}

/* The n and o records of the next recipient, when it has them. */
static int
qw_rcpt_dsn(struct queue_writer *w, unsigned notify, const char *orcpt)
{
	char text[DSN_NOTIFY_TEXT_MAX];
	unsigned again;

	if (notify != 0) {
		dsn_notify_format(notify, text);
		if (dsn_notify_parse(text, strlen(text), &again) != 0 ||
		    again != notify)
			return qw_fail(w, EINVAL);
		if (qw_record(w, QREC_DSN_NOTIFY, "", 0, text, strlen(text)) <
		    0)
			return -1;
	}
	if (orcpt == NULL)
		return 0;
	if (!dsn_orcpt_ok(orcpt, strlen(orcpt)))
		return qw_fail(w, EINVAL);
	return qw_record(w, QREC_DSN_ORCPT, "", 0, orcpt, strlen(orcpt));
}

int
queue_writer_rcpt_dsn(struct queue_writer *w, const char *addr,
		      const char *orig, unsigned notify, const char *orcpt)
{
	size_t len = strlen(addr);
	char status = QRCPT_TODO;

	if (len == 0 || !qw_clean(addr, len))
		return qw_fail(w, EINVAL);
	if (orig != NULL && *orig != '\0') {
		if (!qw_clean(orig, strlen(orig)))
			return qw_fail(w, EINVAL);
		if (qw_record(w, QREC_ORIG_RCPT, "", 0, orig, strlen(orig)) < 0)
			return -1;
	}
	if (qw_rcpt_dsn(w, notify, orcpt) < 0)
		return -1;
	return qw_record(w, QREC_RCPT, &status, 1, addr, len);
}

int
queue_writer_content(struct queue_writer *w, const void *data, size_t len)
{
	if (w->error != 0)
		return qw_fail(w, w->error);
	if (len > QREC_CONTENT_MAX - w->content_length)
		return qw_fail(w, EFBIG);
	qw_start(w);
	if (w->content_header < 0) {
		w->content_header = qw_offset(w);
		qw_header(w, QREC_CONTENT, 0);
	}
	w->content_length += len;
	if (w->out.len + len < QWRITER_FLUSH) {
		buf_append(&w->out, data, len);
		return 0;
	}
	if (qw_flush(w) < 0)
		return -1;
	if (len < QWRITER_FLUSH) {
		buf_append(&w->out, data, len);
		return 0;
	}
	return qw_write_all(w, data, len);
}

static int
qw_patch_length(struct queue_writer *w)
{
	unsigned char h[4];
	ssize_t n;

	qw_put_length(h, w->content_length);
	n = pwrite(w->fd, h, sizeof(h), w->content_header + 1);
	if (n != (ssize_t)sizeof(h))
		return qw_fail(w, n < 0 ? errno : EIO);
	return 0;
}

/*
 * The whole file is still in the buffer and fits in the zeros the file
 * holds: the length goes into the buffer, the seal after it, one write
 * over the zeros, and an fdatasync, which the unchanged size lets ext4
 * (and any file system that allocated the zeros) finish without a journal
 * commit.  Then done_mode: qmgr may read it from now on, and after a
 * crash the seal says it is whole whatever its mode.
 */
static void
qw_finish_sealed(struct queue_writer *w)
{
	unsigned char seal[QUEUE_SEAL_LEN];
	unsigned long long h;

	qw_put_length((unsigned char *)w->out.data + w->content_header + 1,
		      w->content_length);
	h = queue_seal(QUEUE_SEAL_INIT, w->out.data, w->out.len);
	for (size_t i = 0; i < QUEUE_SEAL_LEN; i++)
		seal[i] = (unsigned char)(h >> (8 * (QUEUE_SEAL_LEN - 1 - i)));
	qw_header(w, QREC_END, QUEUE_SEAL_LEN);
	buf_append(&w->out, seal, sizeof(seal));
	if (qw_flush(w) == 0 && fdatasync(w->fd) < 0)
		qw_fail(w, errno);
	if (w->error == 0 && w->done_mode != 0 &&
	    fchmod(w->fd, w->done_mode) < 0)
		qw_fail(w, errno);
}

/* On failure the file is removed (queue_writer_abort is then a no-op). */
int
queue_writer_finish(struct queue_writer *w)
{
	int saved;

	if (w->error == 0 && w->content_header < 0)
		(void)queue_writer_content(w, "", 0);
	if (w->error == 0 && w->pos == 0 &&
	    w->out.len + QREC_HEADER_LEN + QUEUE_SEAL_LEN <= w->filled) {
		qw_finish_sealed(w);
	} else if (w->error == 0) {
		qw_header(w, QREC_END, 0);
		if (qw_flush(w) == 0 && qw_patch_length(w) == 0 &&
		    w->done_mode != 0 && fchmod(w->fd, w->done_mode) < 0)
			qw_fail(w, errno);
		if (w->error == 0 && fsync(w->fd) < 0)
			qw_fail(w, errno);
	}
	if (w->error == 0) {
		struct stat st;

		if (fstat(w->fd, &st) < 0)
			qw_fail(w, errno);
		else if (st.st_nlink == 0)
			qw_fail(w, ENOENT);
	}
	if (w->error == 0) {
		int r = close(w->fd);
		w->fd = -1;
		if (r < 0)
			qw_fail(w, errno);
	}
	if (w->error == 0) {
		buf_free(&w->out);
		return 0;
	}
	saved = w->error;
	queue_writer_abort(w);
	errno = saved;
	return -1;
}

void
queue_writer_abort(struct queue_writer *w)
{
	int saved = errno;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->name[0] != '\0')
		(void)unlinkat(w->dirfd, w->name, 0);
	w->name[0] = '\0';
	buf_free(&w->out);
	errno = saved;
}
