/*
 * smtpd_io: one SMTP connection driven by the event loop (event.h): a
 * non-blocking socket, a read buffer bounded by the line limits, an output
 * buffer flushed once per batch of pipelined commands, one timer per
 * connection, the DATA path from the data reader to cleanup, TLS
 * (smtpd_tls.h) after STARTTLS or from the start, and the wait for
 * auth(8)'s verdict on AUTH.  Every byte read is hostile.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_IO_H
#define MOAT_SMTPD_IO_H

#include <stddef.h>

#include "smtpd_access.h"
#include "smtpd_session.h"

struct smtpd_io_config {
	const struct smtpd_config *session;
	const struct smtpd_lookup *lookup;
	const struct smtpd_net *nets; /* mynetworks */
	size_t net_count;
	size_t command_line_limit;
	size_t line_length_limit;
	int timeout; /* seconds: smtpd_timeout */
	int data_timeout;
	int stress_timeout; /* smtpd_timeout in stress mode */
	int error_sleep;    /* smtpd_error_sleep_time */
	int ipc_timeout;
	unsigned client_limit;
	unsigned connection_count_limit; /* per client, all processes */
	unsigned connection_rate_limit;  /* per anvil_rate_time_unit */
	int wrapper;                     /* TLS from the start (465) */
	int screened; /* pass mode: the screen checked early talking */
	unsigned auth_rate_limit; /* AUTH per anvil_rate_time_unit */
};

/* Serve a new client (accepted non-blocking); takes ownership of fd. */
void smtpd_io_accept(int fd, const struct smtpd_io_config *cfg);

#endif
