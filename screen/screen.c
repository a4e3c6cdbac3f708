/*
 * screen: the pre-greeting screen, in the style of Postfix's postscreen.
 * It holds the SMTP port (the inet service of master.conf), checks each
 * new connection cheaply and hands the clients that pass to smtpd by
 * passing their socket (the pass service private/smtpd, server.h's pass
 * mode), with not one byte of theirs read.  The checks (screen_conn.c):
 * clients in mynetworks skip them all; a client that passed recently is
 * in the cache (screen_cache.c, LMDB, survives restarts) and is not
 * delayed; a new client gets the first line of a multi-line greeting
 * ("220-", postscreen_greet_banner) and a pause (postscreen_greet_wait):
 * one that talks before the greeting is over is an early talker; with
 * postscreen_dnsbl_sites its address is scored against DNS lists
 * (screen_dnsbl.c).  A client that fails is dropped (521) or kept
 * talking to the screen's SMTP engine, which refuses every recipient
 * (screen_smtp.c).  The screen holds tens of thousands of connections in
 * one process: a connection is a small struct and a place on a deadline
 * list (screen_deadline.c), and clients wait for an smtpd in its queue
 * (screen_pass.c) when every smtpd is busy.  Deep protocol tests
 * (postscreen's pipelining, non-SMTP command and bare newline tests, off
 * by default in Postfix) are not done: they need the client to come back
 * later, and smtpd refuses pipelining before EHLO's reply itself.
 *
 * Security stance: runs as moat-screen, a user of its own that owns only
 * the screen/ directory of the spool (its cache), chrooted in
 * queue_directory, sandbox SANDBOX_SCREEN, event_server_main, persistent;
 * peers: anyone (an inet service).  As root before the chroot it only
 * reads its parameters, raises its descriptor limit (RLIMIT_NOFILE) and
 * opens the DNS context when lists are set; the cache is opened after the
 * drop, as moat-screen.  It reads no client byte except from clients that
 * failed (the SMTP engine's input, parsed by a pure, fuzzed parser) and
 * peeks at most 100 bytes of early talkers for the log.  It opens no log,
 * password or queue file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "params.h"
#include "screen.h"
#include "server.h"
#include "spool.h"

/* Security stance: enforced by the skeleton (server.h). */
static const struct server_stance screen_stance = {
    .user = "moat-screen",
    .chroot = 1,
    .sandbox = SANDBOX_SCREEN,
    .peers = NULL, /* an inet service: anyone */
};

#define SCREEN_FDS_SPARE 512 /* beyond the clients: DNS, smtpd, the log */

static enum screen_action
screen_action(const char *name)
{
	const char *v = param_str(name);

	if (strcmp(v, "ignore") == 0)
		return SCREEN_IGNORE;
	if (strcmp(v, "enforce") == 0)
		return SCREEN_ENFORCE;
	if (strcmp(v, "drop") == 0)
		return SCREEN_DROP;
	log_fatal("%s: \"%s\": expected ignore, enforce or drop", name, v);
}

static void
screen_load_sites(void)
{
	const char *const *items;
	const char *why = NULL;
	size_t i, n = param_list("postscreen_dnsbl_sites", &items);

	if (n > SCREEN_DNSBL_SITES_MAX)
		log_fatal("postscreen_dnsbl_sites: more than %d entries",
			  SCREEN_DNSBL_SITES_MAX);
	screen_cfg.sites = xcalloc(n ? n : 1, sizeof(*screen_cfg.sites));
	for (i = 0; i < n; i++)
		if (dnsbl_site_parse(items[i], strlen(items[i]),
				     &screen_cfg.sites[i], &why) != 0)
			log_fatal("postscreen_dnsbl_sites: \"%s\": %s",
				  items[i], why);
	screen_cfg.site_count = n;
}

/* A relative socket path in the spool, as master.conf names them. */
static const char *
screen_pass_service(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "private/smtpd";

	if (path[0] == '\0' || path[0] == '/' || strstr(path, "..") != NULL ||
	    strlen(path) > 100)
		log_fatal("the pass service \"%s\" is not a socket path in "
			  "queue_directory",
			  path);
	return path;
}

static void
screen_params(void)
{
	struct screen_config *c = &screen_cfg;

	c->greet_wait_ms = param_int("postscreen_greet_wait") * 1000;
	c->greet_banner = xstrdup(param_str("postscreen_greet_banner"));
	c->greet_action = screen_action("postscreen_greet_action");
	c->greet_ttl = param_int("postscreen_greet_ttl");
	c->dnsbl_action = screen_action("postscreen_dnsbl_action");
	c->dnsbl_ttl = param_int("postscreen_dnsbl_ttl");
	c->dnsbl_threshold = (int)param_int("postscreen_dnsbl_threshold");
	c->dnsbl_allow_threshold =
	    (int)param_int("postscreen_dnsbl_allowlist_threshold");
	c->dnsbl_timeout_ms = param_int("postscreen_dnsbl_timeout") * 1000;
	c->count_limit =
	    (unsigned)param_int("postscreen_client_connection_count_limit");
	c->v6_prefix = (unsigned)param_int("smtpd_client_ipv6_prefix_length");
	c->pre_queue_limit = (size_t)param_int("postscreen_pre_queue_limit");
	c->post_queue_limit = (size_t)param_int("postscreen_post_queue_limit");
	c->command_time_ms = param_int("postscreen_command_time_limit") * 1000;
	c->command_count_limit =
	    (unsigned)param_int("postscreen_command_count_limit");
	c->myhostname = xstrdup(param_str("myhostname"));
	c->smtpd_banner = xstrdup(param_str("smtpd_banner"));
	c->cache_retention = param_int("postscreen_cache_retention_time");
	c->cache_cleanup_ms =
	    param_int("postscreen_cache_cleanup_interval") * 1000;
	screen_load_sites();
	c->nets = smtpd_access_load_mynetworks(&c->net_count);
}

/*
 * As root: room for every client the screen may hold, or, when the
 * system will not give it, a limit on the clients held that fits.
 */
static void
screen_fd_limit(void)
{
	struct screen_config *c = &screen_cfg;
	rlim_t want =
		   c->pre_queue_limit + c->post_queue_limit + SCREEN_FDS_SPARE,
	       room;
	struct rlimit rl;

	c->client_limit = c->pre_queue_limit + c->post_queue_limit;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_fatal("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_fatal("getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	room = rl.rlim_cur > 2 * SCREEN_FDS_SPARE
		   ? rl.rlim_cur - SCREEN_FDS_SPARE
		   : SCREEN_FDS_SPARE;
	c->client_limit = room;
	log_warn("descriptor limit %llu: %s; holding %zu clients at most",
		 (unsigned long long)rl.rlim_cur, strerror(errno),
		 c->client_limit);
}

static void
screen_pre_drop(int argc, char **argv)
{
	struct buf err = BUF_INIT;

	screen_cfg.pass_service = screen_pass_service(argc, argv);
	screen_params();
	screen_fd_limit();
	if (screen_cfg.site_count > 0 && screen_dnsbl_open(&err) != 0)
		log_fatal("postscreen_dnsbl_sites: DNS: %s", buf_cstr(&err));
	buf_free(&err);
}

/* After each loop turn: a reload asked us to stop. */
static void
screen_tick(void)
{
	if (!screen_stopping && server_stopping())
		screen_conn_stop();
}

static void
screen_post_drop(void)
{
	screen_conn_init();
	screen_pass_init();
	(void)screen_cache_open(SPOOL_SCREEN_CACHE);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &screen_stance,
	    .persistent = 1,
	    .pre_drop = screen_pre_drop,
	    .post_drop = screen_post_drop,
	    .accept_client = screen_conn_accept,
	    .tick = screen_tick,
	};

	return event_server_main(argc, argv, &ops);
}
