/*
 * qmgr_list: the queue listing of {op=list} (protocol in ipc_proto.h), and
 * the last deferral reason of each message, which only qmgr knows.  The
 * listing walks active/, deferred/ and hold/, reads each file's envelope
 * with queue_file_read (which validates every record) and appends one
 * entry frame per message, a chunk at a time, so a long listing never
 * holds up deliveries: the caller asks for more once the client has read
 * what is there.  It reads the files even for messages in memory: their
 * status bytes are written in place, so the file is the truth (but a
 * status that could not be written is taken from memory).
 * XXX a message that moves between directories during a listing may show
 * twice or not at all, as in every queue listing that does not stop the
 * queue.  Input: directory entries (used only when they are well-formed
 * queue IDs) and queue files.  Runs in qmgr, chrooted in the spool.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc_proto.h"
#include "log.h"
#include "qmgr.h"
#include "spool.h"

#define QMGR_LIST_CHUNK (64 * 1024) /* output bytes produced per call */
/* An entry stops taking recipients here, leaving room for the rest. */
#define QMGR_LIST_FRAME_BUDGET (IPC_FRAME_MAX - 16 * 1024)

/* --- the last deferral reasons ------------------------------------------- */

/*
 * Direct-mapped by queue ID: bounded, O(1), and a collision only forgets
 * an older reason (XXX the listing then shows none for that message).
 */
struct qmgr_reason {
	char id[QUEUE_ID_SIZE];
	char *text;
};

static struct qmgr_reason qmgr_reasons[QMGR_REASON_SLOTS];

static struct qmgr_reason *
qmgr_reason_slot(const char *id)
{
	uint32_t h = 2166136261u;

	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &qmgr_reasons[h % QMGR_REASON_SLOTS];
}

void
qmgr_reason_note(const char *id, const char *text)
{
	struct qmgr_reason *r = qmgr_reason_slot(id);

	free(r->text);
	memcpy(r->id, id, QUEUE_ID_SIZE);
	r->text = xstrndup(text, strnlen(text, QMGR_REASON_MAX));
}

void
qmgr_reason_forget(const char *id)
{
	struct qmgr_reason *r = qmgr_reason_slot(id);

	if (r->text == NULL || strcmp(r->id, id) != 0)
		return;
	free(r->text);
	r->text = NULL;
	r->id[0] = '\0';
}

const char *
qmgr_reason_find(const char *id)
{
	const struct qmgr_reason *r = qmgr_reason_slot(id);

	return r->text != NULL && strcmp(r->id, id) == 0 ? r->text : NULL;
}

/* --- the listing ------------------------------------------------------------
 */

static const char *const qmgr_list_dirs[] = {SPOOL_ACTIVE, SPOOL_DEFERRED,
					     SPOOL_HOLD};
#define QMGR_LIST_DIRS (sizeof(qmgr_list_dirs) / sizeof(qmgr_list_dirs[0]))

struct qmgr_list {
	size_t phase; /* index in qmgr_list_dirs; QMGR_LIST_DIRS: the end */
	DIR *dir;
	size_t count;
	int truncated;
	int done; /* the final frame was produced */
};

struct qmgr_list *
qmgr_list_new(void)
{
	return xcalloc(1, sizeof(struct qmgr_list));
}

void
qmgr_list_free(struct qmgr_list *l)
{
	if (l == NULL)
		return;
	if (l->dir != NULL)
		closedir(l->dir);
	free(l);
}

/* Recipients still to do; at most IPC_LIST_RCPT_MAX, within the budget. */
static void
qmgr_list_rcpts(struct ipc_frame *f, const char *id,
		const struct queue_env *env)
{
	const struct queue_rcpt *r;
	size_t i, put = 0, more = 0;

	for (i = 0; i < env->rcpt_count; i++) {
		r = &env->rcpt[i];
		if (r->status != QRCPT_TODO ||
		    qmgr_unrecorded_find(id, r->status_offset) != 0)
			continue;
		if (put < IPC_LIST_RCPT_MAX &&
		    f->raw.len + strlen(r->addr) < QMGR_LIST_FRAME_BUDGET) {
			ipc_put_str(f, IPC_RCPT, r->addr);
			put++;
		} else {
			more++;
		}
	}
	if (more > 0)
		ipc_put_int(f, IPC_RCPT_MORE, (long long)more);
}

/* One message's entry frame; -1 when its file is gone or unreadable. */
static int
qmgr_list_entry(int dfd, const char *queue, const char *id, struct buf *out)
{
	struct buf err = BUF_INIT;
	struct queue_env env;
	struct ipc_frame f;
	const char *reason;
	int fd;

	fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1; /* moved or removed since readdir */
	if (queue_file_read(fd, &env, &err) != 0) {
		close(fd);
		queue_env_free(&env);
		buf_free(&err);
		return -1; /* the loader reports and moves bad files */
	}
	close(fd);
	buf_free(&err);
	ipc_frame_init(&f);
	ipc_put_int(&f, IPC_ENTRY, 1);
	ipc_put_str(&f, IPC_QUEUE_ID, id);
	ipc_put_str(&f, IPC_QUEUE, queue);
	ipc_put_int(&f, IPC_ARRIVAL, env.arrival);
	ipc_put_int(&f, IPC_SIZE, (long long)env.content_length);
	ipc_put_str(&f, IPC_SENDER, env.sender);
	qmgr_list_rcpts(&f, id, &env);
	if ((reason = qmgr_reason_find(id)) != NULL)
		ipc_put_str(&f, IPC_REASON, reason);
	qmgr_admin_put_frame(out, &f);
	ipc_frame_free(&f);
	queue_env_free(&env);
	return 0;
}

static void
qmgr_list_final(struct qmgr_list *l, struct buf *out)
{
	struct ipc_frame f;

	ipc_frame_init(&f);
	ipc_put_str(&f, IPC_STATUS, IPC_STATUS_OK);
	ipc_put_int(&f, IPC_COUNT, (long long)l->count);
	if (l->truncated)
		ipc_put_int(&f, IPC_TRUNCATED, 1);
	qmgr_admin_put_frame(out, &f);
	ipc_frame_free(&f);
	l->done = 1;
}

/* The next directory entry of the listing, or NULL at its end. */
static const char *
qmgr_list_next_name(struct qmgr_list *l)
{
	struct dirent *de;

	while (l->phase < QMGR_LIST_DIRS) {
		if (l->dir == NULL) {
			l->dir = opendir(qmgr_list_dirs[l->phase]);
			if (l->dir == NULL) {
				log_warn("cannot open %s/: %s",
					 qmgr_list_dirs[l->phase],
					 strerror(errno));
				l->phase++;
				continue;
			}
		}
		while ((de = readdir(l->dir)) != NULL)
			if (queue_id_valid(de->d_name))
				return de->d_name;
		closedir(l->dir);
		l->dir = NULL;
		l->phase++;
	}
	return NULL;
}

int
qmgr_list_more(struct qmgr_list *l, struct buf *out)
{
	const char *name;

	while (!l->done && out->len < QMGR_LIST_CHUNK) {
		name = qmgr_list_next_name(l);
		if (name == NULL) {
			qmgr_list_final(l, out);
			break;
		}
		if (l->count >= QMGR_LIST_MAX) {
			/* XXX more messages than one listing shows. */
			l->truncated = 1;
			qmgr_list_final(l, out);
			break;
		}
		if (qmgr_list_entry(dirfd(l->dir), qmgr_list_dirs[l->phase],
				    name, out) == 0)
			l->count++;
	}
	return l->done;
}
