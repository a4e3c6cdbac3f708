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
 * it, it can reach nothing but private/cleanup and private/anvil (which
 * counts each untrusted client's connections across all smtpd processes;
 * over smtpd_client_connection_count_limit or _rate_limit: 421).  No DNS, no
 * user files. A rebuilt alias map, or a password file replaced since the list
 * was read (useradd), makes the process answer what it cannot know with 451
 * (try again), finish its sessions and exit, so a fresh process reads
 * them anew; `moat reload` does the same at once.
 */
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
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

/* Security stance: enforced by the skeleton (server.h). */
static const struct server_stance smtpd_stance = {
    .user = "moat-smtpd",
    .chroot = 1,
    .sandbox = SANDBOX_SMTPD,
    .peers = NULL, /* an inet service: anyone */
};

#define SMTPD_WATCH_MS                                                         \
	1000 /* how often the alias map and users are checked                  \
	      */

static struct smtpd_config smtpd_cfg;
static struct smtpd_io_config smtpd_io_cfg;
static struct map *smtpd_aliases;
static char **smtpd_users; /* sorted; uid 0 left out */
static size_t smtpd_user_count;
static struct smtpd_net *smtpd_nets;
static int smtpd_aliases_stale;  /* rebuilt since we opened it */
static int smtpd_passwd_fd = -1; /* the password file our list came from */
static int smtpd_users_stale;    /* that file was replaced since */

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
static void smtpd_watch(void *ctx);

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
	if (bsearch(&name, smtpd_users, smtpd_user_count, sizeof(*smtpd_users),
		    smtpd_name_cmp) != NULL)
		return 1;
	/* Perhaps a user added since we read the list: "try again". */
	return smtpd_users_stale ? -1 : 0;
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

	/* Kept open only to notice when useradd replaces the file. */
	smtpd_passwd_fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
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
	smtpd_io_cfg.connection_count_limit =
	    (unsigned)param_int("smtpd_client_connection_count_limit");
	smtpd_io_cfg.connection_rate_limit =
	    (unsigned)param_int("smtpd_client_connection_rate_limit");
	smtpd_load_networks();
	smtpd_open_aliases();
	smtpd_load_users();
	(void)event_timer_add(SMTPD_WATCH_MS, smtpd_watch, NULL);
}

static void
smtpd_accept(int fd)
{
	smtpd_io_accept(fd, &smtpd_io_cfg);
}

/* 1 when the file behind fd was replaced (its last link is gone). */
static int
smtpd_file_replaced(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0;
}

/*
 * A rebuilt alias map or a new password file: stop taking clients and
 * exit once the current ones are done (the skeleton's reload path); the
 * master starts a fresh smtpd that reads them again.
 */
static void
smtpd_tick(void)
{
	if (!smtpd_users_stale && smtpd_file_replaced(smtpd_passwd_fd)) {
		smtpd_users_stale = 1;
		log_info("password file changed; exiting after the current "
			 "sessions");
		(void)kill(getpid(), SIGHUP);
	}
	if (smtpd_aliases_stale || smtpd_aliases == NULL ||
	    !map_changed(smtpd_aliases))
		return;
	smtpd_aliases_stale = 1;
	log_info("alias map changed; exiting after the current sessions");
	(void)kill(getpid(), SIGHUP);
}

/* Idle processes look too, so none greets a client with stale lists. */
static void
smtpd_watch(void *ctx)
{
	(void)ctx;
	smtpd_tick();
	(void)event_timer_add(SMTPD_WATCH_MS, smtpd_watch, NULL);
}

int
main(int argc, char **argv)
{
	smtpd_ops.stance = &smtpd_stance;
	smtpd_ops.pre_drop = smtpd_pre_drop;
	smtpd_ops.accept_client = smtpd_accept;
	smtpd_ops.tick = smtpd_tick;
	return event_server_main(argc, argv, &smtpd_ops);
}
