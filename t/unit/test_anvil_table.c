/*
 * test_anvil_table: anvil's client table without sockets: counts, the
 * fixed rate window, a peer's counts taken back when it goes, disconnects
 * of clients a peer never connected ignored, the bound on the table and
 * its eviction of the least recently seen idle clients, restored counts,
 * the address check applied to what smtpd sends, and the client keys
 * (IPv6 counted per network).
 */
#include <stdio.h>
#include <string.h>

#include "anvil_table.h"
#include "client_key.h"
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
	anvil_table_disconnect(t, &a, "192.0.2.1", 2500);
	(void)anvil_table_connect(t, &b, "192.0.2.1", 3000, &count, &rate);
	is_int(count, 4, "a disconnect takes one away (3 + this one)");
	is_int(rate, 5, "a disconnect does not lower the rate");
	anvil_table_release(t, &a, 3500);
	is_int(a.len, 0, "a released peer holds nothing");
	(void)anvil_table_connect(t, &b, "192.0.2.1", 4000, &count, &rate);
	is_int(count, 3, "peer a's two connections are taken back on release");
	anvil_table_disconnect(t, &a, "192.0.2.1", 4000);
	anvil_table_disconnect(t, &a, "198.51.100.9", 4000);
	(void)anvil_table_connect(t, &b, "192.0.2.1", 4000, &count, &rate);
	is_int(count, 4,
	       "disconnects from a peer that holds nothing are ignored");
	(void)anvil_table_connect(t, &a, "192.0.2.2", 4000, &count, &rate);
	is_int(count, 1, "another client is counted on its own");
	anvil_table_release(t, &b, 4000);
	anvil_table_release(t, &a, 4000);
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
	anvil_table_disconnect(t, &p, "2001:db8::1", 0);
	(void)anvil_table_connect(t, &p, "2001:db8::1", WINDOW - 1, &count,
				  &rate);
	is_int(rate, 2, "the same window counts both connections");
	is_int(count, 1, "one open connection");
	anvil_table_expire(t, WINDOW + 5);
	is_int(anvil_table_size(t), 1, "a client with a connection is kept");
	(void)anvil_table_connect(t, &p, "2001:db8::1", WINDOW, &count, &rate);
	is_int(rate, 1, "a new window starts the rate again");
	is_int(count, 2, "the count does not depend on the window");
	anvil_table_release(t, &p, WINDOW);
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
	   "a table full of connected clients refuses a new client");
	ok(anvil_table_restore(t, &p, "10.0.0.3", 2, 0) == -1,
	   "and a restored one");
	ok(anvil_table_connect(t, &p, "10.0.0.1", 0, &count, &rate) == 0 &&
	       count == 2,
	   "a full table still counts known clients");
	anvil_table_release(t, &p, 0);
	anvil_table_expire(t, WINDOW);
	ok(anvil_table_connect(t, &p, "10.0.0.3", WINDOW, &count, &rate) == 0,
	   "room again once old clients expire");
	anvil_table_release(t, &p, WINDOW);
	anvil_table_free(t);
}

/* A flood of new addresses: the oldest idle clients make room. */
static void
test_lru(void)
{
	struct anvil_table *t = anvil_table_new(3, WINDOW);
	struct anvil_peer p = {0}, q = {0};
	unsigned count = 9, rate = 9;

	(void)anvil_table_connect(t, &p, "10.0.0.1", 10, &count, &rate);
	anvil_table_disconnect(t, &p, "10.0.0.1", 20);
	(void)anvil_table_connect(t, &p, "10.0.0.2", 30, &count, &rate);
	anvil_table_disconnect(t, &p, "10.0.0.2", 40);
	(void)anvil_table_connect(t, &q, "10.0.0.3", 50, &count, &rate);
	/* 10.0.0.1 seen at 20, 10.0.0.2 at 40; 10.0.0.3 connected */
	(void)anvil_table_connect(t, &p, "10.0.0.1", 60, &count, &rate);
	is_int(rate, 2, "a known client keeps its rate");
	anvil_table_disconnect(t, &p, "10.0.0.1", 70);
	/* now 10.0.0.2 (40) is the least recently seen idle client */
	ok(anvil_table_connect(t, &p, "10.0.0.4", 80, &count, &rate) == 0 &&
	       count == 1,
	   "a full table makes room for a new client");
	is_int(anvil_table_size(t), 3, "and stays at its bound");
	is_int(anvil_table_evicted(t), 1, "one client was forgotten");
	(void)anvil_table_connect(t, &p, "10.0.0.1", 90, &count, &rate);
	is_int(rate, 3, "the recently seen client was kept (its rate goes on)");
	anvil_table_disconnect(t, &p, "10.0.0.1", 95);
	(void)anvil_table_connect(t, &p, "10.0.0.2", 100, &count, &rate);
	is_int(rate, 1, "the least recently seen one was forgotten");
	(void)anvil_table_connect(t, &p, "10.0.0.5", 110, &count, &rate);
	(void)anvil_table_connect(t, &p, "10.0.0.6", 120, &count, &rate);
	(void)anvil_table_connect(t, &q, "10.0.0.3", 130, &count, &rate);
	is_int(count, 2,
	       "a client with a connection is never forgotten, however old");
	anvil_table_release(t, &p, 140);
	anvil_table_release(t, &q, 140);
	anvil_table_free(t);
}

static void
test_restore(void)
{
	struct anvil_table *t = anvil_table_new(10, WINDOW);
	struct anvil_peer p = {0};
	unsigned count = 0, rate = 0, n = 0;
	const char *key;

	ok(anvil_table_restore(t, &p, "2001:db8::/64", 4, 0) == 0,
	   "four sessions restored");
	(void)anvil_table_connect(t, &p, "2001:db8::/64", 0, &count, &rate);
	is_int(count, 5, "restored sessions count");
	is_int(rate, 1, "but not in the rate");
	key = anvil_peer_key(&p, 0, &n);
	ok(key != NULL && strcmp(key, "2001:db8::/64") == 0 && n == 5,
	   "the peer holds them all, by key");
	ok(anvil_peer_key(&p, 1, &n) == NULL, "and nothing else");
	anvil_table_release(t, &p, 0);
	(void)anvil_table_connect(t, &p, "2001:db8::/64", 0, &count, &rate);
	is_int(count, 1, "restored sessions are taken back with the peer");
	anvil_table_release(t, &p, 0);
	anvil_table_free(t);
}

static void
key_is(const char *addr, unsigned prefix, const char *want)
{
	char out[CLIENT_KEY_MAX];
	int rc = client_key(addr, prefix, out, sizeof(out));

	ok(rc == 0 && strcmp(out, want) == 0, "key of %s /%u is %s", addr,
	   prefix, want);
	if (rc != 0 || strcmp(out, want) != 0)
		printf("#   got %d \"%s\"\n", rc, rc == 0 ? out : "");
}

static void
test_keys(void)
{
	char small[8];

	key_is("192.0.2.1", 64, "192.0.2.1");
	key_is("2001:db8:1:2:a:b:c:d", 64, "2001:db8:1:2::/64");
	key_is("2001:db8:1:2::ffff", 64, "2001:db8:1:2::/64");
	key_is("2001:db8:1:2:a:b:c:d", 48, "2001:db8:1::/48");
	key_is("2001:db8:1:2:a:b:c:d", 56, "2001:db8:1::/56");
	key_is("2001:db8:1:2ff:a:b:c:d", 60, "2001:db8:1:2f0::/60");
	key_is("2001:db8::1", 128, "2001:db8::1");
	key_is("2001:db8::1", 0, "::/0");
	key_is("::ffff:192.0.2.7", 64, "192.0.2.7");
	key_is("::1", 64, "::/64");
	key_is("2001:db8:1:2::/64", 64, "2001:db8:1:2::/64");
	key_is("2001:db8:1:2::/64", 48, "2001:db8:1::/48");
	key_is("2001:db8:1:2::/48", 64, "2001:db8:1::/48");
	key_is("unknown", 64, "unknown");
	ok(client_key("2001:db8::1", 129, small, sizeof(small)) == -1,
	   "a prefix over 128 is refused");
	ok(client_key("2001:db8:1:2::1", 64, small, sizeof(small)) == -1,
	   "a key that does not fit is refused");
	key_is("2001:db8::/1x", 64, "2001:db8::/1x");
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
	ok(anvil_addr_valid("2001:db8::/64", 13),
	   "a key with a prefix accepted");
	ok(!anvil_addr_valid("a\\b", 3), "backslash refused");
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
	test_lru();
	test_restore();
	test_keys();
	test_addr_valid();
	done_testing();
}
