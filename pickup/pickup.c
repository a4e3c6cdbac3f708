/*
 * pickup: the maildrop reader.  Local users submit mail with sendmail,
 * whose postdrop writes one queue-format file per message into maildrop/
 * (common/maildrop.h).  pickup scans maildrop/ every second, and at once
 * when anyone connects to its socket (private/pickup: a wake-up, nothing
 * is read from it), and hands each complete file to cleanup, one message
 * at a time, with the file's owner as the submitting uid; then it removes
 * the file.  Files it cannot use go to corrupt/ with a log line.
 *
 * Security stance: runs as moat-pickup, chrooted in queue_directory,
 * sandbox SANDBOX_PICKUP, event_server_main, persistent (one process,
 * always running).  Peers: anyone (a connection is only a wake-up and is
 * closed unread).  Hostile input: every entry of maildrop/ and its bytes
 * (pickup_file.c), and cleanup's reply.  Before the chroot, as root, it
 * reads the passwd database into a uid-to-name table; nothing else.
 * maildrop/ is moat-pickup's own (mode 01730, group moat-drop), corrupt/
 * lets group moat-pickup add entries.
 * XXX a user added after the start is seen once pickup restarts: it does
 * so by itself when a file's owner is unknown and newer than its table,
 * and after max_idle of idleness or max_use messages.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "params.h"
#include "pickup.h"
#include "server.h"
#include "spool.h"

/*
 * Security stance: enforced by the skeleton (server.h).  peers NULL: a
 * connection is only a wake-up, closed unread.
 */
static const struct server_stance pickup_stance = {
    .user = "moat-pickup",
    .chroot = 1,
    .sandbox = SANDBOX_PICKUP,
    .peers = NULL,
};

#define PICKUP_SCAN_MS 1000        /* the regular scan */
#define PICKUP_BACKOFF_MIN_MS 2000 /* after cleanup deferred */
#define PICKUP_BACKOFF_MAX_MS 60000
/*
 * Entries taken in one scan.  XXX a user who kills many postdrops halfway
 * leaves files that wait an hour each; past this many, a scan may miss
 * newer files until those go to corrupt/.
 */
#define PICKUP_SCAN_MAX 100000

static struct pickup_config pickup_cfg = {.maildrop_fd = -1, .corrupt_fd = -1};
static struct pickup_users pickup_user_table;
static DIR *pickup_dir;
static unsigned long pickup_timer;
static long long pickup_backoff_ms;
static long long pickup_max_use, pickup_max_idle_ms, pickup_idle_since_ms;
static long long pickup_submitted;

static void
pickup_pre_drop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pickup_cfg.message_size_limit = (size_t)param_int("message_size_limit");
	pickup_cfg.limits.size_max =
	    (unsigned long long)pickup_cfg.message_size_limit +
	    QREC_ENVELOPE_MAX;
	pickup_cfg.limits.incomplete_max = PICKUP_INCOMPLETE_MAX;
	pickup_cfg.timeout = (int)param_int("ipc_timeout");
	pickup_max_use = param_int("max_use");
	pickup_max_idle_ms = param_int("max_idle") * 1000;
	pickup_users_init(&pickup_user_table);
	pickup_users_load(&pickup_user_table);
	if (clock_gettime(CLOCK_REALTIME, &pickup_cfg.users_loaded) != 0)
		log_fatal("clock_gettime: %s", strerror(errno));
	pickup_cfg.users = &pickup_user_table;
	pickup_cfg.started_ms = event_now_ms();
}

static int
pickup_open_dir(const char *name, int flags)
{
	struct stat st;
	int fd = open(name, flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode))
		log_fatal("open %s: %s (run moat check)", name,
			  strerror(errno));
	return fd;
}

static void pickup_schedule(long long ms);

/* In queue_directory (or its chroot), as moat-pickup. */
static void
pickup_post_drop(void)
{
	int fd;

	pickup_cfg.maildrop_fd = pickup_open_dir(SPOOL_MAILDROP, O_RDONLY);
	/* corrupt/ is mode 0730: pickup may add entries but not list. */
	pickup_cfg.corrupt_fd = pickup_open_dir(SPOOL_CORRUPT, O_PATH);
	fd = dup(pickup_cfg.maildrop_fd);
	if (fd < 0 || (pickup_dir = fdopendir(fd)) == NULL)
		log_fatal("%s: %s", SPOOL_MAILDROP, strerror(errno));
	pickup_idle_since_ms = event_now_ms();
	pickup_schedule(0);
}

static int
pickup_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in maildrop/, oldest queue ID first; at most SCAN_MAX. */
static size_t
pickup_list(char ***names)
{
	struct dirent *d;
	size_t n = 0, cap = 0;

	*names = NULL;
	rewinddir(pickup_dir);
	errno = 0;
	while (n < PICKUP_SCAN_MAX && (d = readdir(pickup_dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*names = xreallocarray(*names, cap, sizeof(**names));
		}
		(*names)[n++] = xstrdup(d->d_name);
		errno = 0;
	}
	if (errno != 0)
		log_warn("readdir %s: %s", SPOOL_MAILDROP, strerror(errno));
	if (n > 1)
		qsort(*names, n, sizeof(**names), pickup_name_cmp);
	return n;
}

/* Exit once idle (the skeleton's reload path); the master restarts us. */
static void
pickup_wind_down(void)
{
	if (!server_stopping())
		(void)kill(getpid(), SIGHUP);
}

/* One pass over maildrop/; returns the delay before the next one. */
static long long
pickup_scan(void)
{
	enum pickup_outcome out = PICKUP_DONE;
	char **names;
	size_t n, i;

	n = pickup_list(&names);
	for (i = 0; i < n && !server_stopping(); i++) {
		out = pickup_file(&pickup_cfg, names[i]);
		if (out == PICKUP_SUBMITTED)
			pickup_submitted++;
		if (out == PICKUP_STOP || out == PICKUP_REFRESH)
			break;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (n > 0)
		pickup_idle_since_ms = event_now_ms();
	if (out == PICKUP_REFRESH || pickup_submitted >= pickup_max_use ||
	    event_now_ms() - pickup_idle_since_ms >= pickup_max_idle_ms)
		pickup_wind_down();
	if (out != PICKUP_STOP) {
		pickup_backoff_ms = 0;
		return PICKUP_SCAN_MS;
	}
	pickup_backoff_ms =
	    pickup_backoff_ms ? pickup_backoff_ms * 2 : PICKUP_BACKOFF_MIN_MS;
	if (pickup_backoff_ms > PICKUP_BACKOFF_MAX_MS)
		pickup_backoff_ms = PICKUP_BACKOFF_MAX_MS;
	return pickup_backoff_ms;
}

static void
pickup_on_timer(void *ctx)
{
	(void)ctx;
	pickup_timer = 0;
	if (server_stopping())
		return;
	pickup_schedule(pickup_scan());
}

static void
pickup_schedule(long long ms)
{
	if (pickup_timer != 0)
		event_timer_cancel(pickup_timer);
	pickup_timer = event_timer_add(ms, pickup_on_timer, NULL);
}

/* A wake-up: nothing to read, nothing to log; scan soon. */
static void
pickup_accept(int client_fd)
{
	close(client_fd);
	server_client_done();
	pickup_schedule(0);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &pickup_stance,
	    .persistent = 1,
	    .pre_drop = pickup_pre_drop,
	    .post_drop = pickup_post_drop,
	    .accept_client = pickup_accept,
	};

	return event_server_main(argc, argv, &ops);
}
