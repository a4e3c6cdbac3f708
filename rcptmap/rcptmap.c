/*
 * rcptmap: keeps the map of local recipients that smtpd checks at RCPT
 * time, so that smtpd holds neither the password file nor a list of
 * users.  The map (maps/recipients.lmdb in the spool) holds every account
 * of the password database that may receive mail (not uid 0, a name
 * local delivers to) and every key of the alias map.  rcptmap looks every
 * second whether /etc/passwd, the compiled alias map or its own map
 * changed (inode, size, times), and then rebuilds the map; it also does
 * at start and whenever root connects to private/rcptmap (moat map build
 * of the alias map does, and waits for the answer: the map is rebuilt by
 * then).  A rebuild writes a new file and renames it over
 * the old one, so smtpd sees the old map or the new, never a half; one
 * that fails (a full disk, an unreadable alias map) keeps the old map,
 * is logged, and is tried again with a growing delay.
 *
 * Security stance: runs as moat-rcptmap, not chrooted (the password
 * database may need NSS modules and their files and sockets outside the
 * spool), sandbox SANDBOX_RCPTMAP, event_server_main, persistent (one
 * process, always running).  Peers: root only (a connection asks for a
 * rebuild, nothing is read from it, and one frame answers it).  Input: root's
 * password database and alias map; nothing from the network or from users,
 * apart from the fields of their own passwd lines, of which only the name and
 * uid are used.  It writes only in maps/, its own directory (setgid moat-smtpd,
 * so the map is readable by smtpd and no one else).  Before the drop, as
 * root, it reads the alias_maps parameter and loads the NSS modules.
 */
#include <pwd.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "rcptmap.h"
#include "server.h"
#include "spool.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const rcptmap_peers[] = {"root", NULL};
static const struct server_stance rcptmap_stance = {
    .user = "moat-rcptmap",
    .chroot = 0,
    .sandbox = SANDBOX_RCPTMAP,
    .peers = rcptmap_peers,
};

#define RCPTMAP_WATCH_MS 1000      /* how often the files are looked at */
#define RCPTMAP_RETRY_MAX_MS 60000 /* the longest wait after failures */
#define RCPTMAP_FILE SPOOL_RECIPIENTS_MAP ".lmdb"
#define RCPTMAP_REPLY_TIMEOUT 2 /* seconds for the answer to a request */

/* The files a rebuild depends on, as they looked. */
struct rcptmap_watch {
	struct rcptmap_stamp passwd, aliases, map;
};

static char *rcptmap_alias_source; /* alias_maps; "" for none */
static struct buf rcptmap_alias_file = BUF_INIT;
static struct rcptmap_watch rcptmap_built, rcptmap_tried;
static unsigned rcptmap_failures;
static long long rcptmap_retry_ms;

static void
rcptmap_look(struct rcptmap_watch *w)
{
	rcptmap_stamp_take(RCPTMAP_PASSWD, &w->passwd);
	rcptmap_stamp_take(buf_cstr(&rcptmap_alias_file), &w->aliases);
	rcptmap_stamp_take(RCPTMAP_FILE, &w->map);
}

/* What changed from a to b, for the log; NULL: nothing. */
static const char *
rcptmap_change(const struct rcptmap_watch *a, const struct rcptmap_watch *b)
{
	if (!rcptmap_stamp_same(&a->passwd, &b->passwd))
		return "passwd";
	if (!rcptmap_stamp_same(&a->aliases, &b->aliases))
		return "aliases";
	if (!rcptmap_stamp_same(&a->map, &b->map))
		return "map";
	return NULL;
}

static long long
rcptmap_backoff_ms(unsigned failures)
{
	long long ms = RCPTMAP_WATCH_MS;

	while (failures-- > 1 && ms < RCPTMAP_RETRY_MAX_MS)
		ms *= 2;
	return ms < RCPTMAP_RETRY_MAX_MS ? ms : RCPTMAP_RETRY_MAX_MS;
}

/*
 * The files are looked at first: a change during the build is seen next.
 * 0, or -1 with why in err.
 */
static int
rcptmap_rebuild(const char *reason, struct buf *err)
{
	struct rcptmap_keys k;
	struct rcptmap_watch now;
	long long start = event_now_ms();
	int rc;

	rcptmap_look(&now);
	rcptmap_keys_init(&k);
	rc = rcptmap_build(rcptmap_alias_source, SPOOL_RECIPIENTS_MAP, &k, err);
	if (rc == 0) {
		rcptmap_stamp_take(RCPTMAP_FILE, &now.map);
		rcptmap_built = rcptmap_tried = now;
		log_info("%s rebuilt: reason=%s users=%lu aliases=%lu keys=%zu "
			 "ms=%lld%s",
			 RCPTMAP_FILE, reason, k.users, k.aliases, k.count,
			 event_now_ms() - start,
			 rcptmap_failures ? " (after failed attempts)" : "");
		rcptmap_failures = 0;
	} else {
		rcptmap_tried = now;
		rcptmap_failures++;
		rcptmap_retry_ms =
		    event_now_ms() + rcptmap_backoff_ms(rcptmap_failures);
		log_warn("%s not rebuilt: reason=%s: %s; smtpd keeps the "
			 "old map; next try in %llds",
			 RCPTMAP_FILE, reason, buf_cstr(err),
			 rcptmap_backoff_ms(rcptmap_failures) / 1000);
	}
	rcptmap_keys_free(&k);
	return rc;
}

/* Rebuild when a file changed; after a failure, also when it is time. */
static void
rcptmap_on_timer(void *ctx)
{
	struct rcptmap_watch now;
	struct buf err = BUF_INIT;
	const char *why;

	(void)ctx;
	rcptmap_look(&now);
	if (rcptmap_failures == 0)
		why = rcptmap_change(&rcptmap_built, &now);
	else if ((why = rcptmap_change(&rcptmap_tried, &now)) == NULL &&
		 event_now_ms() >= rcptmap_retry_ms)
		why = "retry";
	if (why != NULL && !server_stopping())
		(void)rcptmap_rebuild(why, &err);
	buf_free(&err);
	(void)event_timer_add(RCPTMAP_WATCH_MS, rcptmap_on_timer, NULL);
}

static void
rcptmap_pre_drop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	rcptmap_alias_source = xstrdup(param_str("alias_maps"));
	if (rcptmap_alias_source[0] != '\0')
		buf_printf(&rcptmap_alias_file, "%s.lmdb",
			   rcptmap_alias_source);
	/* NSS loads its modules at the first lookup: before the sandbox. */
	setpwent();
	(void)getpwent();
	endpwent();
}

static void
rcptmap_post_drop(void)
{
	struct buf err = BUF_INIT;

	(void)rcptmap_rebuild("start", &err);
	buf_free(&err);
	(void)event_timer_add(RCPTMAP_WATCH_MS, rcptmap_on_timer, NULL);
}

/* root asks for a rebuild: the answer says how it went (ipc_proto.h). */
static void
rcptmap_accept(int client_fd)
{
	struct buf err = BUF_INIT;
	struct ipc_frame reply;

	ipc_frame_init(&reply);
	if (rcptmap_rebuild("request", &err) == 0) {
		ipc_put_str(&reply, IPC_STATUS, IPC_STATUS_OK);
		ipc_put_str(&reply, IPC_TEXT, "rebuilt");
	} else {
		ipc_put_str(&reply, IPC_STATUS, IPC_STATUS_ERROR);
		ipc_put_str(&reply, IPC_TEXT, buf_cstr(&err));
	}
	/* Not a word back is worth a wait: the peer is root's command. */
	(void)ipc_send(client_fd, &reply, -1, RCPTMAP_REPLY_TIMEOUT);
	ipc_frame_free(&reply);
	buf_free(&err);
	close(client_fd);
	server_client_done();
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &rcptmap_stance,
	    .persistent = 1,
	    .pre_drop = rcptmap_pre_drop,
	    .post_drop = rcptmap_post_drop,
	    .accept_client = rcptmap_accept,
	};

	return event_server_main(argc, argv, &ops);
}
