/*
 * cleanup_headers: a streaming state machine over the header block of a
 * message.  The bytes are hostile content from an SMTP client or a local
 * user; run by cleanup (and by the unit test and fuzz target).  Each byte
 * is classified once; a field name is compared with the few names that
 * matter once, when its ':' is seen, so the work is linear however many
 * headers (the "thousands of To: lines" attack) or lines the block holds.
 * Pure: no I/O, no logging, no globals.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cleanup_headers.h"

void
cleanup_headers_init(struct cleanup_headers *h, size_t size_limit,
		     size_t count_limit, size_t hop_limit)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->block);
	buf_init(&h->prefix);
	h->size_limit = size_limit;
	h->count_limit = count_limit;
	h->hop_limit = hop_limit;
	h->state = HDR_STATE_HEADERS;
	h->line = HDR_LINE_START;
}

void
cleanup_headers_free(struct cleanup_headers *h)
{
	buf_free(&h->block);
	buf_free(&h->prefix);
}

/* RFC 5322 ftext: printable US-ASCII but ':'. */
static int
hdr_is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static void
hdr_reject(struct cleanup_headers *h, enum hdr_reject why)
{
	h->state = HDR_STATE_REJECT;
	h->reject = why;
	buf_free(&h->block);
}

/* Append to the block within the size limit; -1 after rejecting. */
static int
hdr_append(struct cleanup_headers *h, const char *data, size_t len)
{
	if (len > h->size_limit || h->block.len > h->size_limit - len) {
		hdr_reject(h, HDR_REJECT_SIZE);
		return -1;
	}
	buf_append(&h->block, data, len);
	return 0;
}

/* Count one more physical line; -1 after rejecting. */
static int
hdr_count_line(struct cleanup_headers *h)
{
	if (++h->lines > h->count_limit) {
		hdr_reject(h, HDR_REJECT_COUNT);
		return -1;
	}
	return 0;
}

/* Copy the first Message-ID's value, printable ASCII only, trimmed. */
static void
hdr_save_message_id(struct cleanup_headers *h, size_t end)
{
	size_t i, n = 0;

	for (i = h->msgid_start; i < end && n < sizeof(h->message_id) - 1;
	     i++) {
		unsigned char c = (unsigned char)h->block.data[i];

		if (c == '\n' || c == '\r')
			continue;
		if (c == '\t')
			c = ' ';
		if (n == 0 && c == ' ')
			continue;
		h->message_id[n++] = c >= 32 && c < 127 ? (char)c : '?';
	}
	while (n > 0 && h->message_id[n - 1] == ' ')
		n--;
	h->message_id[n] = '\0';
	h->msgid_start = 0;
}

/* A logical header ended at block offset end. */
static void
hdr_header_done(struct cleanup_headers *h, size_t end)
{
	if (h->msgid_start != 0)
		hdr_save_message_id(h, end);
}

static int
hdr_name_is(const struct cleanup_headers *h, const char *name)
{
	size_t len = h->name_end - h->line_start;

	return len == strlen(name) &&
	       strncasecmp(h->block.data + h->line_start, name, len) == 0;
}

/* The ':' of a new header was just appended; -1 after rejecting. */
static int
hdr_header_start(struct cleanup_headers *h)
{
	const char *name = h->block.data + h->line_start;
	size_t len = h->name_end - h->line_start;

	if (hdr_count_line(h) < 0)
		return -1;
	if (++h->headers > h->count_limit) {
		hdr_reject(h, HDR_REJECT_COUNT);
		return -1;
	}
	if (hdr_name_is(h, "Received") && ++h->received > h->hop_limit) {
		hdr_reject(h, HDR_REJECT_HOPS);
		return -1;
	}
	if (hdr_name_is(h, "Message-ID")) {
		if (!(h->seen & HDR_SEEN_MESSAGE_ID))
			h->msgid_start = h->block.len;
		h->seen |= HDR_SEEN_MESSAGE_ID;
	} else if (hdr_name_is(h, "Date")) {
		h->seen |= HDR_SEEN_DATE;
	} else if (hdr_name_is(h, "From")) {
		h->seen |= HDR_SEEN_FROM;
	}
	if (len >= 7 && strncasecmp(name, "Resent-", 7) == 0) {
		h->seen |= HDR_SEEN_RESENT;
		if (hdr_name_is(h, "Resent-Message-ID"))
			h->seen |= HDR_SEEN_RESENT_MESSAGE_ID;
		else if (hdr_name_is(h, "Resent-Date"))
			h->seen |= HDR_SEEN_RESENT_DATE;
		else if (hdr_name_is(h, "Resent-From"))
			h->seen |= HDR_SEEN_RESENT_FROM;
	}
	h->line = HDR_LINE_VALUE;
	return 0;
}

/*
 * The block ends before the current line: bytes of that line already
 * taken are body and become the prefix.
 */
static void
hdr_block_done(struct cleanup_headers *h)
{
	hdr_header_done(h, h->line_start);
	if (h->block.len > h->line_start)
		buf_append(&h->prefix, h->block.data + h->line_start,
			   h->block.len - h->line_start);
	h->block.len = h->line_start;
	if (h->block.data != NULL)
		h->block.data[h->block.len] = '\0';
	h->state = HDR_STATE_BODY;
}

/* At the first byte of a line: returns bytes taken, or SIZE_MAX for "end". */
static size_t
hdr_line_start(struct cleanup_headers *h, const char *data, size_t len)
{
	unsigned char c = (unsigned char)data[0];

	h->line_start = h->block.len;
	if (c == ' ' || c == '\t') {
		if (h->headers == 0) {
			h->need_separator = 1; /* no header to continue */
			return SIZE_MAX;
		}
		if (hdr_count_line(h) < 0)
			return len;
		h->line = HDR_LINE_VALUE;
		return 0;
	}
	if (!hdr_is_ftext(c))
		return SIZE_MAX; /* empty line, or body text */
	hdr_header_done(h, h->line_start);
	h->line = HDR_LINE_NAME;
	return 0;
}

/* In a field name, or the white space after it. */
static size_t
hdr_line_name(struct cleanup_headers *h, const char *data, size_t len)
{
	size_t i = 0;

	if (h->line == HDR_LINE_NAME) {
		while (i < len && hdr_is_ftext((unsigned char)data[i]))
			i++;
		if (hdr_append(h, data, i) < 0)
			return len;
		h->name_end = h->block.len;
		if (i < len && (data[i] == ' ' || data[i] == '\t'))
			h->line = HDR_LINE_NAME_WSP;
	}
	if (h->line == HDR_LINE_NAME_WSP) {
		size_t j = i;

		while (j < len && (data[j] == ' ' || data[j] == '\t'))
			j++;
		if (hdr_append(h, data + i, j - i) < 0)
			return len;
		i = j;
	}
	if (i == len)
		return i;
	if (data[i] != ':') {
		hdr_block_done(h); /* "word word", "word\n": body text */
		return i;
	}
	if (hdr_append(h, ":", 1) < 0 || hdr_header_start(h) < 0)
		return len;
	return i + 1;
}

/* In a header value or continuation line: take up to and with the LF. */
static size_t
hdr_line_value(struct cleanup_headers *h, const char *data, size_t len)
{
	const char *lf = memchr(data, '\n', len);
	size_t n = lf != NULL ? (size_t)(lf - data) + 1 : len;

	if (hdr_append(h, data, n) < 0)
		return len;
	if (lf != NULL)
		h->line = HDR_LINE_START;
	return n;
}

size_t
cleanup_headers_feed(struct cleanup_headers *h, const char *data, size_t len)
{
	size_t i = 0, n;

	while (i < len && h->state == HDR_STATE_HEADERS) {
		switch (h->line) {
		case HDR_LINE_START:
			n = hdr_line_start(h, data + i, len - i);
			if (n == SIZE_MAX) {
				hdr_block_done(h);
				return i;
			}
			break;
		case HDR_LINE_NAME:
		case HDR_LINE_NAME_WSP:
			n = hdr_line_name(h, data + i, len - i);
			break;
		default:
			n = hdr_line_value(h, data + i, len - i);
			break;
		}
		i += n;
		if (h->state == HDR_STATE_BODY)
			return i;
	}
	if (h->state == HDR_STATE_REJECT)
		return len;
	return i;
}

void
cleanup_headers_finish(struct cleanup_headers *h)
{
	if (h->state != HDR_STATE_HEADERS)
		return;
	switch (h->line) {
	case HDR_LINE_NAME:
	case HDR_LINE_NAME_WSP:
		hdr_block_done(h); /* a last line without ':' is body */
		return;
	case HDR_LINE_VALUE:
		if (hdr_append(h, "\n", 1) < 0)
			return;
		break;
	default:
		break;
	}
	h->line_start = h->block.len;
	hdr_block_done(h);
}

void
cleanup_headers_prefix(const struct cleanup_headers *h, const char **data,
		       size_t *len)
{
	*data = buf_cstr(&h->prefix);
	*len = h->state == HDR_STATE_BODY ? h->prefix.len : 0;
}

int
cleanup_headers_reject_code(enum hdr_reject r)
{
	return r == HDR_REJECT_HOPS ? 554 : 552;
}

const char *
cleanup_headers_reject_dsn(enum hdr_reject r)
{
	return r == HDR_REJECT_HOPS ? "5.4.6" : "5.3.4";
}

const char *
cleanup_headers_reject_text(enum hdr_reject r)
{
	switch (r) {
	case HDR_REJECT_SIZE:
		return "Error: message header size exceeds limit";
	case HDR_REJECT_COUNT:
		return "Error: too many message headers";
	case HDR_REJECT_HOPS:
		return "Error: too many hops";
	default:
		return "Ok";
	}
}
