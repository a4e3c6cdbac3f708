/*
 * screen.h: what the files of the screen daemon share (see screen.c for
 * what it does and its stance).  Every client connection is one struct
 * screen_conn, kept small (the screen holds tens of thousands); the
 * state that only some clients need (DNSBL lookups, the SMTP engine of
 * an enforced rejection) hangs off it and is allocated when needed.
 * Only screen/ includes this.
 */
#ifndef MOAT_SCREEN_H
#define MOAT_SCREEN_H

#include <netinet/in.h>
#include <stddef.h>

#include "buf.h"
#include "screen_dnsbl.h"
#include "smtpd_access.h"

/* What happens to a client that fails a test. */
enum screen_action {
	SCREEN_IGNORE,  /* log it, pass the client anyway (not cached) */
	SCREEN_ENFORCE, /* talk SMTP and reject every recipient with 550 */
	SCREEN_DROP,    /* 521 and hang up */
};

struct screen_config {
	long long greet_wait_ms;
	const char *greet_banner; /* "" for a silent pause */
	enum screen_action greet_action, dnsbl_action;
	long long greet_ttl, dnsbl_ttl; /* seconds a pass is cached */
	struct dnsbl_site *sites;
	size_t site_count;
	int dnsbl_threshold, dnsbl_allow_threshold;
	long long dnsbl_timeout_ms;
	unsigned count_limit; /* connections per client in the screen */
	unsigned v6_prefix;
	size_t pre_queue_limit, post_queue_limit;
	size_t client_limit; /* all held at once: what the descriptors allow */
	long long command_time_ms;
	unsigned command_count_limit;
	const char *myhostname, *smtpd_banner;
	const struct smtpd_net *nets; /* mynetworks */
	size_t net_count;
	const char *pass_service; /* private/smtpd */
	long long cache_retention, cache_cleanup_ms;
};

extern struct screen_config screen_cfg;

/* What a client gets when the screen stops (a reload) before its end. */
#define SCREEN_STOP_REPLY "421 4.3.2 Service shutting down"
#define SCREEN_STOP_GRACE_MS 5000 /* to hand the queue over */

/* What a client gets when the screen or every smtpd is full. */
#define SCREEN_BUSY_REPLY                                                      \
	"421 4.3.2 Service temporarily unavailable; all server ports are "     \
	"busy"

enum screen_state {
	SCREEN_NEW,     /* just accepted */
	SCREEN_TESTING, /* greet pause, DNSBL lookups */
	SCREEN_QUEUED,  /* passed: waiting for an smtpd */
	SCREEN_HANDOFF, /* being handed to an smtpd */
	SCREEN_SMTP,    /* failed: the SMTP engine rejects it */
};

#define SCREEN_F_TRUSTED 0x01  /* in mynetworks */
#define SCREEN_F_BANNER 0x02   /* "220-" sent */
#define SCREEN_F_PREGREET 0x04 /* talked before the greeting */
#define SCREEN_F_GREET 0x08    /* the greet test runs */
#define SCREEN_F_COUNTED 0x10  /* in the per-client count */
#define SCREEN_F_PASS 0x20     /* passed every test that ran: cache it */
#define SCREEN_F_DNSBL 0x40    /* the DNSBL test runs */

struct screen_dlist;
struct screen_smtp;

struct screen_conn {
	int fd;
	unsigned char state, flags;
	unsigned short port;
	char addr[INET6_ADDRSTRLEN];
	long long start_us; /* monotonic microseconds */
	/* the deadline list the connection is on (screen_deadline.c) */
	struct screen_dlist *dl;
	struct screen_conn *dl_prev, *dl_next;
	long long deadline;
	struct screen_dnsbl_run *dnsbl; /* lookups in flight, or NULL */
	int score;                      /* DNSBL score so far */
	char *reject;                   /* the 5xx the SMTP engine gives */
	struct screen_smtp_conn *smtp;  /* SMTP engine state, or NULL */
};

/* A list of connections that all wait the same time, in deadline order. */
struct screen_dlist {
	struct screen_conn *head, *tail;
	long long timeout_ms;
	void (*expire)(struct screen_conn *c);
	unsigned long timer;
	size_t count;
	int firing; /* expiring now: arm once at the end */
};

/* screen_deadline.c */
void screen_dlist_init(struct screen_dlist *l, long long timeout_ms,
		       void (*expire)(struct screen_conn *));
/* Onto l (off any other list), expiring timeout_ms from now. */
void screen_dlist_add(struct screen_dlist *l, struct screen_conn *c);
/* Onto l, keeping its own deadline (which must not be past l's tail's). */
void screen_dlist_add_at(struct screen_dlist *l, struct screen_conn *c,
			 long long deadline);
/* Bring every deadline of l forward to at most deadline. */
void screen_dlist_cap(struct screen_dlist *l, long long deadline);
/* Back to the head of l, with its deadline (a client taken from it). */
void screen_dlist_push_front(struct screen_dlist *l, struct screen_conn *c);
void screen_dlist_remove(struct screen_conn *c);

/* screen_conn.c */
void screen_conn_accept(int fd);
/* The DNSBL lookups of c are all answered (screen_dnsbl.c). */
void screen_conn_tested(struct screen_conn *c);
/* Send a last reply, log nothing more, close. */
void screen_conn_reply_close(struct screen_conn *c, const char *reply);
void screen_conn_close(struct screen_conn *c);
/* c's socket went to an smtpd: forget c without a byte read or sent. */
void screen_conn_handed(struct screen_conn *c);
/* "0.2", "1.25", "12": seconds since c connected, as postscreen logs. */
const char *screen_conn_age(const struct screen_conn *c);
/* "[addr]:port" for log lines (a static buffer). */
const char *screen_conn_name(const struct screen_conn *c);
void screen_conn_init(void);
/*
 * The screen stops (SIGHUP, a reload: the master starts the next one once
 * this one is gone): tests end now, rejected clients get 421, and the
 * queue has SCREEN_STOP_GRACE_MS to be handed over.
 */
void screen_conn_stop(void);
extern int screen_stopping;
/* Pure helpers (screen_text.c): log text of client bytes, of a delay. */
void screen_escape(const char *data, size_t len, char *out, size_t size);
void screen_delay_text(long long us, char *out, size_t size);

/* screen_pass.c: clients that passed wait here for an smtpd. */
void screen_pass_init(void);
void screen_pass_enqueue(struct screen_conn *c);
/* Take c off the queue (it closed while waiting). */
void screen_pass_dequeue(struct screen_conn *c);
void screen_pass_stop(void);
size_t screen_pass_waiting(void);

/* screen_cache.c: the LMDB cache of clients that passed. */
struct screen_cache_entry {
	long long greet_expiry, dnsbl_expiry; /* wall-clock seconds */
};
int screen_cache_open(const char *path);
/* 1 found (in *e), 0 not; nothing cached when the cache is unusable. */
int screen_cache_get(const char *addr, struct screen_cache_entry *e);
void screen_cache_put(const char *addr, const struct screen_cache_entry *e);

/* screen_smtp_conn.c: the SMTP engine of an enforced rejection. */
void screen_smtp_start(struct screen_conn *c);
void screen_smtp_free(struct screen_conn *c);
void screen_smtp_stop(void);

#endif
