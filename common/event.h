/*
 * event: a small epoll loop with timers, for daemons that serve many peers
 * at once (smtpd's sessions, qmgr's deliveries).  One loop per process.
 * Callbacks run one at a time; a callback may add or remove any fd or
 * timer, including its own.
 */
#ifndef MOAT_EVENT_H
#define MOAT_EVENT_H

#define EVENT_READ 0x1
#define EVENT_WRITE 0x2
#define EVENT_ERROR 0x4		/* reported only: hang-up or error */
/*
 * With EVENT_READ on a listening socket that several processes watch: a
 * new client wakes one of those waiting, not all (EPOLLEXCLUSIVE).
 */
#define EVENT_EXCLUSIVE 0x8

typedef void (*event_fn)(int fd, unsigned events, void *ctx);
typedef void (*event_timer_fn)(void *ctx);

void event_init(void);				/* fatal on failure */
/*
 * Watch fd for events (EVENT_READ|EVENT_WRITE, or EVENT_EXCLUSIVE); replaces
 * any earlier set.
 */
void event_set(int fd, unsigned events, event_fn fn, void *ctx);
void event_remove(int fd);			/* before close(fd) */
/* A one-shot timer after ms milliseconds; returns an id > 0. */
unsigned long event_timer_add(long long ms, event_timer_fn fn, void *ctx);
void event_timer_cancel(unsigned long id);	/* unknown ids are ignored */
/* Wait up to max_ms (-1: until an event or timer) and run what is due. */
void event_run_once(long long max_ms);
/* Monotonic milliseconds. */
long long event_now_ms(void);

#endif
