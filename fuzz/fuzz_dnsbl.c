/*
 * fuzz_dnsbl: the DNS blocklists' site parser and scoring with hostile
 * input: the bytes up to the first newline are postscreen_dnsbl_sites
 * entries (comma-separated), the rest stands for DNS answers: A records
 * of 4 bytes, whose last one is also taken as a list's TXT text.  A parsed
 * site must have a valid domain and a weight in range; the score of all
 * the records at once must equal the sum of the scores of one record at a
 * time for each list that matches any of them (a list counts once); and
 * the reply text must be printable, bounded, and the same when cleaned
 * twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"

#define SITES_MAX 32 /* as many as postscreen_dnsbl_sites may list */

static size_t
parse_sites(const char *p, size_t len, struct dnsbl_site *sites)
{
	const char *why;
	size_t n = 0, i = 0, j;

	while (i <= len && n < SITES_MAX) {
		for (j = i; j < len && p[j] != ','; j++)
			;
		if (dnsbl_site_parse(p + i, j - i, &sites[n], &why) == 0) {
			if (!dns_name_valid(sites[n].domain) ||
			    sites[n].weight > DNSBL_WEIGHT_MAX ||
			    sites[n].weight < -DNSBL_WEIGHT_MAX)
				abort();
			n++;
		}
		i = j + 1;
	}
	return n;
}

/* One site's score: its weight when any record passes its filter. */
static int
site_score(const struct dnsbl_site *s, const unsigned char *addrs,
	   size_t naddrs)
{
	size_t j;

	for (j = 0; j < naddrs; j++)
		if (dnsbl_site_match(s, addrs + 4 * j))
			return s->weight;
	return 0;
}

static void
check_scores(const struct dnsbl_site *sites, size_t n,
	     const unsigned char *addrs, size_t naddrs)
{
	const struct dnsbl_site *top;
	size_t i, k;
	int total, sum, best;

	for (i = 0; i < n; i++) {
		top = NULL;
		total =
		    dnsbl_score(sites, n, sites[i].domain, addrs, naddrs, &top);
		for (sum = 0, best = 0, k = 0; k < n; k++) {
			int one = strcmp(sites[k].domain, sites[i].domain) == 0
				      ? site_score(&sites[k], addrs, naddrs)
				      : 0;
			sum += one;
			if (one > best)
				best = one;
		}
		if (total != sum || (top == NULL) != (best == 0) ||
		    (top != NULL && top->weight != best))
			abort();
	}
}

static void
check_text(const unsigned char *txt, size_t len)
{
	char a[DNSBL_TEXT_MAX + 1], b[DNSBL_TEXT_MAX + 1];
	size_t i, n;

	dnsbl_text(txt, len, a, sizeof(a));
	n = strlen(a);
	if (n > DNSBL_TEXT_MAX || (n > 0 && (a[0] == ' ' || a[n - 1] == ' ')))
		abort();
	for (i = 0; i < n; i++)
		if (a[i] < 0x20 || a[i] > 0x7e)
			abort();
	dnsbl_text((const unsigned char *)a, n, b, sizeof(b));
	if (strcmp(a, b) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dnsbl_site sites[SITES_MAX];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t spec = nl != NULL ? (size_t)(nl - data) : size, n;
	const unsigned char *rest = data + spec + (nl != NULL);
	size_t rlen = size - spec - (nl != NULL);

	n = parse_sites((const char *)data, spec, sites);
	check_scores(sites, n, rest, rlen / 4);
	check_text(rest, rlen);
	return 0;
}
