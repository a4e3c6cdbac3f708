/*
 * remote_nexthop: where a destination leads.  A next hop comes from qmgr:
 * the recipient domain, or what transport_maps or relayhost say, in
 * Postfix's forms:
 *   example.com          MX lookup of example.com (A/AAAA when no MX)
 *   example.com:587      the same, then port 587
 *   [mx.example.com]     no MX lookup: the host's own addresses
 *   [192.0.2.1]:25       that address ("[IPv6:2001:db8::1]" or
 *   [::1]:2525           "[::1]" for IPv6)
 * remote_nexthop_resolve is the one seam that turns it into the ordered
 * list of (host name, address, port) to try.  Numeric addresses need no
 * lookup (inet_pton); names go through common/dns_mx.h: MX per RFC 5321
 * 5.1 (preference order, equal ones shuffled, A/AAAA fallback, null MX
 * 5.1.10, MX pointing at this host 5.4.6), then the A/AAAA records of each
 * host, asked of libunbound (opened by remote_nexthop_dns_open before the
 * chroot).  Without a DNS context (unit tests) a name defers with 4.4.3.
 * Input: qmgr's next hop (from the root-owned configuration, or a
 * recipient domain that went through the address parser), parsed
 * strictly; the DNS answers come decoded from libunbound.  Runs in
 * remote.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_mx.h"
#include "remote.h"

static int
nexthop_port(const char *s, int *port)
{
	long v = 0;
	size_t i;

	if (strcasecmp(s, "smtp") == 0)
		v = 25;
	else if (strcasecmp(s, "submission") == 0)
		v = 587;
	else if (strcasecmp(s, "smtps") == 0 ||
		 strcasecmp(s, "submissions") == 0)
		v = 465;
	else
		for (i = 0; s[i] != '\0'; i++) {
			if (s[i] < '0' || s[i] > '9' || i >= 5)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* 1 when host is a numeric IPv4 or IPv6 address. */
static int
nexthop_numeric(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

/* Letters, digits, '-', '.', '_' (names) and ':' (IPv6 inside []). */
static int
nexthop_host_ok(const char *h, size_t n, int bracketed)
{
	size_t i;

	if (n == 0 || n >= REMOTE_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_' || (c == ':' && bracketed)))
			return 0;
	}
	return 1;
}

int
remote_nexthop_parse(const char *s, struct remote_nexthop *nh, const char **why)
{
	const char *host = s, *end, *port = NULL;
	size_t n;

	memset(nh, 0, sizeof(*nh));
	nh->port = REMOTE_SMTP_PORT;
	if (s[0] == '[') {
		host = s + 1;
		if ((end = strchr(host, ']')) == NULL) {
			*why = "no ] after [";
			return -1;
		}
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			*why = "text after ]";
			return -1;
		}
		if (strncasecmp(host, "ipv6:", 5) == 0)
			host += 5;
	} else {
		end = strchr(s, ':');
		if (end != NULL && strchr(end + 1, ':') != NULL) {
			*why = "an IPv6 address must be in []";
			return -1;
		}
		if (end != NULL)
			port = end + 1;
		else
			end = s + strlen(s);
		nh->mx = 1;
	}
	n = (size_t)(end - host);
	if (!nexthop_host_ok(host, n, s[0] == '[')) {
		*why = "not a host name or address";
		return -1;
	}
	memcpy(nh->host, host, n);
	nh->host[n] = '\0';
	if (port != NULL && nexthop_port(port, &nh->port) != 0) {
		*why = "not a port number or service";
		return -1;
	}
	nh->literal = nexthop_numeric(nh->host);
	if (nh->literal)
		nh->mx = 0;
	else if (s[0] == '[' && strchr(nh->host, ':') != NULL) {
		*why = "not an IPv6 address";
		return -1;
	}
	return 0;
}

static int
nexthop_add(struct remote_addr_list *out, const char *host, const char *ip,
	    int port)
{
	struct remote_addr *a;
	struct sockaddr_in *v4;
	struct sockaddr_in6 *v6;

	if (out->count >= REMOTE_ADDR_MAX)
		return -1;
	a = &out->addr[out->count];
	memset(a, 0, sizeof(*a));
	v4 = (struct sockaddr_in *)&a->sa;
	v6 = (struct sockaddr_in6 *)&a->sa;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((unsigned short)port);
		a->salen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((unsigned short)port);
		a->salen = sizeof(*v6);
	} else {
		return -1;
	}
	strlcpy(a->host, host, sizeof(a->host));
	strlcpy(a->ip, ip, sizeof(a->ip));
	a->port = port;
	out->count++;
	return 0;
}

static void
nexthop_error(struct remote_resolve_error *err, int permanent, const char *dsn,
	      const char *text, const char *host)
{
	err->permanent = permanent;
	snprintf(err->dsn, sizeof(err->dsn), "%s", dsn);
	snprintf(err->text, sizeof(err->text), "%s%s", text, host);
}

static struct dns_ctx *nexthop_dns;
static struct dns_mx_policy nexthop_policy;

struct dns_ctx *
remote_nexthop_dns_ctx(void)
{
	return nexthop_dns;
}

int
remote_nexthop_dns_open(struct buf *err)
{
	if ((nexthop_dns = dns_open(err)) == NULL)
		return -1;
	if (dns_mx_policy_init(&nexthop_policy, nexthop_dns, err) != 0) {
		dns_close(nexthop_dns);
		nexthop_dns = NULL;
		return -1;
	}
	return 0;
}

/* A name through DNS: the plan of dns_mx.h, its targets as addresses. */
static int
nexthop_dns_lookup(const struct remote_nexthop *nh, size_t limit,
		   struct remote_addr_list *out,
		   struct remote_resolve_error *err)
{
	struct dns_mx_policy pol = nexthop_policy;
	struct dns_plan *plan = xmalloc(sizeof(*plan));
	char ip[INET6_ADDRSTRLEN];
	size_t i;
	int rc = 0;

	pol.addr_limit = limit;
	dns_mx_plan(nh->host, !nh->mx, &pol, plan);
	if (plan->status != DNS_PLAN_OK) {
		nexthop_error(err, plan->status == DNS_PLAN_BOUNCE, plan->dsn,
			      plan->text, "");
		rc = -1;
	}
	for (i = 0; rc == 0 && i < plan->count; i++) {
		const struct dns_target *t = &plan->target[i];
		if (inet_ntop(t->addr.family, t->addr.bytes, ip,
			      sizeof(ip)) == NULL ||
		    nexthop_add(out, t->host, ip, nh->port) != 0)
			break; /* the list is full: try what we have */
		strlcpy(out->addr[out->count - 1].canon, t->canon,
			sizeof(out->addr[0].canon));
		out->addr[out->count - 1].dns_flags = t->flags;
		out->addr[out->count - 1].via_mx = nh->mx;
	}
	free(plan);
	return rc;
}

/* The addresses of one parsed next hop, at most limit (0: no limit). */
static int
remote_nexthop_lookup(const struct remote_nexthop *nh, size_t limit,
		      struct remote_addr_list *out,
		      struct remote_resolve_error *err)
{
	if (nh->literal) {
		if (nexthop_add(out, nh->host, nh->host, nh->port) != 0) {
			nexthop_error(err, 0, "4.4.4", "too many addresses",
				      "");
			return -1;
		}
		out->addr[out->count - 1].literal = 1;
		return 0;
	}
	if (nexthop_dns != NULL)
		return nexthop_dns_lookup(nh, limit, out, err);
	nexthop_error(err, 0, "4.4.3",
		      "DNS lookup not available: cannot look up ", nh->host);
	return -1;
}

/* Each address added since from came from the next hop text. */
static void
nexthop_mark(struct remote_addr_list *out, size_t from, const char *text)
{
	for (; from < out->count; from++)
		strlcpy(out->addr[from].nexthop, text,
			sizeof(out->addr[from].nexthop));
}

int
remote_nexthop_resolve(const char *nexthop, size_t limit,
		       const char *const *fallback, size_t nfallback,
		       struct remote_addr_list *out,
		       struct remote_resolve_error *err)
{
	struct remote_resolve_error ignored;
	struct remote_nexthop nh;
	const char *why;
	size_t i;
	int r;

	out->count = 0;
	memset(err, 0, sizeof(*err));
	if (remote_nexthop_parse(nexthop, &nh, &why) != 0) {
		snprintf(err->dsn, sizeof(err->dsn), "4.3.5");
		snprintf(err->text, sizeof(err->text),
			 "bad next hop \"%.300s\": %s", nexthop, why);
		return -1;
	}
	r = remote_nexthop_lookup(&nh, limit, out, err);
	nexthop_mark(out, 0, nexthop);
	if (r != 0 && err->permanent)
		return -1; /* e.g. a null MX: no fallback relay either */
	/* Fallback relays follow, whatever happened to the destination. */
	for (i = 0; i < nfallback; i++) {
		size_t from = out->count;

		if (remote_nexthop_parse(fallback[i], &nh, &why) == 0)
			(void)remote_nexthop_lookup(&nh, 0, out, &ignored);
		nexthop_mark(out, from, fallback[i]);
	}
	return out->count > 0 ? 0 : -1;
}
