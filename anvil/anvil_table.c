/*
 * anvil_table: the client table of anvil (see anvil_table.h): a chained
 * hash of client addresses, each with a connection count and a
 * fixed-window rate counter, and per peer a list of what it added.  The
 * addresses are hostile (they come over IPC) and are checked by the caller
 * with anvil_addr_valid; lengths are bounded by ANVIL_ADDR_MAX.  Pure: no
 * I/O, no logging, no globals.  Run by anvil.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anvil_table.h"
#include "buf.h"

#define ANVIL_BUCKETS 16384 /* a power of two */

struct anvil_entry {
	struct anvil_entry *next;
	unsigned count; /* simultaneous connections */
	unsigned rate;  /* connections in the window that started at start */
	long long start;
	unsigned auth_rate; /* AUTH attempts in the window from auth_start */
	long long auth_start;
	char addr[ANVIL_ADDR_MAX];
};

struct anvil_table {
	struct anvil_entry *bucket[ANVIL_BUCKETS];
	size_t size, max;
	long long window;
};

int
anvil_addr_valid(const char *addr, size_t len)
{
	size_t i;
	char ch;

	if (len == 0 || len >= ANVIL_ADDR_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		ch = addr[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == ':' ||
		      ch == '%' || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

static size_t
anvil_hash(const char *addr)
{
	uint32_t h = 2166136261u;

	for (; *addr != '\0'; addr++)
		h = (h ^ (unsigned char)*addr) * 16777619u;
	return h & (ANVIL_BUCKETS - 1);
}

struct anvil_table *
anvil_table_new(size_t max_clients, long long window_ms)
{
	struct anvil_table *t = xcalloc(1, sizeof(*t));

	t->max = max_clients;
	t->window = window_ms > 0 ? window_ms : 1;
	return t;
}

void
anvil_table_free(struct anvil_table *t)
{
	struct anvil_entry *e, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < ANVIL_BUCKETS; i++)
		for (e = t->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(t);
}

size_t
anvil_table_size(const struct anvil_table *t)
{
	return t->size;
}

static struct anvil_entry *
anvil_find(struct anvil_table *t, const char *addr)
{
	struct anvil_entry *e;

	for (e = t->bucket[anvil_hash(addr)]; e != NULL; e = e->next)
		if (strcmp(e->addr, addr) == 0)
			return e;
	return NULL;
}

static struct anvil_entry *
anvil_add(struct anvil_table *t, const char *addr, long long now_ms)
{
	struct anvil_entry *e;
	size_t h;

	if (t->size >= t->max || strlen(addr) >= ANVIL_ADDR_MAX)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	(void)strlcpy(e->addr, addr, sizeof(e->addr));
	e->start = now_ms;
	e->auth_start = now_ms;
	h = anvil_hash(addr);
	e->next = t->bucket[h];
	t->bucket[h] = e;
	t->size++;
	return e;
}

static struct anvil_held *
anvil_peer_find(struct anvil_peer *p, const struct anvil_entry *e)
{
	size_t i;

	/* XXX linear: a peer holds at most one smtpd's sessions. */
	for (i = 0; i < p->len; i++)
		if (p->held[i].entry == e)
			return &p->held[i];
	return NULL;
}

static void
anvil_peer_hold(struct anvil_peer *p, struct anvil_entry *e)
{
	struct anvil_held *h = anvil_peer_find(p, e);

	if (h != NULL) {
		h->count++;
		return;
	}
	if (p->len == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->held = xreallocarray(p->held, p->cap, sizeof(*p->held));
	}
	p->held[p->len].entry = e;
	p->held[p->len].count = 1;
	p->len++;
}

int
anvil_table_connect(struct anvil_table *t, struct anvil_peer *p,
		    const char *addr, long long now_ms, unsigned *count,
		    unsigned *rate)
{
	struct anvil_entry *e = anvil_find(t, addr);

	if (e == NULL && (e = anvil_add(t, addr, now_ms)) == NULL)
		return -1;
	if (now_ms - e->start >= t->window || now_ms < e->start) {
		e->start = now_ms;
		e->rate = 0;
	}
	e->count++;
	e->rate++;
	anvil_peer_hold(p, e);
	*count = e->count;
	*rate = e->rate;
	return 0;
}

/* 1 when the window that started at start is over at now_ms. */
static int
anvil_window_over(const struct anvil_table *t, long long start,
		  long long now_ms)
{
	return now_ms - start >= t->window || now_ms < start;
}

int
anvil_table_auth(struct anvil_table *t, const char *addr, long long now_ms,
		 unsigned *rate)
{
	struct anvil_entry *e = anvil_find(t, addr);

	if (e == NULL && (e = anvil_add(t, addr, now_ms)) == NULL)
		return -1;
	if (anvil_window_over(t, e->auth_start, now_ms)) {
		e->auth_start = now_ms;
		e->auth_rate = 0;
	}
	*rate = ++e->auth_rate;
	return 0;
}

void
anvil_table_disconnect(struct anvil_table *t, struct anvil_peer *p,
		       const char *addr)
{
	struct anvil_entry *e = anvil_find(t, addr);
	struct anvil_held *h;

	if (e == NULL || (h = anvil_peer_find(p, e)) == NULL)
		return;
	e->count--;
	if (--h->count == 0)
		*h = p->held[--p->len];
}

void
anvil_table_release(struct anvil_table *t, struct anvil_peer *p)
{
	size_t i;

	(void)t;
	for (i = 0; i < p->len; i++)
		p->held[i].entry->count -= p->held[i].count;
	free(p->held);
	p->held = NULL;
	p->len = p->cap = 0;
}

void
anvil_table_expire(struct anvil_table *t, long long now_ms)
{
	struct anvil_entry **link, *e;
	size_t i;

	for (i = 0; i < ANVIL_BUCKETS; i++) {
		link = &t->bucket[i];
		while ((e = *link) != NULL) {
			if (e->count == 0 &&
			    anvil_window_over(t, e->start, now_ms) &&
			    anvil_window_over(t, e->auth_start, now_ms)) {
				*link = e->next;
				free(e);
				t->size--;
			} else {
				link = &e->next;
			}
		}
	}
}
