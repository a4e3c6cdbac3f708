/*
 * pickup_users: the login names of the passwd database by uid, read once
 * as root before the chroot (pickup cannot see /etc/passwd afterwards), so
 * that cleanup's Received header can name the submitter.  Input: the
 * system's passwd database, trusted; names are still checked (printable,
 * bounded) before one goes into a header.  A user added later is seen by
 * the next pickup process (pickup.c restarts itself when a maildrop file
 * is owned by a uid the table does not know and is newer than the table).
 * Runs in pickup.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "pickup.h"

void
pickup_users_init(struct pickup_users *t)
{
	memset(t, 0, sizeof(*t));
}

void
pickup_users_free(struct pickup_users *t)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		free(t->user[i].name);
	free(t->user);
	pickup_users_init(t);
}

void
pickup_users_add(struct pickup_users *t, uid_t uid, const char *name)
{
	if (name == NULL || !pickup_user_name_ok(name))
		return;
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->user = xreallocarray(t->user, t->cap, sizeof(*t->user));
	}
	t->user[t->count].uid = uid;
	t->user[t->count].seq = t->count;
	t->user[t->count].name = xstrdup(name);
	t->count++;
	t->sorted = 0;
}

static int
pickup_user_cmp(const void *a, const void *b)
{
	const struct pickup_user *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

const char *
pickup_users_find(struct pickup_users *t, uid_t uid)
{
	size_t lo = 0, hi, mid;

	if (!t->sorted) {
		if (t->count > 0)
			qsort(t->user, t->count, sizeof(*t->user),
			      pickup_user_cmp);
		t->sorted = 1;
	}
	/* The first entry with this uid: the lowest index not below it. */
	hi = t->count;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->user[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->count && t->user[lo].uid == uid ? t->user[lo].name
						       : NULL;
}

void
pickup_users_load(struct pickup_users *t)
{
	struct passwd *pw;

	setpwent();
	while ((pw = getpwent()) != NULL)
		pickup_users_add(t, pw->pw_uid, pw->pw_name);
	endpwent();
	(void)pickup_users_find(t, 0); /* sort now, not after the chroot */
}
