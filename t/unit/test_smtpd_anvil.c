/*
 * test_smtpd_anvil: smtpd's decision on anvil's numbers (limit 0: none;
 * a limit is exceeded only above it), and fail-open when anvil cannot be
 * reached (no private/anvil socket in the test's working directory).
 */
#include "smtpd_anvil.h"
#include "tap.h"

int
main(void)
{
	unsigned count = 7, rate = 7;
	unsigned long gen = 7;

	is_int(smtpd_anvil_judge(5, 5, 5, 5), SMTPD_ANVIL_OK,
	       "at the limits: allowed");
	is_int(smtpd_anvil_judge(6, 1, 5, 0), SMTPD_ANVIL_COUNT,
	       "one over the count limit: refused for concurrency");
	is_int(smtpd_anvil_judge(1, 4, 5, 3), SMTPD_ANVIL_RATE,
	       "one over the rate limit: refused for rate");
	is_int(smtpd_anvil_judge(6, 4, 5, 3), SMTPD_ANVIL_COUNT,
	       "both over: the count is named");
	is_int(smtpd_anvil_judge(100000, 100000, 0, 0), SMTPD_ANVIL_OK,
	       "limits of 0: no limit");
	is_int(smtpd_anvil_connect("192.0.2.1", &count, &rate, &gen), -1,
	       "no anvil: -1 (the caller lets the client in)");
	smtpd_anvil_disconnect("192.0.2.1", gen); /* must not crash */
	ok(1, "disconnect without anvil is harmless");
	done_testing();
}
