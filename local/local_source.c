/*
 * local_source: what a delivery child reads before it delivers, opened as
 * the job's user before the sandbox closes the file system and read after
 * it: ~/.forward (for a .forward job, and to check a command or file
 * target of the user's own .forward) and the aliases map (to check a
 * command or file target of an alias).  The check is the reason a lying
 * resolver cannot run a command or write a file the user or the
 * administrator never named: the child that would do it, already running
 * as that user, finds the target in its source or refuses.  Hostile: the
 * .forward text (any user's), the aliases values and the job's target;
 * all go through the pure parsers of local_forward.c.  Runs in local's
 * delivery children, never as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "safe_open.h"

/* Open ~/.forward as its owner: h->forward_fd, -1 when there is none. */
static void
source_forward_open(const struct local_job *job, struct local_source_handle *h)
{
	struct buf why = BUF_INIT;
	struct stat st;
	int homefd;

	homefd = open(job->user.home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (homefd < 0 ||
	    fstatat(homefd, ".forward", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (homefd >= 0)
			close(homefd);
		return;
	}
	h->forward_fd =
	    safe_open(homefd, ".forward", O_RDONLY, 0, job->user.uid,
		      SAFE_NOT_GROUP_WRITABLE, &st, &why);
	close(homefd);
	if (h->forward_fd < 0) {
		h->failed = 1;
		local_result_set(&h->r, LOCAL_DEFER, "4.3.0",
				 "~%s/.forward is not safe to use: it %s",
				 job->user.name, buf_cstr(&why));
	}
	buf_free(&why);
}

void
local_source_open(const struct local_job *job, struct local_source_handle *h)
{
	struct buf err = BUF_INIT;

	h->forward_fd = -1;
	h->aliases = NULL;
	h->failed = 0;
	local_result_set(&h->r, LOCAL_SENT, "2.0.0", "no .forward");
	if (job->type == JOB_FORWARD || job->source == SOURCE_FORWARD)
		source_forward_open(job, h);
	else if (job->source == SOURCE_ALIAS) {
		h->aliases = map_open(param_str("alias_maps"), &err);
		if (h->aliases == NULL) {
			h->failed = 1;
			local_result_set(&h->r, LOCAL_DEFER, "4.3.0",
					 "alias database unavailable: %s",
					 buf_cstr(&err));
		}
	}
	buf_free(&err);
}

/* Read an opened ~/.forward; items filled, r sent when all is well. */
void
local_source_forward_read(const struct local_job *job, int fd,
			  struct local_result *r, struct local_items *items)
{
	struct buf text = BUF_INIT;
	char chunk[4096];
	const char *err;
	ssize_t n;

	local_result_set(r, LOCAL_SENT, "2.0.0", ".forward read");
	while (text.len <= LOCAL_FORWARD_MAX &&
	       (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&text, chunk, (size_t)n);
	if (text.len > LOCAL_FORWARD_MAX)
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "~%s/.forward is larger than %d bytes",
				 job->user.name, LOCAL_FORWARD_MAX);
	else if (local_targets_split(text.data ? text.data : "", text.len,
				     items, &err) != 0)
		local_result_set(r, LOCAL_BOUNCE, "5.3.0", "~%s/.forward: %s",
				 job->user.name, err);
	buf_free(&text);
}

/* 1 when one of items is the job's target, classified the same way. */
static int
source_items_name(const struct local_job *job, const struct local_items *items)
{
	enum local_target_type want =
	    job->type == JOB_COMMAND ? TARGET_COMMAND : TARGET_FILE;
	struct local_target *t = xmalloc(sizeof(*t));
	const char *why, *item;
	int found = 0;

	for (size_t i = 0; i < items->count && !found; i++) {
		item = local_item(items, i);
		found =
		    local_target_classify(item, strlen(item), t, &why) == 0 &&
		    t->type == want && strcmp(t->text, job->target) == 0;
	}
	free(t);
	return found;
}

/* The value of the job's alias, split into items; 0 or -1 with r. */
static int
source_alias_items(const struct local_job *job, struct map *aliases,
		   struct local_items *items, struct local_result *r)
{
	struct buf value = BUF_INIT;
	const char *why;
	int rc = map_lookup(aliases, job->alias, &value);

	if (rc == 1 && local_targets_split(value.data ? value.data : "",
					   value.len, items, &why) != 0) {
		local_items_reset(items); /* the resolver bounced it */
		rc = 0;
	}
	buf_free(&value);
	if (rc < 0)
		local_result_set(r, LOCAL_DEFER, "4.3.0",
				 "alias database lookup of %s failed",
				 job->alias);
	return rc < 0 ? -1 : 0;
}

int
local_source_ok(const struct local_job *job, const struct local_msg *msg,
		struct local_source_handle *h, struct local_result *r)
{
	struct local_items items;
	int found = 0;

	if (h->failed) {
		*r = h->r;
		return 0;
	}
	local_items_init(&items);
	if (job->source == SOURCE_FORWARD && h->forward_fd >= 0) {
		local_source_forward_read(job, h->forward_fd, r, &items);
		if (r->status != LOCAL_SENT)
			local_items_reset(&items);
	} else if (job->source == SOURCE_ALIAS &&
		   source_alias_items(job, h->aliases, &items, r) != 0) {
		local_items_free(&items);
		return 0;
	}
	found = source_items_name(job, &items);
	local_items_free(&items);
	if (found)
		return 1;
	log_warn("%s: refusing %s %s as %s: %s does not name it", msg->queue_id,
		 job->type == JOB_COMMAND ? "command" : "file", job->target,
		 job->user.name,
		 job->source == SOURCE_ALIAS ? "the alias" : "~/.forward");
	local_result_set(
	    r, LOCAL_DEFER, "4.3.0",
	    "%s is not a target of %s%s; not delivered", job->target,
	    job->source == SOURCE_ALIAS ? "alias " : "~",
	    job->source == SOURCE_ALIAS ? job->alias : job->user.name);
	return 0;
}
