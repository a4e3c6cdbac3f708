/*
 * fuzz_remote_mta_sts: hostile bytes into every parser of outside bytes
 * that outbound TLS added to remote (remote_mta_sts.c, and the policy
 * table and SASL values): the first byte picks one.  Each parser is pure
 * and takes whole input, so instead of a chunked run each target checks a
 * second view of the same input that must agree:
 *   policy   the text with CRLF made LF parses the same; a policy that
 *            parses, written out canonically, parses to the same policy;
 *            every plain mx pattern matches itself
 *   txt      a record's id is 1 to 32 letters and digits
 *   http     the body lies inside the input and within 64 KB; with
 *            need_length the answer is never more permissive
 *   cache    a file that reads back, written out again, reads back the same
 *   table    a policy table value that parses, written out, parses the same
 *   sasl     credentials are bounded and hold no control bytes
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_policy(const struct mta_sts_policy *a, const struct mta_sts_policy *b)
{
	size_t i;

	if (a->mode != b->mode || a->max_age != b->max_age || a->nmx != b->nmx)
		return 0;
	for (i = 0; i < a->nmx; i++)
		if (strcmp(a->mx[i], b->mx[i]) != 0)
			return 0;
	return 1;
}

static void
policy_text(const struct mta_sts_policy *p, struct buf *out)
{
	size_t i;

	buf_printf(out, "version: STSv1\nmode: %s\nmax_age: %lu\n",
		   mta_sts_mode_name(p->mode), p->max_age);
	for (i = 0; i < p->nmx; i++)
		buf_printf(out, "mx: %s\n", p->mx[i]);
}

static void
fuzz_policy(const char *p, size_t n)
{
	static struct mta_sts_policy a, b, c;
	struct buf lf = BUF_INIT, text = BUF_INIT;
	const char *why;
	size_t i;
	int ra, rb;

	ra = mta_sts_policy_parse(p, n, &a, &why);
	/* The same lines with LF ends (unless a line ends in two CRs, which
	 * would become another CRLF). */
	for (i = 0; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			buf_append_char(&lf, p[i]);
	rb = mta_sts_policy_parse(lf.data, lf.len, &b, &why);
	if (memmem(p, n, "\r\r\n", 3) == NULL &&
	    (ra != rb || (ra == 0 && !same_policy(&a, &b))))
		abort();
	if (ra == 0) {
		policy_text(&a, &text);
		if (mta_sts_policy_parse(text.data, text.len, &c, &why) != 0 ||
		    !same_policy(&a, &c))
			abort();
		for (i = 0; i < a.nmx; i++)
			if (a.mx[i][0] != '*' && !mta_sts_mx_match(&a, a.mx[i]))
				abort();
	}
	buf_free(&lf);
	buf_free(&text);
}

static void
fuzz_txt(const char *p, size_t n)
{
	char id[MTA_STS_ID_MAX + 1];
	const char *why;
	size_t i, len;

	if (mta_sts_txt_parse(p, n, id, &why) != 1)
		return;
	len = strlen(id);
	if (len == 0 || len > MTA_STS_ID_MAX)
		abort();
	for (i = 0; i < len; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z')))
			abort();
}

static void
fuzz_http(const char *p, size_t n)
{
	size_t off, len, off2, len2;
	const char *why;
	int loose = mta_sts_http_parse(p, n, 0, &off, &len, &why);
	int strict = mta_sts_http_parse(p, n, 1, &off2, &len2, &why);

	if (loose == 0 && (off > n || len > n - off || off + len != n ||
			   len > MTA_STS_POLICY_MAX))
		abort();
	if (strict == 0 && (loose != 0 || off != off2 || len != len2))
		abort();
}

static void
fuzz_cache(const char *p, size_t n)
{
	static struct mta_sts_cached a, b;
	struct buf out = BUF_INIT;
	const char *why;

	if (mta_sts_cache_parse(p, n, "example.com", &a, &why) == 0) {
		mta_sts_cache_format(&a, &out);
		if (mta_sts_cache_parse(out.data, out.len, "example.com", &b,
					&why) != 0 ||
		    !same_policy(&a.policy, &b.policy) ||
		    a.expires != b.expires || strcmp(a.id, b.id) != 0 ||
		    !buf_equal(&a.text, &b.text))
			abort();
		buf_free(&b.text);
	}
	buf_free(&a.text);
	buf_free(&out);
}

static void
fuzz_table(const char *p, size_t n)
{
	struct tls_policy a, b;
	struct buf v = BUF_INIT, again = BUF_INIT;
	const char *why;
	size_t i;

	buf_append(&v, p, n);
	if (buf_has_nul(&v) || tls_policy_parse(buf_cstr(&v), &a, &why) != 0)
		goto done;
	if (a.nmatch > TLS_MATCH_MAX)
		abort();
	buf_append_str(&again, tls_level_name(a.level));
	for (i = 0; i < a.nmatch; i++)
		buf_printf(&again, "%s%s", i == 0 ? " match=" : ":",
			   a.match[i]);
	if (tls_policy_parse(buf_cstr(&again), &b, &why) != 0 ||
	    b.level != a.level || b.nmatch != a.nmatch)
		abort();
	for (i = 0; i < a.nmatch; i++)
		if (strcmp(a.match[i], b.match[i]) != 0)
			abort();
done:
	buf_free(&v);
	buf_free(&again);
}

static void
fuzz_sasl(const char *p, size_t n)
{
	struct sasl_creds c;
	const char *why;
	size_t i;

	if (sasl_creds_parse(p, n, &c, &why) != 0)
		return;
	if (strlen(c.user) == 0 || strlen(c.pass) == 0 ||
	    strlen(c.user) + strlen(c.pass) + 1 != n)
		abort();
	for (i = 0; c.pass[i] != '\0'; i++)
		if ((unsigned char)c.pass[i] < 0x20)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n = size - 1;

	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_policy(p, n);
		break;
	case 1:
		fuzz_txt(p, n);
		break;
	case 2:
		fuzz_http(p, n);
		break;
	case 3:
		fuzz_cache(p, n);
		break;
	case 4:
		fuzz_table(p, n);
		break;
	default:
		fuzz_sasl(p, n);
		break;
	}
	return 0;
}
