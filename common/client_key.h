/*
 * client_key: the unit in which a client is counted and remembered.  An
 * IPv4 address is one client; an IPv6 client owns a whole network (a /64
 * by default: smtpd_client_ipv6_prefix_length), since one host can walk
 * its subnet and be a new address every time.  Used by anvil, by smtpd's
 * own fallback counts and by the screen.  Pure: no I/O, no globals.
 */
#ifndef MOAT_CLIENT_KEY_H
#define MOAT_CLIENT_KEY_H

#include <stddef.h>

/* Bytes of the longest key, with the NUL ("ffff:...:ffff/128"). */
#define CLIENT_KEY_MAX 64

/*
 * The key of addr (NUL-terminated): "192.0.2.1" for IPv4 and for IPv4 in
 * IPv6 ("::ffff:192.0.2.1"); "2001:db8:1:2::/64" for IPv6 with
 * v6_prefix 64 (the address itself, without "/128", for 128).  addr may
 * already be a key ("2001:db8::/48"): its network is narrowed to the
 * shorter of the two prefixes.  Anything that is not an address
 * ("unknown") is its own key.  -1 when the key does not fit in size bytes
 * or v6_prefix is above 128.
 */
int client_key(const char *addr, unsigned v6_prefix, char *out, size_t size);

#endif
