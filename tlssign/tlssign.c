/*
 * tlssign: the holder of smtpd's TLS private keys.  It reads them as root
 * at start (every key an smtpd service of master.conf names), and then
 * only signs: smtpd, which has the certificates, sends what a handshake
 * signs ({op=sign, key, alg, data}, ipc_proto.h) and gets the signature.
 * Requests that are not a digest, a DigestInfo or a PSS block are
 * refused (tlssign_check.c), so smtpd cannot use it to decrypt.  It also
 * gives smtpd processes their session ticket keys ({op=ticket}), the same
 * in every process for a time window, derived from the private keys.  A reload
 * starts a new tlssign with the renewed keys while smtpd processes of the
 * old generation keep their connection to the old one, which exits when
 * they are gone.
 *
 * Security stance: runs as moat-tlssign, chrooted in queue_directory,
 * sandbox SANDBOX_TLSSIGN, event_server_main (each smtpd process keeps one
 * connection); peers: smtpd only (SO_PEERCRED, by the skeleton).  Hostile
 * input: every frame (bounded by TLSSIGN_INPUT_MAX).  It opens nothing,
 * connects nowhere and writes no file after start-up; the keys never
 * leave its memory.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "event.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "server.h"
#include "tls_files.h"
#include "tlssign.h"

/* Security stance: enforced by the skeleton (server.h). */
static const char *const tlssign_peers[] = {"smtpd", NULL};
static const struct server_stance tlssign_stance = {
    .user = "moat-tlssign",
    .chroot = 1,
    .sandbox = SANDBOX_TLSSIGN,
    .peers = tlssign_peers,
};

#define TLSSIGN_INPUT_MAX 8192 /* bytes buffered per peer */
#define TLSSIGN_SEND_TIMEOUT 5 /* seconds for one reply */

struct tlssign_conn {
	int fd;
	struct buf in;
};

static void
tlssign_close(struct tlssign_conn *c)
{
	event_remove(c->fd);
	close(c->fd);
	buf_free(&c->in);
	free(c);
	server_client_done();
}

static int
tlssign_reply(int fd, const struct buf *sig, const char *why)
{
	struct ipc_frame r;
	int rc;

	ipc_frame_init(&r);
	if (why == NULL) {
		ipc_put_str(&r, IPC_STATUS, IPC_STATUS_OK);
		ipc_put(&r, IPC_SIG, sig->data, sig->len);
	} else {
		ipc_put_str(&r, IPC_STATUS, IPC_STATUS_ERROR);
		ipc_put_str(&r, IPC_TEXT, why);
	}
	rc = ipc_send(fd, &r, -1, TLSSIGN_SEND_TIMEOUT);
	ipc_frame_free(&r);
	return rc;
}

/* op=ticket: the session ticket key of a window. */
static int
tlssign_ticket(struct tlssign_conn *c, const struct ipc_frame *f,
	       const char **why)
{
	unsigned char key[TLSSIGN_TICKET_KEY_SIZE];
	struct buf out = BUF_INIT;
	const char *refusal = NULL;
	long long lifetime, window;
	int rc;

	if (ipc_get_int(f, IPC_LIFETIME, 1, 1000000, &lifetime) != 0 ||
	    ipc_get_int(f, IPC_WINDOW, 0, 1LL << 40, &window) != 0) {
		*why = "malformed request";
		return -1;
	}
	if (tlssign_ticket_key(lifetime, window, key, &refusal) == 0)
		buf_append(&out, key, sizeof(key));
	else
		log_warn("refused a ticket key for fd=%d: %s", c->fd, refusal);
	rc = tlssign_reply(c->fd, &out, refusal);
	OPENSSL_cleanse(key, sizeof(key));
	if (out.data != NULL)
		OPENSSL_cleanse(out.data, out.cap);
	buf_free(&out);
	if (rc != 0)
		*why = "cannot send the reply";
	return rc;
}

/* One request: 0 answered, -1 with *why when the peer must go. */
static int
tlssign_request(void *ctx, const struct ipc_frame *f, const char **why)
{
	struct tlssign_conn *c = ctx;
	const char *op = ipc_get_str(f, IPC_OP), *key = ipc_get_str(f, IPC_KEY);
	const char *alg_name = ipc_get_str(f, IPC_ALG), *refusal = NULL;
	const struct ipc_attr *data = ipc_get(f, IPC_DATA);
	struct buf sig = BUF_INIT;
	int alg, rc;

	if (op != NULL && strcmp(op, IPC_OP_TICKET) == 0)
		return tlssign_ticket(c, f, why);
	if (op == NULL || strcmp(op, IPC_OP_SIGN) != 0 || key == NULL ||
	    strlen(key) != TLS_KEY_ID_SIZE - 1 || alg_name == NULL ||
	    (alg = tlssign_alg_parse(alg_name)) < 0 || data == NULL) {
		*why = "malformed request";
		return -1;
	}
	if (tlssign_sign(key, alg, (const unsigned char *)data->value,
			 data->value_len, &sig, &refusal) != 0)
		log_warn("refused to sign (%s, %zu bytes) for fd=%d: %s",
			 alg_name, data->value_len, c->fd, refusal);
	rc = tlssign_reply(c->fd, &sig, refusal);
	buf_free(&sig);
	if (rc != 0)
		*why = "cannot send the reply";
	return rc;
}

static void
tlssign_on_read(int fd, unsigned events, void *ctx)
{
	struct tlssign_conn *c = ctx;

	(void)events;
	if (ipc_serve_frames(fd, &c->in, TLSSIGN_INPUT_MAX, tlssign_request,
			     c) != 0)
		tlssign_close(c);
}

static void
tlssign_accept(int fd)
{
	struct tlssign_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	buf_init(&c->in);
	event_set(fd, EVENT_READ, tlssign_on_read, c);
}

static void
tlssign_pre_drop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	tlssign_keys_load(server_config_dir());
	if (tlssign_keys_count() == 0)
		log_warn("no smtpd_tls_key_file is set: nothing to sign");
}

int
main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .stance = &tlssign_stance,
	    .pre_drop = tlssign_pre_drop,
	    .accept_client = tlssign_accept,
	};

	return event_server_main(argc, argv, &ops);
}
