/*
 * logd_rate: the bound on what one channel may log, purely: a token bucket
 * of `burst` bytes refilled at `rate` bytes a second, each line costing
 * the bytes it would add to the log, so a compromised daemon cannot fill
 * the disk faster than that (bytes, not lines: a line of 2 KB costs what
 * twenty ordinary ones do, and what fills a disk is bytes); and the count
 * of the lines it dropped, reported once a flood pauses (or every minute
 * while it goes on), so the log says what is missing.  Input: only the
 * clock and line lengths.  Runs in logd.
 */
#include "logd.h"

void
logd_rate_init(struct logd_rate *r, long long burst, long long now_ms)
{
	r->tokens = burst * 1000;
	r->last_ms = now_ms;
	r->dropped = r->dropped_bytes = 0;
	r->first_drop_ms = r->last_drop_ms = 0;
}

/* Tokens are thousandths of a byte: rate bytes a second is rate a ms. */
static void
logd_rate_refill(struct logd_rate *r, long long rate, long long burst,
		 long long now_ms)
{
	long long full = burst * 1000, elapsed = now_ms - r->last_ms;

	if (elapsed <= 0)
		return; /* the clock did not move (or went back): no refill */
	r->last_ms = now_ms;
	if (elapsed >= full / rate + 1)
		r->tokens = full;
	else if ((r->tokens += elapsed * rate) > full)
		r->tokens = full;
}

int
logd_rate_take(struct logd_rate *r, size_t cost, long long rate,
	       long long burst, long long now_ms)
{
	logd_rate_refill(r, rate, burst, now_ms);
	if (r->tokens >= (long long)cost * 1000) {
		r->tokens -= (long long)cost * 1000;
		return 1;
	}
	if (r->dropped++ == 0)
		r->first_drop_ms = now_ms;
	r->dropped_bytes += cost;
	r->last_drop_ms = now_ms;
	return 0;
}

unsigned long
logd_rate_report(struct logd_rate *r, long long now_ms, int final,
		 unsigned long long *bytes)
{
	unsigned long n = r->dropped;

	if (n == 0)
		return 0;
	if (!final && now_ms - r->last_drop_ms < LOGD_DROP_QUIET_MS &&
	    now_ms - r->first_drop_ms < LOGD_DROP_REPORT_MS)
		return 0;
	*bytes = r->dropped_bytes;
	r->dropped = r->dropped_bytes = 0;
	return n;
}
