/*
 * remote_mta_sts_fetch: the MTA-STS policy of a recipient domain (RFC
 * 8461 3 and 5.1), found in this process, inside its chroot and sandbox:
 *  1. the TXT record at _mta-sts.DOMAIN (through the resolver);
 *  2. the cache: spool/mta-sts/DOMAIN (moat-remote's, 0700), a file per
 *     domain written through a temporary file and a rename; a policy is
 *     used while its max_age lasts and the record's id is the one it was
 *     fetched under (or the record cannot be had);
 *  3. otherwise https://mta-sts.DOMAIN/.well-known/mta-sts.txt: HTTP/1.0
 *     over TLS 1.2+, the certificate verified against the CA store for
 *     that name, no redirects, the answer bounded (headers 16 KB, policy
 *     64 KB) and the whole fetch by smtp_mta_sts_timeout.
 * A failed fetch leaves a cached policy in force until it expires, and
 * otherwise means no policy (RFC 8461 5.1).
 *
 * Why here and not in a process of its own: remote already talks TLS to
 * hosts that recipient domains choose, holds the validating resolver and
 * the CA store, and is confined for exactly that (chroot, seccomp, a user
 * of its own); the fetch adds one HTTP response parser and the policy
 * parser, both pure, bounded and fuzzed.  A separate fetcher would need
 * its own user, socket, protocol and resolver for the same exposure.
 *
 * Hostile input: the TXT record, everything the policy server sends, and
 * the cache files read back (each checked by remote_mta_sts.c, and owned
 * by this process's user).  Runs in remote.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "log.h"
#include "params.h"
#include "remote_tls.h"

#define STS_RESPONSE_MAX (MTA_STS_HEADERS_MAX + MTA_STS_POLICY_MAX)
#define STS_CACHE_FILE_MAX (MTA_STS_POLICY_MAX + 512)
#define STS_FETCH_ADDRS 3 /* addresses of mta-sts.DOMAIN tried */

/* The record's id: 1, or 0 when there is no single valid record. */
static int
sts_txt(const char *domain, char id[MTA_STS_ID_MAX + 1])
{
	struct dns_ctx *ctx = remote_nexthop_dns_ctx();
	char name[DNS_NAME_MAX], one[MTA_STS_ID_MAX + 1];
	struct dns_result r;
	const char *why;
	int found = 0, bad = 0;
	size_t i;

	if (ctx == NULL || snprintf(name, sizeof(name), "_mta-sts.%s",
				    domain) >= (int)sizeof(name))
		return 0;
	dns_lookup(ctx, name, DNS_T_TXT, &r);
	for (i = 0; r.status == DNS_FOUND && i < r.count; i++) {
		int v = mta_sts_txt_parse((const char *)r.rr[i].data,
					  r.rr[i].len, one, &why);
		if (v == 1 && found++ == 0)
			memcpy(id, one, sizeof(one));
		bad |= v < 0;
	}
	dns_result_free(&r);
	return found == 1 && !bad;
}

/* --- the cache ------------------------------------------------------------ */

static int
sts_cache_path(const char *domain, const char *prefix, char *out, size_t size)
{
	int n = snprintf(out, size, MTA_STS_DIR "/%s%s", prefix, domain);

	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The cached policy of domain, if any is readable and valid. */
static int
sts_cache_read(const char *domain, struct mta_sts_cached *c)
{
	char path[DNS_NAME_MAX + 32];
	struct buf data = BUF_INIT;
	const char *why = NULL;
	struct stat st;
	ssize_t n;
	int fd, r = -1;

	memset(c, 0, sizeof(*c));
	if (sts_cache_path(domain, "", path, sizeof(path)) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_size > STS_CACHE_FILE_MAX) {
		why = "not a regular file of remote's, or too large";
	} else {
		buf_reserve(&data, STS_CACHE_FILE_MAX + 1);
		while ((n = read(fd, data.data + data.len,
				 STS_CACHE_FILE_MAX + 1 - data.len)) > 0 &&
		       data.len + (size_t)n <= STS_CACHE_FILE_MAX)
			data.len += (size_t)n;
		if (n != 0)
			why = "unreadable or too large";
		else if (mta_sts_cache_parse(data.data, data.len, domain, c,
					     &why) == 0)
			r = 0;
	}
	close(fd);
	if (r != 0 && why != NULL)
		log_warn("MTA-STS cache %s: %s; ignored", path, why);
	buf_free(&data);
	return r;
}

/* Replace the cache file of c->domain (its own file name per process). */
static void
sts_cache_write(const struct mta_sts_cached *c)
{
	char path[DNS_NAME_MAX + 32], tmp[DNS_NAME_MAX + 64], prefix[32];
	struct buf out = BUF_INIT;
	int fd, ok;

	snprintf(prefix, sizeof(prefix), ".%ld.", (long)getpid());
	if (sts_cache_path(c->domain, "", path, sizeof(path)) != 0 ||
	    sts_cache_path(c->domain, prefix, tmp, sizeof(tmp)) != 0)
		return;
	mta_sts_cache_format(c, &out);
	(void)unlinkat(AT_FDCWD, tmp, 0); /* a dead process's, same pid */
	fd = openat(AT_FDCWD, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	/* A regular file takes it in one write, or the cache is not kept. */
	ok = fd >= 0 && write(fd, out.data, out.len) == (ssize_t)out.len &&
	     fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && renameat(AT_FDCWD, tmp, AT_FDCWD, path) == 0) {
		buf_free(&out);
		return;
	}
	log_warn("MTA-STS cache %s: %s; the policy is not kept", path,
		 strerror(errno));
	if (fd >= 0)
		(void)unlinkat(AT_FDCWD, tmp, 0);
	buf_free(&out);
}

/* --- the fetch ------------------------------------------------------------ */

/* Seconds left before deadline (ms), at least 1. */
static int
sts_left(long long deadline)
{
	long long left = deadline - event_now_ms();

	return left <= 1000 ? 1 : (int)((left + 999) / 1000);
}

/* GET the policy over one connection: 0 with the response in resp. */
static int
sts_get(struct remote_conn *c, const char *host, long long deadline,
	struct buf *resp, struct buf *why)
{
	struct remote_tls_plan plan;
	struct remote_tls_info info;
	struct buf req = BUF_INIT;
	char chunk[16384];
	ssize_t n = 0;
	int r;

	memset(&plan, 0, sizeof(plan));
	plan.level = TLS_LEV_VERIFY;
	plan.need = SMTP_TLS_MUST;
	plan.auth = TLS_AUTH_PKIX;
	plan.nnames = 1;
	snprintf(plan.sni, sizeof(plan.sni), "%s", host);
	snprintf(plan.names[0], sizeof(plan.names[0]), "%s", host);
	if (remote_tls_start(c, &plan, sts_left(deadline), &info, why) != 0)
		return -1;
	buf_printf(&req,
		   "GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: %s\r\n"
		   "Accept: text/plain\r\nConnection: close\r\n\r\n",
		   host);
	r = remote_conn_write(c, req.data, req.len, sts_left(deadline));
	buf_free(&req);
	while (r == 0 &&
	       (n = remote_conn_read(c, chunk, sizeof(chunk), deadline)) > 0) {
		if (resp->len + (size_t)n > STS_RESPONSE_MAX) {
			buf_printf(why, "the answer is too large");
			return -1;
		}
		buf_append(resp, chunk, (size_t)n);
	}
	if (r != 0 || n < 0) {
		buf_printf(why, "%s",
			   errno == ETIMEDOUT ? "timed out" : strerror(errno));
		return -1;
	}
	return 0;
}

/* The policy text of domain from its HTTPS server: 0, or -1 with why. */
static int
sts_fetch(const char *domain, struct buf *text, struct buf *why)
{
	long long deadline =
	    ipc_deadline((int)param_int("smtp_mta_sts_timeout"));
	char host[DNS_NAME_MAX], nexthop[DNS_NAME_MAX + 16];
	struct remote_resolve_error err;
	struct remote_addr_list *list = xmalloc(sizeof(*list));
	struct buf resp = BUF_INIT;
	struct remote_conn c;
	size_t i, off, len;
	const char *w;
	int r = -1, cut = 0;

	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	snprintf(nexthop, sizeof(nexthop), "[%s]:443", host);
	if (remote_nexthop_resolve(nexthop, STS_FETCH_ADDRS, NULL, 0, list,
				   &err) != 0)
		buf_printf(why, "%s", err.text);
	for (i = 0; r != 0 && i < list->count; i++) {
		buf_reset(why);
		buf_reset(&resp);
		remote_conn_init(&c);
		if (remote_conn_open(&c, &list->addr[i], sts_left(deadline),
				     why) == 0 &&
		    sts_get(&c, host, deadline, &resp, why) == 0)
			r = 0;
		cut = c.tls_cut;
		remote_conn_close(&c);
	}
	free(list);
	if (r == 0 &&
	    mta_sts_http_parse(resp.data, resp.len, cut, &off, &len, &w) != 0) {
		buf_printf(why, "https://%s/.well-known/mta-sts.txt: %s", host,
			   w);
		r = -1;
	} else if (r == 0) {
		buf_append(text, resp.data + off, len);
	}
	buf_free(&resp);
	return r;
}

/* Fetch, parse and cache the policy under id: 0 with c, or -1. */
static int
sts_refresh(const char *domain, const char *id, const char *queue_id,
	    struct mta_sts_cached *c)
{
	struct buf why = BUF_INIT;
	const char *w;
	int r = -1;

	memset(c, 0, sizeof(*c));
	if (sts_fetch(domain, &c->text, &why) != 0) {
		log_warn("%s: MTA-STS policy of %s: cannot fetch it: %s",
			 queue_id, domain, buf_cstr(&why));
	} else if (mta_sts_policy_parse(c->text.data, c->text.len, &c->policy,
					&w) != 0) {
		log_warn("%s: MTA-STS policy of %s: %s; not used", queue_id,
			 domain, w);
	} else {
		snprintf(c->domain, sizeof(c->domain), "%s", domain);
		snprintf(c->id, sizeof(c->id), "%s", id);
		c->fetched = (long long)time(NULL);
		c->expires = c->fetched + (long long)c->policy.max_age;
		log_info("%s: MTA-STS policy of %s: mode=%s, max_age=%lu, "
			 "mx=%zu, id=%s (fetched)",
			 queue_id, domain, mta_sts_mode_name(c->policy.mode),
			 c->policy.max_age, c->policy.nmx, id);
		sts_cache_write(c);
		r = 0;
	}
	buf_free(&why);
	return r;
}

/* The domain as a cache file name: a host name, lower case. */
static int
sts_domain(const char *domain, char *out, size_t size)
{
	size_t i, n = strlen(domain);

	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n >= size || !dns_name_valid(domain) || domain[0] == '.')
		return -1;
	for (i = 0; i < n; i++)
		out[i] = domain[i] >= 'A' && domain[i] <= 'Z'
			     ? (char)(domain[i] + 32)
			     : domain[i];
	out[n] = '\0';
	return 0;
}

int
remote_mta_sts_policy(const char *domain, const char *queue_id,
		      struct mta_sts_policy *p)
{
	struct mta_sts_cached *cached = xcalloc(1, sizeof(*cached));
	struct mta_sts_cached *fresh = xcalloc(1, sizeof(*fresh));
	char id[MTA_STS_ID_MAX + 1], dom[DNS_NAME_MAX];
	int have = 0, record, r = 0;

	if (sts_domain(domain, dom, sizeof(dom)) != 0)
		goto done;
	record = sts_txt(dom, id);
	have = sts_cache_read(dom, cached) == 0 &&
	       cached->expires > (long long)time(NULL);
	if (have && (!record || strcmp(id, cached->id) == 0)) {
		*p = cached->policy;
		r = 1;
	} else if (record && sts_refresh(dom, id, queue_id, fresh) == 0) {
		*p = fresh->policy;
		r = 1;
	} else if (have) {
		*p = cached->policy; /* a failed refresh: still in force */
		r = 1;
	}
done:
	buf_free(&cached->text);
	buf_free(&fresh->text);
	free(cached);
	free(fresh);
	return r;
}
