/*
 * local_resolve.h: the state of one recipient's expansion, shared by
 * local_resolve.c (aliases, .forward, addresses) and local_dest.c (the
 * destinations it reaches and the bookkeeping of their results).  Runs in
 * local's resolver (local_resolver_user), which knows users only by name:
 * the root parent looks each one up again.
 */
#ifndef MOAT_LOCAL_RESOLVE_H
#define MOAT_LOCAL_RESOLVE_H

#include "local.h"

struct local_expansion {
	const struct local_msg *msg;
	const struct local_resolver *rs;
	struct buf header;       /* the start of the message */
	const char *domain;      /* for local names without one */
	char top[ADDR_TEXT_MAX]; /* the recipient, canonical */
	struct local_result worst, first;
	size_t sent, recorded, leaves, visits;
	int too_big;
	int last;   /* the next mailbox job is the recipient's one */
	int handed; /* it went as the last job: the parent has the result */
	char **seen, **remote;
	size_t nseen, nremote;
};

/* Who a command or file target runs as, and where it was found. */
struct local_runas {
	const char *user;         /* default_privs, or the .forward's owner */
	enum local_source source; /* SOURCE_ALIAS or SOURCE_FORWARD */
	const char *alias;        /* SOURCE_ALIAS: the alias key */
};

/* Log one destination's result and fold it into the overall one. */
void local_dest_record(struct local_expansion *st, const char *to,
		       const struct local_result *r);
void local_dest_fail(struct local_expansion *st, const char *to,
		     enum local_status status, const char *dsn, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));
/* 1 when KIND:WHO:NAME was seen before in this expansion; else remember. */
int local_dest_seen(struct local_expansion *st, const char *kind,
		    const char *who, const char *name);

/* The destinations; each runs at most once per expansion. */
void local_dest_mailbox(struct local_expansion *st, const char *user,
			const char *to);
void local_dest_command(struct local_expansion *st, const char *line,
			const struct local_runas *as, const char *to,
			const char *ext);
void local_dest_file(struct local_expansion *st, const char *path,
		     const struct local_runas *as, const char *to);
void local_dest_remote(struct local_expansion *st, const struct address *a);
/* Resubmit the remote ones and sum up the expansion in r. */
void local_dest_finish(struct local_expansion *st, struct local_result *r);

#endif
