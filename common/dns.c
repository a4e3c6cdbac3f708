/*
 * dns: the resolver context (dns_open, run as root before the chroot) and
 * the conversion of libunbound's parsed answers into Moat's results.  The
 * answers are hostile input: their RDATA goes through dns_rdata_decode and
 * libunbound's canonical name through dns_name_decode's rules.  Runs in
 * the remote daemon (and later smtpd).
 *
 * What libunbound reads, all here, before the chroot: /etc/resolv.conf
 * (unless smtp_dns_resolver_address names the resolvers) and the trust
 * anchor file; both at once, as ub_ctx_zone_remove() finalizes the context.
 * /etc/hosts is not read: mail routing uses DNS only, as Postfix's
 * smtp_host_lookup = dns.  After that, libunbound's thread needs only UDP
 * and TCP sockets to the resolvers (and the random source, getrandom).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dns_ctx.h"
#include "event.h"
#include "log.h"
#include "params.h"

/*
 * libunbound answers some names from built-in tables instead of asking:
 * RFC 6761's test. and 127.0.0.0/8's reverse zone, and RFC 1918 reverse
 * zones unless unblock-lan-zones.  Moat asks the configured resolvers, as
 * the system's resolver would (a LAN's resolver knows its PTR records).
 */
static const char *const dns_unblocked_zones[] = {"test.", "127.in-addr.arpa."};

/* "192.0.2.1", "192.0.2.1:53", "[2001:db8::1]:53" or "2001:db8::1" to
 * libunbound's "ADDR@PORT". */
static int
dns_resolver_spec(const char *item, char *out, size_t outsize)
{
	char host[64];
	const char *port = NULL, *close;
	struct dns_addr a;
	size_t n;
	int w;

	if (item[0] == '[') {
		close = strchr(item, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return -1;
		n = (size_t)(close - item - 1);
		port = close[1] == ':' ? close + 2 : NULL;
		item++;
	} else if (strchr(item, ':') != strrchr(item, ':')) {
		n = strlen(item); /* a bare IPv6 address */
	} else {
		port = strchr(item, ':');
		n = port ? (size_t)(port++ - item) : strlen(item);
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, item, n);
	host[n] = '\0';
	if (dns_addr_parse(host, &a) != 0)
		return -1;
	if (port != NULL) {
		char *end;
		long p = strtol(port, &end, 10);

		if (*port == '\0' || *end != '\0' || p < 1 || p > 65535)
			return -1;
		w = snprintf(out, outsize, "%s@%ld", host, p);
	} else {
		w = snprintf(out, outsize, "%s", host);
	}
	return w < 0 || (size_t)w >= outsize ? -1 : 0;
}

static int
dns_set_resolvers(struct dns_ctx *ctx, struct buf *err)
{
	const char *const *items;
	size_t n = param_list("smtp_dns_resolver_address", &items);
	char spec[96];
	int rc;

	if (n == 0) {
		rc = ub_ctx_resolvconf(ctx->ub, "/etc/resolv.conf");
		if (rc != 0)
			buf_printf(err, "/etc/resolv.conf: %s",
				   ub_strerror(rc));
		return rc == 0 ? 0 : -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (dns_resolver_spec(items[i], spec, sizeof(spec)) != 0) {
			buf_printf(err,
				   "smtp_dns_resolver_address: \"%s\" is not "
				   "an IP address with an optional :port",
				   items[i]);
			return -1;
		}
		rc = ub_ctx_set_fwd(ctx->ub, spec);
		if (rc != 0) {
			buf_printf(err, "smtp_dns_resolver_address: %s: %s",
				   items[i], ub_strerror(rc));
			return -1;
		}
	}
	return 0;
}

size_t
dns_resolver_ports(unsigned short *ports, size_t max)
{
	const char *const *items;
	size_t n = param_list("smtp_dns_resolver_address", &items), got = 0;
	char spec[96];
	const char *at;

	if (n == 0 && max > 0) {
		ports[0] = 53;
		return 1;
	}
	for (size_t i = 0; i < n && got < max; i++) {
		if (dns_resolver_spec(items[i], spec, sizeof(spec)) != 0)
			continue;
		at = strchr(spec, '@');
		ports[got++] = at != NULL ? (unsigned short)atoi(at + 1) : 53;
	}
	return got;
}

static int
dns_set_trust_anchor(struct dns_ctx *ctx, struct buf *err)
{
	const char *path = param_str("smtp_dns_trust_anchor_file");
	struct stat st;
	int rc;

	if (path[0] == '\0' || stat(path, &st) != 0) {
		log_warn("dns: no DNSSEC validation: trust anchor file %s: %s; "
			 "every answer counts as insecure",
			 path[0] ? path : "(none)",
			 path[0] ? strerror(errno) : "not set");
		return 0;
	}
	rc = ub_ctx_add_ta_file(ctx->ub, path);
	if (rc != 0) {
		buf_printf(err, "smtp_dns_trust_anchor_file: %s: %s", path,
			   ub_strerror(rc));
		return -1;
	}
	ctx->validating = 1;
	return 0;
}

static void
dns_read_own_addrs(struct dns_ctx *ctx)
{
	struct ifaddrs *ifs, *i;

	if (getifaddrs(&ifs) != 0)
		return;
	for (i = ifs; i != NULL && ctx->own_count < DNS_OWN_ADDR_MAX;
	     i = i->ifa_next) {
		struct dns_addr *a = &ctx->own[ctx->own_count];

		if (i->ifa_addr == NULL)
			continue;
		memset(a, 0, sizeof(*a));
		a->family = i->ifa_addr->sa_family;
		if (a->family == AF_INET)
			memcpy(a->bytes,
			       &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			       4);
		else if (a->family == AF_INET6)
			memcpy(a->bytes,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
		else
			continue;
		ctx->own_count++;
	}
	freeifaddrs(ifs);
}

static int
dns_configure(struct dns_ctx *ctx, int tcp, struct buf *err)
{
	static const char *const opts[][2] = {
	    {"unblock-lan-zones:", "yes"},
	    {"insecure-lan-zones:", "yes"},
	    {"do-not-query-localhost:", "no"}, /* a resolver on 127.0.0.1 */
	    {"val-log-level:", "2"},           /* fills why_bogus */
	};
	int rc;

	rc = ub_ctx_async(ctx->ub, 1); /* a thread, never a forked process */
	for (size_t i = 0; rc == 0 && i < sizeof(opts) / sizeof(opts[0]); i++)
		rc = ub_ctx_set_option(ctx->ub, opts[i][0], opts[i][1]);
	if (rc == 0 && tcp)
		rc = ub_ctx_set_option(ctx->ub, "tcp-upstream:", "yes");
	if (rc == 0)
		rc = ub_ctx_debugout(ctx->ub, ctx->ub_log);
	if (rc != 0) {
		buf_printf(err, "libunbound: %s", ub_strerror(rc));
		return -1;
	}
	if (dns_set_resolvers(ctx, err) != 0 ||
	    dns_set_trust_anchor(ctx, err) != 0)
		return -1;
	/* The first removal finalizes: the files above are read now. */
	for (size_t i = 0;
	     i < sizeof(dns_unblocked_zones) / sizeof(dns_unblocked_zones[0]);
	     i++) {
		rc = ub_ctx_zone_remove(ctx->ub, dns_unblocked_zones[i]);
		if (rc != 0) {
			buf_printf(err, "libunbound: %s (trust anchor file %s)",
				   ub_strerror(rc),
				   param_str("smtp_dns_trust_anchor_file"));
			return -1;
		}
	}
	return 0;
}

static struct dns_ctx *
dns_open_ctx(int tcp, struct buf *err)
{
	struct dns_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->timeout_ms = param_int("smtp_dns_timeout") * 1000;
	ctx->ub_log = fopen("/dev/null", "we");
	ctx->ub = ub_ctx_create();
	if (ctx->ub == NULL || ctx->ub_log == NULL) {
		buf_printf(err, "libunbound: cannot create a context");
		dns_close(ctx);
		return NULL;
	}
	if (dns_configure(ctx, tcp, err) != 0) {
		dns_close(ctx);
		return NULL;
	}
	dns_read_own_addrs(ctx);
	return ctx;
}

struct dns_ctx *
dns_open(struct buf *err)
{
	return dns_open_ctx(0, err);
}

struct dns_ctx *
dns_open_tcp(struct buf *err)
{
	return dns_open_ctx(1, err);
}

int
dns_validating(const struct dns_ctx *ctx)
{
	return ctx->validating;
}

size_t
dns_own_addrs(const struct dns_ctx *ctx, const struct dns_addr **out)
{
	*out = ctx->own;
	return ctx->own_count;
}

void
dns_result_free(struct dns_result *r)
{
	for (size_t i = 0; i < r->count; i++)
		dns_rr_clear(&r->rr[i]);
	free(r->rr);
	r->rr = NULL;
	r->count = 0;
}

static void
dns_result_init(const char *name, int type, struct dns_result *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	strlcpy(out->qname, name, sizeof(out->qname));
	strlcpy(out->canonname, name, sizeof(out->canonname));
}

void
dns_result_tempfail(const char *name, int type, const char *why,
		    struct dns_result *out)
{
	dns_result_init(name, type, out);
	out->status = DNS_TEMPFAIL;
	out->rcode = 2;
	strlcpy(out->why, why, sizeof(out->why));
}

/* libunbound's canonical name ("mx.example.org."), if it is a host name. */
static void
dns_canonname(const struct ub_result *ub, struct dns_result *out)
{
	char name[DNS_NAME_MAX];
	size_t n;

	if (ub->canonname == NULL || !dns_name_valid(ub->canonname))
		return;
	n = strlcpy(name, ub->canonname, sizeof(name));
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	strlcpy(out->canonname, name, sizeof(out->canonname));
}

static void
dns_result_records(const struct ub_result *ub, struct dns_result *out)
{
	size_t n = 0, bad = 0;

	while (ub->data[n] != NULL && n < DNS_RR_MAX)
		n++;
	out->rr = xcalloc(n ? n : 1, sizeof(*out->rr));
	for (size_t i = 0; i < n; i++) {
		if (ub->len[i] < 0 ||
		    dns_rdata_decode(out->type, (unsigned char *)ub->data[i],
				     (size_t)ub->len[i],
				     &out->rr[out->count]) != DNS_RDATA_OK) {
			bad++;
			continue;
		}
		out->count++;
	}
	if (out->count == 0) {
		out->status = DNS_TEMPFAIL;
		snprintf(out->why, sizeof(out->why),
			 "malformed %s record%s in the answer",
			 dns_type_name(out->type), bad > 1 ? "s" : "");
	}
}

void
dns_result_convert(const char *name, int type, int err,
		   const struct ub_result *ub, struct dns_result *out)
{
	dns_result_init(name, type, out);
	if (err != 0 || ub == NULL) {
		dns_result_tempfail(name, type,
				    err ? ub_strerror(err) : "no answer", out);
		return;
	}
	out->rcode = ub->rcode;
	dns_canonname(ub, out);
	out->dnssec = ub->bogus    ? DNS_BOGUS
		      : ub->secure ? DNS_SECURE
				   : DNS_INSECURE;
	if (ub->bogus) {
		out->status = DNS_TEMPFAIL;
		snprintf(out->why, sizeof(out->why),
			 "DNSSEC validation "
			 "failed: %s",
			 ub->why_bogus ? ub->why_bogus : "bogus");
	} else if (ub->rcode == 0 && ub->havedata) {
		out->status = DNS_FOUND;
		out->ttl = ub->ttl > 0 ? (unsigned)ub->ttl : 0;
		dns_result_records(ub, out);
	} else if (ub->rcode == 0) {
		out->status = DNS_NODATA;
	} else if (ub->rcode == 3 || ub->nxdomain) {
		out->status = DNS_NXDOMAIN;
	} else {
		out->status = DNS_TEMPFAIL;
		snprintf(out->why, sizeof(out->why), "%s",
			 ub->rcode == 2   ? "SERVFAIL"
			 : ub->rcode == 5 ? "REFUSED"
					  : "DNS error");
	}
}

void
dns_close(struct dns_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->in_event_loop)
		event_remove(ub_fd(ctx->ub));
	if (ctx->ub != NULL)
		ub_ctx_delete(ctx->ub);
	if (ctx->ub_log != NULL)
		fclose(ctx->ub_log);
	dns_query_forget_all(ctx);
	free(ctx);
}
