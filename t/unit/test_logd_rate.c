/*
 * test_logd_rate: logd's bound on one channel, with a made-up clock: a
 * full bucket lets a burst of bytes through, then the rate and no more; a
 * long line costs what many short ones do; a quiet channel refills up to
 * the burst only; drops are counted (lines and bytes) and reported once the
 * flood pauses, at least every minute while it goes on, and when the
 * channel closes; a clock that goes back gives nothing.
 */
#include "logd.h"
#include "tap.h"

#define RATE 10000  /* bytes a second */
#define BURST 50000 /* bytes */

/* How many of n lines of len bytes, offered at once, pass. */
static unsigned
take_many(struct logd_rate *r, unsigned n, size_t len, long long now)
{
	unsigned got = 0;

	while (n-- > 0)
		got += (unsigned)logd_rate_take(r, len, RATE, BURST, now);
	return got;
}

static void
test_burst_and_rate(void)
{
	struct logd_rate r;

	logd_rate_init(&r, BURST, 1000);
	is_int(take_many(&r, 2000, 100, 1000), BURST / 100,
	       "a burst: BURST bytes of lines at once, no more");
	is_int(r.dropped, 2000 - BURST / 100,
	       "the rest are counted as dropped");
	is_int(r.dropped_bytes, (2000 - BURST / 100) * 100, "with their bytes");
	is_int(take_many(&r, 1000, 100, 2000), RATE / 100,
	       "a second later: RATE bytes more");
	is_int(take_many(&r, 1000, 100, 2010), 1,
	       "10 ms later: RATE/100 bytes, one line of 100");
	is_int(take_many(&r, 1000, 100, 2010), 0, "the same ms: none");
	is_int(take_many(&r, 100, 2000, 2500), 2,
	       "half a second later: two lines of 2000 bytes");
	is_int(take_many(&r, 10000, 100, 1000000), BURST / 100,
	       "after a long quiet: the burst again, never more");
	is_int(take_many(&r, 10, 1, 900000), 0,
	       "a clock that goes back refills nothing");
}

static void
test_reports(void)
{
	struct logd_rate r;
	unsigned long long bytes = 0;

	logd_rate_init(&r, BURST, 0);
	is_int(logd_rate_report(&r, 0, 0, &bytes), 0,
	       "nothing dropped: no report");
	(void)take_many(&r, BURST / 10 + 7, 10, 0);
	is_int(logd_rate_report(&r, 500, 0, &bytes), 0,
	       "no report while the flood goes on");
	is_int(logd_rate_report(&r, LOGD_DROP_QUIET_MS, 0, &bytes), 7,
	       "a report once it paused for LOGD_DROP_QUIET_MS");
	is_int(bytes, 70, "with the bytes dropped");
	is_int(logd_rate_report(&r, 5000, 0, &bytes), 0, "reported once only");

	/* A flood that never pauses: one report a minute. */
	logd_rate_init(&r, BURST, 0);
	(void)take_many(&r, BURST / 100, 100, 0);
	for (long long t = 0; t < LOGD_DROP_REPORT_MS; t += 100)
		(void)take_many(&r, 50, 100, t);
	is_int(logd_rate_report(&r, LOGD_DROP_REPORT_MS - 100, 0, &bytes), 0,
	       "no report before a minute of flood");
	ok(logd_rate_report(&r, LOGD_DROP_REPORT_MS, 0, &bytes) > 0,
	   "a report after a minute of flood");

	logd_rate_init(&r, 100, 0);
	(void)take_many(&r, 3, 100, 0);
	is_int(logd_rate_report(&r, 1, 1, &bytes), 2,
	       "a closing channel reports at once");
}

int
main(void)
{
	test_burst_and_rate();
	test_reports();
	return done_testing();
}
