/*
 * buf: a length-counted, growable byte buffer.  Bytes from outside (network,
 * queue files, IPC peers, users' files) live in one of these: they are never
 * assumed to be NUL-terminated or NUL-free.  Allocation failure is fatal
 * (the daemon exits and the master restarts it); callers bound sizes before
 * appending.  Used by every program.
 */
#ifndef MOAT_BUF_H
#define MOAT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;	/* len bytes, then a NUL kept for buf_cstr() */
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Replace the contents with a copy of s. */
void buf_set_str(struct buf *b, const char *s);
/* Remove the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* The contents as a C string; NULL-safe on an empty buffer (returns ""). */
const char *buf_cstr(const struct buf *b);
/* 1 when both hold the same bytes (empty buffers are equal). */
int buf_equal(const struct buf *a, const struct buf *b);
/* 1 when the contents contain a NUL byte. */
int buf_has_nul(const struct buf *b);
/*
 * Append everything fd has until its end, read straight into b (no copy
 * elsewhere: the bytes may be a secret's); 0, or -1 with errno, EFBIG when
 * b would hold more than max bytes (what was read stays in b).
 */
int buf_read_fd(struct buf *b, int fd, size_t max);

/* Allocation helpers: fatal on failure, overflow-checked. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
