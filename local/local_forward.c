/*
 * local_forward: the pure parsers of local's targets.  An alias value (from
 * the root-owned aliases map) or a user's .forward text is split into
 * items, each item is classified (address, \user, |command, /file,
 * :include:), and a command line is split into argv words without a shell.
 * All input is hostile: a .forward is written by any user, and the items
 * a delivery child reports come back through here in the root parent.
 * No I/O, no logging, no globals; runs in local's parent and children, in
 * the unit tests and the fuzz target.
 */
#include <string.h>
#include <strings.h>

#include "local.h"

static int
forward_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

void
local_items_init(struct local_items *it)
{
	buf_init(&it->text);
	it->count = 0;
}

void
local_items_reset(struct local_items *it)
{
	buf_reset(&it->text);
	it->count = 0;
}

void
local_items_free(struct local_items *it)
{
	buf_free(&it->text);
	it->count = 0;
}

const char *
local_item(const struct local_items *it, size_t i)
{
	return it->text.data + it->off[i];
}

int
local_items_add(struct local_items *it, const char *s, size_t len)
{
	if (it->count >= LOCAL_TARGETS_MAX || len == 0 ||
	    len > LOCAL_ITEM_MAX || memchr(s, '\0', len) != NULL)
		return -1;
	it->off[it->count++] = it->text.len;
	buf_append(&it->text, s, len);
	buf_append_char(&it->text, '\0');
	return 0;
}

/*
 * An item that is one quoted string from its first byte to its last loses
 * the quotes and its backslash escapes; anything else stays as it is
 * ("a b"@example.com keeps its quoted local part).
 */
static int
forward_add_item(struct local_items *out, const char *s, size_t n)
{
	char tmp[LOCAL_ITEM_MAX];
	size_t i, k = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return local_items_add(out, s, n);
	for (i = 1; i < n - 1; i++) {
		if (s[i] == '"')
			return local_items_add(out, s, n);
		if (s[i] == '\\' && i + 1 < n - 1)
			i++;
		tmp[k++] = s[i];
	}
	while (k > 0 && forward_blank(tmp[k - 1]))
		k--;
	for (i = 0; i < k && forward_blank(tmp[i]); i++)
		;
	if (k == i)
		return 0;
	return local_items_add(out, tmp + i, k - i);
}

/* The end of the item that starts at i: the index of ',' '\n' or len. */
static size_t
forward_item_end(const char *s, size_t len, size_t i, const char **why)
{
	int quoted = 0;

	for (; i < len; i++) {
		if (s[i] == '\0') {
			*why = "NUL byte";
			return (size_t)-1;
		}
		if (s[i] == '\n' && quoted) {
			*why = "unterminated quote";
			return (size_t)-1;
		}
		if (quoted && s[i] == '\\' && i + 1 < len && s[i + 1] != '\n')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && (s[i] == ',' || s[i] == '\n'))
			return i;
	}
	if (quoted) {
		*why = "unterminated quote";
		return (size_t)-1;
	}
	return len;
}

int
local_targets_split(const char *s, size_t len, struct local_items *out,
		    const char **why)
{
	size_t i = 0, start, end;
	int line_start = 1;

	local_items_reset(out);
	while (i < len) {
		while (i < len && forward_blank(s[i]))
			i++;
		if (i < len && line_start && s[i] == '#') {
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		start = i;
		end = forward_item_end(s, len, i, why);
		if (end == (size_t)-1)
			return -1;
		line_start = end < len && s[end] == '\n';
		i = end < len ? end + 1 : len;
		while (end > start && forward_blank(s[end - 1]))
			end--;
		if (end == start)
			continue;
		if (end - start > LOCAL_ITEM_MAX) {
			*why = "target too long";
			return -1;
		}
		if (out->count >= LOCAL_TARGETS_MAX) {
			*why = "too many targets";
			return -1;
		}
		if (forward_add_item(out, s + start, end - start) != 0) {
			*why = "malformed target";
			return -1;
		}
	}
	return 0;
}

const char *
local_target_type_name(enum local_target_type type)
{
	switch (type) {
	case TARGET_ADDRESS:
		return "address";
	case TARGET_NOFORWARD:
		return "noforward";
	case TARGET_COMMAND:
		return "command";
	case TARGET_FILE:
		return "file";
	case TARGET_INCLUDE:
		return "include";
	}
	return "unknown";
}

static int
forward_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

static int
forward_set_text(struct local_target *t, const char *s, size_t len)
{
	if (len > LOCAL_ITEM_MAX)
		return -1;
	memcpy(t->text, s, len);
	t->text[len] = '\0';
	return 0;
}

static int
forward_address(const char *s, size_t len, struct local_target *t,
		const char **why)
{
	enum addr_error e;

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	e = address_parse(s, len, ADDR_ALLOW_NO_DOMAIN, &t->addr);
	if (e != ADDR_OK) {
		*why = address_strerror(e);
		return -1;
	}
	if (address_format(&t->addr, t->text, sizeof(t->text)) < 0) {
		*why = "address too long";
		return -1;
	}
	return 0;
}

int
local_target_classify(const char *item, size_t len, struct local_target *t,
		      const char **why)
{
	static const char include[] = ":include:";
	size_t n = sizeof(include) - 1;

	memset(&t->addr, 0, sizeof(t->addr));
	t->text[0] = '\0';
	if (len == 0 || len > LOCAL_ITEM_MAX || memchr(item, '\0', len)) {
		*why = len == 0 ? "empty target" : "malformed target";
		return -1;
	}
	if (forward_controls(item, len)) {
		*why = "control character in target";
		return -1;
	}
	if (item[0] == '|') {
		t->type = TARGET_COMMAND;
		for (item++, len--; len > 0 && forward_blank(*item); len--)
			item++;
		if (len == 0) {
			*why = "empty command";
			return -1;
		}
		return forward_set_text(t, item, len);
	}
	if (item[0] == '/') {
		t->type = TARGET_FILE;
		return forward_set_text(t, item, len);
	}
	if (len >= n && strncasecmp(item, include, n) == 0) {
		t->type = TARGET_INCLUDE;
		return forward_set_text(t, item + n, len - n);
	}
	if (item[0] == '\\') {
		t->type = TARGET_NOFORWARD;
		return forward_address(item + 1, len - 1, t, why);
	}
	t->type = TARGET_ADDRESS;
	return forward_address(item, len, t, why);
}

/* One word of a command line starting at *i; -1 with *why on error. */
static int
forward_word(const char *s, size_t len, size_t *i, struct local_argv *av,
	     size_t *used, const char **why)
{
	int quoted = 0;
	size_t k = *used;

	if (av->argc >= LOCAL_ARGV_MAX) {
		*why = "too many words in command";
		return -1;
	}
	av->argv[av->argc++] = av->store + k;
	for (; *i < len && (quoted || !forward_blank(s[*i])); (*i)++) {
		char c = s[*i];
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && c == '\\' && *i + 1 < len &&
		    (s[*i + 1] == '"' || s[*i + 1] == '\\'))
			c = s[++*i];
		if (k + 1 >= sizeof(av->store)) {
			*why = "command too long";
			return -1;
		}
		av->store[k++] = c;
	}
	if (quoted) {
		*why = "unterminated quote in command";
		return -1;
	}
	av->store[k++] = '\0';
	*used = k;
	return 0;
}

int
local_command_split(const char *cmd, size_t len, struct local_argv *av,
		    const char **why)
{
	size_t i = 0, used = 0;

	av->argc = 0;
	av->argv[0] = NULL;
	if (len > LOCAL_ITEM_MAX) {
		*why = "command too long";
		return -1;
	}
	for (size_t j = 0; j < len; j++) {
		unsigned char c = (unsigned char)cmd[j];
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
			*why = "control character in command";
			return -1;
		}
	}
	for (;;) {
		while (i < len && forward_blank(cmd[i]))
			i++;
		if (i >= len)
			break;
		if (forward_word(cmd, len, &i, av, &used, why) != 0)
			return -1;
	}
	av->argv[av->argc] = NULL;
	if (av->argc == 0 || av->argv[0][0] == '\0') {
		*why = "empty command";
		return -1;
	}
	return 0;
}
