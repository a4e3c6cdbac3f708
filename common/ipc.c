/*
 * ipc: frames of netstring attributes between Moat's processes (ipc.h):
 * building, the parser, the incremental reader and attribute lookups (the
 * socket side is ipc_socket.c).  Everything received is hostile: every length
 * is checked against the frame before a byte is touched, and a malformed
 * frame is an error for the caller, never a crash.  Runs in every daemon
 * and in the admin command.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"

#define IPC_LEN_DIGITS 7 /* IPC_FRAME_MAX has 7 decimal digits */

void
ipc_frame_init(struct ipc_frame *f)
{
	buf_init(&f->raw);
	f->attr = NULL;
	f->count = 0;
	f->attr_cap = 0;
	f->fd = -1;
}

void
ipc_frame_reset(struct ipc_frame *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	buf_reset(&f->raw);
	f->count = 0;
}

void
ipc_frame_free(struct ipc_frame *f)
{
	ipc_frame_reset(f);
	free(f->attr);
	buf_free(&f->raw);
	ipc_frame_init(f);
}

static int
ipc_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > IPC_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

static void
ipc_put_netstring(struct buf *b, const void *data, size_t len)
{
	buf_printf(b, "%zu:", len);
	buf_append(b, data, len);
	buf_append_char(b, ',');
}

/*
 * A value too long for a frame is not fatal here: the frame grows past
 * IPC_FRAME_MAX and ipc_send refuses it with EMSGSIZE.
 */
void
ipc_put(struct ipc_frame *f, const char *name, const void *value, size_t len)
{
	size_t name_len = strlen(name);

	if (!ipc_name_valid(name, name_len))
		log_fatal("ipc_put: invalid attribute name \"%s\"", name);
	ipc_put_netstring(&f->raw, name, name_len);
	ipc_put_netstring(&f->raw, value, len);
}

void
ipc_put_str(struct ipc_frame *f, const char *name, const char *value)
{
	ipc_put(f, name, value, strlen(value));
}

void
ipc_put_int(struct ipc_frame *f, const char *name, long long value)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", value);

	if (n < 0 || (size_t)n >= sizeof(num))
		log_fatal("ipc_put_int: cannot format");
	ipc_put(f, name, num, (size_t)n);
}

/*
 * One netstring at *pos in p[0..len): "LEN:" with LEN in canonical
 * decimal, LEN bytes, ",".  The ',' is overwritten with a NUL so the data
 * reads as a C string in place.
 */
static int
ipc_netstring(char *p, size_t len, size_t *pos, char **data, size_t *dlen,
	      const char **why)
{
	size_t i = *pos, digits = 0, n = 0;

	while (i < len && p[i] >= '0' && p[i] <= '9') {
		if (++digits > IPC_LEN_DIGITS) {
			*why = "netstring length too long";
			return -1;
		}
		n = n * 10 + (size_t)(p[i] - '0');
		i++;
	}
	if (digits == 0 || i >= len || p[i] != ':') {
		*why = "malformed netstring length";
		return -1;
	}
	if (digits > 1 && p[*pos] == '0') {
		*why = "netstring length with a leading zero";
		return -1;
	}
	i++;
	if (n > len - i || len - i - n < 1) {
		*why = "netstring longer than the frame";
		return -1;
	}
	if (p[i + n] != ',') {
		*why = "netstring without its comma";
		return -1;
	}
	p[i + n] = '\0';
	*data = p + i;
	*dlen = n;
	*pos = i + n + 1;
	return 0;
}

static int
ipc_add_attr(struct ipc_frame *f, const char *name, const char *value,
	     size_t value_len, const char **why)
{
	if (f->count >= IPC_ATTR_MAX) {
		*why = "too many attributes";
		return -1;
	}
	if (f->count == f->attr_cap) {
		size_t cap = f->attr_cap ? f->attr_cap * 2 : 16;
		if (cap > IPC_ATTR_MAX)
			cap = IPC_ATTR_MAX;
		f->attr = xreallocarray(f->attr, cap, sizeof(*f->attr));
		f->attr_cap = cap;
	}
	f->attr[f->count].name = name;
	f->attr[f->count].value = value;
	f->attr[f->count].value_len = value_len;
	f->count++;
	return 0;
}

/* Parse f->raw in place; on error f->count is 0. */
int
ipc_parse_received(struct ipc_frame *f, const char **why)
{
	char *p = f->raw.data, *name, *value;
	size_t len = f->raw.len, pos = 0, name_len, value_len;

	f->count = 0;
	if (len == 0 || len > IPC_FRAME_MAX) {
		*why = len == 0 ? "empty frame" : "frame too long";
		return -1;
	}
	while (pos < len) {
		if (ipc_netstring(p, len, &pos, &name, &name_len, why) < 0)
			goto bad;
		if (!ipc_name_valid(name, name_len)) {
			*why = "invalid attribute name";
			goto bad;
		}
		if (pos >= len) {
			*why = "attribute name without a value";
			goto bad;
		}
		if (ipc_netstring(p, len, &pos, &value, &value_len, why) < 0)
			goto bad;
		if (ipc_add_attr(f, name, value, value_len, why) < 0)
			goto bad;
	}
	return 0;
bad:
	f->count = 0;
	return -1;
}

int
ipc_parse(const char *payload, size_t len, struct ipc_frame *f,
	  const char **why)
{
	ipc_frame_reset(f);
	if (len == 0 || len > IPC_FRAME_MAX) {
		*why = len == 0 ? "empty frame" : "frame too long";
		return -1;
	}
	buf_append(&f->raw, payload, len);
	return ipc_parse_received(f, why);
}

size_t
ipc_frame_length(const void *header)
{
	const unsigned char *u = header;

	return (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 |
	       (size_t)u[3];
}

int
ipc_take_frame(struct buf *in, struct ipc_frame *f, const char **why)
{
	size_t n;

	if (in->len < IPC_HEADER_LEN)
		return 0;
	n = ipc_frame_length(in->data);
	if (n == 0 || n > IPC_FRAME_MAX) {
		*why = "bad frame length";
		return -1;
	}
	if (in->len - IPC_HEADER_LEN < n)
		return 0;
	if (ipc_parse(in->data + IPC_HEADER_LEN, n, f, why) < 0)
		return -1;
	buf_consume(in, IPC_HEADER_LEN + n);
	return 1;
}

const struct ipc_attr *
ipc_get(const struct ipc_frame *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		if (strcmp(f->attr[i].name, name) == 0)
			return &f->attr[i];
	return NULL;
}

const char *
ipc_get_str(const struct ipc_frame *f, const char *name)
{
	const struct ipc_attr *a = ipc_get(f, name);

	if (a == NULL || memchr(a->value, '\0', a->value_len) != NULL)
		return NULL;
	return a->value;
}

/* Strict: optional '-', digits without a leading zero, no "-0". */
int
ipc_get_int(const struct ipc_frame *f, const char *name, long long min,
	    long long max, long long *out)
{
	const struct ipc_attr *a = ipc_get(f, name);
	const char *s;
	size_t i, len;
	long long v;
	char *end;

	if (a == NULL)
		return -1;
	s = a->value;
	len = a->value_len;
	i = len > 0 && s[0] == '-' ? 1 : 0;
	if (i == len || len - i > 19 || (s[i] == '0' && (len - i > 1 || i)))
		return -1;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end != s + len || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
