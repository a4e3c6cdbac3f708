/*
 * screen_deadline: timeouts for tens of thousands of connections without
 * a timer each.  Connections that wait the same time (the greet pause,
 * the wait for an smtpd, the SMTP engine's command time) sit on one list
 * in the order of their deadlines, which is the order they were added
 * in; one event timer per list is armed for its head.  Adding, moving and
 * removing are O(1).  No input.  Run by screen.
 */
#include "event.h"
#include "screen.h"

static void dlist_on_timer(void *ctx);

static void
dlist_arm(struct screen_dlist *l)
{
	long long wait;

	if (l->firing)
		return; /* dlist_on_timer arms once it is done */
	if (l->timer != 0)
		event_timer_cancel(l->timer);
	l->timer = 0;
	if (l->head == NULL)
		return;
	wait = l->head->deadline - event_now_ms();
	l->timer = event_timer_add(wait > 0 ? wait : 0, dlist_on_timer, l);
}

void
screen_dlist_init(struct screen_dlist *l, long long timeout_ms,
		  void (*expire)(struct screen_conn *))
{
	l->head = l->tail = NULL;
	l->timeout_ms = timeout_ms;
	l->expire = expire;
	l->timer = 0;
	l->count = 0;
	l->firing = 0;
}

void
screen_dlist_remove(struct screen_conn *c)
{
	struct screen_dlist *l = c->dl;
	int was_head;

	if (l == NULL)
		return;
	was_head = l->head == c;
	if (c->dl_prev != NULL)
		c->dl_prev->dl_next = c->dl_next;
	else
		l->head = c->dl_next;
	if (c->dl_next != NULL)
		c->dl_next->dl_prev = c->dl_prev;
	else
		l->tail = c->dl_prev;
	c->dl = NULL;
	c->dl_prev = c->dl_next = NULL;
	l->count--;
	if (was_head)
		dlist_arm(l);
}

void
screen_dlist_add_at(struct screen_dlist *l, struct screen_conn *c,
		    long long deadline)
{
	screen_dlist_remove(c);
	if (l->tail != NULL && deadline < l->tail->deadline)
		deadline = l->tail->deadline; /* keep the order */
	c->deadline = deadline;
	c->dl = l;
	c->dl_next = NULL;
	c->dl_prev = l->tail;
	if (l->tail != NULL)
		l->tail->dl_next = c;
	else
		l->head = c;
	l->tail = c;
	l->count++;
	if (l->head == c)
		dlist_arm(l);
}

void
screen_dlist_push_front(struct screen_dlist *l, struct screen_conn *c)
{
	screen_dlist_remove(c);
	if (l->head != NULL && c->deadline > l->head->deadline)
		c->deadline = l->head->deadline; /* keep the order */
	c->dl = l;
	c->dl_prev = NULL;
	c->dl_next = l->head;
	if (l->head != NULL)
		l->head->dl_prev = c;
	else
		l->tail = c;
	l->head = c;
	l->count++;
	dlist_arm(l);
}

void
screen_dlist_cap(struct screen_dlist *l, long long deadline)
{
	struct screen_conn *c;

	for (c = l->head; c != NULL; c = c->dl_next)
		if (c->deadline > deadline)
			c->deadline = deadline; /* the order stays */
	dlist_arm(l);
}

void
screen_dlist_add(struct screen_dlist *l, struct screen_conn *c)
{
	screen_dlist_add_at(l, c, event_now_ms() + l->timeout_ms);
}

/* Expire every connection whose deadline passed; then re-arm. */
static void
dlist_on_timer(void *ctx)
{
	struct screen_dlist *l = ctx;
	long long now = event_now_ms();
	struct screen_conn *c;

	l->timer = 0;
	l->firing = 1;
	while ((c = l->head) != NULL && c->deadline <= now) {
		screen_dlist_remove(c);
		l->expire(c);
	}
	l->firing = 0;
	dlist_arm(l);
}
