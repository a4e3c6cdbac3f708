/*
 * smtpd_anvil: smtpd's side of connection accounting (ipc_proto.h,
 * private/anvil).  Each process keeps one connection to anvil, made when
 * first needed; any failure drops it (the next client tries again) and
 * lets the client in: limits fail open.  anvil's replies are hostile
 * enough to be checked.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_ANVIL_H
#define MOAT_SMTPD_ANVIL_H

enum smtpd_anvil_verdict {
	SMTPD_ANVIL_OK,
	SMTPD_ANVIL_COUNT, /* over smtpd_client_connection_count_limit */
	SMTPD_ANVIL_RATE,  /* over smtpd_client_connection_rate_limit */
};

/* Pure: limit 0 means no limit. */
enum smtpd_anvil_verdict smtpd_anvil_judge(unsigned count, unsigned rate,
					   unsigned count_limit,
					   unsigned rate_limit);

/*
 * Report a new client to anvil: 0 with *count, *rate and *gen (pass gen
 * to smtpd_anvil_disconnect when the session ends), or -1 (logged; the
 * client was not counted).
 */
int smtpd_anvil_connect(const char *addr, unsigned *count, unsigned *rate,
			unsigned long *gen);
/*
 * Count an AUTH attempt of addr: 0 with *rate (its attempts in the
 * current anvil_rate_time_unit, this one included), or -1 (logged; fail
 * open: the attempt goes on).
 */
int smtpd_anvil_auth(const char *addr, unsigned *rate);
/* A counted session ended; nothing if anvil's connection changed since. */
void smtpd_anvil_disconnect(const char *addr, unsigned long gen);

#endif
