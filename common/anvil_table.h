/*
 * anvil_table: per-client connection bookkeeping without I/O: per client
 * key (client_key.h: an IPv4 address, an IPv6 network) the number of
 * simultaneous connections, a fixed-window connection rate and a
 * fixed-window rate of AUTH attempts, and per peer (one smtpd process's connection to anvil) what that peer added, so
 * it can all be taken back when the peer goes away.  The table is
 * bounded: when it is full, the client without connections that was seen
 * least recently is forgotten to make room (LRU), so limits stay on under
 * a flood of new addresses; only a table full of clients that all hold
 * connections refuses a new one.  Keys come from smtpd over IPC: checked
 * with anvil_addr_valid before use.  Run by anvil; also by smtpd for the
 * counts it keeps itself (its fallback when anvil is away) and by screen
 * for its per-client limit.
 */
#ifndef MOAT_ANVIL_TABLE_H
#define MOAT_ANVIL_TABLE_H

#include <stddef.h>

#define ANVIL_ADDR_MAX 64 /* bytes of a key, with the NUL */

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

/* 1 when addr (len bytes) is a usable client key: [0-9A-Za-z.:%_/-]. */
int anvil_addr_valid(const char *addr, size_t len);

/* window_ms: the rate window; max_clients: the most keys tracked. */
struct anvil_table *anvil_table_new(size_t max_clients, long long window_ms);
void anvil_table_free(struct anvil_table *t);
size_t anvil_table_size(const struct anvil_table *t);
/* Clients forgotten to make room since the table was made. */
unsigned long anvil_table_evicted(const struct anvil_table *t);

/*
 * One new connection of key by peer at now_ms: 0 with *count (now, this
 * one included) and *rate (in the current window, this one included), or
 * -1 when every tracked client holds a connection and the table is full
 * (nothing counted).
 */
int anvil_table_connect(struct anvil_table *t, struct anvil_peer *p,
			const char *key, long long now_ms, unsigned *count,
			unsigned *rate);
/*
 * One AUTH attempt of key at now_ms: 0 with *rate (its attempts in the
 * current window, this one included), or -1 when every tracked client
 * holds a connection and the table is full.
 */
int anvil_table_auth(struct anvil_table *t, const char *key, long long now_ms,
		     unsigned *rate);
/*
 * n connections of key that peer already holds elsewhere (smtpd telling
 * a new anvil what it serves): counted, but not in the rate.  -1 when the
 * table is full.
 */
int anvil_table_restore(struct anvil_table *t, struct anvil_peer *p,
			const char *key, unsigned n, long long now_ms);
/* One connection of key ended; ignored unless p connected it. */
void anvil_table_disconnect(struct anvil_table *t, struct anvil_peer *p,
			    const char *key, long long now_ms);
/* The peer is gone: take back everything it added; p is emptied. */
void anvil_table_release(struct anvil_table *t, struct anvil_peer *p,
			 long long now_ms);
/* Forget clients with no connection not seen for a whole window. */
void anvil_table_expire(struct anvil_table *t, long long now_ms);

/* What a peer holds, one entry at a time: the key, and *count of it. */
const char *anvil_peer_key(const struct anvil_peer *p, size_t i,
			   unsigned *count);

#endif
