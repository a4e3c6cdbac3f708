/*
 * test_qmgr_bounce: the DSN builder's output against golden files, and the
 * header block extraction.  Each t/unit/golden/qmgr_bounce/NAME.in holds
 * test parameters ("sender: ...", "arrival: ...", "cap: N" and one
 * "rcpt: ADDR ORIG|- DSN REASON..." per recipient, each optionally
 * followed by "remote: MTA [DIAG]", "orcpt: TYPE;ADDR" and "relayed: 1";
 * "kind: delay|success", "envid: ...", "ret: full" (the message is
 * attached whole) and "utf8: 1" for the report), a blank line, then the
 * original message; NAME.out is the expected DSN with the variable fields
 * (date, boundary, Message-ID) fixed.  QMGR_GOLDEN_WRITE=1 rewrites the
 * .out files (review them before committing).  Run from the top directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmgr_bounce.h"
#include "tap.h"

#define GOLDEN_DIR "t/unit/golden/qmgr_bounce/"
#define MAX_RCPT 16

struct golden_case {
	char sender[256], arrival[64], envid[128];
	size_t cap;
	enum qmgr_dsn_kind kind;
	int full, utf8;
	struct qmgr_bounce_rcpt rcpt[MAX_RCPT];
	char *rcpt_line[MAX_RCPT];
	size_t rcpt_count;
	const char *content;
	size_t content_len;
};

static int
read_file(const char *path, struct buf *out)
{
	char chunk[4096];
	size_t n;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(out, chunk, n);
	fclose(fp);
	return 0;
}

/* "rcpt: ADDR ORIG DSN REASON..." split in place. */
static int
parse_rcpt(struct golden_case *c, char *line)
{
	struct qmgr_bounce_rcpt *r;
	char *f[3];
	int i;

	if (c->rcpt_count == MAX_RCPT)
		return -1;
	c->rcpt_line[c->rcpt_count] = line;
	r = &c->rcpt[c->rcpt_count++];
	for (i = 0; i < 3; i++) {
		f[i] = line;
		line = strchr(line, ' ');
		if (line == NULL)
			return -1;
		*line++ = '\0';
	}
	r->addr = f[0];
	r->orig = strcmp(f[1], "-") == 0 ? NULL : f[1];
	r->dsn = f[2];
	r->reason = line;
	return 0;
}

static int
parse_case(char *text, size_t len, struct golden_case *c)
{
	char *p = text, *nl;

	memset(c, 0, sizeof(*c));
	c->cap = 65536;
	while ((nl = memchr(p, '\n', (size_t)(text + len - p))) != NULL) {
		*nl = '\0';
		if (*p == '\0') {
			c->content = nl + 1;
			c->content_len = (size_t)(text + len - (nl + 1));
			return 0;
		}
		if (strncmp(p, "sender: ", 8) == 0)
			snprintf(c->sender, sizeof(c->sender), "%s", p + 8);
		else if (strncmp(p, "arrival: ", 9) == 0)
			snprintf(c->arrival, sizeof(c->arrival), "%s", p + 9);
		else if (strncmp(p, "cap: ", 5) == 0)
			c->cap = strtoul(p + 5, NULL, 10);
		else if (strncmp(p, "envid: ", 7) == 0)
			snprintf(c->envid, sizeof(c->envid), "%s", p + 7);
		else if (strcmp(p, "kind: delay") == 0)
			c->kind = QMGR_DSN_DELAY;
		else if (strcmp(p, "kind: success") == 0)
			c->kind = QMGR_DSN_SUCCESS;
		else if (strcmp(p, "ret: full") == 0)
			c->full = 1;
		else if (strcmp(p, "utf8: 1") == 0)
			c->utf8 = 1;
		else if (strncmp(p, "orcpt: ", 7) == 0 && c->rcpt_count > 0)
			c->rcpt[c->rcpt_count - 1].orcpt = p + 7;
		else if (strcmp(p, "relayed: 1") == 0 && c->rcpt_count > 0)
			c->rcpt[c->rcpt_count - 1].relayed = 1;
		else if (strncmp(p, "remote: ", 8) == 0 && c->rcpt_count > 0 &&
			 strchr(p + 8, ' ') != NULL) {
			/* "remote: MTA [DIAG]": the last rcpt's server. */
			struct qmgr_bounce_rcpt *r =
			    &c->rcpt[c->rcpt_count - 1];
			char *sp = strchr(p + 8, ' ');
			*sp = '\0';
			r->mta = p + 8;
			r->diag = sp[1] != '\0' ? sp + 1 : NULL;
		} else if (strncmp(p, "rcpt: ", 6) != 0 ||
			   parse_rcpt(c, p + 6) != 0)
			return -1;
		p = nl + 1;
	}
	return -1;
}

static void
build_case(const struct golden_case *c, struct buf *out)
{
	struct qmgr_bounce_input in;
	size_t avail = c->content_len < c->cap ? c->content_len : c->cap;

	memset(&in, 0, sizeof(in));
	in.myhostname = "mx.example.org";
	in.sender = c->sender;
	in.date = "Thu, 01 Jan 2026 12:00:00 +0000";
	in.arrival_date = c->arrival;
	in.boundary = "1767268800.0123456789ABCDEF.BOUNDARY";
	in.message_id = "1767268800.0123456789ABCDEF@mx.example.org";
	in.rcpt = c->rcpt;
	in.rcpt_count = c->rcpt_count;
	in.headers = c->content;
	in.headers_len =
	    c->full ? avail : qmgr_bounce_header_len(c->content, avail);
	in.kind = c->kind;
	in.full = c->full;
	in.utf8 = c->utf8;
	in.envid = c->envid[0] != '\0' ? c->envid : NULL;
	if (qmgr_bounce_build(&in, out) != 0)
		buf_set_str(out, "(qmgr_bounce_build failed)\n");
}

static void
golden(const char *name)
{
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	struct golden_case c;
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s.in", name);
	if (read_file(path, &in) != 0 || parse_case(in.data, in.len, &c) != 0) {
		ok(0, "%s: read and parse %s", name, path);
		goto out;
	}
	build_case(&c, &got);
	snprintf(path, sizeof(path), GOLDEN_DIR "%s.out", name);
	if (getenv("QMGR_GOLDEN_WRITE") != NULL &&
	    (fp = fopen(path, "wb")) != NULL) {
		fwrite(got.data, 1, got.len, fp);
		fclose(fp);
	}
	if (read_file(path, &want) != 0) {
		ok(0, "%s: read %s", name, path);
		goto out;
	}
	ok(want.len == got.len && memcmp(want.data, got.data, got.len) == 0,
	   "%s: the DSN matches %s byte for byte", name, path);
	if (want.len != got.len || memcmp(want.data, got.data, got.len) != 0)
		printf("# expected:\n%s# got:\n%s", buf_cstr(&want),
		       buf_cstr(&got));
out:
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
}

static void
test_header_len(void)
{
	const char *m = "Subject: x\nFrom: a@b\n\nbody\n\nmore\n";

	is_int(qmgr_bounce_header_len(m, strlen(m)), 21,
	       "header block ends before the empty line");
	is_int(qmgr_bounce_header_len(m, 15), 11,
	       "a cut header block ends at its last whole line");
	is_int(qmgr_bounce_header_len("Subject: x", 10), 0,
	       "no whole line: no header block");
	is_int(qmgr_bounce_header_len("\nbody\n", 6), 0,
	       "a message without headers has an empty header block");
	is_int(qmgr_bounce_header_len("A: b\n", 5), 5,
	       "a message of headers only keeps them all");
}

static void
test_refusals(void)
{
	struct qmgr_bounce_rcpt r = {"bob@example.org",
				     NULL,
				     "5.1.1",
				     "unknown user",
				     NULL,
				     NULL,
				     NULL,
				     0};
	struct qmgr_bounce_input in;
	struct buf out = BUF_INIT;
	const char *hdr = "Subject: --B.1 inside\n";

	memset(&in, 0, sizeof(in));
	in.myhostname = "mx.example.org";
	in.sender = "alice@example.com";
	in.date = in.arrival_date = "Thu, 01 Jan 2026 12:00:00 +0000";
	in.boundary = "B.1";
	in.message_id = "x@mx.example.org";
	in.rcpt = &r;
	in.rcpt_count = 1;
	in.headers = hdr;
	in.headers_len = strlen(hdr);
	is_int(qmgr_bounce_build(&in, &out), -1,
	       "a boundary found in the original headers is refused");
	in.boundary = "B.2";
	is_int(qmgr_bounce_build(&in, &out), 0, "another boundary is fine");
	in.sender = "";
	is_int(qmgr_bounce_build(&in, &out), -1,
	       "no DSN is ever built for the null sender");
	in.sender = "alice@example.com";
	in.rcpt_count = 0;
	is_int(qmgr_bounce_build(&in, &out), -1,
	       "no DSN without a failed recipient");
	in.rcpt_count = 1;
	in.boundary = "bad boundary\n";
	is_int(qmgr_bounce_build(&in, &out), -1,
	       "a boundary with unsafe characters is refused");
	buf_free(&out);
}

int
main(void)
{
	static const char *const cases[] = {
	    "simple",       "several",  "expired",     "remote",    "hostile",
	    "headers_only", "dsn_full", "dsn_success", "dsn_delay", "dsn_utf8"};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		golden(cases[i]);
	test_header_len();
	test_refusals();
	return done_testing();
}
