/*
 * delay_text: delays for log lines in Postfix's format (see delay_text.h).
 * Pure; no hostile input.  Runs in qmgr and remote.
 */
#include <stdio.h>

#include "delay_text.h"

static int
delay_checked(int n, size_t size)
{
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* "int.frac" with frac of digits places, trailing zeros dropped. */
static int
delay_decimal(long long units, int digits, char *out, size_t size)
{
	long long scale = digits == 2 ? 100 : 10;
	long long frac = units % scale;

	if (frac == 0)
		return delay_checked(snprintf(out, size, "%lld", units / scale),
				     size);
	if (digits == 2 && frac % 10 == 0)
		return delay_checked(
		    snprintf(out, size, "%lld.%lld", units / scale, frac / 10),
		    size);
	return delay_checked(
	    snprintf(out, size, "%lld.%0*lld", units / scale, digits, frac),
	    size);
}

int
delay_text(long long ms, char *out, size_t size)
{
	if (ms < 0)
		ms = 0;
	if (ms < 995)
		return delay_decimal((ms + 5) / 10, 2, out, size);
	if (ms < 9950)
		return delay_decimal((ms + 50) / 100, 1, out, size);
	return delay_checked(snprintf(out, size, "%lld", (ms + 500) / 1000),
			     size);
}
