/*
 * ipc: the one protocol between Moat's processes.  A frame is a 4-byte
 * big-endian payload length, then the payload: a sequence of attributes,
 * each two netstrings, "LEN:name," and "LEN:value,".  Names are 1 to
 * IPC_NAME_MAX bytes of [a-z0-9_]; a name may repeat (one "rcpt" per
 * recipient).  Values are binary-safe.  A frame may carry one file
 * descriptor (SCM_RIGHTS).  Everything read is hostile: lengths are bounded
 * by IPC_FRAME_MAX and IPC_ATTR_MAX, and anything malformed ends the
 * conversation (the caller closes the peer and logs it).
 *
 * The conversations built on it are listed in ipc_proto.h.
 */
#ifndef MOAT_IPC_H
#define MOAT_IPC_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "buf.h"

#define IPC_FRAME_MAX (1024 * 1024) /* payload bytes */
#define IPC_ATTR_MAX 4096           /* attributes in one frame */
#define IPC_NAME_MAX 32

struct ipc_attr {
	const char *name;  /* NUL-terminated, inside the frame's storage */
	const char *value; /* value_len bytes, NUL-terminated after them */
	size_t value_len;
};

struct ipc_frame {
	struct buf raw;        /* encoded payload (sending) or storage */
	struct ipc_attr *attr; /* parsed attributes (receiving) */
	size_t count;
	size_t attr_cap;
	int fd; /* received descriptor, or -1 */
};

void ipc_frame_init(struct ipc_frame *f);
void ipc_frame_reset(struct ipc_frame *f); /* closes a received fd */
void ipc_frame_free(struct ipc_frame *f);

/* Building a frame to send.  Fatal on an invalid name (a programming error). */
void ipc_put(struct ipc_frame *f, const char *name, const void *value,
	     size_t len);
void ipc_put_str(struct ipc_frame *f, const char *name, const char *value);
void ipc_put_int(struct ipc_frame *f, const char *name, long long value);

/*
 * Pure parser: decode one payload into f (copying it).  Returns 0, or -1
 * with a short reason in *why for a malformed payload.
 */
int ipc_parse(const char *payload, size_t len, struct ipc_frame *f,
	      const char **why);

/* Parse the payload already placed in f->raw (by a reader), in place. */
int ipc_parse_received(struct ipc_frame *f, const char **why);

/* Every frame starts with this many bytes: the payload length. */
#define IPC_HEADER_LEN 4
/* The payload length in a frame header (IPC_HEADER_LEN bytes). */
size_t ipc_frame_length(const void *header);

/*
 * Incremental reader for event loops: if in holds a whole frame, parse it
 * into f, remove it from in and return 1; 0 when more bytes are needed;
 * -1 (with *why) when the bytes can never be a valid frame.
 */
int ipc_take_frame(struct buf *in, struct ipc_frame *f, const char **why);

/*
 * For event loops: one read from a non-blocking socket into in (which may
 * hold at most max bytes), then ipc_take_frame.  1: a frame in f; 0: wait
 * for more; -1 with *why: end of file, a read error, more than max bytes
 * or bytes that can never be a frame.  Descriptors are not received here.
 */
int ipc_read_frame(int sock, struct buf *in, size_t max, struct ipc_frame *f,
		   const char **why);
/* The *why of ipc_read_frame for a peer that closed the connection. */
#define IPC_WHY_EOF "connection closed"
/*
 * ipc_read_frame that also takes a passed descriptor into *fd (which must
 * be -1 before the first call of a frame, and is the caller's to close
 * afterwards); a second descriptor is an error.
 */
int ipc_read_frame_fd(int sock, struct buf *in, size_t max, struct ipc_frame *f,
		      int *fd, const char **why);
/*
 * For event loops: send a whole small frame (and fd_to_pass when >= 0) in
 * one non-blocking sendmsg on a socket that has room, as a fresh one
 * does; 0, or -1 with errno (EAGAIN: it did not all go; give up).
 */
int ipc_send_nowait(int sock, const struct ipc_frame *f, int fd_to_pass);
/*
 * For event loops that write from a buffer of their own: append the whole
 * frame (header and payload) to out; 0, or -1 (EMSGSIZE) when f is empty
 * or over IPC_FRAME_MAX.
 */
int ipc_frame_append(struct buf *out, const struct ipc_frame *f);
/*
 * For event loops: write what a non-blocking socket takes of out now
 * (consumed as sent); 0 (out->len says what is left), or -1 with errno.
 */
int ipc_send_buf(int sock, struct buf *out);
/*
 * For event loops: one non-blocking connect to a UNIX stream socket; the
 * socket stays non-blocking.  -1 with errno: EAGAIN when the listener's
 * backlog is full, ECONNREFUSED or ENOENT when nobody listens.
 */
int ipc_connect_nowait(const char *path);

/*
 * Blocking send and receive on a stream socket, each bounded by timeout
 * seconds (0: no limit).  ipc_send passes fd_to_pass when it is >= 0.
 * ipc_recv returns 1 for a frame, 0 for a clean EOF before any byte, and -1
 * (errno ETIMEDOUT, EPROTO or the system's) otherwise, with *why set.
 * A received descriptor lands in f->fd; a frame may carry at most one.
 */
int ipc_send(int sock, const struct ipc_frame *f, int fd_to_pass, int timeout);
int ipc_recv(int sock, struct ipc_frame *f, int timeout, const char **why);
/*
 * One non-blocking sendmsg of iov, with fd_to_pass attached when >= 0:
 * the bytes sent, or -1 with errno (EAGAIN: try when writable).  For event
 * loops that write frames they encoded themselves.
 */
ssize_t ipc_sendmsg(int sock, struct iovec *iov, size_t iovcnt, int fd_to_pass);

/*
 * A deadline timeout seconds from now (monotonic ms; 0 for timeout 0: no
 * limit), and a wait for events on a descriptor until it: 0 when they
 * came, -1 with errno (ETIMEDOUT) otherwise.  Also for other sockets
 * (remote's SMTP connections).
 */
long long ipc_deadline(int timeout);
int ipc_wait(int sock, short events, long long deadline);

/* Attribute lookup: the first attribute with this name, or NULL. */
const struct ipc_attr *ipc_get(const struct ipc_frame *f, const char *name);
/* The value as a C string; NULL when absent or when it contains a NUL. */
const char *ipc_get_str(const struct ipc_frame *f, const char *name);
/* Decimal value; -1 when absent or not a number within [min, max]. */
int ipc_get_int(const struct ipc_frame *f, const char *name, long long min,
		long long max, long long *out);

/*
 * ipc_serve.c, for event servers whose peers keep a connection and send
 * one request frame after another (anvil, tlssign): read what fd has, at
 * most max bytes buffered in in, and hand each whole frame to fn, which
 * answers it (0), or refuses to go on (-1 with *why).  0: the peer may
 * send more; -1: close it (why logged, unless the peer simply closed).
 */
typedef int (*ipc_request_fn)(void *ctx, const struct ipc_frame *f,
			      const char **why);
int ipc_serve_frames(int fd, struct buf *in, size_t max, ipc_request_fn fn,
		     void *ctx);

/*
 * 1 while the peer of a stream socket (-1: none) has not closed it (a
 * delivery agent asks before it makes a delivery final).
 */
int ipc_peer_alive(int sock);

/* The uid and pid of a UNIX stream socket's peer (SO_PEERCRED). */
int ipc_peer_cred(int sock, uid_t *uid, pid_t *pid);

/* Connect to a UNIX stream socket by path; -1 with errno on failure. */
int ipc_connect(const char *path, int timeout);

#endif
