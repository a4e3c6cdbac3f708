/*
 * smtpd: the SMTP server.  It accepts mail from the network, checks each
 * recipient at RCPT time (local domain: the user or alias must be in
 * rcptmap's recipients map, smtpd_recipients.c; elsewhere: only from
 * mynetworks), and hands every message to cleanup.
 *
 * Security stance: runs as moat-smtpd (the service's user), chrooted in
 * queue_directory, sandbox SANDBOX_SMTPD, on event_server_main with at
 * most smtpd_client_limit sessions per process; peers: anyone (an inet
 * service, such as submission).  On the SMTP port it is a pass service
 * (private/smtpd): the screen accepts and screens each client and hands
 * its socket over; only the screen's user may (pass_peers, SO_PEERCRED),
 * and the skeleton checks that the socket is the client offered (see
 * server.h).  smtpd_trusted_client_reserve sessions of each process wait
 * for clients the screen found in mynetworks.  Every byte from a client
 * is hostile.  Before the chroot, as root, it reads its parameters, its
 * certificate files (never a private key: tlssign(8) holds those and
 * signs handshakes for it), the smtpd_sender_login_maps map and the
 * tables of its restriction lists (smtpd_tables.c); after it,
 * it can reach nothing but
 * private/cleanup, private/anvil (which counts each untrusted client's
 * connections and AUTH attempts across all smtpd processes; over
 * smtpd_client_connection_count_limit or _rate_limit: 421),
 * private/tlssign, private/auth (which checks passwords: no hash is ever
 * here) and, read-only, the recipients map in maps/, which it reopens in
 * place when rcptmap replaces it, and DNS (libunbound's resolver thread,
 * opened before the drop, over TCP to the resolvers) for each client's
 * reverse DNS name and the DNS lists of its restriction lists.  No
 * password file, no user list, no alias map, no user files, no key, no
 * path to reopen one.
 */
#include <errno.h>
#include <string.h>

#include "dns.h"
#include "landlock.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "resolve.h"
#include "server.h"
#include "smtpd_access.h"
#include "smtpd_dnsbl.h"
#include "smtpd_io.h"
#include "smtpd_keysign.h"
#include "smtpd_rdns.h"
#include "smtpd_recipients.h"
#include "smtpd_security.h"
#include "smtpd_session.h"
#include "smtpd_tables.h"
#include "smtpd_tls.h"
#include "tls_files.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const smtpd_pass_peers[] = {"screen", NULL};
static const struct server_stance smtpd_stance = {
    .user = "moat-smtpd",
    .chroot = 1,
    .sandbox = SANDBOX_SMTPD,
    .peers = NULL,                  /* an inet service: anyone */
    .pass_peers = smtpd_pass_peers, /* a pass service: the screen */
};

static struct smtpd_config smtpd_cfg;
static struct smtpd_security smtpd_sec;
static struct map *smtpd_login_map;
static struct smtpd_io_config smtpd_io_cfg;
static struct smtpd_net *smtpd_nets;

static int
smtpd_domain_is_local(void *ctx, const char *domain)
{
	(void)ctx;
	return resolve_domain_is_local(domain);
}

static int
smtpd_local_user_exists(void *ctx, const char *local)
{
	(void)ctx;
	return smtpd_recipient_exists(local);
}

static const struct smtpd_lookup smtpd_lookup = {NULL, smtpd_domain_is_local,
						 smtpd_local_user_exists};

static void
smtpd_load_networks(void)
{
	smtpd_nets = smtpd_access_load_mynetworks(&smtpd_io_cfg.net_count);
	smtpd_io_cfg.nets = smtpd_nets;
}

/* smtpd_sender_login_maps; a rebuilt map: finish, restart with it. */
static int
smtpd_sender_logins(void *ctx, const char *key, struct buf *logins)
{
	(void)ctx;
	if (smtpd_login_map == NULL)
		return -1;
	if (map_changed(smtpd_login_map))
		server_wind_down();
	return map_lookup(smtpd_login_map, key, logins);
}

/* The restriction lists and smtpd_sender_login_maps. */
static void
smtpd_load_restrictions(void)
{
	const char *maps = param_str("smtpd_sender_login_maps");
	struct buf err = BUF_INIT;

	smtpd_tables_load(&smtpd_sec);
	if (maps[0] == '\0')
		return;
	smtpd_sec.sender_logins = smtpd_sender_logins;
	smtpd_login_map = map_open(maps, &err);
	if (smtpd_login_map == NULL)
		log_error("smtpd_sender_login_maps %s; its senders get 451 "
			  "until it is built",
			  buf_cstr(&err));
	buf_free(&err);
}

/* The certificates, before the drop; the keys are tlssign's. */
static void
smtpd_load_tls(void)
{
	struct smtpd_tls_config tc;
	struct tls_file_list l;
	struct buf err = BUF_INIT;
	enum tls_level level;
	int required;

	if (tls_server_level_parse(param_str("smtpd_tls_security_level"),
				   &level) != 0)
		log_fatal("smtpd_tls_security_level: expected none, may or "
			  "encrypt, not \"%s\"",
			  param_str("smtpd_tls_security_level"));
	smtpd_sec.tls_level = level;
	smtpd_io_cfg.wrapper = param_bool("smtpd_tls_wrappermode");
	required = level == TLS_LEV_ENCRYPT || smtpd_io_cfg.wrapper;
	if (level == TLS_LEV_NONE && !smtpd_io_cfg.wrapper)
		return;
	if (tls_service_files(NULL, &l, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	tc.cert_files = l.cert;
	tc.ncert = l.ncert;
	tc.cipher_list = param_str("smtpd_tls_cipher_list");
	tc.ciphersuites = param_str("smtpd_tls_ciphersuites");
	tc.ticket_lifetime = (int)param_int("smtpd_tls_session_cache_timeout");
	tc.service = server_service_name();
	if (smtpd_tls_init(&tc, &err) == 0)
		smtpd_sec.tls_ready = 1;
	else if (required)
		log_fatal("TLS: %s", buf_cstr(&err));
	else
		log_error("TLS: %s; STARTTLS is not offered", buf_cstr(&err));
	tls_file_list_free(&l);
	buf_free(&err);
}

static void
smtpd_load_security(void)
{
	smtpd_load_tls();
	smtpd_sec.sasl_enable = param_bool("smtpd_sasl_auth_enable");
	smtpd_sec.auth_header = param_bool("smtpd_sasl_authenticated_header");
	smtpd_io_cfg.auth_rate_limit =
	    (unsigned)param_int("smtpd_client_auth_rate_limit");
	smtpd_load_restrictions();
	smtpd_cfg.sec = &smtpd_sec;
}

/*
 * The resolver for clients' names and the DNS lists, before the drop
 * (dns.h).  Its TCP connects are smtpd's only ones: Landlock then allows
 * TCP to the resolvers' ports alone (none without DNS), so a compromised
 * smtpd cannot open a connection to anyone's port 25.
 */
static void
smtpd_load_dns(void)
{
	long long secs = param_int("smtpd_rdns_timeout");
	size_t lists = smtpd_dnsbl_load(&smtpd_sec);
	struct buf err = BUF_INIT;
	struct dns_ctx *ctx = NULL;
	unsigned short ports[16];
	size_t n = 0;
	int rc;

	if ((secs > 0 || lists > 0) && (ctx = dns_open_tcp(&err)) == NULL)
		log_error("DNS: %s; every client is \"unknown\" and listed "
			  "nowhere",
			  buf_cstr(&err));
	else if (ctx != NULL)
		n = dns_resolver_ports(ports, sizeof(ports) / sizeof(ports[0]));
	if (secs > 0)
		smtpd_rdns_open(ctx, secs * 1000);
	smtpd_dnsbl_open(ctx, param_int("smtpd_dnsbl_timeout") * 1000);
	buf_free(&err);
	rc = landlock_confine_tcp(ports, n);
	if (rc < 0)
		log_fatal("landlock: %s", strerror(errno));
	if (rc > 0)
		log_warn(
		    "landlock: the kernel has no network rules (ABI %d); "
		    "smtpd's TCP connects are not limited to its resolvers",
		    landlock_abi());
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
	smtpd_cfg.stress_error_limit =
	    (unsigned)param_int("smtpd_stress_error_limit");
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
	smtpd_io_cfg.screened = server_is_pass();
	smtpd_ops.pass_reserve =
	    (unsigned)param_int("smtpd_trusted_client_reserve");
	smtpd_io_cfg.connection_count_limit =
	    (unsigned)param_int("smtpd_client_connection_count_limit");
	smtpd_io_cfg.connection_rate_limit =
	    (unsigned)param_int("smtpd_client_connection_rate_limit");
	smtpd_load_networks();
	smtpd_load_security();
	smtpd_load_dns();
}

static void
smtpd_post_drop(void)
{
	if (smtpd_sec.tls_ready)
		smtpd_keysign_connect();
}

static void
smtpd_accept(int fd)
{
	smtpd_io_accept(fd, &smtpd_io_cfg);
}

int
main(int argc, char **argv)
{
	smtpd_ops.stance = &smtpd_stance;
	smtpd_ops.pre_drop = smtpd_pre_drop;
	smtpd_ops.post_drop = smtpd_post_drop;
	smtpd_ops.accept_client = smtpd_accept;
	return event_server_main(argc, argv, &smtpd_ops);
}
