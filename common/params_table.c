/*
 * params_table: the one declaration of every main.conf parameter.  Names
 * follow Postfix where Postfix has the same idea, so administrators feel at
 * home; where Moat's meaning differs, the description says so.  Every entry
 * must be documented in man/man5/moat.conf.5 and used by some program
 * (t/unit/test_params_doc.c checks the first).
 */
#include <limits.h>
#include <stddef.h>

#include "params.h"

#define KB 1024LL
#define MB (1024LL * 1024)
#define GB (1024LL * 1024 * 1024)
#define DAY (24LL * 3600)

const struct param_def param_table[] = {
	/* Paths and identity. */
	{"config_directory", PARAM_PATH, "/etc/moat", 0, 0,
	 "directory of main.conf (set from -c, never in the file)"},
	{"queue_directory", PARAM_PATH, "/var/spool/moat", 0, 0,
	 "the spool: queue, maildrop and sockets; the chroot of daemons"},
	{"daemon_directory", PARAM_PATH, "/usr/local/libexec/moat", 0, 0,
	 "where the master finds the daemon programs"},
	{"maillog_file", PARAM_PATH, "/var/log/moat.log", 0, 0,
	 "the log file logd appends every line to; empty: the system's syslog"},
	{"syslog_name", PARAM_STR, "moat", 0, 0,
	 "first part of every line's tag (moat/smtpd): pflogsumm --syslog-name"},
	{"syslog_facility", PARAM_STR, "mail", 0, 0,
	 "syslog facility of the lines when maillog_file is empty"},
	{"syslog_socket", PARAM_PATH, "/dev/log", 0, 0,
	 "the system logger's socket, used when maillog_file is empty"},
	{"mail_owner", PARAM_STR, "moat-queue", 0, 0,
	 "owner of the queue; cleanup and qmgr run as this user"},
	{"myhostname", PARAM_STR, "", 0, 0,
	 "this host's fully qualified name (empty: the system's host name)"},
	{"mydomain", PARAM_STR, "", 0, 0,
	 "this host's domain (empty: myhostname less its first label)"},
	{"myorigin", PARAM_STR, "$myhostname", 0, 0,
	 "domain added to locally submitted addresses without one"},
	{"mydestination", PARAM_LIST,
	 "$myhostname, localhost.$mydomain, localhost", 0, 0,
	 "domains delivered on this host by local"},
	{"mynetworks", PARAM_LIST, "127.0.0.0/8, [::1]/128", 0, 0,
	 "trusted client networks, which may relay"},
	{"default_privs", PARAM_STR, "nobody", 0, 0,
	 "user for commands and files named in root-owned aliases"},

	/* Every daemon (the server skeleton). */
	{"max_idle", PARAM_TIME, "100s", 1, DAY,
	 "an idle daemon process exits after this long"},
	{"max_use", PARAM_INT, "100", 1, 1000000,
	 "a daemon process exits after serving this many clients"},
	{"ipc_timeout", PARAM_TIME, "60s", 1, 3600,
	 "time a daemon waits for a peer daemon's request or reply"},

	/* smtpd. */
	{"smtpd_banner", PARAM_STR, "$myhostname ESMTP", 0, 0,
	 "text after 220 in the greeting; no software name or version"},
	{"smtpd_client_limit", PARAM_INT, "100", 1, 100000,
	 "concurrent SMTP sessions one smtpd process serves"},
	{"smtpd_command_line_limit", PARAM_SIZE, "2048", 512, 64 * KB,
	 "longest SMTP command line accepted, without CRLF"},
	{"line_length_limit", PARAM_SIZE, "2048", 1000, 1 * MB,
	 "longest message line accepted, without CRLF (longer: rejected)"},
	{"message_size_limit", PARAM_SIZE, "10240000", 1024, 2 * GB - 1,
	 "largest message accepted, in bytes"},
	{"smtpd_recipient_limit", PARAM_INT, "1000", 1, 100000,
	 "recipients accepted per message; more get 452 4.5.3"},
	{"header_count_limit", PARAM_INT, "1000", 10, 100000,
	 "most header lines in a message (more: rejected with 552 5.3.4)"},
	{"header_size_limit", PARAM_SIZE, "102400", 1024, 64 * MB,
	 "largest header block of a message (larger: rejected, never cut)"},
	{"smtpd_soft_error_limit", PARAM_INT, "10", 0, 1000,
	 "errors in a session after which each reply is delayed"},
	{"smtpd_hard_error_limit", PARAM_INT, "20", 1, 1000,
	 "errors in a session after which the client is disconnected"},
	{"smtpd_error_sleep_time", PARAM_TIME, "1s", 0, 300,
	 "delay before replying once the soft error limit is reached"},
	{"smtpd_timeout", PARAM_TIME, "300s", 1, DAY,
	 "time to wait for an SMTP command"},
	{"smtpd_data_timeout", PARAM_TIME, "600s", 1, DAY,
	 "time to wait for the next bytes of DATA"},
	{"smtpd_stress_timeout", PARAM_TIME, "10s", 1, DAY,
	 "command timeout once a process serves 80% of smtpd_client_limit"},
	{"smtpd_client_connection_count_limit", PARAM_INT, "50", 0, 100000,
	 "simultaneous connections one client may have (0: no limit)"},
	{"smtpd_client_connection_rate_limit", PARAM_INT, "0", 0, 1000000,
	 "connections one client may make per anvil_rate_time_unit (0: no limit)"},

	/* anvil (connection accounting for smtpd). */
	{"anvil_rate_time_unit", PARAM_TIME, "60s", 1, DAY,
	 "the window in which a client's connection rate is counted"},

	/* Queue and scheduling. */
	{"queue_run_delay", PARAM_TIME, "300s", 1, DAY,
	 "how often qmgr scans deferred/ for messages due a retry"},
	{"minimal_backoff_time", PARAM_TIME, "300s", 1, 30 * DAY,
	 "first retry delay after a temporary failure"},
	{"maximal_backoff_time", PARAM_TIME, "4000s", 1, 30 * DAY,
	 "longest retry delay; the delay doubles up to this"},
	{"maximal_queue_lifetime", PARAM_TIME, "5d", 0, 100 * DAY,
	 "age at which an undeliverable message is bounced"},
	{"bounce_queue_lifetime", PARAM_TIME, "5d", 0, 100 * DAY,
	 "age at which an undeliverable bounce is discarded"},
	{"local_destination_concurrency_limit", PARAM_INT, "2", 1, 1000,
	 "parallel deliveries to local"},
	{"hopcount_limit", PARAM_INT, "50", 5, 1000,
	 "Received headers after which a message is bounced as a loop"},

	/* Queue administration (qmgr's socket, `moat queue`, mailq). */
	{"restrict_mailq", PARAM_BOOL, "yes", 0, 0,
	 "only root and admin_group members may list the queue"},
	{"restrict_qrun", PARAM_BOOL, "yes", 0, 0,
	 "only root and admin_group members may flush the queue"},
	{"admin_group", PARAM_STR, "moat-admin", 0, 0,
	 "group whose members may see and change the queue"},

	/* local. */
	{"home_mailbox", PARAM_STR, "", 0, 0,
	 "mailbox relative to home; ending in / is a Maildir; empty: mbox"},
	{"mail_spool_directory", PARAM_PATH, "/var/mail", 0, 0,
	 "directory of mbox files named after users, when home_mailbox is empty"},
	{"mailbox_size_limit", PARAM_SIZE, "51200000", 0, 64 * GB,
	 "largest mbox file after a delivery (0: no limit)"},
	{"alias_maps", PARAM_PATH, "$config_directory/aliases", 0, 0,
	 "the aliases source; its compiled map is the same path plus .lmdb"},
	{"allow_mail_to_commands", PARAM_BOOL, "yes", 0, 0,
	 "deliver to |command from aliases and .forward (allowed ones only)"},
	{"allowed_commands_directory", PARAM_PATH,
	 "$config_directory/commands", 0, 0,
	 "a |command is run only if its program is in this root-owned directory"},
	{"allow_mail_to_files", PARAM_BOOL, "no", 0, 0,
	 "deliver to /file targets from aliases and .forward"},
	{"command_time_limit", PARAM_TIME, "1000s", 1, DAY,
	 "time a delivery command may run before it is killed"},
	{"command_output_limit", PARAM_SIZE, "4096", 0, 1 * MB,
	 "bytes of a command's output kept for the bounce reason"},
	{"recipient_delimiter", PARAM_STR, "", 0, 0,
	 "separator of address extensions (user+ext); empty: none"},
	{"local_resolver_user", PARAM_STR, "moat-local", 0, 0,
	 "local's unprivileged resolver (aliases, .forward, forwarding) runs "
	 "as this user"},

	/* DNS (common/dns*.c: remote delivery, later smtpd's screening). */
	{"smtp_dns_resolver_address", PARAM_LIST, "", 0, 0,
	 "resolvers to ask, IP[:port] each; empty: those of /etc/resolv.conf"},
	{"smtp_dns_trust_anchor_file", PARAM_PATH, "/usr/share/dns/root.key", 0,
	 0, "DNSSEC trust anchors (DS or DNSKEY records); missing: no validation"},
	{"smtp_dns_timeout", PARAM_TIME, "10s", 1, 300,
	 "time one DNS lookup may take before it fails temporarily"},
	{"smtp_address_preference", PARAM_STR, "any", 0, 0,
	 "order of a host's addresses: any (interleaved, IPv6 first), ipv6, ipv4"},
	{"smtp_mx_address_limit", PARAM_INT, "5", 0, 1000,
	 "addresses of a destination's MX hosts tried per delivery (0: all)"},
	/* logd. */
	{"log_rate_limit", PARAM_SIZE, "1m", 1 * KB, 1 * GB,
	 "bytes a second logd writes for one process (its channel)"},
	{"log_burst_limit", PARAM_SIZE, "4m", 4 * KB, 1 * GB,
	 "bytes a process may log at once, above log_rate_limit"},
};

const size_t param_count = sizeof(param_table) / sizeof(param_table[0]);
