/*
 * anvil_table: the client table (see anvil_table.h): a chained hash of
 * client keys, each with a connection count and a fixed-window rate
 * counter, a list of the clients that hold no connection ordered by when
 * they were last seen (the eviction order), and per peer a list of what it
 * added.  The keys are hostile (they come over IPC) and are checked by the
 * caller with anvil_addr_valid; lengths are bounded by ANVIL_ADDR_MAX.
 * Pure: no I/O, no logging, no globals.  Run by anvil, smtpd and screen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anvil_table.h"
#include "buf.h"

struct anvil_entry {
	struct anvil_entry *next;                  /* hash chain */
	struct anvil_entry *idle_prev, *idle_next; /* count 0 only */
	unsigned count; /* simultaneous connections */
	unsigned rate;  /* connections in the window that started at start */
	long long start;
	unsigned auth_rate; /* AUTH attempts in the window from auth_start */
	long long auth_start;
	long long seen; /* last connect, disconnect or AUTH attempt */
	char addr[ANVIL_ADDR_MAX];
};

struct anvil_table {
	struct anvil_entry **bucket;
	size_t nbuckets; /* a power of two */
	size_t size, max;
	long long window;
	/* idle clients: head most recently seen, tail the next to evict */
	struct anvil_entry *idle_head, *idle_tail;
	unsigned long evicted;
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
		      ch == '%' || ch == '_' || ch == '-' || ch == '/'))
			return 0;
	}
	return 1;
}

static size_t
anvil_hash(const struct anvil_table *t, const char *addr)
{
	uint32_t h = 2166136261u;

	for (; *addr != '\0'; addr++)
		h = (h ^ (unsigned char)*addr) * 16777619u;
	return h & (t->nbuckets - 1);
}

struct anvil_table *
anvil_table_new(size_t max_clients, long long window_ms)
{
	struct anvil_table *t = xcalloc(1, sizeof(*t));

	t->max = max_clients;
	t->window = window_ms > 0 ? window_ms : 1;
	t->nbuckets = 64;
	while (t->nbuckets < max_clients / 4 && t->nbuckets < (1u << 20))
		t->nbuckets *= 2;
	t->bucket = xcalloc(t->nbuckets, sizeof(*t->bucket));
	return t;
}

void
anvil_table_free(struct anvil_table *t)
{
	struct anvil_entry *e, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (e = t->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(t->bucket);
	free(t);
}

size_t
anvil_table_size(const struct anvil_table *t)
{
	return t->size;
}

unsigned long
anvil_table_evicted(const struct anvil_table *t)
{
	return t->evicted;
}

static void
anvil_idle_unlink(struct anvil_table *t, struct anvil_entry *e)
{
	if (e->idle_prev != NULL)
		e->idle_prev->idle_next = e->idle_next;
	else if (t->idle_head == e)
		t->idle_head = e->idle_next;
	if (e->idle_next != NULL)
		e->idle_next->idle_prev = e->idle_prev;
	else if (t->idle_tail == e)
		t->idle_tail = e->idle_prev;
	e->idle_prev = e->idle_next = NULL;
}

/* e has no connection left, now: the most recently seen idle client. */
static void
anvil_idle_push(struct anvil_table *t, struct anvil_entry *e, long long now)
{
	e->seen = now;
	e->idle_prev = NULL;
	e->idle_next = t->idle_head;
	if (t->idle_head != NULL)
		t->idle_head->idle_prev = e;
	t->idle_head = e;
	if (t->idle_tail == NULL)
		t->idle_tail = e;
}

static struct anvil_entry *
anvil_find(struct anvil_table *t, const char *addr)
{
	struct anvil_entry *e;

	for (e = t->bucket[anvil_hash(t, addr)]; e != NULL; e = e->next)
		if (strcmp(e->addr, addr) == 0)
			return e;
	return NULL;
}

/* Unhash and free an idle entry. */
static void
anvil_remove(struct anvil_table *t, struct anvil_entry *e)
{
	struct anvil_entry **link = &t->bucket[anvil_hash(t, e->addr)];

	while (*link != e)
		link = &(*link)->next;
	*link = e->next;
	anvil_idle_unlink(t, e);
	free(e);
	t->size--;
}

static struct anvil_entry *
anvil_add(struct anvil_table *t, const char *addr, long long now_ms)
{
	struct anvil_entry *e;
	size_t h;

	if (strlen(addr) >= ANVIL_ADDR_MAX)
		return NULL;
	if (t->size >= t->max) {
		if (t->idle_tail == NULL)
			return NULL; /* every client holds connections */
		anvil_remove(t, t->idle_tail);
		t->evicted++;
	}
	e = xcalloc(1, sizeof(*e));
	(void)strlcpy(e->addr, addr, sizeof(e->addr));
	e->start = e->auth_start = e->seen = now_ms;
	h = anvil_hash(t, addr);
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
anvil_peer_hold(struct anvil_peer *p, struct anvil_entry *e, unsigned n)
{
	struct anvil_held *h = anvil_peer_find(p, e);

	if (h != NULL) {
		h->count += n;
		return;
	}
	if (p->len == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->held = xreallocarray(p->held, p->cap, sizeof(*p->held));
	}
	p->held[p->len].entry = e;
	p->held[p->len].count = n;
	p->len++;
}

/* The entry of addr, made if need be, taken off the idle list. */
static struct anvil_entry *
anvil_busy_entry(struct anvil_table *t, const char *addr, long long now_ms)
{
	struct anvil_entry *e = anvil_find(t, addr);

	if (e == NULL && (e = anvil_add(t, addr, now_ms)) == NULL)
		return NULL;
	if (e->count == 0)
		anvil_idle_unlink(t, e);
	e->seen = now_ms;
	return e;
}

/* 1 when the window that started at start is over at now_ms. */
static int
anvil_window_over(const struct anvil_table *t, long long start,
		  long long now_ms)
{
	return now_ms - start >= t->window || now_ms < start;
}

int
anvil_table_connect(struct anvil_table *t, struct anvil_peer *p,
		    const char *addr, long long now_ms, unsigned *count,
		    unsigned *rate)
{
	struct anvil_entry *e = anvil_busy_entry(t, addr, now_ms);

	if (e == NULL)
		return -1;
	if (anvil_window_over(t, e->start, now_ms)) {
		e->start = now_ms;
		e->rate = 0;
	}
	e->count++;
	e->rate++;
	anvil_peer_hold(p, e, 1);
	*count = e->count;
	*rate = e->rate;
	return 0;
}

int
anvil_table_auth(struct anvil_table *t, const char *addr, long long now_ms,
		 unsigned *rate)
{
	struct anvil_entry *e = anvil_find(t, addr);

	if (e == NULL && (e = anvil_add(t, addr, now_ms)) == NULL)
		return -1;
	if (e->count == 0) { /* idle: now the most recently seen */
		anvil_idle_unlink(t, e);
		anvil_idle_push(t, e, now_ms);
	}
	e->seen = now_ms;
	if (anvil_window_over(t, e->auth_start, now_ms)) {
		e->auth_start = now_ms;
		e->auth_rate = 0;
	}
	*rate = ++e->auth_rate;
	return 0;
}

int
anvil_table_restore(struct anvil_table *t, struct anvil_peer *p,
		    const char *addr, unsigned n, long long now_ms)
{
	struct anvil_entry *e;

	if (n == 0)
		return 0;
	if ((e = anvil_busy_entry(t, addr, now_ms)) == NULL)
		return -1;
	e->count += n;
	anvil_peer_hold(p, e, n);
	return 0;
}

/* n connections of e that p held are over. */
static void
anvil_entry_drop(struct anvil_table *t, struct anvil_entry *e, unsigned n,
		 long long now_ms)
{
	e->count -= n;
	if (e->count == 0)
		anvil_idle_push(t, e, now_ms);
}

void
anvil_table_disconnect(struct anvil_table *t, struct anvil_peer *p,
		       const char *addr, long long now_ms)
{
	struct anvil_entry *e = anvil_find(t, addr);
	struct anvil_held *h;

	if (e == NULL || (h = anvil_peer_find(p, e)) == NULL)
		return;
	anvil_entry_drop(t, e, 1, now_ms);
	if (--h->count == 0)
		*h = p->held[--p->len];
}

void
anvil_table_release(struct anvil_table *t, struct anvil_peer *p,
		    long long now_ms)
{
	size_t i;

	for (i = 0; i < p->len; i++)
		anvil_entry_drop(t, p->held[i].entry, p->held[i].count, now_ms);
	free(p->held);
	p->held = NULL;
	p->len = p->cap = 0;
}

void
anvil_table_expire(struct anvil_table *t, long long now_ms)
{
	struct anvil_entry *e;

	/* The idle list is in the order of seen: stop at the first young. */
	while ((e = t->idle_tail) != NULL &&
	       (now_ms - e->seen >= t->window || now_ms < e->seen))
		anvil_remove(t, e);
}

const char *
anvil_peer_key(const struct anvil_peer *p, size_t i, unsigned *count)
{
	if (i >= p->len)
		return NULL;
	*count = p->held[i].count;
	return p->held[i].entry->addr;
}
