/*
 * cidr_table: Postfix's cidr_table(5) format, parsed and matched (see
 * cidr_table.h).  The text may hold any byte; each logical line is cut
 * at a bounded length.  Pure but for the loader at the end.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr_table.h"
#include "params.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* 1 when a bit beyond prefix is set in addr. */
static int
host_bits_set(const struct smtpd_net *n)
{
	unsigned len = n->family == AF_INET ? 4 : 16, i;

	for (i = 0; i < len; i++) {
		unsigned first = i * 8, keep;
		unsigned char mask;

		if (first + 8 <= n->prefix)
			continue;
		keep = n->prefix > first ? n->prefix - first : 0;
		mask = (unsigned char)(0xff >> keep);
		if (n->addr[i] & mask)
			return 1;
	}
	return 0;
}

static void
add_entry(struct cidr_table *t, const struct smtpd_net *net, const char *value,
	  size_t vlen, unsigned lineno)
{
	struct cidr_entry *e;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->entry = xreallocarray(t->entry, t->cap, sizeof(*t->entry));
	}
	e = &t->entry[t->n++];
	e->net = *net;
	e->value = xmalloc(vlen + 1);
	memcpy(e->value, value, vlen);
	e->value[vlen] = '\0';
	e->lineno = lineno;
}

/* One logical line (continuations joined with a space). */
static int
parse_entry(struct cidr_table *t, const char *line, size_t len,
	    const char *filename, unsigned lineno, struct buf *err)
{
	struct smtpd_net net;
	size_t klen = 0, v;

	while (klen < len && !blank(line[klen]))
		klen++;
	for (v = klen; v < len && blank(line[v]); v++)
		;
	while (len > v && blank(line[len - 1]))
		len--;
	if (v >= len) {
		buf_printf(err, "%s:%u: no action after the network", filename,
			   lineno);
		return -1;
	}
	if ((klen == 2 && memcmp(line, "if", 2) == 0) ||
	    (klen == 5 && memcmp(line, "endif", 5) == 0)) {
		buf_printf(err, "%s:%u: if/endif blocks are not supported",
			   filename, lineno);
		return -1;
	}
	if (smtpd_access_parse_net(line, klen, &net) != 0) {
		buf_printf(err, "%s:%u: \"%.*s\" is not a network/prefix",
			   filename, lineno, (int)(klen > 80 ? 80 : klen),
			   line);
		return -1;
	}
	if (host_bits_set(&net)) {
		buf_printf(err,
			   "%s:%u: \"%.*s\" has bits set beyond its prefix",
			   filename, lineno, (int)klen, line);
		return -1;
	}
	add_entry(t, &net, line + v, len - v, lineno);
	return 0;
}

int
cidr_table_parse(const char *text, size_t len, const char *filename,
		 struct cidr_table *t, struct buf *err)
{
	struct buf logical = BUF_INIT;
	unsigned lineno = 0, start = 0;
	size_t pos = 0, end;
	int r = 0;

	while (r == 0 && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		end = nl ? (size_t)(nl - text) : len;
		lineno++;
		if (memchr(text + pos, '\0', end - pos) != NULL) {
			buf_printf(err, "%s:%u: NUL byte", filename, lineno);
			r = -1;
		} else if (end - pos > CIDR_VALUE_MAX ||
			   (blank(text[pos]) &&
			    logical.len + (end - pos) > CIDR_VALUE_MAX)) {
			buf_printf(err, "%s:%u: line longer than %d bytes",
				   filename, lineno, CIDR_VALUE_MAX);
			r = -1;
		} else if (end > pos && blank(text[pos]) && logical.len > 0) {
			size_t i = pos;
			while (i < end && blank(text[i]))
				i++;
			buf_append_char(&logical, ' ');
			buf_append(&logical, text + i, end - i);
		} else {
			size_t i = pos;
			while (i < end && blank(text[i]))
				i++;
			if (logical.len > 0)
				r = parse_entry(t, logical.data, logical.len,
						filename, start, err);
			buf_reset(&logical);
			if (r == 0 && i < end && text[i] != '#') {
				if (i > pos) {
					buf_printf(err,
						   "%s:%u: a continuation line "
						   "without an entry before it",
						   filename, lineno);
					r = -1;
				}
				buf_append(&logical, text + i, end - i);
				start = lineno;
			}
		}
		pos = end + 1;
	}
	if (r == 0 && logical.len > 0)
		r = parse_entry(t, logical.data, logical.len, filename, start,
				err);
	buf_free(&logical);
	return r;
}

const char *
cidr_table_lookup(const struct cidr_table *t, const char *addr)
{
	struct smtpd_net a;
	size_t i;

	if (smtpd_access_parse_addr(addr, &a) != 0)
		return NULL;
	for (i = 0; i < t->n; i++)
		if (smtpd_access_match(&t->entry[i].net, 1, &a))
			return t->entry[i].value;
	return NULL;
}

void
cidr_table_free(struct cidr_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->entry[i].value);
	free(t->entry);
	memset(t, 0, sizeof(*t));
}

int
cidr_table_load(const char *path, struct cidr_table *t, struct buf *err)
{
	struct buf text = BUF_INIT;
	int r;

	if (config_read_file(path, CIDR_TABLE_FILE_MAX, &text, err) != 0) {
		buf_free(&text);
		return -1;
	}
	r = cidr_table_parse(text.data, text.len, path, t, err);
	buf_free(&text);
	return r;
}
