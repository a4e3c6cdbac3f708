/*
 * remote_mta_sts: the parsers of SMTP MTA Strict Transport Security (RFC
 * 8461): the TXT record at _mta-sts.DOMAIN ("v=STSv1; id=20240101T00"),
 * the HTTP response that carries the policy, the policy itself
 *   version: STSv1
 *   mode: enforce
 *   mx: mail.example.com
 *   mx: *.example.net
 *   max_age: 604800
 * and the file the cache keeps it in.  All of it is hostile: the record
 * and the policy are whatever the recipient domain (or someone who can
 * answer for it) publishes, and the cache file is read back from disk.
 * Parsing is strict and bounded: a policy field given twice, an unknown
 * version or mode, an mx pattern that is no host name, a non-200 status,
 * a redirect, another media type, a body over 64 KB: refused, with a
 * reason.  Pure: no I/O, no globals.  Runs in remote; tested by
 * test_remote_mta_sts, fuzzed by fuzz_remote_mta_sts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "remote_tls.h"

static const char *const mta_sts_modes[] = {
    [MTA_STS_NONE] = "none",
    [MTA_STS_TESTING] = "testing",
    [MTA_STS_ENFORCE] = "enforce",
};

const char *
mta_sts_mode_name(enum mta_sts_mode mode)
{
	return mode <= MTA_STS_ENFORCE ? mta_sts_modes[mode] : "?";
}

static int
sts_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int
sts_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* --- the TXT record ------------------------------------------------------- */

/* One "name=value" field of the record at p..end. */
static int
sts_txt_field(const char *p, const char *end, char *id, int *have_id,
	      const char **why)
{
	const char *eq = memchr(p, '=', (size_t)(end - p)), *v;
	size_t i, n;

	if (eq == NULL || eq == p || eq + 1 == end) {
		*why = "a field of the TXT record is not name=value";
		return -1;
	}
	for (v = p; v < eq; v++)
		if (!sts_alnum(*v) &&
		    (v == p || (*v != '_' && *v != '-' && *v != '.')))
			break;
	if (v != eq || eq - p > 32) {
		*why = "a bad field name in the TXT record";
		return -1;
	}
	for (v = eq + 1; v < end; v++)
		if (*v < 0x21 || *v > 0x7e || *v == '=' || *v == ';') {
			*why = "a bad field value in the TXT record";
			return -1;
		}
	if (eq - p != 2 || memcmp(p, "id", 2) != 0)
		return 0; /* an extension: ignored */
	n = (size_t)(end - eq - 1);
	for (i = 0; i < n; i++)
		if (!sts_alnum(eq[1 + i]))
			n = 0;
	if (*have_id || n == 0 || n > MTA_STS_ID_MAX) {
		*why = *have_id ? "id= given twice"
				: "the id is not 1 to 32 letters and digits";
		return -1;
	}
	memcpy(id, eq + 1, n);
	id[n] = '\0';
	*have_id = 1;
	return 0;
}

int
mta_sts_txt_parse(const char *txt, size_t len, char id[MTA_STS_ID_MAX + 1],
		  const char **why)
{
	const char *p, *end, *f, *fe;
	int have_id = 0;

	id[0] = '\0';
	if (txt == NULL || len < 7 || memcmp(txt, "v=STSv1", 7) != 0 ||
	    (len > 7 && txt[7] != ';' && !sts_wsp(txt[7])))
		return 0;
	p = txt + 7;
	end = txt + len;
	for (;;) {
		while (p < end && sts_wsp(*p))
			p++;
		if (p == end)
			break;
		if (*p != ';') {
			*why =
			    "fields of the TXT record must be separated by ';'";
			return -1;
		}
		p++;
		while (p < end && sts_wsp(*p))
			p++;
		if (p == end)
			break;
		for (f = p; p < end && *p != ';' && !sts_wsp(*p); p++)
			;
		fe = p;
		if (sts_txt_field(f, fe, id, &have_id, why) != 0)
			return -1;
	}
	if (!have_id) {
		*why = "the TXT record has no id";
		return -1;
	}
	return 1;
}

/* --- the policy ----------------------------------------------------------- */

/* A host name or "*." and a host name; copied in lower case. */
static int
sts_mx_pattern(const char *v, size_t n, char *out)
{
	size_t i, label = 0, start = 0;

	if (n >= 2 && v[0] == '*' && v[1] == '.')
		start = 2;
	if (n - start == 0 || n > 253)
		return -1;
	for (i = start; i < n; i++) {
		char c = v[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (sts_alnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
	}
	if (label == 0)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] + 32) : v[i];
	out[n] = '\0';
	return 0;
}

static int
sts_max_age(const char *v, size_t n, unsigned long *out)
{
	unsigned long long a = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		a = a * 10 + (unsigned)(v[i] - '0');
	}
	*out = a > MTA_STS_MAX_AGE ? MTA_STS_MAX_AGE : (unsigned long)a;
	return 0;
}

struct sts_seen {
	int version, mode, max_age;
};

static int
sts_is(const char *k, size_t kn, const char *name)
{
	return kn == strlen(name) && memcmp(k, name, kn) == 0;
}

/* One "key: value" line (without its line end). */
static int
sts_policy_line(const char *l, size_t n, struct mta_sts_policy *p,
		struct sts_seen *seen, const char **why)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t kn, vn, i;

	if (colon == NULL || colon == l) {
		*why = "a policy line is not key: value";
		return -1;
	}
	kn = (size_t)(colon - l);
	for (i = 0; i < kn; i++)
		if (!sts_alnum(l[i]) &&
		    (i == 0 || (l[i] != '_' && l[i] != '-' && l[i] != '.')))
			break;
	if (i != kn || kn > 32) {
		*why = "a bad key in the policy";
		return -1;
	}
	for (v = colon + 1; v < l + n && sts_wsp(*v); v++)
		;
	for (vn = (size_t)(l + n - v); vn > 0 && sts_wsp(v[vn - 1]); vn--)
		;
	for (i = 0; i < vn; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			*why = "a control byte in the policy";
			return -1;
		}
	if (sts_is(l, kn, "version")) {
		if (seen->version++ || vn != 5 || memcmp(v, "STSv1", 5) != 0) {
			*why = "version is not STSv1 (or given twice)";
			return -1;
		}
	} else if (sts_is(l, kn, "mode")) {
		if (seen->mode++) {
			*why = "mode given twice";
			return -1;
		}
		if (vn == 7 && memcmp(v, "enforce", 7) == 0)
			p->mode = MTA_STS_ENFORCE;
		else if (vn == 7 && memcmp(v, "testing", 7) == 0)
			p->mode = MTA_STS_TESTING;
		else if (vn == 4 && memcmp(v, "none", 4) == 0)
			p->mode = MTA_STS_NONE;
		else {
			*why = "mode is not enforce, testing or none";
			return -1;
		}
	} else if (sts_is(l, kn, "max_age")) {
		if (seen->max_age++ || sts_max_age(v, vn, &p->max_age) != 0) {
			*why = "max_age is not a number of seconds (or given "
			       "twice)";
			return -1;
		}
	} else if (sts_is(l, kn, "mx")) {
		if (p->nmx == MTA_STS_MX_MAX) {
			*why = "too many mx lines";
			return -1;
		}
		if (sts_mx_pattern(v, vn, p->mx[p->nmx]) != 0) {
			*why = "an mx line is not a host name or *.domain";
			return -1;
		}
		p->nmx++;
	}
	return 0; /* other keys are extensions: ignored */
}

int
mta_sts_policy_parse(const char *text, size_t len, struct mta_sts_policy *p,
		     const char **why)
{
	const char *l, *end, *lf;
	struct sts_seen seen = {0, 0, 0};
	size_t n;

	memset(p, 0, sizeof(*p));
	if (text == NULL)
		text = "", len = 0;
	l = text;
	end = text + len;
	if (len > MTA_STS_POLICY_MAX) {
		*why = "the policy is larger than 64 KB";
		return -1;
	}
	while (l < end) {
		lf = memchr(l, '\n', (size_t)(end - l));
		n = (size_t)((lf != NULL ? lf : end) - l);
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (n > 0 && sts_policy_line(l, n, p, &seen, why) != 0)
			return -1;
		l = lf != NULL ? lf + 1 : end;
	}
	if (!seen.version || !seen.mode || !seen.max_age) {
		*why = "the policy lacks version, mode or max_age";
		return -1;
	}
	if (p->mode != MTA_STS_NONE && p->nmx == 0) {
		*why = "the policy has no mx line";
		return -1;
	}
	return 0;
}

int
mta_sts_mx_match(const struct mta_sts_policy *p, const char *host)
{
	size_t hn = strlen(host), i, pn;
	const char *dot;

	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	for (i = 0; i < p->nmx; i++) {
		const char *pat = p->mx[i];

		pn = strlen(pat);
		if (pat[0] == '*') {
			/* One whole label in place of the star. */
			dot = memchr(host, '.', hn);
			if (dot != NULL && dot != host &&
			    (size_t)(host + hn - dot) == pn - 1 &&
			    strncasecmp(dot, pat + 1, pn - 1) == 0)
				return 1;
		} else if (pn == hn && strncasecmp(host, pat, hn) == 0) {
			return 1;
		}
	}
	return 0;
}

/* --- the HTTP response ------------------------------------------------------
 */

/* "HTTP/1.x NNN ...": the status, or -1. */
static int
sts_http_status(const char *l, size_t n)
{
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 ||
	    (l[7] != '0' && l[7] != '1') || l[8] != ' ' || l[9] < '1' ||
	    l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' ||
	    l[11] > '9' || (n > 12 && l[12] != ' '))
		return -1;
	return (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
}

struct sts_http {
	int content_type, content_length, chunked;
	size_t length;
};

/* One header line: the two that matter are checked, others skipped. */
static int
sts_http_header(const char *l, size_t n, struct sts_http *h, const char **why)
{
	const char *colon = memchr(l, ':', n), *v, *end = l + n;
	size_t kn, vn, i;

	if (colon == NULL || colon == l || sts_wsp(l[0])) {
		*why = "a malformed HTTP header line";
		return -1;
	}
	kn = (size_t)(colon - l);
	for (v = colon + 1; v < end && sts_wsp(*v); v++)
		;
	for (vn = (size_t)(end - v); vn > 0 && sts_wsp(v[vn - 1]); vn--)
		;
	if (kn == 12 && strncasecmp(l, "Content-Type", 12) == 0) {
		if (h->content_type++ || vn < 10 ||
		    strncasecmp(v, "text/plain", 10) != 0 ||
		    (vn > 10 && v[10] != ';' && !sts_wsp(v[10]))) {
			*why = "the policy is not served as text/plain";
			return -1;
		}
	} else if (kn == 14 && strncasecmp(l, "Content-Length", 14) == 0) {
		if (h->content_length++ || vn == 0 || vn > 9) {
			*why = "a bad Content-Length";
			return -1;
		}
		for (i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9') {
				*why = "a bad Content-Length";
				return -1;
			}
			h->length = h->length * 10 + (size_t)(v[i] - '0');
		}
	} else if (kn == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0) {
		*why = "a transfer encoding in an answer to HTTP/1.0";
		return -1;
	}
	return 0;
}

int
mta_sts_http_parse(const char *resp, size_t len, int need_length,
		   size_t *body_off, size_t *body_len, const char **why)
{
	struct sts_http h = {0, 0, 0, 0};
	const char *l, *end, *lf;
	size_t n;
	int status = -1;

	if (resp == NULL)
		resp = "", len = 0;
	l = resp;
	end = resp + len;
	for (;;) {
		lf = memchr(l, '\n', (size_t)(end - l));
		if (lf == NULL || lf - resp >= MTA_STS_HEADERS_MAX) {
			*why = "no end of the HTTP header";
			return -1;
		}
		n = (size_t)(lf - l);
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (memchr(l, '\0', n) != NULL) {
			*why = "a NUL byte in the HTTP header";
			return -1;
		}
		if (status < 0) {
			if ((status = sts_http_status(l, n)) < 0) {
				*why = "not an HTTP/1 response";
				return -1;
			}
			if (status / 100 == 3) {
				*why =
				    "a redirect (not followed: RFC 8461 3.3)";
				return -1;
			}
			if (status != 200) {
				*why = "an HTTP status other than 200";
				return -1;
			}
		} else if (n == 0) {
			break;
		} else if (sts_http_header(l, n, &h, why) != 0) {
			return -1;
		}
		l = lf + 1;
	}
	*body_off = (size_t)(lf + 1 - resp);
	*body_len = len - *body_off;
	if (!h.content_type) {
		*why = "the policy is not served as text/plain";
		return -1;
	}
	if (need_length && !h.content_length) {
		*why = "no Content-Length, and the TLS connection ended "
		       "without close_notify";
		return -1;
	}
	if (h.content_length && h.length != *body_len) {
		*why = "the body does not have its Content-Length";
		return -1;
	}
	if (*body_len > MTA_STS_POLICY_MAX) {
		*why = "the policy is larger than 64 KB";
		return -1;
	}
	return 0;
}

/* --- the cache file ---------------------------------------------------------
 */

#define STS_CACHE_MAGIC "moat-mta-sts 1 "

void
mta_sts_cache_format(const struct mta_sts_cached *c, struct buf *out)
{
	buf_printf(out, STS_CACHE_MAGIC "%s %s %lld %lld %zu\n", c->domain,
		   c->id, c->fetched, c->expires, c->text.len);
	buf_append(out, c->text.data, c->text.len);
}

/* The next space-separated field of the header, at most max bytes. */
static int
sts_cache_field(const char **p, const char *end, char *out, size_t max)
{
	const char *s = *p;
	size_t n;

	while (*p < end && **p != ' ' && **p != '\n')
		(*p)++;
	n = (size_t)(*p - s);
	if (n == 0 || n > max || *p == end || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	if (**p == ' ')
		(*p)++;
	return 0;
}

static int
sts_cache_number(const char *s, long long *v)
{
	char *e;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	*v = strtoll(s, &e, 10);
	return *e == '\0' && *v >= 0 && *v < (1LL << 48) ? 0 : -1;
}

int
mta_sts_cache_parse(const char *data, size_t len, const char *domain,
		    struct mta_sts_cached *c, const char **why)
{
	const char *p = data, *end;
	char f[3][24], dom[DNS_NAME_MAX];
	long long length;
	size_t i;

	memset(c, 0, sizeof(*c));
	*why = "a malformed cache file";
	if (data == NULL || len < sizeof(STS_CACHE_MAGIC) ||
	    memcmp(data, STS_CACHE_MAGIC, sizeof(STS_CACHE_MAGIC) - 1) != 0)
		return -1;
	end = data + len;
	p += sizeof(STS_CACHE_MAGIC) - 1;
	if (sts_cache_field(&p, end, dom, DNS_NAME_MAX - 1) != 0 ||
	    sts_cache_field(&p, end, c->id, MTA_STS_ID_MAX) != 0 ||
	    sts_cache_field(&p, end, f[0], 20) != 0 ||
	    sts_cache_field(&p, end, f[1], 20) != 0 ||
	    sts_cache_field(&p, end, f[2], 20) != 0 || p == end || *p != '\n')
		return -1;
	p++;
	if (strcmp(dom, domain) != 0) {
		*why = "a cache file of another domain";
		return -1;
	}
	for (i = 0; c->id[i] != '\0'; i++)
		if (!sts_alnum(c->id[i]))
			return -1;
	if (sts_cache_number(f[0], &c->fetched) != 0 ||
	    sts_cache_number(f[1], &c->expires) != 0 ||
	    sts_cache_number(f[2], &length) != 0 || length != end - p ||
	    mta_sts_policy_parse(p, (size_t)length, &c->policy, why) != 0)
		return -1;
	if (c->expires != c->fetched + (long long)c->policy.max_age) {
		*why = "the cache file's expiry does not match its max_age";
		return -1;
	}
	strlcpy(c->domain, dom, sizeof(c->domain));
	buf_append(&c->text, p, (size_t)length);
	return 0;
}
