/*
 * cleanup_submit: one submission, from op=begin to the reply: checks each
 * frame, writes active/ID through the queue writer (envelope, then the
 * content with cleanup's Received header and any missing headers; the
 * file is partial until then: cleanup_file.c), marks it complete, fsyncs
 * it, and only then says "queued": its directory entry was synced when the
 * file was made ahead of time, or is synced now (one fsync shared with the
 * cleanups that made files meanwhile: group_sync.h).  The peer (smtpd,
 * pickup, local, qmgr) is hostile: every frame is validated and every
 * length bounded; a malformed frame, a timeout or EOF aborts with nothing
 * queued, and so does a submission past its deadline
 * (cleanup_submission_time_limit, plus a second per
 * cleanup_submission_min_rate bytes of content), so that no peer holds a
 * cleanup process by trickling its message.  A message refused for its
 * content is still read to op=end so the peer gets a clean reply.  A
 * crash at any moment leaves a complete file in active/ or a partial one,
 * which qmgr cannot read and removes when it is an hour old.  Runs in
 * cleanup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cleanup_headers.h"
#include "ipc_proto.h"
#include "log.h"
#include "queue_file.h"
#include "server.h"
#include "spool.h"

/* Bytes a peer may send after a refusal, per byte of the size limit. */
#define SUBMIT_DRAIN_FACTOR 4
#define SUBMIT_FRAME_COST 16 /* counted per data frame, however small */

struct submit {
	const struct cleanup_config *cfg;
	int sock;
	uid_t peer_uid;
	enum cleanup_origin origin; /* from peer_uid, never from the frame */
	char id[QUEUE_ID_SIZE];
	struct cleanup_envelope env;
	struct queue_writer w;
	int writing; /* w holds an open file */
	int synced;  /* its directory entry is on disk */
	struct cleanup_headers h;
	size_t nrcpt;
	char first_rcpt[ADDR_TEXT_MAX];
	unsigned long long content_bytes;
	unsigned long long drained; /* cost of frames read, for the cap */
	int too_big;
	char date[HDR_DATE_MAX];
	struct ipc_frame f;
	struct timespec start; /* CLOCK_MONOTONIC */
};

static const char *
submit_tag(const struct submit *s)
{
	return s->id[0] != '\0' ? s->id : "NOQUEUE";
}

static void
submit_reply(struct submit *s, const char *status, int code, const char *dsn,
	     const char *text)
{
	struct ipc_frame r;

	ipc_frame_init(&r);
	ipc_put_str(&r, IPC_STATUS, status);
	ipc_put_int(&r, IPC_CODE, code);
	ipc_put_str(&r, IPC_DSN, dsn);
	ipc_put_str(&r, IPC_TEXT, text);
	if (strcmp(status, IPC_STATUS_OK) == 0)
		ipc_put_str(&r, IPC_QUEUE_ID, s->id);
	if (ipc_send(s->sock, &r, -1, s->cfg->timeout) < 0)
		log_warn("%s: reply to peer uid=%lu: %s", submit_tag(s),
			 (unsigned long)s->peer_uid, strerror(errno));
	ipc_frame_free(&r);
}

static void
submit_defer(struct submit *s)
{
	submit_reply(s, IPC_STATUS_DEFER, 451, "4.3.0",
		     "Error: queue file write error");
}

/* Log a refusal the Postfix way (detail: why, or NULL); tell the peer. */
static void
submit_reject(struct submit *s, int code, const char *dsn, const char *text,
	      const char *detail)
{
	log_info("%s: reject: %d %s %s%s%s%s; from=<%s> nrcpt=%zu proto=%s "
		 "helo=<%s>",
		 submit_tag(s), code, dsn, text, detail ? " (" : "",
		 detail ? detail : "", detail ? ")" : "", s->env.sender,
		 s->nrcpt, s->env.protocol[0] ? s->env.protocol : "unknown",
		 s->env.helo);
	submit_reply(s, IPC_STATUS_REJECT, code, dsn, text);
}

/* Seconds left before the submission's deadline (<= 0: past it). */
static long long
submit_time_left(const struct submit *s)
{
	struct timespec now;
	long long allowed = s->cfg->time_limit;

	if (s->cfg->min_rate > 0)
		allowed += (long long)(s->drained / s->cfg->min_rate);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return allowed - (long long)(now.tv_sec - s->start.tv_sec);
}

/* 1: a frame; 0: the conversation is over (logged). */
static int
submit_recv(struct submit *s)
{
	const char *why = "connection closed";
	long long left = submit_time_left(s);
	int timeout = s->cfg->timeout, r;

	if (left <= 0) {
		log_warn("%s: peer uid=%lu: submission deadline passed after "
			 "%llu bytes; nothing queued",
			 submit_tag(s), (unsigned long)s->peer_uid,
			 s->content_bytes);
		submit_reply(s, IPC_STATUS_DEFER, 451, "4.4.2",
			     "Error: timeout exceeded");
		return 0;
	}
	if (left < timeout)
		timeout = (int)left;
	r = ipc_recv(s->sock, &s->f, timeout, &why);
	if (r == 1 && s->f.fd < 0)
		return 1;
	if (r == 1)
		why = "unexpected file descriptor";
	else if (r < 0 && errno == ETIMEDOUT)
		why = submit_time_left(s) <= 0 ? "submission deadline"
					       : "timeout";
	log_warn("%s: peer uid=%lu: %s before the end of the submission; "
		 "nothing queued",
		 submit_tag(s), (unsigned long)s->peer_uid, why);
	return 0;
}

static void
submit_malformed(const struct submit *s, const char *why)
{
	log_warn("%s: peer uid=%lu: malformed submission: %s; nothing queued",
		 submit_tag(s), (unsigned long)s->peer_uid, why);
}

static int
submit_op_is(const struct submit *s, const char *op)
{
	const char *v = ipc_get_str(&s->f, IPC_OP);

	return v != NULL && strcmp(v, op) == 0;
}

static void
submit_record(struct submit *s, int type, const char *value)
{
	if (value[0] != '\0')
		(void)queue_writer_record(&s->w, type, value, strlen(value));
}

/* The envelope records before the recipients; errors show at finish. */
static void
submit_envelope(struct submit *s, time_t arrival)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)arrival);
	(void)queue_writer_record(&s->w, QREC_VERSION, "1", 1);
	(void)queue_writer_record(&s->w, QREC_ARRIVAL, num, strlen(num));
	(void)queue_writer_record(&s->w, QREC_SENDER, s->env.sender,
				  strlen(s->env.sender));
	submit_record(s, QREC_CLIENT_ADDR, s->env.client_addr);
	submit_record(s, QREC_CLIENT_NAME, s->env.client_name);
	submit_record(s, QREC_HELO, s->env.helo);
	submit_record(s, QREC_PROTOCOL, s->env.protocol);
	submit_record(s, QREC_AUTH_USER, s->env.auth_user);
	if (s->env.submit_uid >= 0) {
		snprintf(num, sizeof(num), "%lld", s->env.submit_uid);
		submit_record(s, QREC_SUBMIT_UID, num);
	}
	if (s->env.smtputf8)
		(void)queue_writer_record(&s->w, QREC_SMTPUTF8, "", 0);
	if (dsn_ret_name(s->env.dsn_ret) != NULL)
		submit_record(s, QREC_DSN_RET, dsn_ret_name(s->env.dsn_ret));
	submit_record(s, QREC_DSN_ENVID, s->env.dsn_envid);
	/* qmgr overwrites it once the delay warning went (or is moot). */
	(void)queue_writer_record(&s->w, QREC_WARN, "-", 1);
}

/* op=begin: 0 to go on, -1 when the conversation is over. */
static int
submit_begin(struct submit *s)
{
	const char *why = "";
	time_t now;

	if (!submit_recv(s))
		return -1;
	switch (cleanup_begin_parse(&s->f, s->origin, s->cfg->myorigin, &s->env,
				    &why)) {
	case CLEANUP_FRAME_OK:
		break;
	case CLEANUP_FRAME_BAD_ADDRESS:
		submit_reject(s, 501, "5.1.7",
			      "Error: bad sender address syntax", why);
		return -1;
	default:
		submit_malformed(s, why);
		return -1;
	}
	now = time(NULL);
	if (cleanup_date_format(now, s->date, sizeof(s->date)) < 0)
		strlcpy(s->date, "Thu, 01 Jan 1970 00:00:00 +0000",
			sizeof(s->date));
	if (cleanup_file_take(s->cfg, &s->w, s->id, &s->synced) < 0) {
		log_error("%s: create a file in %s/: %s", submit_tag(s),
			  SPOOL_ACTIVE, strerror(errno));
		s->id[0] = '\0';
		return 0; /* read on, then defer */
	}
	s->w.done_mode = QUEUE_MODE;
	s->writing = 1;
	submit_envelope(s, now);
	return 0;
}

/* op=rcpt: 0 to go on, -1 when the conversation is over. */
static int
submit_rcpt(struct submit *s)
{
	struct cleanup_rcpt rcpt;
	const char *why = "";

	if (s->nrcpt >= CLEANUP_RCPT_MAX) {
		submit_reject(s, 552, "5.5.3", "Error: too many recipients",
			      NULL);
		return -1;
	}
	switch (
	    cleanup_rcpt_parse(&s->f, &s->env, s->cfg->myorigin, &rcpt, &why)) {
	case CLEANUP_FRAME_OK:
		break;
	case CLEANUP_FRAME_BAD_ADDRESS:
		submit_reject(s, 501, "5.1.3",
			      "Error: bad recipient address syntax", why);
		return -1;
	default:
		submit_malformed(s, why);
		return -1;
	}
	if (s->nrcpt++ == 0)
		strlcpy(s->first_rcpt, rcpt.addr, sizeof(s->first_rcpt));
	if (s->writing)
		(void)queue_writer_rcpt_dsn(
		    &s->w, rcpt.addr, rcpt.orig[0] ? rcpt.orig : NULL,
		    rcpt.dsn_notify, rcpt.dsn_orcpt[0] ? rcpt.dsn_orcpt : NULL);
	return 0;
}

static void
submit_write(struct submit *s, const char *data, size_t len)
{
	if (s->writing && len > 0)
		(void)queue_writer_content(&s->w, data, len);
}

/* The header block is complete: write the head of the content. */
static void
submit_head(struct submit *s)
{
	struct cleanup_trace t;
	struct buf head = BUF_INIT;
	const char *prefix;
	size_t prefix_len;

	memset(&t, 0, sizeof(t));
	t.queue_id = s->id;
	t.myhostname = s->cfg->myhostname;
	t.protocol = s->env.protocol;
	t.helo = s->env.helo;
	t.client_name = s->env.client_name;
	t.client_addr = s->env.client_addr;
	t.rcpt = s->nrcpt == 1 ? s->first_rcpt : NULL;
	t.uid = s->env.submit_uid;
	t.user = s->env.submit_user[0] ? s->env.submit_user : NULL;
	t.date = s->date;
	t.from = s->env.is_local && s->env.sender[0] ? s->env.sender : NULL;
	t.utf8 = s->env.smtputf8;
	t.tls = s->env.tls[0] ? s->env.tls : NULL;
	t.auth_user = s->env.auth_header ? s->env.auth_user : NULL;
	cleanup_headers_emit(&s->h, &t, &head);
	submit_write(s, head.data, head.len);
	buf_free(&head);
	cleanup_headers_prefix(&s->h, &prefix, &prefix_len);
	submit_write(s, prefix, prefix_len);
	if (s->h.seen & HDR_SEEN_MESSAGE_ID)
		log_info("%s: message-id=%s", s->id, s->h.message_id);
	else
		log_info("%s: message-id=<%s@%s>", s->id, s->id,
			 s->cfg->myhostname);
}

/* Content bytes: through the header processor, then straight through. */
static void
submit_content(struct submit *s, const char *data, size_t len)
{
	size_t took;

	if (s->too_big || s->h.state == HDR_STATE_REJECT)
		return;
	s->content_bytes += len;
	if (s->content_bytes > s->cfg->message_size_limit) {
		s->too_big = 1;
		cleanup_headers_free(&s->h);
		return;
	}
	if (s->h.state == HDR_STATE_BODY) {
		submit_write(s, data, len);
		return;
	}
	took = cleanup_headers_feed(&s->h, data, len);
	if (s->h.state == HDR_STATE_BODY) {
		submit_head(s);
		submit_write(s, data + took, len - took);
	}
}

/* op=data: 0 to go on, -1 when the conversation is over. */
static int
submit_data(struct submit *s)
{
	const struct ipc_attr *chunk = ipc_get(&s->f, IPC_CHUNK);
	unsigned long long cap =
	    SUBMIT_DRAIN_FACTOR *
		(unsigned long long)s->cfg->message_size_limit +
	    IPC_FRAME_MAX;

	if (chunk == NULL || chunk->value_len > IPC_CHUNK_MAX) {
		submit_malformed(s, chunk == NULL ? "op=data without chunk"
						  : "chunk too large");
		return -1;
	}
	/* XXX a peer trickling 1-byte chunks of a huge message hits this. */
	s->drained += chunk->value_len + SUBMIT_FRAME_COST;
	if (s->drained > cap) {
		submit_malformed(s, "content far beyond message_size_limit");
		return -1;
	}
	submit_content(s, chunk->value, chunk->value_len);
	return 0;
}

/*
 * Make the file durable: mark it complete and fsync it (the writer's
 * finish), then sync active/ unless its entry is on disk already.  0 when
 * queued; otherwise the reply has been chosen.
 */
static int
submit_commit(struct submit *s)
{
	s->writing = 0;
	if (queue_writer_finish(&s->w) < 0) {
		if (errno == EFBIG) {
			submit_reject(s, 552, "5.3.4",
				      "Error: message file too big", NULL);
			return -1;
		}
		log_error("%s: write %s/%s: %s", s->id, SPOOL_ACTIVE, s->id,
			  strerror(errno));
		submit_defer(s);
		return -1;
	}
	if (!s->synced &&
	    group_sync_dir(s->cfg->active_sync, s->cfg->active_fd) < 0) {
		log_error("%s: fsync %s/: %s", s->id, SPOOL_ACTIVE,
			  strerror(errno));
		(void)unlinkat(s->cfg->active_fd, s->id, 0);
		submit_defer(s);
		return -1;
	}
	return 0;
}

/* Tell qmgr; it scans the queue by itself too, so failure is only logged. */
static void
submit_wake_qmgr(const struct submit *s)
{
	struct ipc_frame f;
	int sock = ipc_connect(IPC_SOCK_QMGR, 1);

	if (sock < 0) {
		log_warn("%s: connect to %s: %s", s->id, IPC_SOCK_QMGR,
			 strerror(errno));
		return;
	}
	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_OP, IPC_OP_WAKE);
	ipc_put_str(&f, IPC_QUEUE_ID, s->id);
	if (ipc_send(sock, &f, -1, 1) < 0)
		log_warn("%s: wake %s: %s", s->id, IPC_SOCK_QMGR,
			 strerror(errno));
	ipc_frame_free(&f);
	close(sock);
}

/* op=end: the verdict. */
static void
submit_end(struct submit *s)
{
	char text[64];

	if (s->h.state == HDR_STATE_HEADERS && !s->too_big) {
		cleanup_headers_finish(&s->h);
		if (s->h.state == HDR_STATE_BODY)
			submit_head(s);
	}
	if (s->too_big) {
		submit_reject(s, 552, "5.3.4", "Error: message file too big",
			      NULL);
	} else if (s->h.state == HDR_STATE_REJECT) {
		submit_reject(s, cleanup_headers_reject_code(s->h.reject),
			      cleanup_headers_reject_dsn(s->h.reject),
			      cleanup_headers_reject_text(s->h.reject), NULL);
	} else if (!s->writing) {
		submit_defer(s);
	} else if (submit_commit(s) == 0) {
		snprintf(text, sizeof(text), "Ok: queued as %s", s->id);
		submit_reply(s, IPC_STATUS_OK, 250, "2.0.0", text);
		submit_wake_qmgr(s);
	}
}

/* The frames after op=begin, in order: rcpt+, data*, end. */
static void
submit_frames(struct submit *s)
{
	int in_data = 0;

	while (submit_recv(s)) {
		if (submit_op_is(s, IPC_OP_RCPT) && !in_data) {
			if (submit_rcpt(s) < 0)
				return;
			continue;
		}
		if (s->nrcpt == 0) {
			submit_malformed(s, "no recipient");
			return;
		}
		if (submit_op_is(s, IPC_OP_DATA)) {
			in_data = 1;
			if (submit_data(s) < 0)
				return;
		} else if (submit_op_is(s, IPC_OP_END)) {
			submit_end(s);
			return;
		} else {
			submit_malformed(s, "unexpected op");
			return;
		}
	}
}

void
cleanup_submit(int sock, const struct cleanup_config *cfg)
{
	struct submit s;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.sock = sock;
	s.peer_uid = server_peer_uid(sock);
	s.origin = cleanup_origin_of(cfg, s.peer_uid);
	clock_gettime(CLOCK_MONOTONIC, &s.start);
	ipc_frame_init(&s.f);
	cleanup_headers_init(&s.h, cfg->header_size_limit,
			     cfg->header_count_limit, cfg->hopcount_limit);
	if (submit_begin(&s) == 0)
		submit_frames(&s);
	if (s.writing)
		queue_writer_abort(&s.w); /* anything not committed */
	cleanup_headers_free(&s.h);
	ipc_frame_free(&s.f);
	cleanup_file_make_spare(cfg);
}
