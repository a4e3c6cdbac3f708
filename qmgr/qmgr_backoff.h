/*
 * qmgr_backoff: the scheduler's arithmetic, as pure functions: when a
 * deferred message is tried again, when it has been queued too long, when
 * deferred/ is scanned next, and the time texts of DSNs (delay= texts
 * of log lines: common/delay_text.h).
 * No I/O, no parameters read here: callers pass the values.  Used by qmgr
 * and by t/unit/test_qmgr_backoff.c.
 */
#ifndef MOAT_QMGR_BACKOFF_H
#define MOAT_QMGR_BACKOFF_H

#include <stddef.h>

/*
 * Retry delay after a temporary failure: the message's age clamped to
 * [minimal, maximal] (maximal wins if they cross).  Since the next try is
 * at now + age, the age, and so the delay, doubles with each attempt:
 * exponential backoff without an attempt counter in the queue file.
 */
long long qmgr_backoff_delay(long long age, long long minimal,
			     long long maximal);
/* The next try time (seconds since the epoch) of a message deferred now. */
long long qmgr_next_try(long long now, long long arrival, long long minimal,
			long long maximal);
/* The queue lifetime that applies: bounce_lifetime for the null sender. */
long long qmgr_lifetime(int null_sender, long long max_lifetime,
			long long bounce_lifetime);
/*
 * 1 when a message that arrived at arrival is too old to be deferred
 * again at now: its age reached lifetime (lifetime 0: after one try).
 */
int qmgr_expired(long long now, long long arrival, long long lifetime);
/*
 * When to scan deferred/ next (seconds): at last_scan + run_delay, or at
 * the earliest next-try time known (earliest_due, 0 when none) if sooner,
 * but never before now + 1.
 */
long long qmgr_next_scan(long long now, long long last_scan,
			 long long run_delay, long long earliest_due);
/*
 * A duration for people: "5 days", "1 hour", "90 minutes", "45 seconds",
 * in the largest unit that divides it.  Returns the length or -1 when it
 * does not fit.
 */
int qmgr_duration_text(long long seconds, char *out, size_t size);

#endif
