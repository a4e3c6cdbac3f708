/*
 * test_anvil_table: anvil's client table without sockets: counts, the
 * fixed rate window, a peer's counts taken back when it goes, disconnects
 * of clients a peer never connected ignored, the bound on the table, and
 * the address check applied to what smtpd sends.
 */
#include <string.h>

#include "anvil_table.h"
#include "tap.h"

#define WINDOW 60000 /* ms */

static void
test_counts(void)
{
	struct anvil_table *t = anvil_table_new(100, WINDOW);
	struct anvil_peer a = {0}, b = {0};
	unsigned count = 0, rate = 0;
	int i;

	for (i = 1; i <= 3; i++) {
		ok(anvil_table_connect(t, &a, "192.0.2.1", 1000, &count,
				       &rate) == 0,
		   "connect %d accepted", i);
		is_int(count, i, "count grows with each connection");
		is_int(rate, i, "rate grows with each connection");
	}
	(void)anvil_table_connect(t, &b, "192.0.2.1", 2000, &count, &rate);
	is_int(count, 4, "a second peer's connection adds to the same client");
	anvil_table_disconnect(t, &a, "192.0.2.1");
	(void)anvil_table_connect(t, &b, "192.0.2.1", 3000, &count, &rate);
	is_int(count, 4, "a disconnect takes one away (3 + this one)");
	is_int(rate, 5, "a disconnect does not lower the rate");
	anvil_table_release(t, &a);
	is_int(a.len, 0, "a released peer holds nothing");
	(void)anvil_table_connect(t, &b, "192.0.2.1", 4000, &count, &rate);
	is_int(count, 3, "peer a's two connections are taken back on release");
	anvil_table_disconnect(t, &a, "192.0.2.1");
	anvil_table_disconnect(t, &a, "198.51.100.9");
	(void)anvil_table_connect(t, &b, "192.0.2.1", 4000, &count, &rate);
	is_int(count, 4,
	       "disconnects from a peer that holds nothing are ignored");
	(void)anvil_table_connect(t, &a, "192.0.2.2", 4000, &count, &rate);
	is_int(count, 1, "another client is counted on its own");
	anvil_table_release(t, &b);
	anvil_table_release(t, &a);
	anvil_table_expire(t, 4000 + WINDOW);
	is_int(anvil_table_size(t), 0,
	       "clients with no connection are forgotten after the window");
	anvil_table_free(t);
}

static void
test_window(void)
{
	struct anvil_table *t = anvil_table_new(100, WINDOW);
	struct anvil_peer p = {0};
	unsigned count = 0, rate = 0;

	(void)anvil_table_connect(t, &p, "2001:db8::1", 0, &count, &rate);
	anvil_table_disconnect(t, &p, "2001:db8::1");
	(void)anvil_table_connect(t, &p, "2001:db8::1", WINDOW - 1, &count,
				  &rate);
	is_int(rate, 2, "the same window counts both connections");
	is_int(count, 1, "one open connection");
	anvil_table_expire(t, WINDOW + 5);
	is_int(anvil_table_size(t), 1, "a client with a connection is kept");
	(void)anvil_table_connect(t, &p, "2001:db8::1", WINDOW, &count, &rate);
	is_int(rate, 1, "a new window starts the rate again");
	is_int(count, 2, "the count does not depend on the window");
	anvil_table_release(t, &p);
	anvil_table_free(t);
}

static void
test_full(void)
{
	struct anvil_table *t = anvil_table_new(2, WINDOW);
	struct anvil_peer p = {0};
	unsigned count = 9, rate = 9;

	(void)anvil_table_connect(t, &p, "10.0.0.1", 0, &count, &rate);
	(void)anvil_table_connect(t, &p, "10.0.0.2", 0, &count, &rate);
	ok(anvil_table_connect(t, &p, "10.0.0.3", 0, &count, &rate) == -1,
	   "a full table refuses a new client");
	ok(anvil_table_connect(t, &p, "10.0.0.1", 0, &count, &rate) == 0 &&
	       count == 2,
	   "a full table still counts known clients");
	anvil_table_release(t, &p);
	anvil_table_expire(t, WINDOW);
	ok(anvil_table_connect(t, &p, "10.0.0.3", WINDOW, &count, &rate) == 0,
	   "room again once old clients expire");
	anvil_table_release(t, &p);
	anvil_table_free(t);
}

static void
test_addr_valid(void)
{
	char big[ANVIL_ADDR_MAX + 1];

	ok(anvil_addr_valid("192.0.2.1", 9), "IPv4 address accepted");
	ok(anvil_addr_valid("2001:db8::1", 11), "IPv6 address accepted");
	ok(!anvil_addr_valid("", 0), "empty address refused");
	ok(!anvil_addr_valid("a b", 3), "space refused");
	ok(!anvil_addr_valid("a\nb", 3), "newline refused");
	ok(!anvil_addr_valid("a/b", 3), "slash refused");
	memset(big, '1', sizeof(big));
	ok(!anvil_addr_valid(big, ANVIL_ADDR_MAX), "over-long address refused");
	ok(anvil_addr_valid(big, ANVIL_ADDR_MAX - 1),
	   "longest address accepted");
}

/* AUTH attempts: their own window, and an entry kept while it runs. */
static void
test_auth(void)
{
	struct anvil_table *t = anvil_table_new(10, 1000);
	unsigned rate = 0, i;

	for (i = 1; i <= 3; i++)
		ok(anvil_table_auth(t, "192.0.2.9", 100, &rate) == 0 &&
		       rate == i,
		   "AUTH attempt %u counted", i);
	anvil_table_expire(t, 500);
	is_int(anvil_table_size(t), 1, "kept while its window runs");
	ok(anvil_table_auth(t, "192.0.2.9", 1100, &rate) == 0 && rate == 1,
	   "a new window starts at 1");
	anvil_table_expire(t, 2200);
	is_int(anvil_table_size(t), 0, "forgotten when the window is over");
	anvil_table_free(t);
}

int
main(void)
{
	test_counts();
	test_auth();
	test_window();
	test_full();
	test_addr_valid();
	done_testing();
}
