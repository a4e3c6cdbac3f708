/*
 * fuzz_cidr_table: hostile text as a CIDR table (cidr_table(5) syntax).
 * The parser must not crash or leak; a table parsed whole must equal the
 * same text parsed in two pieces cut at the start of a logical line (a
 * line that does not start with a blank), entry for entry; and every
 * entry's own network address must match some entry.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cut at or after want, just after a '\n' and before a non-blank. */
static size_t
line_boundary(const char *p, size_t len, size_t want)
{
	size_t i;

	for (i = want; i < len; i++)
		if (i > 0 && p[i - 1] == '\n' && p[i] != ' ' && p[i] != '\t' &&
		    p[i] != '\r')
			return i;
	return len;
}

static int
same_entries(const struct cidr_table *a, const struct cidr_table *b1,
	     const struct cidr_table *b2)
{
	size_t i;

	if (a->n != b1->n + b2->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct cidr_entry *x = &a->entry[i];
		const struct cidr_entry *y =
		    i < b1->n ? &b1->entry[i] : &b2->entry[i - b1->n];
		if (memcmp(&x->net, &y->net, sizeof(x->net)) != 0 ||
		    strcmp(x->value, y->value) != 0)
			return 0;
	}
	return 1;
}

static void
self_match(const struct cidr_table *t)
{
	char text[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct smtpd_net *n = &t->entry[i].net;
		if (inet_ntop(n->family, n->addr, text, sizeof(text)) == NULL ||
		    cidr_table_lookup(t, text) == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr_table whole = {0}, p1 = {0}, p2 = {0};
	struct buf err = BUF_INIT;
	const char *text = (const char *)data;
	size_t cut;
	int a, b;

	if (size < 1)
		return 0;
	text++; /* the first byte chooses the cut */
	size--;
	cut = line_boundary(text, size, size ? data[0] % size : 0);
	a = cidr_table_parse(text, size, "f", &whole, &err);
	b = cidr_table_parse(text, cut, "f", &p1, &err);
	if (b == 0)
		b = cidr_table_parse(text + cut, size - cut, "f", &p2, &err);
	if (a != b || (a == 0 && !same_entries(&whole, &p1, &p2)))
		abort();
	if (a == 0)
		self_match(&whole);
	(void)cidr_table_lookup(&whole, "192.0.2.1");
	(void)cidr_table_lookup(&whole, "2001:db8::1");
	cidr_table_free(&whole);
	cidr_table_free(&p1);
	cidr_table_free(&p2);
	buf_free(&err);
	return 0;
}
