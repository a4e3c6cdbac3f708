/*
 * qmgr_backoff: retry times, queue lifetimes, scan times and time texts
 * (see qmgr_backoff.h).  Pure: numbers in, numbers or text out; nothing
 * here is hostile input.  Runs in qmgr.
 */
#include <stdio.h>

#include "qmgr_backoff.h"

long long
qmgr_backoff_delay(long long age, long long minimal, long long maximal)
{
	long long delay = age;

	if (delay < minimal)
		delay = minimal;
	if (delay > maximal)
		delay = maximal;
	if (delay < 1)
		delay = 1;
	return delay;
}

long long
qmgr_next_try(long long now, long long arrival, long long minimal,
	      long long maximal)
{
	long long age = now > arrival ? now - arrival : 0;

	return now + qmgr_backoff_delay(age, minimal, maximal);
}

long long
qmgr_lifetime(int null_sender, long long max_lifetime,
	      long long bounce_lifetime)
{
	return null_sender ? bounce_lifetime : max_lifetime;
}

int
qmgr_expired(long long now, long long arrival, long long lifetime)
{
	long long age = now > arrival ? now - arrival : 0;

	return age >= lifetime;
}

long long
qmgr_next_scan(long long now, long long last_scan, long long run_delay,
	       long long earliest_due)
{
	long long next = last_scan + run_delay;

	if (earliest_due > 0 && earliest_due < next)
		next = earliest_due;
	if (next < now + 1)
		next = now + 1;
	return next;
}

static int
qmgr_checked(int n, size_t size)
{
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
qmgr_duration_text(long long seconds, char *out, size_t size)
{
	static const struct {
		long long len;
		const char *name;
	} units[] = {
	    {86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
	long long n;
	size_t i;

	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (seconds > 0 && seconds % units[i].len == 0)
			break;
	n = seconds / units[i].len;
	return qmgr_checked(snprintf(out, size, "%lld %s%s", n, units[i].name,
				     n == 1 ? "" : "s"),
			    size);
}
