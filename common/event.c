/*
 * event: one epoll loop with one-shot timers, for daemons serving many
 * peers at once (smtpd's sessions through the event server skeleton).  No
 * hostile input: it only dispatches readiness.  The hazard it guards is
 * reentrancy: a callback may remove any fd or timer, including ones with an
 * event pending in the same batch, so each registration carries a
 * generation number that travels in the epoll data and a stale event
 * (removed fd, or fd number reused by a new registration) is dropped.
 *
 * Timers are a binary min-heap ordered by (deadline, id): equal deadlines
 * fire in the order they were added.  Cancelling is a linear search, fine
 * for the few thousand timers a process holds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "log.h"

#define EVENT_BATCH 64

struct event_fd {
	event_fn fn;
	void *ctx;
	unsigned events; /* EVENT_READ, EVENT_WRITE, EXCLUSIVE; 0: paused */
	uint32_t gen;    /* 0: not registered */
	int in_epoll;
};

struct event_timer {
	long long when;
	unsigned long id;
	event_timer_fn fn;
	void *ctx;
};

static int event_epfd = -1;
static struct event_fd *event_fds;
static size_t event_fd_cap;
static uint32_t event_gen;
static struct event_timer *event_heap;
static size_t event_heap_len, event_heap_cap;
static unsigned long event_timer_next;

long long
event_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
event_init(void)
{
	if (event_epfd >= 0)
		close(event_epfd);
	event_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (event_epfd < 0)
		log_fatal("event: epoll_create1: %s", strerror(errno));
	free(event_fds);
	event_fds = NULL;
	event_fd_cap = 0;
	free(event_heap);
	event_heap = NULL;
	event_heap_len = event_heap_cap = 0;
}

static struct event_fd *
event_slot(int fd)
{
	size_t want;

	if (fd < 0)
		log_fatal("event: bad fd %d", fd);
	if ((size_t)fd >= event_fd_cap) {
		want = (size_t)fd + 64;
		event_fds = xreallocarray(event_fds, want, sizeof(*event_fds));
		memset(event_fds + event_fd_cap, 0,
		       (want - event_fd_cap) * sizeof(*event_fds));
		event_fd_cap = want;
	}
	return &event_fds[fd];
}

static uint32_t
event_mask(unsigned events)
{
	uint32_t m = 0;

	/* The kernel takes no EPOLLRDHUP with it: a listener has no use. */
	if (events & EVENT_EXCLUSIVE)
		return EPOLLIN | EPOLLEXCLUSIVE;
	if (events & EVENT_READ)
		m |= EPOLLIN | EPOLLRDHUP;
	if (events & EVENT_WRITE)
		m |= EPOLLOUT;
	return m;
}

/* Bring epoll in line with the slot; ENOENT/EEXIST cover a reused fd. */
static void
event_sync(int fd, struct event_fd *s)
{
	struct epoll_event ev;
	int op, r;

	memset(&ev, 0, sizeof(ev));
	ev.events = event_mask(s->events);
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)s->gen << 32;
	if (s->events == 0) {
		if (s->in_epoll)
			(void)epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, NULL);
		s->in_epoll = 0;
		return;
	}
	op = s->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	r = epoll_ctl(event_epfd, op, fd, &ev);
	if (r != 0 && errno == ENOENT && op == EPOLL_CTL_MOD)
		r = epoll_ctl(event_epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (r != 0 && errno == EEXIST && op == EPOLL_CTL_ADD)
		r = epoll_ctl(event_epfd, EPOLL_CTL_MOD, fd, &ev);
	if (r != 0)
		log_fatal("event: epoll_ctl fd=%d: %s", fd, strerror(errno));
	s->in_epoll = 1;
}

void
event_set(int fd, unsigned events, event_fn fn, void *ctx)
{
	struct event_fd *s;

	if (event_epfd < 0)
		log_fatal("event: event_set before event_init");
	s = event_slot(fd);
	if (s->gen == 0) {
		if (++event_gen == 0)
			event_gen = 1;
		s->gen = event_gen;
	}
	s->fn = fn;
	s->ctx = ctx;
	if (events & EVENT_EXCLUSIVE)
		events = EVENT_READ | EVENT_EXCLUSIVE;
	else
		events &= EVENT_READ | EVENT_WRITE;
	/* Already watched so: no system call (event_remove before close). */
	if (s->in_epoll && s->events == events)
		return;
	/* An exclusive watch cannot be modified, only removed and added. */
	if (s->in_epoll && ((s->events | events) & EVENT_EXCLUSIVE)) {
		(void)epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, NULL);
		s->in_epoll = 0;
	}
	s->events = events;
	event_sync(fd, s);
}

void
event_remove(int fd)
{
	struct event_fd *s;

	if (fd < 0 || (size_t)fd >= event_fd_cap || event_fds[fd].gen == 0)
		return;
	s = &event_fds[fd];
	if (s->in_epoll)
		(void)epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(s, 0, sizeof(*s));
}

static int
event_timer_before(const struct event_timer *a, const struct event_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void
event_heap_swap(size_t i, size_t j)
{
	struct event_timer t = event_heap[i];

	event_heap[i] = event_heap[j];
	event_heap[j] = t;
}

static void
event_heap_up(size_t i)
{
	while (i > 0 &&
	       event_timer_before(&event_heap[i], &event_heap[(i - 1) / 2])) {
		event_heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
event_heap_down(size_t i)
{
	size_t l, r, min;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		min = i;
		if (l < event_heap_len &&
		    event_timer_before(&event_heap[l], &event_heap[min]))
			min = l;
		if (r < event_heap_len &&
		    event_timer_before(&event_heap[r], &event_heap[min]))
			min = r;
		if (min == i)
			return;
		event_heap_swap(i, min);
		i = min;
	}
}

static void
event_heap_delete(size_t i)
{
	event_heap[i] = event_heap[--event_heap_len];
	if (i < event_heap_len) {
		event_heap_up(i);
		event_heap_down(i);
	}
}

unsigned long
event_timer_add(long long ms, event_timer_fn fn, void *ctx)
{
	struct event_timer *t;

	if (event_heap_len == event_heap_cap) {
		event_heap_cap = event_heap_cap ? event_heap_cap * 2 : 64;
		event_heap = xreallocarray(event_heap, event_heap_cap,
					   sizeof(*event_heap));
	}
	if (++event_timer_next == 0)
		event_timer_next = 1;
	t = &event_heap[event_heap_len++];
	t->when = event_now_ms() + (ms > 0 ? ms : 0);
	t->id = event_timer_next;
	t->fn = fn;
	t->ctx = ctx;
	event_heap_up(event_heap_len - 1); /* t may now hold another */
	return event_timer_next;
}

void
event_timer_cancel(unsigned long id)
{
	size_t i;

	for (i = 0; i < event_heap_len; i++) {
		if (event_heap[i].id == id) {
			event_heap_delete(i);
			return;
		}
	}
}

/* Run the timers due now, but not those their callbacks add (no spin). */
static void
event_run_timers(void)
{
	unsigned long last = event_timer_next;
	long long now = event_now_ms();
	struct event_timer t;

	while (event_heap_len > 0 && event_heap[0].when <= now &&
	       event_heap[0].id <= last) {
		t = event_heap[0];
		event_heap_delete(0);
		t.fn(t.ctx);
	}
}

static void
event_dispatch(const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct event_fd *s;
	unsigned what = 0;

	if ((size_t)fd >= event_fd_cap)
		return;
	s = &event_fds[fd];
	if (s->gen != gen || s->events == 0 || s->fn == NULL)
		return; /* removed or paused by an earlier callback */
	if (ev->events & (EPOLLIN | EPOLLRDHUP))
		what |= EVENT_READ;
	if (ev->events & EPOLLOUT)
		what |= EVENT_WRITE;
	if (ev->events & (EPOLLERR | EPOLLHUP)) {
		/* Let a reader see the end of the stream as well. */
		what |= EVENT_ERROR | (s->events & EVENT_READ);
	}
	what &= s->events | EVENT_ERROR;
	if (what != 0)
		s->fn(fd, what, s->ctx);
}

static int
event_timeout(long long max_ms)
{
	long long wait = max_ms, due;

	if (event_heap_len > 0) {
		due = event_heap[0].when - event_now_ms();
		if (due < 0)
			due = 0;
		if (wait < 0 || due < wait)
			wait = due;
	}
	if (wait > 1000LL * 3600 * 24)
		wait = 1000LL * 3600 * 24;
	return (int)wait;
}

void
event_run_once(long long max_ms)
{
	struct epoll_event evs[EVENT_BATCH];
	int n, i;

	if (event_epfd < 0)
		log_fatal("event: event_run_once before event_init");
	n = epoll_wait(event_epfd, evs, EVENT_BATCH, event_timeout(max_ms));
	if (n < 0 && errno != EINTR)
		log_fatal("event: epoll_wait: %s", strerror(errno));
	for (i = 0; i < n; i++)
		event_dispatch(&evs[i]);
	event_run_timers();
}
