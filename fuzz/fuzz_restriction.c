/*
 * fuzz_restriction: hostile text as a restriction list (split into words
 * as param_list splits a parameter), as an access table value, and as an
 * address, a host name and a client address for access(5)'s keys.  A
 * list that parses must parse again, to the same items, from its own
 * words (names and arguments written back); keys are bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "restriction.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WORDS 160

static struct restriction items[RESTRICTIONS_MAX], again[RESTRICTIONS_MAX];
static struct access_keys keys;

static void
round_trip(size_t count)
{
	const char *words[2 * RESTRICTIONS_MAX];
	char args[RESTRICTIONS_MAX][2 * RESTRICTION_ARG_MAX + 8];
	struct buf err = BUF_INIT;
	size_t i, n = 0, count2;

	for (i = 0; i < count; i++) {
		words[n++] = restriction_name(items[i].kind);
		if (items[i].table == TABLE_CIDR)
			snprintf(args[i], sizeof(args[i]), "cidr:%s",
				 items[i].arg);
		else if (items[i].table == TABLE_LMDB)
			snprintf(args[i], sizeof(args[i]), "lmdb:%s",
				 items[i].arg);
		else if (items[i].kind == RESTRICT_REJECT_RBL_CLIENT ||
			 items[i].kind == RESTRICT_REJECT_RHSBL_SENDER)
			snprintf(args[i], sizeof(args[i]), "%s%s%s",
				 items[i].arg, items[i].filter[0] ? "=" : "",
				 items[i].filter);
		else
			continue;
		words[n++] = args[i];
	}
	if (restriction_list_parse(words, n, again, RESTRICTIONS_MAX, &count2,
				   &err) != 0 ||
	    count2 != count)
		abort();
	for (i = 0; i < count; i++)
		if (again[i].kind != items[i].kind ||
		    again[i].table != items[i].table ||
		    strcmp(again[i].arg, items[i].arg) != 0 ||
		    strcmp(again[i].filter, items[i].filter) != 0 ||
		    memcmp(&again[i].dnsbl, &items[i].dnsbl,
			   sizeof(items[i].dnsbl)) != 0)
			abort();
	buf_free(&err);
}

static void
check_keys(void)
{
	size_t i;

	if (keys.n > ACCESS_KEYS_MAX)
		abort();
	for (i = 0; i < keys.n; i++)
		if (strlen(keys.key[i]) == 0 ||
		    strlen(keys.key[i]) >= ACCESS_KEY_MAX)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *copy, *save = NULL, *w;
	const char *words[WORDS];
	struct access_action a;
	struct buf err = BUF_INIT;
	size_t n = 0, count;

	memcpy(text, data, size);
	text[size] = '\0';
	(void)access_action_parse((const char *)data, size, &a);
	if (strlen(a.text) >= sizeof(a.text))
		abort();
	keys.n = 0;
	access_keys_address(text, &keys);
	check_keys();
	keys.n = 0;
	access_keys_domain(text, &keys);
	check_keys();
	keys.n = 0;
	access_keys_client_addr(text, &keys);
	check_keys();
	copy = strdup(text);
	for (w = strtok_r(copy, ", \t\n", &save); w != NULL && n < WORDS;
	     w = strtok_r(NULL, ", \t\n", &save))
		words[n++] = w;
	if (restriction_list_parse(words, n, items, RESTRICTIONS_MAX, &count,
				   &err) == 0)
		round_trip(count);
	buf_free(&err);
	free(copy);
	free(text);
	return 0;
}
