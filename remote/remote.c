/*
 * remote: the SMTP client delivery agent.  qmgr connects to
 * private/remote and sends delivery requests for one destination (a
 * transport and a next hop), one after another on the same connection:
 * each request is one message (a read-only descriptor of its queue file)
 * and up to 1000 of its recipients; remote delivers it over SMTP, logs a
 * line per recipient, and answers one result frame per recipient.  The
 * SMTP session stays open between requests of one connection, so a run
 * of messages to one destination uses one session (RSET between
 * messages): that is the connection cache, bounded by
 * smtp_connection_reuse_count_limit and smtp_connection_reuse_time_limit
 * here and by smtp_connection_cache_time_limit of idleness in qmgr, which
 * closes the connection.  remote never opens the queue.
 *
 * Security stance: user moat-remote, chrooted in queue_directory,
 * sandbox SANDBOX_REMOTE, peers: qmgr only.  Before the drop it opens
 * libunbound (the resolvers and the DNSSEC trust anchor), OpenSSL (its
 * configuration and the CA certificates: the chroot has no /etc/ssl),
 * smtp_tls_policy_maps and smtp_sasl_password_maps (root's alone: it
 * holds passwords); the resolver thread starts at the first lookup,
 * inside the sandbox.  After the drop it writes only the MTA-STS cache
 * (spool/mta-sts, its own).  A rebuilt map makes it finish the current
 * connection from qmgr and exit, to be restarted with the new one.
 * Hostile input: every byte from remote SMTP servers (remote_reply.c
 * parses replies strictly and bounded; OpenSSL the handshakes), DNS
 * answers (decoded by libunbound, checked by dns_rdata.c), MTA-STS
 * policy servers and records (remote_mta_sts.c), and qmgr's requests
 * (validated field by field).  A malformed request ends the conversation
 * and is logged; qmgr then defers.
 */
#include <errno.h>
#include <string.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "params.h"
#include "remote_tls.h"
#include "server.h"
#include "utf8.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const remote_peers[] = {"qmgr", NULL};
static const struct server_stance remote_stance = {
    .user = "moat-remote",
    .chroot = 1,
    .sandbox = SANDBOX_REMOTE,
    .peers = remote_peers,
};

/* The SMTP session kept between the requests of one qmgr connection. */
static struct remote_cache remote_cache;

/* Every recipient deferred for a local reason (the queue file). */
static void
remote_defer_all(struct remote_req *q, const char *why)
{
	size_t i;

	for (i = 0; i < q->txn.rcpt_count; i++) {
		struct smtp_rcpt *rc = &q->rcpt[i];
		rc->state = SMTP_RCPT_DEFER;
		strlcpy(rc->dsn, "4.3.0", sizeof(rc->dsn));
		strlcpy(rc->text, why, sizeof(rc->text));
		rc->diag[0] = '\0';
	}
}

/*
 * An SMTPUTF8 message needs the extension of the next hop only when it
 * holds UTF-8 where the server would see it (RFC 6531 3.2): in the
 * envelope or the header block.  All-ASCII, it goes as any message.
 */
static int
remote_needs_utf8(const struct remote_req *q)
{
	size_t i;

	if (q->msg.info.eightbit_headers ||
	    utf8_has_8bit(q->txn.sender, strlen(q->txn.sender)))
		return 1;
	for (i = 0; i < q->txn.rcpt_count; i++)
		if (utf8_has_8bit(q->rcpt[i].addr, strlen(q->rcpt[i].addr)))
			return 1;
	return 0;
}

static void
remote_deliver(int client, struct remote_req *q)
{
	struct remote_outcome o;
	struct buf why = BUF_INIT;
	int stop, timeout = (int)param_int("ipc_timeout");
	size_t i;

	if (remote_msg_scan(&q->msg, &why) != 0) {
		log_warn("%s: %s", q->queue_id, buf_cstr(&why));
		memset(&o, 0, sizeof(o));
		strlcpy(o.relay, "none", sizeof(o.relay));
		remote_defer_all(q, buf_cstr(&why));
	} else {
		q->txn.size = smtp_content_wire_size(&q->msg.info);
		q->txn.eightbit = q->msg.info.eightbit;
		q->txn.smtputf8 = q->txn.smtputf8 && remote_needs_utf8(q);
		q->txn.require_8bitmime = param_bool("smtp_require_8bitmime");
		remote_session_deliver(&remote_cache, q->nexthop, &q->msg,
				       &q->txn, &o);
	}
	buf_free(&why);
	stop = server_stopping();
	for (i = 0; i < q->txn.rcpt_count; i++) {
		remote_request_log(q, i, &o);
		if (remote_request_answer(client, q, i, &o,
					  stop && i + 1 == q->txn.rcpt_count,
					  timeout) != 0)
			log_warn("%s: reply to qmgr: %s", q->queue_id,
				 strerror(errno));
	}
}

/* A rebuilt map: finish this connection, then exit for a fresh process. */
static void
remote_check_maps(void)
{
	if (server_stopping())
		return;
	if (remote_sasl_changed())
		log_info("smtp_sasl_password_maps was rebuilt: restarting");
	else if (remote_tls_plan_changed())
		log_info("smtp_tls_policy_maps was rebuilt: restarting");
	else
		return;
	server_wind_down();
}

/* One qmgr connection: requests until it closes it or we stop. */
static void
remote_serve(int client)
{
	int timeout = (int)param_int("ipc_timeout");
	const char *why = NULL;
	struct remote_req q;
	struct ipc_frame f;
	int r;

	ipc_frame_init(&f);
	for (;;) {
		r = ipc_recv(client, &f, timeout, &why);
		if (r != 1) {
			if (r < 0 && why != NULL)
				log_warn("request from qmgr: %s", why);
			break;
		}
		if ((why = remote_request_parse(&q, &f)) != NULL) {
			log_warn("malformed request from qmgr: %s", why);
			remote_request_free(&q);
			break;
		}
		q.msg.client_fd = client;
		q.msg.queue_id = q.queue_id;
		remote_deliver(client, &q);
		remote_request_free(&q);
		ipc_frame_reset(&f);
		remote_check_maps();
		if (server_stopping())
			break;
	}
	ipc_frame_free(&f);
	remote_cache_close(&remote_cache);
}

static void
remote_pre_drop(int argc, char **argv)
{
	struct buf err = BUF_INIT;

	(void)argc;
	(void)argv;
	if (remote_nexthop_dns_open(&err) != 0)
		log_fatal("DNS: %s", buf_cstr(&err));
	if (remote_tls_init(&err) != 0 || remote_tls_plan_open(&err) != 0 ||
	    remote_sasl_open(&err) != 0)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
}

static void
remote_post_drop(void)
{
	remote_cache_init(&remote_cache);
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &remote_stance,
	    .pre_drop = remote_pre_drop,
	    .post_drop = remote_post_drop,
	    .serve = remote_serve,
	};

	return single_server_main(argc, argv, &ops);
}
