/*
 * anvil_table: anvil's bookkeeping, without I/O: per client address the
 * number of simultaneous connections, a fixed-window connection rate and
 * a fixed-window rate of AUTH attempts,
 * and per peer (one smtpd process's connection to anvil) what that peer
 * added, so it can all be taken back when the peer goes away.  Addresses
 * come from smtpd over IPC: checked with anvil_addr_valid before use.
 * The table is bounded; when full, new clients are not tracked.  Run by
 * anvil; also linked into t/unit/test_anvil_table.
 */
#ifndef MOAT_ANVIL_TABLE_H
#define MOAT_ANVIL_TABLE_H

#include <stddef.h>

#define ANVIL_ADDR_MAX 64 /* bytes of an address, with the NUL */

struct anvil_table;
struct anvil_entry;

/* What one peer holds: entries it connected and not yet disconnected. */
struct anvil_held {
	struct anvil_entry *entry;
	unsigned count;
};

struct anvil_peer {
	struct anvil_held *held;
	size_t len, cap;
};

/* 1 when addr (len bytes) is a usable client address: [0-9A-Za-z.:%_-]. */
int anvil_addr_valid(const char *addr, size_t len);

/* window_ms: the rate window; max_clients: the most addresses tracked. */
struct anvil_table *anvil_table_new(size_t max_clients, long long window_ms);
void anvil_table_free(struct anvil_table *t);
size_t anvil_table_size(const struct anvil_table *t);

/*
 * One new connection of addr by peer at now_ms: 0 with *count (now, this
 * one included) and *rate (in the current window, this one included), or
 * -1 when the table is full (nothing counted).
 */
int anvil_table_connect(struct anvil_table *t, struct anvil_peer *p,
			const char *addr, long long now_ms, unsigned *count,
			unsigned *rate);
/*
 * One AUTH attempt of addr at now_ms: 0 with *rate (its attempts in the
 * current window, this one included), or -1 when the table is full.
 */
int anvil_table_auth(struct anvil_table *t, const char *addr, long long now_ms,
		     unsigned *rate);
/* One connection of addr ended; ignored unless p connected it. */
void anvil_table_disconnect(struct anvil_table *t, struct anvil_peer *p,
			    const char *addr);
/* The peer is gone: take back everything it added; p is emptied. */
void anvil_table_release(struct anvil_table *t, struct anvil_peer *p);
/* Forget clients with no connection whose rate window has passed. */
void anvil_table_expire(struct anvil_table *t, long long now_ms);

#endif
