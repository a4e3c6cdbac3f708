/*
 * fuzz_xtext: hostile DSN parameter values into the xtext decoder and the
 * RFC 3461 checks of dsn.c.  The decoder must never output more than it
 * took, and decoding the input in two pieces cut between xtext units must
 * give the same bytes and the same verdict as decoding it whole.  A
 * NOTIFY that parses must format to a text that parses to the same bits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "xtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cut at or after want that does not split a "+XX". */
static size_t
unit_boundary(const char *p, size_t len, size_t want)
{
	size_t i = 0;

	while (i < want && i < len)
		i += p[i] == '+' ? 3 : 1;
	return i < len ? i : len;
}

static void
check_xtext(const char *p, size_t len, size_t want)
{
	struct buf whole = BUF_INIT, parts = BUF_INIT;
	size_t cut = unit_boundary(p, len, want);
	int a, b;

	a = xtext_decode(p, len, &whole);
	b = xtext_decode(p, cut, &parts);
	if (b == 0)
		b = xtext_decode(p + cut, len - cut, &parts);
	if (whole.len > len || a != b || (a == 0 && !buf_equal(&whole, &parts)))
		abort();
	if (a == 0) {
		(void)dsn_envid_ok(whole.data, whole.len);
		(void)dsn_orcpt_ok(whole.data, whole.len);
	}
	buf_free(&whole);
	buf_free(&parts);
}

static void
check_notify(const char *p, size_t len)
{
	char text[DSN_NOTIFY_TEXT_MAX];
	unsigned bits, again;

	if (dsn_notify_parse(p, len, &bits) != 0)
		return;
	dsn_notify_format(bits, text);
	if (dsn_notify_parse(text, strlen(text), &again) != 0 || again != bits)
		abort();
	(void)dsn_ret_parse(p, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	check_xtext((const char *)data + 1, size - 1, data[0]);
	check_notify((const char *)data + 1, size - 1);
	return 0;
}
