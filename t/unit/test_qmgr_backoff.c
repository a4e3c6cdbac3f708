/*
 * test_qmgr_backoff: qmgr's scheduling arithmetic: the retry delay grows
 * with the message's age between the two backoff limits, queue lifetimes
 * (the bounce lifetime for the null sender), the next deferred/ scan, and
 * the delay and duration texts of log lines and DSNs.
 */
#include <stdio.h>

#include "delay_text.h"
#include "qmgr_backoff.h"
#include "tap.h"

#define MIN 300
#define MAX 4000

static void
test_backoff(void)
{
	long long arrival = 1000000, now, next;
	int tries;

	is_int(qmgr_backoff_delay(0, MIN, MAX), MIN,
	       "a fresh message waits minimal_backoff_time");
	is_int(qmgr_backoff_delay(1000, MIN, MAX), 1000,
	       "between the limits the delay is the message's age");
	is_int(qmgr_backoff_delay(100000, MIN, MAX), MAX,
	       "an old message waits maximal_backoff_time");
	is_int(qmgr_backoff_delay(1000, 5000, 2000), 2000,
	       "crossed limits: maximal_backoff_time wins");
	is_int(qmgr_backoff_delay(-50, MIN, MAX), MIN,
	       "a negative age (clock stepped back) waits the minimum");
	is_int(qmgr_next_try(arrival, arrival, MIN, MAX), arrival + MIN,
	       "first deferral: next try after minimal_backoff_time");
	is_int(qmgr_next_try(arrival - 10, arrival, MIN, MAX),
	       arrival - 10 + MIN, "arrival in the future counts as age 0");

	/* Each retry doubles the age, so the delay doubles up to MAX. */
	now = arrival + MIN;
	next = qmgr_next_try(now, arrival, MIN, MAX);
	is_int(next - now, MIN, "second deferral: delay = age = 300");
	now = next;
	next = qmgr_next_try(now, arrival, MIN, MAX);
	is_int(next - now, 2 * MIN, "third deferral: the delay doubled");
	now = next;
	next = qmgr_next_try(now, arrival, MIN, MAX);
	is_int(next - now, 4 * MIN, "fourth deferral: doubled again");
	for (tries = 0; tries < 20; tries++) {
		now = next;
		next = qmgr_next_try(now, arrival, MIN, MAX);
	}
	is_int(next - now, MAX, "after many tries the delay stays at maximum");
}

static void
test_lifetime(void)
{
	long long day = 86400, arrival = 1000000;

	is_int(qmgr_lifetime(0, 5 * day, 1 * day), 5 * day,
	       "a normal sender gets maximal_queue_lifetime");
	is_int(qmgr_lifetime(1, 5 * day, 1 * day), 1 * day,
	       "the null sender gets bounce_queue_lifetime");
	ok(!qmgr_expired(arrival + 5 * day - 1, arrival, 5 * day),
	   "one second before the lifetime the message is not expired");
	ok(qmgr_expired(arrival + 5 * day, arrival, 5 * day),
	   "at the lifetime the message has expired");
	ok(qmgr_expired(arrival, arrival, 0),
	   "lifetime 0: expired after its first try");
	ok(!qmgr_expired(arrival - 100, arrival, 10),
	   "arrival in the future is not expired");
}

static void
test_scan(void)
{
	is_int(qmgr_next_scan(1000, 1000, 300, 0), 1300,
	       "no due time known: scan after queue_run_delay");
	is_int(qmgr_next_scan(1000, 1000, 300, 1100), 1100,
	       "an earlier due message moves the scan forward");
	is_int(qmgr_next_scan(1000, 1000, 300, 5000), 1300,
	       "a later due message does not delay the scan");
	is_int(qmgr_next_scan(1000, 500, 300, 900), 1001,
	       "an overdue scan runs in a second, never in the past");
}

static void
test_texts(void)
{
	static const struct {
		long long ms;
		const char *text;
	} delays[] = {
	    {0, "0"},      {4, "0"},
	    {5, "0.01"},   {120, "0.12"},
	    {100, "0.1"},  {994, "0.99"},
	    {995, "1"},    {1000, "1"},
	    {1300, "1.3"}, {1349, "1.3"},
	    {9949, "9.9"}, {9950, "10"},
	    {28000, "28"}, {183904000, "183904"},
	    {-7, "0"},
	};
	static const struct {
		long long s;
		const char *text;
	} durations[] = {
	    {5 * 86400, "5 days"},   {86400, "1 day"},     {3600, "1 hour"},
	    {36 * 3600, "36 hours"}, {5400, "90 minutes"}, {45, "45 seconds"},
	    {0, "0 seconds"},        {1, "1 second"},
	};
	char out[32], name[64];
	size_t i;

	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		if (delay_text(delays[i].ms, out, sizeof(out)) < 0)
			out[0] = '\0';
		snprintf(name, sizeof(name), "delay text of %lld ms",
			 delays[i].ms);
		is_str(out, delays[i].text, name);
	}
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		if (qmgr_duration_text(durations[i].s, out, sizeof(out)) < 0)
			out[0] = '\0';
		snprintf(name, sizeof(name), "duration text of %lld s",
			 durations[i].s);
		is_str(out, durations[i].text, name);
	}
	is_int(delay_text(1300, out, 3), -1,
	       "a delay text that does not fit is an error");
	is_int(qmgr_duration_text(5 * 86400, out, 4), -1,
	       "a duration text that does not fit is an error");
}

int
main(void)
{
	test_backoff();
	test_lifetime();
	test_scan();
	test_texts();
	return done_testing();
}
