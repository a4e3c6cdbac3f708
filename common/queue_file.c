/*
 * queue_file: queue IDs, the queue file parser and the queue file writer
 * (format in queue_file.h).  The parser treats the file as hostile even
 * though only cleanup writes it: every record length is checked against
 * the bytes left before it is used, strings may not hold NUL, CR or LF, and
 * anything unexpected rejects the whole file.  cleanup runs the writer;
 * qmgr runs the reader and queue_file_set_status.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "dsn.h"
#include "queue_file.h"

#define QUEUE_ID_LEN (QUEUE_ID_SIZE - 1)
#define QREC_CONTENT_MAX 0xFFFFFFFFULL
#define QWRITER_FLUSH (64 * 1024)

/* --- queue IDs -------------------------------------------------------- */

/*
 * Seconds (10 hex digits), microseconds (5) and pid (8).  Two calls in one
 * process never return the same time: when the clock has not moved past
 * the last ID (same microsecond, or stepped back), the last time plus one
 * microsecond is used instead, so IDs stay unique and ordered.
 */
void
queue_id_new(char id[QUEUE_ID_SIZE])
{
	static unsigned long long last;
	struct timeval tv;
	unsigned long long now;

	gettimeofday(&tv, NULL);
	now = (unsigned long long)tv.tv_sec * 1000000ULL +
	      (unsigned long long)tv.tv_usec;
	if (now <= last)
		now = last + 1;
	last = now;
	snprintf(id, QUEUE_ID_SIZE, "%010llX%05llX%08lX",
		 (now / 1000000ULL) & 0xFFFFFFFFFFULL, now % 1000000ULL,
		 (unsigned long)getpid() & 0xFFFFFFFFUL);
}

int
queue_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return s[QUEUE_ID_LEN] == '\0';
}

/* --- the parser ------------------------------------------------------- */

void
queue_env_init(struct queue_env *env)
{
	memset(env, 0, sizeof(*env));
	env->arrival = -1;
	env->submit_uid = -1;
	env->content_offset = -1;
	env->warn_offset = -1;
}

void
queue_env_free(struct queue_env *env)
{
	size_t i;

	for (i = 0; i < env->rcpt_count; i++) {
		free(env->rcpt[i].addr);
		free(env->rcpt[i].orig);
		free(env->rcpt[i].dsn_orcpt);
	}
	free(env->rcpt);
	free(env->sender);
	free(env->client_addr);
	free(env->client_name);
	free(env->helo);
	free(env->protocol);
	free(env->auth_user);
	free(env->dsn_envid);
	queue_env_init(env);
}

static void
qf_error(struct buf *err, size_t off, const char *why)
{
	if (err == NULL)
		return;
	buf_reset(err);
	buf_printf(err, "offset %zu: %s", off, why);
}

static void
qf_sys_error(struct buf *err, const char *what)
{
	int saved = errno;

	if (err != NULL) {
		buf_reset(err);
		buf_printf(err, "%s: %s", what, strerror(saved));
	}
	errno = saved;
}

static int
qf_clean_string(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return 0;
	return 1;
}

/* Unsigned decimal, no sign, no leading zero, at most 18 digits. */
static int
qf_decimal(const char *p, size_t len, long long *out)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > 18 || (p[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Store a string field seen at most once. */
static const char *
qf_string(char **slot, const char *p, size_t len)
{
	if (*slot != NULL)
		return "duplicate record";
	if (!qf_clean_string(p, len))
		return "NUL, CR or LF in a record";
	*slot = xstrndup(p, len);
	return NULL;
}

/* The records that belong to the next R record. */
struct qf_pending {
	char *orig;
	char *orcpt;
	unsigned notify;
	int have_notify;
};

static void
qf_pending_free(struct qf_pending *pend)
{
	free(pend->orig);
	free(pend->orcpt);
	memset(pend, 0, sizeof(*pend));
}

static const char *
qf_rcpt(struct queue_env *env, struct qf_pending *pend, const char *p,
	size_t len, size_t off)
{
	struct queue_rcpt *r;

	if (len < 2)
		return "recipient record without an address";
	if (p[0] != QRCPT_TODO && p[0] != QRCPT_DONE && p[0] != QRCPT_BOUNCED)
		return "bad recipient status";
	if (!qf_clean_string(p + 1, len - 1))
		return "NUL, CR or LF in a recipient";
	env->rcpt =
	    xreallocarray(env->rcpt, env->rcpt_count + 1, sizeof(*env->rcpt));
	r = &env->rcpt[env->rcpt_count++];
	r->addr = xstrndup(p + 1, len - 1);
	r->orig = pend->orig;
	r->dsn_orcpt = pend->orcpt;
	r->dsn_notify = pend->notify;
	memset(pend, 0, sizeof(*pend));
	r->status = p[0];
	r->status_offset = (off_t)off;
	return NULL;
}

/* n and o: the DSN parameters of the next recipient. */
static const char *
qf_rcpt_dsn(struct qf_pending *pend, int type, const char *p, size_t len)
{
	if (type == QREC_DSN_NOTIFY) {
		if (pend->have_notify)
			return "two NOTIFY records for one recipient";
		if (dsn_notify_parse(p, len, &pend->notify) != 0)
			return "bad NOTIFY record";
		pend->have_notify = 1;
		return NULL;
	}
	if (pend->orcpt != NULL)
		return "two ORCPT records for one recipient";
	if (!dsn_orcpt_ok(p, len))
		return "bad ORCPT record";
	pend->orcpt = xstrndup(p, len);
	return NULL;
}

/* 8, r, i and W: what SMTPUTF8 and DSN keep per message. */
static const char *
qf_message_dsn(struct queue_env *env, int type, const char *p, size_t len,
	       size_t off)
{
	switch (type) {
	case QREC_SMTPUTF8:
		if (env->smtputf8)
			return "duplicate record";
		if (len != 0)
			return "SMTPUTF8 record not empty";
		env->smtputf8 = 1;
		return NULL;
	case QREC_DSN_RET:
		if (env->dsn_ret != DSN_RET_NONE)
			return "duplicate record";
		if ((env->dsn_ret = dsn_ret_parse(p, len)) == DSN_RET_NONE)
			return "bad RET record";
		return NULL;
	case QREC_DSN_ENVID:
		if (env->dsn_envid != NULL)
			return "duplicate record";
		if (!dsn_envid_ok(p, len))
			return "bad ENVID record";
		env->dsn_envid = xstrndup(p, len);
		return NULL;
	default: /* QREC_WARN */
		if (env->warn != 0)
			return "duplicate record";
		if (len != 1 || (p[0] != QWARN_DUE && p[0] != QWARN_SENT))
			return "bad delay warning record";
		env->warn = p[0];
		env->warn_offset = (off_t)off;
		return NULL;
	}
}

static const char *
qf_envelope_record(struct queue_env *env, struct qf_pending *pend, int type,
		   const char *p, size_t len, size_t off)
{
	long long v;

	switch (type) {
	case QREC_VERSION:
		return "version record not first";
	case QREC_ARRIVAL:
		if (env->arrival >= 0)
			return "duplicate record";
		if (qf_decimal(p, len, &v) < 0)
			return "bad arrival time";
		env->arrival = v;
		return NULL;
	case QREC_SENDER:
		return qf_string(&env->sender, p, len);
	case QREC_ORIG_RCPT:
		if (pend->orig != NULL)
			return "two original recipients for one recipient";
		if (len == 0 || !qf_clean_string(p, len))
			return "bad original recipient";
		pend->orig = xstrndup(p, len);
		return NULL;
	case QREC_RCPT:
		return qf_rcpt(env, pend, p, len, off);
	case QREC_DSN_NOTIFY:
	case QREC_DSN_ORCPT:
		return qf_rcpt_dsn(pend, type, p, len);
	case QREC_SMTPUTF8:
	case QREC_DSN_RET:
	case QREC_DSN_ENVID:
	case QREC_WARN:
		return qf_message_dsn(env, type, p, len, off);
	case QREC_CLIENT_ADDR:
		return qf_string(&env->client_addr, p, len);
	case QREC_CLIENT_NAME:
		return qf_string(&env->client_name, p, len);
	case QREC_HELO:
		return qf_string(&env->helo, p, len);
	case QREC_PROTOCOL:
		return qf_string(&env->protocol, p, len);
	case QREC_AUTH_USER:
		return qf_string(&env->auth_user, p, len);
	case QREC_SUBMIT_UID:
		if (env->submit_uid >= 0)
			return "duplicate record";
		if (qf_decimal(p, len, &v) < 0 || v > UINT32_MAX)
			return "bad submitter uid";
		env->submit_uid = v;
		return NULL;
	default:
		return "unknown record type";
	}
}

/* A record's 4-byte big-endian length at p. */
static size_t
qf_length_at(const unsigned char *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	       (size_t)p[3];
}

unsigned long long
queue_seal(unsigned long long h, const void *p, size_t len)
{
	const unsigned char *u = p;

	for (size_t i = 0; i < len; i++) {
		h ^= u[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
queue_seal_matches(const char *file, size_t len, const struct queue_env *env)
{
	const unsigned char *u = (const unsigned char *)file;
	size_t end = (size_t)env->content_offset + env->content_length;
	unsigned long long seal = 0;

	if (!env->sealed || env->content_offset < 0 ||
	    len < QREC_HEADER_LEN + QUEUE_SEAL_LEN ||
	    end > len - QREC_HEADER_LEN - QUEUE_SEAL_LEN)
		return 0;
	for (size_t i = 0; i < QUEUE_SEAL_LEN; i++)
		seal = seal << 8 | u[end + QREC_HEADER_LEN + i];
	return queue_seal(QUEUE_SEAL_INIT, file, end) == seal;
}

/*
 * After the envelope: M, then E (empty, or a seal), then nothing or NUL
 * bytes only.  The seal is not checked here: qmgr rewrites status bytes
 * in place, and a file it has worked on no longer matches its seal.
 */
static const char *
qf_content(struct queue_env *env, const char *file, size_t len, size_t off,
	   size_t dlen)
{
	const unsigned char *u = (const unsigned char *)file;
	size_t end = off + QREC_HEADER_LEN + dlen, elen, rest;

	env->content_offset = (off_t)(off + QREC_HEADER_LEN);
	env->content_length = dlen;
	if (len - end < QREC_HEADER_LEN)
		return "no end record after the content";
	if (file[end] != QREC_END)
		return "content not followed by the end record";
	elen = qf_length_at(u + end + 1);
	if (elen != 0 && elen != QUEUE_SEAL_LEN)
		return "end record neither empty nor a seal";
	if (len - end - QREC_HEADER_LEN < elen)
		return "end record longer than the file";
	rest = end + QREC_HEADER_LEN + elen;
	for (size_t i = rest; i < len; i++)
		if (file[i] != '\0')
			return "data after the end record";
	env->sealed = elen != 0;
	return NULL;
}

static const char *
qf_check_complete(const struct queue_env *env, const struct qf_pending *pend)
{
	if (pend->orig != NULL)
		return "original recipient without a recipient";
	if (pend->orcpt != NULL || pend->have_notify)
		return "DSN record without a recipient";
	if (env->arrival < 0)
		return "no arrival time";
	if (env->sender == NULL)
		return "no sender";
	if (env->rcpt_count == 0)
		return "no recipient";
	return NULL;
}

int
queue_env_parse(const char *file, size_t len, struct queue_env *env,
		struct buf *err)
{
	const unsigned char *u = (const unsigned char *)file;
	size_t off = 0, dlen, envelope = 0;
	const char *why = NULL;
	struct qf_pending pend;
	int type;

	memset(&pend, 0, sizeof(pend));
	queue_env_init(env);
	for (;;) {
		if (len - off < QREC_HEADER_LEN) {
			why = off == len ? "no content record"
					 : "truncated record header";
			break;
		}
		type = file[off];
		dlen = qf_length_at(u + off + 1);
		if (dlen > len - off - QREC_HEADER_LEN) {
			why = "record longer than the file";
			break;
		}
		if (type == QREC_CONTENT) {
			why = qf_check_complete(env, &pend);
			if (why == NULL)
				why = qf_content(env, file, len, off, dlen);
			if (why == NULL &&
			    envelope + QREC_HEADER_LEN > QREC_ENVELOPE_MAX)
				why = "envelope too large";
			break;
		}
		envelope += QREC_HEADER_LEN + dlen;
		if (dlen > QREC_FIELD_MAX)
			why = "record too long";
		else if (envelope > QREC_ENVELOPE_MAX)
			why = "envelope too large";
		else if (off == 0)
			why = type != QREC_VERSION || dlen != 1 ||
				      file[QREC_HEADER_LEN] != '1'
				  ? "not a version 1 queue file"
				  : NULL;
		else
			why = qf_envelope_record(env, &pend, type,
						 file + off + QREC_HEADER_LEN,
						 dlen, off + QREC_HEADER_LEN);
		if (why != NULL)
			break;
		off += QREC_HEADER_LEN + dlen;
	}
	qf_pending_free(&pend);
	if (why == NULL)
		return 0;
	qf_error(err, off, why);
	queue_env_free(env);
	return -1;
}

/*
 * XXX: a file truncated while mapped would raise SIGBUS; only cleanup
 * writes queue files and it never truncates a completed one.
 */
int
queue_file_read(int fd, struct queue_env *env, struct buf *err)
{
	struct stat st;
	void *map;
	int r;

	queue_env_init(env);
	if (fstat(fd, &st) < 0) {
		qf_sys_error(err, "fstat");
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (unsigned long long)st.st_size > SIZE_MAX) {
		errno = EINVAL;
		qf_sys_error(err, S_ISREG(st.st_mode) ? "empty or huge file"
						      : "not a regular file");
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		qf_sys_error(err, "mmap");
		return -1;
	}
	r = queue_env_parse(map, (size_t)st.st_size, env, err);
	munmap(map, (size_t)st.st_size);
	if (r < 0)
		errno = EINVAL;
	return r;
}

/* Overwrite the byte at off (ok: the value is allowed); sync: fdatasync. */
static int
qf_set_byte(int fd, off_t off, char value, int ok, int sync)
{
	if (!ok || off < 0) {
		errno = EINVAL;
		return -1;
	}
	if (pwrite(fd, &value, 1, off) != 1) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return sync ? fdatasync(fd) : 0;
}

static int
qf_status_ok(char status)
{
	return status == QRCPT_TODO || status == QRCPT_DONE ||
	       status == QRCPT_BOUNCED;
}

int
queue_file_set_status(int fd, const struct queue_rcpt *rcpt, char status)
{
	return qf_set_byte(fd, rcpt->status_offset, status,
			   qf_status_ok(status), 1);
}

int
queue_file_write_status(int fd, const struct queue_rcpt *rcpt, char status)
{
	return qf_set_byte(fd, rcpt->status_offset, status,
			   qf_status_ok(status), 0);
}

int
queue_file_set_warn(int fd, const struct queue_env *env, char status)
{
	return qf_set_byte(fd, env->warn_offset, status,
			   status == QWARN_DUE || status == QWARN_SENT, 1);
}
