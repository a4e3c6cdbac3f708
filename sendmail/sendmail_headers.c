/*
 * sendmail_headers: what sendmail reads in a message's header block:
 * where it ends, the recipient fields of -t (To:, Cc:, Bcc: and their
 * Resent- forms, parsed by sendmail_addrlist.c), the fields to leave out
 * (Bcc), whether a From: is there, and the From: it adds.  The message is
 * the local user's, but it often comes from a program fed by someone else
 * (a web form, a cron job's output), so every byte is treated as hostile:
 * counted and never assumed NUL-free.  Pure; run by sendmail, the unit
 * test and the fuzz target.
 */
#include <string.h>
#include <strings.h>

#include "sendmail.h"

#define FULL_NAME_MAX 200 /* bytes of a full name kept in From: */

/* --- the header block ---------------------------------------------------- */

#define NAME_SCAN_MAX 998 /* a longer run without ':' is not a field */

/* "Name:" (white space allowed before the colon, as obsolete syntax). */
static size_t
field_name_len(const char *p, size_t len)
{
	size_t n = 0, i;

	while (n < len && p[n] > ' ' && p[n] < 0x7f && p[n] != ':')
		n++;
	if (n == 0 || n > NAME_SCAN_MAX)
		return 0;
	for (i = n; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == ':' ? n : 0;
}

static int
line_is_blank(const char *p, size_t len)
{
	return (len == 1 && p[0] == '\n') ||
	       (len == 2 && p[0] == '\r' && p[1] == '\n');
}

/*
 * Does this line belong to the header block (a field or its
 * continuation)?  1 yes, 0 no; for a line not complete yet, -1 when only
 * more bytes can tell.
 */
static int
line_in_head(const char *p, size_t len, int first, int complete)
{
	size_t n;

	if (len > 0 && (p[0] == ' ' || p[0] == '\t'))
		return first ? 0 : complete ? !line_is_blank(p, len) : -1;
	if (complete)
		return field_name_len(p, len) > 0;
	if (field_name_len(p, len) > 0)
		return -1; /* a field: wait for all of it */
	for (n = 0; n < len && p[n] > ' ' && p[n] < 0x7f && p[n] != ':'; n++)
		;
	if (n > NAME_SCAN_MAX)
		return 0;
	while (n < len && (p[n] == ' ' || p[n] == '\t'))
		n++;
	/* Undecided while it may still turn into "Name:". */
	return n == len ? -1 : 0;
}

int
sendmail_head_scan(const char *p, size_t len, int eof, struct sendmail_head *h)
{
	const char *nl;
	size_t pos, n;
	int in;

	h->skip = h->head_len = 0;
	if (len < 5 && !eof)
		return 0;
	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		if ((nl = memchr(p, '\n', len)) == NULL && !eof)
			return 0;
		h->skip = nl != NULL ? (size_t)(nl - p) + 1 : len;
	}
	for (pos = h->skip; pos < len; pos += n) {
		nl = memchr(p + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (p + pos)) + 1 : len - pos;
		in =
		    line_in_head(p + pos, n, pos == h->skip, nl != NULL || eof);
		if (in < 0)
			return 0;
		if (in == 0)
			break;
	}
	/* All lines so far are fields: the next one may be too. */
	if (pos == len && !eof)
		return 0;
	h->head_len = pos - h->skip;
	return 1;
}

/* The end of the field that starts at start: its continuation lines too. */
static size_t
field_end(const char *p, size_t len, size_t start)
{
	const char *nl;
	size_t pos = start;

	do {
		nl = memchr(p + pos, '\n', len - pos);
		pos = nl != NULL ? (size_t)(nl - p) + 1 : len;
	} while (pos < len && (p[pos] == ' ' || p[pos] == '\t'));
	return pos;
}

static int
field_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

enum field_kind { FIELD_OTHER, FIELD_RCPT, FIELD_RESENT_RCPT, FIELD_FROM };

static enum field_kind
field_kind(const char *p, size_t n, int *bcc)
{
	*bcc = field_is(p, n, "Bcc") || field_is(p, n, "Resent-Bcc");
	if (field_is(p, n, "To") || field_is(p, n, "Cc") ||
	    field_is(p, n, "Bcc"))
		return FIELD_RCPT;
	if (field_is(p, n, "Resent-To") || field_is(p, n, "Resent-Cc") ||
	    field_is(p, n, "Resent-Bcc"))
		return FIELD_RESENT_RCPT;
	return field_is(p, n, "From") ? FIELD_FROM : FIELD_OTHER;
}

/* Are there Resent- recipient fields?  Then only they count for -t. */
static int
head_has_resent(const char *head, size_t len)
{
	size_t pos, end, n;
	int bcc;

	for (pos = 0; pos < len; pos = end) {
		end = field_end(head, len, pos);
		n = field_name_len(head + pos, end - pos);
		if (field_kind(head + pos, n, &bcc) == FIELD_RESENT_RCPT)
			return 1;
	}
	return 0;
}

/* The address list of one field; an error names the field. */
static int
field_addresses(const char *p, size_t len, size_t name_len, const char *origin,
		struct sendmail_rcpts *r, struct buf *err)
{
	const char *colon = memchr(p, ':', len);
	struct buf why = BUF_INIT;

	if (sendmail_addr_list_parse(colon + 1, (size_t)(p + len - colon - 1),
				     origin, r, &why) == 0) {
		buf_free(&why);
		return 0;
	}
	buf_reset(err);
	buf_printf(err, "%.*s: header: %s", (int)name_len, p, buf_cstr(&why));
	buf_free(&why);
	return -1;
}

int
sendmail_headers_rewrite(const char *head, size_t len, int extract,
			 const char *origin, struct sendmail_rcpts *r,
			 struct buf *out, int *has_from, struct buf *err)
{
	enum field_kind want =
	    head_has_resent(head, len) ? FIELD_RESENT_RCPT : FIELD_RCPT;
	enum field_kind kind;
	size_t pos, end, n;
	int bcc;

	*has_from = 0;
	for (pos = 0; pos < len; pos = end) {
		end = field_end(head, len, pos);
		n = field_name_len(head + pos, end - pos);
		kind = field_kind(head + pos, n, &bcc);
		if (kind == FIELD_FROM)
			*has_from = 1;
		if (extract && kind == want &&
		    field_addresses(head + pos, end - pos, n, origin, r, err) !=
			0)
			return -1;
		if (!(extract && bcc))
			buf_append(out, head + pos, end - pos);
	}
	return 0;
}

/* --- From: ------------------------------------------------------------- */

static int
name_needs_quotes(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == ' ' ||
		      strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL))
			return 1;
	}
	return 0;
}

void
sendmail_from_header(const char *full_name, const char *addr, struct buf *out)
{
	struct buf name = BUF_INIT;
	size_t i;

	/* Control bytes could end the line; white space is squeezed. */
	for (i = 0; full_name != NULL && full_name[i] != '\0' &&
		    name.len < FULL_NAME_MAX;
	     i++) {
		unsigned char c = (unsigned char)full_name[i];

		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' &&
		    (name.len == 0 || name.data[name.len - 1] == ' '))
			continue;
		buf_append_char(&name, (char)c);
	}
	while (name.len > 0 && name.data[name.len - 1] == ' ')
		name.data[--name.len] = '\0';
	buf_append_str(out, "From: ");
	if (name.len > 0 && !name_needs_quotes(buf_cstr(&name))) {
		buf_printf(out, "%s <%s>\n", buf_cstr(&name), addr);
	} else if (name.len > 0) {
		buf_append_char(out, '"');
		for (i = 0; i < name.len; i++) {
			if (name.data[i] == '"' || name.data[i] == '\\')
				buf_append_char(out, '\\');
			buf_append_char(out, name.data[i]);
		}
		buf_printf(out, "\" <%s>\n", addr);
	} else {
		buf_printf(out, "%s\n", addr);
	}
	buf_free(&name);
}

void
sendmail_gecos_name(const char *gecos, const char *login, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; gecos != NULL && gecos[i] != '\0' && gecos[i] != ',' &&
		    out->len < FULL_NAME_MAX;
	     i++) {
		if (gecos[i] != '&') {
			buf_append_char(out, gecos[i]);
			continue;
		}
		if (login[0] >= 'a' && login[0] <= 'z') {
			buf_append_char(out, (char)(login[0] - 'a' + 'A'));
			buf_append_str(out, login + 1);
		} else {
			buf_append_str(out, login);
		}
	}
}
