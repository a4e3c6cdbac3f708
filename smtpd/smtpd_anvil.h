/*
 * smtpd_anvil: smtpd's side of connection accounting (ipc_proto.h,
 * private/anvil), asked without blocking the event loop.  Each process
 * keeps one connection to anvil, made when first needed; a failure drops it
 * (the next client tries again, and restores this process's sessions in the new
 * anvil).  The process counts its own clients too, and falls back on those
 * counts while anvil is away: limits never fail open.  anvil's replies are
 * hostile enough to be checked.  Run by smtpd.
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
 * anvil's answer to a question asked (SMTPD_ANVIL_ASKED): by 0, anvil's
 * numbers (all processes); by 1, this process's own (anvil did not answer
 * within its deadline, went away, or is full).  Called from the event
 * loop, never from inside the call that asked.
 */
typedef void (*smtpd_anvil_fn)(void *ctx, int by, unsigned count,
			       unsigned rate);
#define SMTPD_ANVIL_OWN 1   /* answered at once with this process's own */
#define SMTPD_ANVIL_ASKED 2 /* fn will be called once, later */
/*
 * Count a new client: SMTPD_ANVIL_OWN with this process's own *count and
 * *rate (anvil away: judge them against smtpd_anvil_fallback_rate),
 * SMTPD_ANVIL_ASKED (the answer goes to fn(ctx, ...)), or -1 when it
 * could not be counted at all.  Unless -1, call smtpd_anvil_disconnect
 * when the session ends (after smtpd_anvil_cancel if still waiting).
 */
int smtpd_anvil_connect(const char *addr, smtpd_anvil_fn fn, void *ctx,
			unsigned *count, unsigned *rate);
/*
 * Count an AUTH attempt of addr (this one included, in the current
 * anvil_rate_time_unit): SMTPD_ANVIL_OWN with this process's own *rate,
 * SMTPD_ANVIL_ASKED (fn gets anvil's rate), or -1 when not counted.
 */
int smtpd_anvil_auth(const char *addr, smtpd_anvil_fn fn, void *ctx,
		     unsigned *rate);
/* The session ctx is gone: its questions are answered to nobody. */
void smtpd_anvil_cancel(void *ctx);
/* A counted session ended. */
void smtpd_anvil_disconnect(const char *addr);

#endif
