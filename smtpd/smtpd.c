/*
 * smtpd: the SMTP server.  It accepts mail from the network, checks each
 * recipient at RCPT time (local domain: the user or alias must exist;
 * elsewhere: only from mynetworks), and hands every message to cleanup.
 *
 * Security stance: runs as moat-smtpd (the service's user), chrooted in
 * queue_directory, sandbox SANDBOX_SMTPD, on event_server_main with at
 * most smtpd_client_limit sessions per process; peers: anyone (an inet
 * service).  Every byte from a client is hostile.  Before the chroot, as
 * root, it opens the alias map and reads the names of local users; after
 * it, it can reach nothing but private/cleanup.  No DNS, no user files.
 * XXX a user added after the process started is unknown to it until the
 * process is recycled (max_idle, max_use).  A rebuilt alias map makes the
 * process answer local recipients with 451 (try again), finish its
 * sessions and exit, so a fresh process reads the new map.
 */
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "event.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "resolve.h"
#include "server.h"
#include "smtpd_access.h"
#include "smtpd_io.h"
#include "smtpd_session.h"

static struct smtpd_config smtpd_cfg;
static struct smtpd_io_config smtpd_io_cfg;
static struct map *smtpd_aliases;
static char **smtpd_users; /* sorted; uid 0 left out */
static size_t smtpd_user_count;
static struct smtpd_net *smtpd_nets;
static int smtpd_aliases_stale; /* rebuilt since we opened it */

static int
smtpd_domain_is_local(void *ctx, const char *domain)
{
	(void)ctx;
	return resolve_domain_is_local(domain);
}

static int
smtpd_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void smtpd_tick(void);

/* An alias or a local user (never uid 0: root must be aliased). */
static int
smtpd_local_name(const char *name)
{
	struct buf value = BUF_INIT;
	int r;

	/* A stale map gets "try again" while this process winds down. */
	smtpd_tick();
	if (smtpd_aliases == NULL || smtpd_aliases_stale)
		return -1;
	r = map_lookup(smtpd_aliases, name, &value);
	buf_free(&value);
	if (r != 0)
		return r;
	return bsearch(&name, smtpd_users, smtpd_user_count,
		       sizeof(*smtpd_users), smtpd_name_cmp) != NULL;
}

static int
smtpd_local_user_exists(void *ctx, const char *local)
{
	char lower[ADDR_LOCAL_MAX * 2 + 3], base[sizeof(lower)];
	size_t i;
	int r;

	(void)ctx;
	if (strlcpy(lower, local, sizeof(lower)) >= sizeof(lower))
		return 0;
	for (i = 0; lower[i] != '\0'; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	r = smtpd_local_name(lower);
	if (r != 0 || resolve_local_base(lower, base, sizeof(base)) != 0 ||
	    strcmp(base, lower) == 0)
		return r;
	return smtpd_local_name(base);
}

static const struct smtpd_lookup smtpd_lookup = {NULL, smtpd_domain_is_local,
						 smtpd_local_user_exists};

/* Names of the users who may receive mail; read as root, before chroot. */
static void
smtpd_load_users(void)
{
	struct passwd *pw;
	size_t cap = 0;

	setpwent();
	while ((pw = getpwent()) != NULL) {
		if (pw->pw_uid == 0 || pw->pw_name == NULL ||
		    pw->pw_name[0] == '\0')
			continue;
		if (smtpd_user_count == cap) {
			cap = cap ? cap * 2 : 64;
			smtpd_users = xreallocarray(smtpd_users, cap,
						    sizeof(*smtpd_users));
		}
		smtpd_users[smtpd_user_count++] = xstrdup(pw->pw_name);
	}
	endpwent();
	qsort(smtpd_users, smtpd_user_count, sizeof(*smtpd_users),
	      smtpd_name_cmp);
}

static void
smtpd_load_networks(void)
{
	const char *const *items;
	size_t i, n = param_list("mynetworks", &items);

	smtpd_nets = xcalloc(n ? n : 1, sizeof(*smtpd_nets));
	for (i = 0; i < n; i++)
		if (smtpd_access_parse_net(items[i], strlen(items[i]),
					   &smtpd_nets[i]) != 0)
			log_fatal("mynetworks: \"%s\" is not a network address "
				  "or CIDR block",
				  items[i]);
	smtpd_io_cfg.nets = smtpd_nets;
	smtpd_io_cfg.net_count = n;
}

static void
smtpd_open_aliases(void)
{
	struct buf err = BUF_INIT;

	smtpd_aliases = map_open(param_str("alias_maps"), &err);
	if (smtpd_aliases == NULL)
		log_warn("alias map: %s; local recipients get 451 until it "
			 "is built",
			 buf_cstr(&err));
	buf_free(&err);
}

static struct server_ops smtpd_ops;

static void
smtpd_pre_drop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	smtpd_cfg.myhostname = xstrdup(param_str("myhostname"));
	smtpd_cfg.banner = xstrdup(param_str("smtpd_banner"));
	smtpd_cfg.message_size_limit = (size_t)param_int("message_size_limit");
	smtpd_cfg.recipient_limit =
	    (unsigned)param_int("smtpd_recipient_limit");
	smtpd_cfg.soft_error_limit =
	    (unsigned)param_int("smtpd_soft_error_limit");
	smtpd_cfg.hard_error_limit =
	    (unsigned)param_int("smtpd_hard_error_limit");
	smtpd_io_cfg.session = &smtpd_cfg;
	smtpd_io_cfg.lookup = &smtpd_lookup;
	smtpd_io_cfg.command_line_limit =
	    (size_t)param_int("smtpd_command_line_limit");
	smtpd_io_cfg.line_length_limit = (size_t)param_int("line_length_limit");
	smtpd_io_cfg.timeout = (int)param_int("smtpd_timeout");
	smtpd_io_cfg.data_timeout = (int)param_int("smtpd_data_timeout");
	smtpd_io_cfg.stress_timeout = (int)param_int("smtpd_stress_timeout");
	smtpd_io_cfg.error_sleep = (int)param_int("smtpd_error_sleep_time");
	smtpd_io_cfg.ipc_timeout = (int)param_int("ipc_timeout");
	smtpd_io_cfg.client_limit = (unsigned)param_int("smtpd_client_limit");
	smtpd_ops.max_clients = smtpd_io_cfg.client_limit;
	smtpd_load_networks();
	smtpd_open_aliases();
	smtpd_load_users();
}

static void
smtpd_accept(int fd)
{
	smtpd_io_accept(fd, &smtpd_io_cfg);
}

/*
 * A rebuilt alias map: stop taking clients and exit once the current ones
 * are done (the skeleton's reload path); the master starts a fresh smtpd.
 */
static void
smtpd_tick(void)
{
	if (smtpd_aliases_stale || smtpd_aliases == NULL ||
	    !map_changed(smtpd_aliases))
		return;
	smtpd_aliases_stale = 1;
	log_info("alias map changed; exiting after the current sessions");
	(void)kill(getpid(), SIGHUP);
}

int
main(int argc, char **argv)
{
	smtpd_ops.sandbox = SANDBOX_SMTPD;
	smtpd_ops.peers = NULL;
	smtpd_ops.pre_drop = smtpd_pre_drop;
	smtpd_ops.accept_client = smtpd_accept;
	smtpd_ops.tick = smtpd_tick;
	return event_server_main(argc, argv, &smtpd_ops);
}
