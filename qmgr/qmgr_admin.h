/*
 * qmgr_admin.h: one queue administration connection, shared by
 * qmgr_admin.c (the connection: checks, replies, writing) and
 * qmgr_admin_ops.c (the requests).  qmgr/ only.
 */
#ifndef MOAT_QMGR_ADMIN_H
#define MOAT_QMGR_ADMIN_H

#include "buf.h"
#include "qmgr.h"

struct qmgr_admin {
	int fd;
	struct qmgr_peer peer;
	const char *op;
	struct buf out;         /* framed replies not yet written */
	int pass_fd;            /* sent with the first bytes of out */
	struct qmgr_list *list; /* a listing in progress */
	int list_done;
	unsigned long timer;
};

/* Queue a {status, text} reply. */
void qmgr_admin_reply(struct qmgr_admin *a, const char *status,
		      const char *text);

/* qmgr_admin_ops.c: one request each; id is valid when one is needed. */
void qmgr_admin_list(struct qmgr_admin *a, const char *id);
void qmgr_admin_show(struct qmgr_admin *a, const char *id);
void qmgr_admin_flush(struct qmgr_admin *a, const char *id);
void qmgr_admin_hold(struct qmgr_admin *a, const char *id);
void qmgr_admin_release(struct qmgr_admin *a, const char *id);
void qmgr_admin_requeue(struct qmgr_admin *a, const char *id);
void qmgr_admin_delete(struct qmgr_admin *a, const char *id);

#endif
