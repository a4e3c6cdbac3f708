/*
 * moat_queue_list: `moat queue list [--json | --mailq]`, also what mailq
 * and sendmail -bp run.  qmgr streams one entry frame per message and a
 * final status frame (ipc_proto.h); each entry is checked (a queue ID, a
 * known queue, numbers in range, strings without NUL) and printed at once
 * in one of the shapes of common/queue_format.h.  Input: qmgr's frames,
 * hostile until checked.  Runs in the moat command, as its caller.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ipc_proto.h"
#include "moat.h"
#include "queue_file.h"
#include "queue_format.h"
#include "spool.h"

enum moat_list_shape { MOAT_LIST_TEXT, MOAT_LIST_JSON, MOAT_LIST_MAILQ };

struct moat_list {
	enum moat_list_shape shape;
	size_t count;
	long long bytes;
	const char **rcpt; /* room for the current entry's recipients */
	size_t rcpt_cap;
	struct buf out;
};

static int
moat_list_queue_ok(const char *q)
{
	return q != NULL &&
	       (strcmp(q, SPOOL_ACTIVE) == 0 ||
		strcmp(q, SPOOL_DEFERRED) == 0 || strcmp(q, SPOOL_HOLD) == 0);
}

/* A string attribute without NUL bytes; NULL when absent or bad. */
static const char *
moat_list_str(const struct ipc_attr *a)
{
	return strlen(a->value) == a->value_len ? a->value : NULL;
}

/* An entry frame into e (pointing into f); -1 when malformed. */
static int
moat_list_parse(const struct ipc_frame *f, struct moat_list *l,
		struct queue_listing *e)
{
	const struct ipc_attr *reason = ipc_get(f, IPC_REASON);
	size_t i;

	memset(e, 0, sizeof(*e));
	e->queue_id = ipc_get_str(f, IPC_QUEUE_ID);
	e->queue = ipc_get_str(f, IPC_QUEUE);
	e->sender = ipc_get_str(f, IPC_SENDER);
	if (e->queue_id == NULL || !queue_id_valid(e->queue_id) ||
	    !moat_list_queue_ok(e->queue) || e->sender == NULL ||
	    ipc_get_int(f, IPC_ARRIVAL, 0, LLONG_MAX, &e->arrival) != 0 ||
	    ipc_get_int(f, IPC_SIZE, 0, LLONG_MAX, &e->size) != 0)
		return -1;
	if (ipc_get(f, IPC_RCPT_MORE) != NULL &&
	    ipc_get_int(f, IPC_RCPT_MORE, 1, LLONG_MAX, &e->rcpt_more) != 0)
		return -1;
	if (reason != NULL && (e->reason = moat_list_str(reason)) == NULL)
		return -1;
	if (l->rcpt_cap < f->count) {
		l->rcpt = xreallocarray(l->rcpt, f->count, sizeof(*l->rcpt));
		l->rcpt_cap = f->count;
	}
	for (i = 0; i < f->count; i++) {
		if (strcmp(f->attr[i].name, IPC_RCPT) != 0)
			continue;
		if ((l->rcpt[e->rcpt_count] = moat_list_str(&f->attr[i])) ==
		    NULL)
			return -1;
		e->rcpt_count++;
	}
	e->rcpt = l->rcpt;
	return 0;
}

static void
moat_list_write(struct moat_list *l)
{
	fwrite(l->out.data, 1, l->out.len, stdout);
	buf_reset(&l->out);
}

static void
moat_list_print(struct moat_list *l, const struct queue_listing *e)
{
	switch (l->shape) {
	case MOAT_LIST_TEXT:
		queue_format_text(&l->out, e);
		break;
	case MOAT_LIST_JSON:
		buf_append_str(&l->out, l->count == 0 ? "[\n  " : ",\n  ");
		queue_format_json(&l->out, e);
		break;
	case MOAT_LIST_MAILQ:
		if (l->count == 0)
			queue_format_mailq_header(&l->out);
		queue_format_mailq(&l->out, e);
		break;
	}
	l->count++;
	l->bytes += e->size;
	moat_list_write(l);
}

/* The end of a complete listing. */
static void
moat_list_finish(struct moat_list *l, const struct ipc_frame *f)
{
	long long n;

	switch (l->shape) {
	case MOAT_LIST_TEXT:
		if (l->count == 0)
			buf_append_str(&l->out, "Mail queue is empty\n");
		break;
	case MOAT_LIST_JSON:
		buf_append_str(&l->out, l->count == 0 ? "[]\n" : "\n]\n");
		break;
	case MOAT_LIST_MAILQ:
		queue_format_mailq_summary(&l->out, l->bytes, l->count);
		break;
	}
	moat_list_write(l);
	fflush(stdout);
	if (ipc_get_int(f, IPC_TRUNCATED, 1, 1, &n) == 0)
		moat_error("the listing stops at %zu messages: qmgr lists "
			   "no more at once",
			   l->count);
}

/* Entry frames until the status frame; 0 or an exit status. */
static int
moat_list_read(int sock, struct moat_list *l)
{
	struct queue_listing e;
	struct ipc_frame f;
	int rc;

	ipc_frame_init(&f);
	while ((rc = moat_queue_recv(sock, &f)) == 0) {
		if (ipc_get(&f, IPC_ENTRY) == NULL) {
			if ((rc = moat_queue_status(&f, NULL)) == 0)
				moat_list_finish(l, &f);
			break;
		}
		if (moat_list_parse(&f, l, &e) != 0) {
			fflush(stdout);
			moat_error("bad listing entry from qmgr");
			rc = 1;
			break;
		}
		moat_list_print(l, &e);
	}
	ipc_frame_free(&f);
	return rc;
}

int
moat_queue_list(int argc, char **argv)
{
	struct moat_list l;
	int sock, rc;

	memset(&l, 0, sizeof(l));
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		l.shape = MOAT_LIST_JSON;
	else if (argc == 2 && strcmp(argv[1], "--mailq") == 0)
		l.shape = MOAT_LIST_MAILQ;
	else if (argc != 1) {
		moat_error("usage: moat queue list [--json | --mailq]");
		return 2;
	}
	if ((rc = moat_queue_send(IPC_OP_LIST, NULL, &sock)) != 0)
		return rc;
	buf_init(&l.out);
	rc = moat_list_read(sock, &l);
	close(sock);
	buf_free(&l.out);
	free(l.rcpt);
	return rc;
}
