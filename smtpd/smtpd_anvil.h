/*
 * smtpd_anvil: smtpd's side of connection accounting (ipc_proto.h,
 * private/anvil).  Each process keeps one connection to anvil, made when
 * first needed; a failure drops it (the next client tries again, and
 * restores this process's sessions in the new anvil).  The process counts
 * its own clients too, and falls back on those counts while anvil is away:
 * limits never fail open.  anvil's replies are hostile enough to be
 * checked.  Run by smtpd.
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
 * Pure: the rate limit that applies to this process's own counts (anvil
 * away): the configured one, or twice the count limit when none is set.
 */
unsigned smtpd_anvil_fallback_rate(unsigned count_limit, unsigned rate_limit);

/*
 * Count a new client: 0 with anvil's *count and *rate (all processes), 1
 * with this process's own (anvil away or full: judge them against
 * smtpd_anvil_fallback_rate), -1 when it could not be counted at all.
 * Unless -1, call smtpd_anvil_disconnect when the session ends.
 */
int smtpd_anvil_connect(const char *addr, unsigned *count, unsigned *rate);
/*
 * Count an AUTH attempt of addr: 0 with anvil's *rate (its attempts in the
 * current anvil_rate_time_unit, this one included), 1 with this process's
 * own count (anvil away or full), -1 when it could not be counted.
 */
int smtpd_anvil_auth(const char *addr, unsigned *rate);
/* A counted session ended. */
void smtpd_anvil_disconnect(const char *addr);

#endif
