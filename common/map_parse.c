/*
 * map_parse: the pure parser of map source files (formats in maps.h and
 * aliases(5)).  The text is treated as hostile even though root writes
 * it: a NUL byte, an over-long key or value, a missing value or a
 * duplicate key rejects the whole file with "FILE:LINE: reason", so a
 * typo never builds a half-right map.  Run by `moat map build` and
 * newaliases through map_build, and by the fuzz target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"

/* Keys already seen, for duplicate errors that name the first line. */
struct map_seen {
	char **keys;
	unsigned *lines;
	size_t cap;
	size_t count;
};

struct map_parser {
	const char *filename;
	enum map_format fmt;
	map_entry_cb cb;
	void *ctx;
	struct buf *err;
	struct map_seen seen;
	struct buf key;
	struct buf value;
};

static size_t
map_hash(const char *s)
{
	size_t h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void
map_seen_grow(struct map_seen *set)
{
	struct map_seen bigger;
	size_t i, j;

	bigger.cap = set->cap ? set->cap * 2 : 64;
	bigger.count = set->count;
	bigger.keys = xcalloc(bigger.cap, sizeof(char *));
	bigger.lines = xcalloc(bigger.cap, sizeof(unsigned));
	for (i = 0; i < set->cap; i++) {
		if (set->keys[i] == NULL)
			continue;
		j = map_hash(set->keys[i]) & (bigger.cap - 1);
		while (bigger.keys[j] != NULL)
			j = (j + 1) & (bigger.cap - 1);
		bigger.keys[j] = set->keys[i];
		bigger.lines[j] = set->lines[i];
	}
	free(set->keys);
	free(set->lines);
	*set = bigger;
}

/* 0 when added; otherwise the line where key was first seen. */
static unsigned
map_seen_add(struct map_seen *set, const char *key, unsigned line)
{
	size_t j;

	if (set->count * 2 >= set->cap)
		map_seen_grow(set);
	j = map_hash(key) & (set->cap - 1);
	while (set->keys[j] != NULL) {
		if (strcmp(set->keys[j], key) == 0)
			return set->lines[j];
		j = (j + 1) & (set->cap - 1);
	}
	set->keys[j] = xstrdup(key);
	set->lines[j] = line;
	set->count++;
	return 0;
}

static void
map_seen_free(struct map_seen *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->keys[i]);
	free(set->keys);
	free(set->lines);
}

static int
map_fail(struct map_parser *mp, unsigned line, const char *why)
{
	if (mp->err != NULL) {
		buf_reset(mp->err);
		buf_printf(mp->err, "%s:%u: %s", mp->filename, line, why);
	}
	return -1;
}

static int
map_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static char
map_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Check and emit the entry in mp->key / mp->value. */
static int
map_emit(struct map_parser *mp, unsigned line)
{
	unsigned first;
	size_t i;

	if (mp->key.len == 0)
		return map_fail(mp, line, "missing key");
	if (mp->key.len > MAP_KEY_MAX)
		return map_fail(mp, line, "key too long");
	if (mp->value.len > MAP_VALUE_MAX)
		return map_fail(mp, line, "value too long");
	for (i = 0; i < mp->key.len; i++)
		mp->key.data[i] = map_lower(mp->key.data[i]);
	first = map_seen_add(&mp->seen, mp->key.data, line);
	if (first != 0) {
		if (mp->err != NULL) {
			buf_reset(mp->err);
			buf_printf(mp->err,
				   "%s:%u: duplicate key %s (first at line %u)",
				   mp->filename, line, mp->key.data, first);
		}
		return -1;
	}
	if (mp->cb(mp->key.data, buf_cstr(&mp->value), line, mp->ctx, mp->err) <
	    0) {
		if (mp->err != NULL && mp->err->len == 0)
			map_fail(mp, line, "cannot store the entry");
		return -1;
	}
	return 0;
}

/* MAP_TABLE: "key value", the value being the rest of the line trimmed. */
static int
map_table_line(struct map_parser *mp, const char *p, size_t len, unsigned line)
{
	size_t i = 0, end = len;

	if (map_blank(p[0]))
		return map_fail(mp, line, "line starts with white space");
	while (i < len && !map_blank(p[i]))
		i++;
	buf_reset(&mp->key);
	buf_append(&mp->key, p, i);
	while (i < len && map_blank(p[i]))
		i++;
	while (end > i && map_blank(p[end - 1]))
		end--;
	if (i == end)
		return map_fail(mp, line, "missing value");
	buf_reset(&mp->value);
	buf_append(&mp->value, p + i, end - i);
	return map_emit(mp, line);
}

/* One target: white space runs outside quotes become one space. */
static void
map_target(struct buf *out, const char *p, size_t len)
{
	int quoted = 0, space = 0, any = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = p[i];
		if (!quoted && (map_blank(c) || c == '\n')) {
			space = any;
			continue;
		}
		if (!any && out->len > 0)
			buf_append_str(out, ", ");
		if (space)
			buf_append_char(out, ' ');
		space = 0;
		any = 1;
		if (c == '"')
			quoted = !quoted;
		buf_append_char(out, c);
	}
}

/* Split on commas outside double quotes; join with ", ". */
static int
map_targets(struct map_parser *mp, const char *p, size_t len, unsigned line)
{
	size_t i, start = 0;
	int quoted = 0;

	buf_reset(&mp->value);
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] == '"')
			quoted = !quoted;
		if (i == len || (p[i] == ',' && !quoted)) {
			map_target(&mp->value, p + start, i - start);
			start = i + 1;
			if (mp->value.len > MAP_VALUE_MAX)
				return map_fail(mp, line, "value too long");
		}
	}
	if (quoted)
		return map_fail(mp, line, "unbalanced double quote");
	if (mp->value.len == 0)
		return map_fail(mp, line, "no targets");
	return 0;
}

/* MAP_ALIASES: one logical line, continuations already joined. */
static int
map_alias_entry(struct map_parser *mp, const char *p, size_t len, unsigned line)
{
	size_t i = 0;

	while (i < len && p[i] != ':' && !map_blank(p[i]) && p[i] != '\n')
		i++;
	buf_reset(&mp->key);
	buf_append(&mp->key, p, i);
	if (i == 0)
		return map_fail(mp, line, "missing name");
	while (i < len && map_blank(p[i]))
		i++;
	if (i == len || p[i] != ':')
		return map_fail(mp, line, "missing ':' after the name");
	if (mp->key.len > MAP_KEY_MAX)
		return map_fail(mp, line, "key too long");
	if (map_targets(mp, p + i + 1, len - i - 1, line) < 0)
		return -1;
	return map_emit(mp, line);
}

static int
map_skip_line(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && map_blank(p[i]))
		i++;
	return i == len || p[i] == '#';
}

/*
 * Aliases: a logical line starts at a line that does not start with
 * white space and runs over the following lines that do; blank and
 * comment lines in between are skipped.
 */
static int
map_parse_lines(struct map_parser *mp, const char *text, size_t len)
{
	struct buf entry = BUF_INIT;
	size_t pos = 0, n;
	unsigned line = 0, entry_line = 0;
	const char *nl;
	int r = 0;

	while (r == 0 && pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		line++;
		if (memchr(text + pos, '\0', n) != NULL)
			r = map_fail(mp, line, "NUL byte");
		else if (map_skip_line(text + pos, n))
			;
		else if (mp->fmt == MAP_TABLE)
			r = map_table_line(mp, text + pos, n, line);
		else if (map_blank(text[pos])) {
			if (entry_line == 0)
				r = map_fail(mp, line,
					     "continuation line without an "
					     "entry");
			else if (entry.len > MAP_VALUE_MAX + MAP_KEY_MAX + 2)
				r = map_fail(mp, entry_line, "entry too long");
			buf_append_char(&entry, '\n');
			buf_append(&entry, text + pos, n);
		} else {
			if (entry_line != 0)
				r = map_alias_entry(mp, entry.data, entry.len,
						    entry_line);
			buf_reset(&entry);
			buf_append(&entry, text + pos, n);
			entry_line = line;
		}
		pos += n + (nl != NULL);
	}
	if (r == 0 && entry_line != 0)
		r = map_alias_entry(mp, entry.data, entry.len, entry_line);
	buf_free(&entry);
	return r;
}

int
map_parse(const char *text, size_t len, enum map_format fmt,
	  const char *filename, map_entry_cb cb, void *ctx, struct buf *err)
{
	struct map_parser mp;
	int r;

	memset(&mp, 0, sizeof(mp));
	mp.filename = filename != NULL ? filename : "map";
	mp.fmt = fmt;
	mp.cb = cb;
	mp.ctx = ctx;
	mp.err = err;
	buf_init(&mp.key);
	buf_init(&mp.value);
	if (err != NULL)
		buf_reset(err);
	r = map_parse_lines(&mp, text, len);
	map_seen_free(&mp.seen);
	buf_free(&mp.key);
	buf_free(&mp.value);
	return r;
}
