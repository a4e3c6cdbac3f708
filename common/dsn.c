/*
 * dsn: the RFC 3461 parameters (see dsn.h).  Values come from SMTP
 * clients, peer daemons and queue files, all treated as hostile: every
 * function takes a length and looks at no byte past it.  Pure; runs in
 * smtpd, cleanup, qmgr and the queue file reader.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "utf8.h"

static const struct {
	const char *name;
	unsigned bit;
} dsn_notify_words[] = {
    {"SUCCESS", DSN_NOTIFY_SUCCESS},
    {"FAILURE", DSN_NOTIFY_FAILURE},
    {"DELAY", DSN_NOTIFY_DELAY},
    {"NEVER", DSN_NOTIFY_NEVER},
};

static unsigned
dsn_notify_word(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(dsn_notify_words) / sizeof(dsn_notify_words[0]);
	     i++)
		if (strlen(dsn_notify_words[i].name) == len &&
		    strncasecmp(dsn_notify_words[i].name, s, len) == 0)
			return dsn_notify_words[i].bit;
	return 0;
}

int
dsn_notify_parse(const char *s, size_t len, unsigned *out)
{
	size_t i = 0, start;
	unsigned bits = 0, bit;

	while (i <= len) {
		start = i;
		while (i < len && s[i] != ',')
			i++;
		bit = dsn_notify_word(s + start, i - start);
		if (bit == 0 || (bits & bit))
			return -1;
		bits |= bit;
		i++; /* past the comma, or past the end */
	}
	if ((bits & DSN_NOTIFY_NEVER) && bits != DSN_NOTIFY_NEVER)
		return -1;
	*out = bits;
	return 0;
}

void
dsn_notify_format(unsigned notify, char out[DSN_NOTIFY_TEXT_MAX])
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(dsn_notify_words) / sizeof(dsn_notify_words[0]);
	     i++)
		if (notify & dsn_notify_words[i].bit)
			n += (size_t)snprintf(out + n, DSN_NOTIFY_TEXT_MAX - n,
					      "%s%s", n ? "," : "",
					      dsn_notify_words[i].name);
}

int
dsn_notify_wants(unsigned notify, unsigned kind)
{
	if (notify == 0)
		return kind == DSN_NOTIFY_FAILURE || kind == DSN_NOTIFY_DELAY;
	return (notify & kind) != 0;
}

enum dsn_ret
dsn_ret_parse(const char *s, size_t len)
{
	if (len == 4 && strncasecmp(s, "FULL", 4) == 0)
		return DSN_RET_FULL;
	if (len == 4 && strncasecmp(s, "HDRS", 4) == 0)
		return DSN_RET_HDRS;
	return DSN_RET_NONE;
}

const char *
dsn_ret_name(enum dsn_ret ret)
{
	return ret == DSN_RET_FULL   ? "FULL"
	       : ret == DSN_RET_HDRS ? "HDRS"
				     : NULL;
}

int
dsn_envid_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > DSN_ENVID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int
dsn_orcpt_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > DSN_ORCPT_MAX)
		return 0;
	while (i < len &&
	       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		(s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
		i++;
	if (i == 0 || i == len || s[i] != ';' || i + 1 == len)
		return 0;
	return utf8_text_ok(s + i + 1, len - i - 1);
}
