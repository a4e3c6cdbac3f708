/*
 * smtpd_access: is a client in mynetworks.  Networks are written as
 * 192.0.2.0/24, 192.0.2.7, [2001:db8::]/32, [::1]/128, ::1/128 or [::1]
 * (brackets optional around either family).  IPv4 clients that reach an
 * IPv6 socket as ::ffff:a.b.c.d match IPv4 networks.  Pure: the list comes
 * from a root-owned parameter, the address from the kernel, but both are
 * parsed with bounds.  Run by smtpd, and by screen (mynetworks clients
 * skip the screen), so it lives in common/.
 */
#ifndef MOAT_SMTPD_ACCESS_H
#define MOAT_SMTPD_ACCESS_H

#include <stddef.h>

struct smtpd_net {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order; 4 bytes used for IPv4 */
	unsigned prefix;        /* bits that must match */
};

/* Parse one mynetworks item; 0, or -1 when it is not a network. */
int smtpd_access_parse_net(const char *s, size_t len, struct smtpd_net *out);
/* Parse a numeric client address (full-length prefix); 0 or -1. */
int smtpd_access_parse_addr(const char *s, struct smtpd_net *out);
/* 1 when addr lies in one of the n networks. */
int smtpd_access_match(const struct smtpd_net *nets, size_t n,
		       const struct smtpd_net *addr);
/*
 * Start-up, not pure: the networks of the mynetworks parameter (*count of
 * them, in a new array); fatal, naming the entry, on one that is not a
 * network.
 */
struct smtpd_net *smtpd_access_load_mynetworks(size_t *count);

#endif
