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
 * is hostile.  Before the chroot, as
 * root, it only reads its parameters; after it, it can reach nothing but
 * private/cleanup, private/anvil (which counts each untrusted client's
 * connections across all smtpd processes; over
 * smtpd_client_connection_count_limit or _rate_limit: 421) and, read-only,
 * the recipients map in maps/, which it reopens in place when rcptmap
 * replaces it.  No password file, no user list, no alias map, no DNS, no
 * user files.
 */
#include <string.h>

#include "log.h"
#include "params.h"
#include "resolve.h"
#include "server.h"
#include "smtpd_access.h"
#include "smtpd_io.h"
#include "smtpd_recipients.h"
#include "smtpd_session.h"

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
	smtpd_ops.pass_reserve =
	    (unsigned)param_int("smtpd_trusted_client_reserve");
	smtpd_io_cfg.connection_count_limit =
	    (unsigned)param_int("smtpd_client_connection_count_limit");
	smtpd_io_cfg.connection_rate_limit =
	    (unsigned)param_int("smtpd_client_connection_rate_limit");
	smtpd_load_networks();
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
	smtpd_ops.accept_client = smtpd_accept;
	return event_server_main(argc, argv, &smtpd_ops);
}
