/*
 * dnsbl: the pure half of DNS blocklists (dnsbl.h): site entries parsed
 * with bounds (the parameters are root's, but a typo must be an error
 * naming the entry, never a crash), A records matched against a site's
 * filter, the score of an answer, and a list's TXT text (hostile: from
 * any DNS server) cut down to what may stand in a reply line.  No I/O, no
 * globals.  Run by screen and smtpd; fuzzed by fuzz/fuzz_dnsbl.c.
 */
#include <string.h>

#include "dnsbl.h"

static void
site_bit_set(unsigned char *set, unsigned v)
{
	set[v / 8] |= (unsigned char)(1u << (v % 8));
}

/* A decimal 0..255 at *p (advanced); -1 when there is none. */
static int
site_number(const char **p, const char *end)
{
	unsigned v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 255)
			return -1;
	}
	*p = s;
	return (int)v;
}

/* "[n;m..k]" at *p, into set. */
static int
site_octet_set(const char **p, const char *end, unsigned char *set)
{
	const char *s = *p + 1;
	int lo, hi, v;

	for (;;) {
		if ((lo = site_number(&s, end)) < 0)
			return -1;
		hi = lo;
		if (end - s >= 2 && s[0] == '.' && s[1] == '.') {
			s += 2;
			if ((hi = site_number(&s, end)) < lo)
				return -1;
		}
		for (v = lo; v <= hi; v++)
			site_bit_set(set, (unsigned)v);
		if (s < end && *s == ';') {
			s++;
			continue;
		}
		if (s < end && *s == ']') {
			*p = s + 1;
			return 0;
		}
		return -1;
	}
}

/* "d.d.d.d" with numbers or sets for octets. */
static int
site_filter(const char *s, const char *end, struct dnsbl_site *out)
{
	int i, v;

	for (i = 0; i < 4; i++) {
		if (i > 0 && (s == end || *s++ != '.'))
			return -1;
		if (s < end && *s == '[') {
			if (site_octet_set(&s, end, out->octet[i]) != 0)
				return -1;
		} else if ((v = site_number(&s, end)) >= 0) {
			site_bit_set(out->octet[i], (unsigned)v);
		} else {
			return -1;
		}
	}
	out->filtered = 1;
	return s == end ? 0 : -1;
}

/* "*weight": an optional '-', then digits; within the bounds. */
static int
site_weight(const char *s, const char *end, int *out)
{
	int neg = 0, v = 0;

	if (s < end && *s == '-') {
		neg = 1;
		s++;
	}
	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > DNSBL_WEIGHT_MAX)
			return -1;
	}
	*out = neg ? -v : v;
	return 0;
}

int
dnsbl_site_parse(const char *spec, size_t len, struct dnsbl_site *out,
		 const char **why)
{
	const char *end = spec + len, *star, *eq, *dend;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	out->weight = 1;
	star = memchr(spec, '*', len);
	eq = memchr(spec, '=', star != NULL ? (size_t)(star - spec) : len);
	dend = eq != NULL ? eq : star != NULL ? star : end;
	n = (size_t)(dend - spec);
	if (n > 0 && spec[n - 1] == '.')
		n--; /* a trailing dot */
	if (n == 0 || n >= sizeof(out->domain) || spec[n - 1] == '.' ||
	    memchr(spec, '\0', n) != NULL) {
		*why = "bad list domain";
		return -1;
	}
	for (i = 0; i < n; i++) {
		char ch = spec[i];
		out->domain[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	out->domain[n] = '\0';
	if (!dns_name_valid(out->domain) || strchr(out->domain, '.') == NULL) {
		*why = "bad list domain";
		return -1;
	}
	if (eq != NULL &&
	    site_filter(eq + 1, star != NULL ? star : end, out) != 0) {
		*why = "bad filter (expected d.d.d.d, an octet may be "
		       "[n;m..k])";
		return -1;
	}
	if (star != NULL && site_weight(star + 1, end, &out->weight) != 0) {
		*why = "bad weight (expected an integer of -1000..1000)";
		return -1;
	}
	return 0;
}

int
dnsbl_site_match(const struct dnsbl_site *s, const unsigned char *addr)
{
	int i;

	if (!s->filtered)
		return 1;
	for (i = 0; i < 4; i++)
		if (!(s->octet[i][addr[i] / 8] & (1u << (addr[i] % 8))))
			return 0;
	return 1;
}

int
dnsbl_listed(const struct dnsbl_site *s, const unsigned char *addrs,
	     size_t naddrs)
{
	size_t j;

	for (j = 0; j < naddrs; j++)
		if (dnsbl_site_match(s, addrs + 4 * j))
			return 1;
	return 0;
}

int
dnsbl_score(const struct dnsbl_site *sites, size_t n, const char *domain,
	    const unsigned char *addrs, size_t naddrs,
	    const struct dnsbl_site **top)
{
	size_t i;
	int score = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(sites[i].domain, domain) != 0 ||
		    !dnsbl_listed(&sites[i], addrs, naddrs))
			continue;
		score += sites[i].weight;
		if (sites[i].weight > 0 &&
		    (*top == NULL || sites[i].weight > (*top)->weight))
			*top = &sites[i];
	}
	return score;
}

void
dnsbl_text(const unsigned char *txt, size_t len, char *out, size_t size)
{
	size_t i, o = 0, max = size - 1;
	int space = 0;

	if (max > DNSBL_TEXT_MAX)
		max = DNSBL_TEXT_MAX;
	for (i = 0; i < len && o < max; i++) {
		unsigned char ch = txt[i];
		if (ch == ' ' || ch == '\t') {
			space = o > 0;
			continue;
		}
		if (ch < 0x21 || ch > 0x7e)
			continue;
		if (space && o + 1 < max)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
}
