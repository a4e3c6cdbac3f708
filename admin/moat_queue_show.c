/*
 * moat_queue_show: `moat queue show [--raw] ID` prints one queued
 * message: its envelope, then its content.  qmgr checks that the caller
 * may read messages and passes a read-only descriptor of the queue file;
 * this command never opens the queue itself (it need not be able to).
 * Input: that file, hostile until queue_file_read has validated every
 * record; control bytes in the envelope and (without --raw) in the
 * content are printed as '?', so a message cannot drive the terminal.
 * Runs in the moat command, as its caller.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsn.h"
#include "ipc_proto.h"
#include "moat.h"
#include "queue_file.h"
#include "queue_format.h"
#include "spool.h"

#define MOAT_SHOW_CHUNK (64 * 1024)

static void
moat_show_field(const char *name, const char *value)
{
	struct buf safe = BUF_INIT;

	if (value == NULL)
		return;
	queue_format_safe(&safe, value);
	printf("%s: %s\n", name, buf_cstr(&safe));
	buf_free(&safe);
}

static void
moat_show_address(const char *name, const char *addr, const char *note)
{
	struct buf safe = BUF_INIT;

	queue_format_safe(&safe, addr);
	printf("%s: <%s>%s\n", name, buf_cstr(&safe), note);
	buf_free(&safe);
}

static const char *
moat_show_status(char status)
{
	switch (status) {
	case QRCPT_TODO:
		return " (to do)";
	case QRCPT_DONE:
		return " (delivered)";
	case QRCPT_BOUNCED:
		return " (bounced)";
	}
	return " (unknown status)";
}

/* A recipient's DSN requests, when the client gave any. */
static void
moat_show_rcpt_dsn(const struct queue_rcpt *r)
{
	char notify[DSN_NOTIFY_TEXT_MAX];

	if (r->dsn_notify != 0) {
		dsn_notify_format(r->dsn_notify, notify);
		printf("notify: %s\n", notify);
	}
	moat_show_field("original_recipient_dsn", r->dsn_orcpt);
}

/* SMTPUTF8, RET, ENVID and the delay warning, when there are. */
static void
moat_show_message_dsn(const struct queue_env *env)
{
	if (env->smtputf8)
		printf("smtputf8: yes\n");
	moat_show_field("ret", dsn_ret_name(env->dsn_ret));
	moat_show_field("envid", env->dsn_envid);
	if (env->warn == QWARN_SENT)
		printf("delay_warning: sent\n");
}

static void
moat_show_envelope(const char *id, const char *queue,
		   const struct queue_env *env)
{
	time_t t = (time_t)env->arrival;
	struct tm tm;
	char when[64] = "?";
	size_t i;

	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S %z", &tm);
	printf("queue_id: %s\nqueue: %s\narrival: %s\nsize: %zu\n", id, queue,
	       when, env->content_length);
	moat_show_address("sender", env->sender, "");
	for (i = 0; i < env->rcpt_count; i++) {
		moat_show_address("recipient", env->rcpt[i].addr,
				  moat_show_status(env->rcpt[i].status));
		if (env->rcpt[i].orig != NULL)
			moat_show_address("original_recipient",
					  env->rcpt[i].orig, "");
		moat_show_rcpt_dsn(&env->rcpt[i]);
	}
	moat_show_field("client_name", env->client_name);
	moat_show_field("client_address", env->client_addr);
	moat_show_field("helo", env->helo);
	moat_show_field("protocol", env->protocol);
	moat_show_field("auth_user", env->auth_user);
	if (env->submit_uid >= 0)
		printf("submit_uid: %lld\n", env->submit_uid);
	moat_show_message_dsn(env);
}

/* Control bytes but tab and newline as '?', unless raw. */
static void
moat_show_bytes(char *p, size_t n, int raw)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n && !raw; i++) {
		c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
			p[i] = '?';
	}
	fwrite(p, 1, n, stdout);
}

static int
moat_show_content(int fd, const struct queue_env *env, int raw)
{
	char chunk[MOAT_SHOW_CHUNK];
	off_t off = env->content_offset;
	size_t left = env->content_length, want;
	ssize_t n;

	while (left > 0) {
		want = left < sizeof(chunk) ? left : sizeof(chunk);
		n = pread(fd, chunk, want, off);
		if (n <= 0) {
			fflush(stdout);
			moat_error("reading the queue file: %s",
				   n < 0 ? strerror(errno) : "file shrank");
			return 1;
		}
		moat_show_bytes(chunk, (size_t)n, raw);
		off += n;
		left -= (size_t)n;
	}
	return 0;
}

static int
moat_show_file(const char *id, const struct ipc_frame *f, int raw)
{
	const char *queue = ipc_get_str(f, IPC_QUEUE);
	struct buf err = BUF_INIT;
	struct queue_env env;
	int rc;

	if (f->fd < 0 || queue == NULL ||
	    (strcmp(queue, SPOOL_ACTIVE) != 0 &&
	     strcmp(queue, SPOOL_DEFERRED) != 0 &&
	     strcmp(queue, SPOOL_HOLD) != 0)) {
		moat_error("bad reply from qmgr: no queue file");
		return 1;
	}
	if (queue_file_read(f->fd, &env, &err) != 0) {
		moat_error("%s: unreadable queue file: %s", id, buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	moat_show_envelope(id, queue, &env);
	printf("\n");
	rc = moat_show_content(f->fd, &env, raw);
	fflush(stdout);
	queue_env_free(&env);
	return rc;
}

int
moat_queue_show(int argc, char **argv)
{
	struct ipc_frame f;
	const char *id;
	int raw = 0, sock, rc;

	if (argc == 3 && strcmp(argv[1], "--raw") == 0)
		raw = 1;
	else if (argc != 2) {
		moat_error("usage: moat queue show [--raw] ID");
		return 2;
	}
	id = argv[argc - 1];
	if (!queue_id_valid(id)) {
		moat_error("%s: not a queue ID", id);
		return 2;
	}
	if ((rc = moat_queue_send(IPC_OP_SHOW, id, &sock)) != 0)
		return rc;
	ipc_frame_init(&f);
	if ((rc = moat_queue_recv(sock, &f)) == 0 &&
	    (rc = moat_queue_status(&f, id)) == 0)
		rc = moat_show_file(id, &f, raw);
	ipc_frame_free(&f);
	close(sock);
	return rc;
}
