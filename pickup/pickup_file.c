/*
 * pickup_file: one maildrop entry, from lstat to unlink.  The entry is
 * hostile: its name, type, owner, mode, links, size and bytes are whatever
 * a local user (through postdrop) or a broken postdrop made them.  It is
 * looked at with fstatat without following links, opened O_NOFOLLOW
 * relative to the maildrop directory, checked again with fstat (the same
 * inode), read into memory with a size bound (not mapped: its owner could
 * truncate a mapped file under us and kill pickup with SIGBUS) and parsed
 * by the queue file parser.  The submitter is the file's owner; nothing
 * the file says about who sent it is used.  A bad file is moved to
 * corrupt/, a symlink or other non-file is unlinked, a directory is left
 * alone; each with one log line.  Runs in pickup, chrooted.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "pickup.h"

#define PICKUP_SENDER_LOG_MAX 256
/* Entries reported once and not again (directories, stuck files). */
#define PICKUP_SEEN_MAX 256

static struct {
	dev_t dev;
	ino_t ino;
} pickup_seen[PICKUP_SEEN_MAX];
static size_t pickup_seen_count, pickup_seen_next;

/* 1 when this inode was reported before; else remember it, return 0. */
static int
pickup_seen_before(const struct stat *st)
{
	size_t i;

	for (i = 0; i < pickup_seen_count; i++)
		if (pickup_seen[i].dev == st->st_dev &&
		    pickup_seen[i].ino == st->st_ino)
			return 1;
	pickup_seen[pickup_seen_next].dev = st->st_dev;
	pickup_seen[pickup_seen_next].ino = st->st_ino;
	pickup_seen_next = (pickup_seen_next + 1) % PICKUP_SEEN_MAX;
	if (pickup_seen_count < PICKUP_SEEN_MAX)
		pickup_seen_count++;
	return 0;
}

static int
pickup_rename(const struct pickup_config *cfg, const char *name,
	      const char *target)
{
	int r = renameat2(cfg->maildrop_fd, name, cfg->corrupt_fd, target,
			  RENAME_NOREPLACE);

	/* A file system without RENAME_NOREPLACE: target is a fresh ID. */
	if (r < 0 && errno == EINVAL && strcmp(name, target) != 0)
		r = renameat(cfg->maildrop_fd, name, cfg->corrupt_fd, target);
	return r;
}

/*
 * Keep the name when it is a queue ID that corrupt/ does not hold yet;
 * otherwise a fresh queue ID, so no entry there is ever replaced.
 */
static void
pickup_move_corrupt(const struct pickup_config *cfg, const char *name,
		    const struct stat *st, const char *why)
{
	char target[QUEUE_ID_SIZE];
	int r = -1, fresh = !queue_id_valid(name);

	if (!fresh) {
		strlcpy(target, name, sizeof(target));
		r = renameat2(cfg->maildrop_fd, name, cfg->corrupt_fd, target,
			      RENAME_NOREPLACE);
		fresh = r < 0 && (errno == EEXIST || errno == EINVAL);
	}
	if (fresh) {
		queue_id_new(target);
		r = pickup_rename(cfg, name, target);
	}
	if (r == 0 && strcmp(name, target) == 0)
		log_warn("maildrop/%s: %s; moved to corrupt/", name, why);
	else if (r == 0)
		log_warn("maildrop/%s: %s; moved to corrupt/%s", name, why,
			 target);
	else if (errno != ENOENT && !pickup_seen_before(st))
		log_error("maildrop/%s: %s; cannot move it to corrupt/: %s; "
			  "left alone",
			  name, why, strerror(errno));
}

/* Everything but PICKUP_READ. */
static enum pickup_outcome
pickup_act(const struct pickup_config *cfg, const char *name,
	   const struct stat *st, enum pickup_action action, const char *why)
{
	switch (action) {
	case PICKUP_CORRUPT:
		pickup_move_corrupt(cfg, name, st, why);
		break;
	case PICKUP_REMOVE:
		/* unlinkat removes the entry itself, never a link's target. */
		if (unlinkat(cfg->maildrop_fd, name, 0) == 0)
			log_warn("maildrop/%s: %s; removed", name, why);
		else if (errno != ENOENT && !pickup_seen_before(st))
			log_error("maildrop/%s: %s; cannot remove it: %s", name,
				  why, strerror(errno));
		break;
	case PICKUP_IGNORE:
		if (!pickup_seen_before(st))
			log_warn("maildrop/%s: %s; left alone", name, why);
		break;
	default:
		break;
	}
	return PICKUP_DONE;
}

static int
pickup_newer(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec > b->tv_sec;
	return a->tv_nsec > b->tv_nsec;
}

/* Hand a parsed, checked message to cleanup and settle the file. */
static enum pickup_outcome
pickup_deliver(const struct pickup_config *cfg, const char *name,
	       const struct stat *st, const struct queue_env *env,
	       const char *file)
{
	struct pickup_message m;
	struct pickup_reply r;
	struct buf why = BUF_INIT;
	const char *user = pickup_users_find(cfg->users, st->st_uid);

	if (user == NULL && pickup_newer(&st->st_ctim, &cfg->users_loaded) &&
	    event_now_ms() - cfg->started_ms >= PICKUP_REFRESH_AGE_MS) {
		log_info("maildrop/%s: owner uid=%lu is not in the user list "
			 "read at start; restarting to read it again",
			 name, (unsigned long)st->st_uid);
		return PICKUP_REFRESH;
	}
	memset(&m, 0, sizeof(m));
	m.sender = env->sender;
	m.env = env;
	m.content = file + env->content_offset;
	m.uid = st->st_uid;
	m.user = user != NULL ? user : "unknown";
	m.timeout = cfg->timeout;
	pickup_submit(&m, &r);
	switch (r.verdict) {
	case PICKUP_QUEUED:
		/* XXX a crash just before this unlink submits it again. */
		if (unlinkat(cfg->maildrop_fd, name, 0) < 0)
			log_error("%s: unlink maildrop/%s: %s; it will be "
				  "submitted again",
				  r.queue_id, name, strerror(errno));
		log_info("%s: uid=%lu from=<%.*s>", r.queue_id,
			 (unsigned long)st->st_uid, PICKUP_SENDER_LOG_MAX,
			 env->sender);
		return PICKUP_SUBMITTED;
	case PICKUP_REFUSED:
		/* XXX a bounce to the submitter would be kinder than this. */
		buf_printf(&why, "uid=%lu from=<%.*s>: cleanup refused it: %s",
			   (unsigned long)st->st_uid, PICKUP_SENDER_LOG_MAX,
			   env->sender, r.text);
		pickup_move_corrupt(cfg, name, st, buf_cstr(&why));
		buf_free(&why);
		return PICKUP_DONE;
	default:
		log_warn("maildrop/%s: uid=%lu from=<%.*s>: %s; will try again",
			 name, (unsigned long)st->st_uid, PICKUP_SENDER_LOG_MAX,
			 env->sender, r.text);
		return PICKUP_STOP;
	}
}

/* The open file: check it again, read, parse, submit. */
static enum pickup_outcome
pickup_open_file(const struct pickup_config *cfg, const char *name, int fd,
		 const struct stat *lst)
{
	struct stat st;
	struct buf data = BUF_INIT, why = BUF_INIT;
	struct queue_env env;
	enum pickup_action action;
	enum pickup_outcome out = PICKUP_DONE;

	queue_env_init(&env);
	if (fstat(fd, &st) < 0 || st.st_dev != lst->st_dev ||
	    st.st_ino != lst->st_ino)
		goto done; /* changed under us: the next scan looks again */
	action = pickup_classify(&st, time(NULL), &cfg->limits, &why);
	if (action != PICKUP_READ) {
		out = pickup_act(cfg, name, &st, action, buf_cstr(&why));
		goto done;
	}
	if (buf_read_fd(&data, fd,
			cfg->limits.size_max < SIZE_MAX ? cfg->limits.size_max
							: SIZE_MAX) < 0) {
		if (errno == EFBIG) {
			buf_printf(&why, "file too large (over %llu bytes)",
				   cfg->limits.size_max);
			pickup_move_corrupt(cfg, name, &st, buf_cstr(&why));
		} else if (!pickup_seen_before(&st)) {
			log_error("maildrop/%s: read: %s", name,
				  strerror(errno));
		}
		goto done;
	}
	if (queue_env_parse(data.data, data.len, &env, &why) < 0 ||
	    pickup_check_env(&env, cfg->message_size_limit, &why) < 0) {
		pickup_move_corrupt(cfg, name, &st, buf_cstr(&why));
		goto done;
	}
	out = pickup_deliver(cfg, name, &st, &env, data.data);
done:
	queue_env_free(&env);
	buf_free(&data);
	buf_free(&why);
	return out;
}

enum pickup_outcome
pickup_file(const struct pickup_config *cfg, const char *name)
{
	struct stat st;
	struct buf why = BUF_INIT;
	enum pickup_action action;
	enum pickup_outcome out = PICKUP_DONE;
	int fd;

	if (fstatat(cfg->maildrop_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			log_warn("maildrop/%s: lstat: %s", name,
				 strerror(errno));
		return PICKUP_DONE;
	}
	action = pickup_classify(&st, time(NULL), &cfg->limits, &why);
	if (action != PICKUP_READ) {
		out = pickup_act(cfg, name, &st, action, buf_cstr(&why));
		buf_free(&why);
		return out;
	}
	fd = openat(cfg->maildrop_fd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		out = pickup_open_file(cfg, name, fd, &st);
		close(fd);
	} else if (errno == ELOOP) {
		/* Swapped for a symlink since fstatat: never follow it. */
		out = pickup_act(cfg, name, &st, PICKUP_REMOVE,
				 "a symbolic link");
	} else if (errno != ENOENT && !pickup_seen_before(&st)) {
		log_error("maildrop/%s: open: %s", name, strerror(errno));
	}
	buf_free(&why);
	return out;
}
