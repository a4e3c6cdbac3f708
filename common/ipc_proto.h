/*
 * ipc_proto: the conversations between Moat's daemons, all in ipc.h frames.
 * Attribute names are declared here once.  Each server checks its peer's
 * uid with SO_PEERCRED before it reads a byte (see server.h peers).
 *
 * Submission to cleanup (socket private/cleanup; peers smtpd, local, qmgr,
 * pickup), one message per connection:
 *   -> {op=begin, sender, protocol, [client_addr], [client_name], [helo],
 *       [auth_user], [submit_uid], [submit_user]}
 *                                         sender "" is the null sender;
 *                                         submit_uid and submit_user are
 *                                         believed from pickup only
 *   -> {op=rcpt, addr, [orig]}            once per recipient, at least one
 *   -> {op=data, chunk}                   content in canonical form: LF line
 *                                         ends, dot-unstuffed; any number
 *   -> {op=end}
 *   <- {status, code, dsn, text, [queue_id]}
 *   A connection closed before op=end aborts: nothing is queued.
 *   status: "ok" (queued; code 250), "defer" (4xx: try again) or "reject"
 *   (5xx: the message itself is refused, e.g. header limits).
 *
 * Wake-up of qmgr (socket private/qmgr; peers cleanup and the admin
 * command), no reply:
 *   -> {op=wake, [queue_id]}
 *
 * Delivery by local (socket private/local; peer qmgr), one per connection.
 * The frame carries a read-only descriptor of the queue file; the message
 * is content_length bytes at content_offset.  local never opens the queue.
 *   -> {op=deliver, queue_id, sender, rcpt, [orig_rcpt], content_offset,
 *       content_length, arrival} + fd
 *   <- {status, dsn, text}
 *   status: "sent", "defer" (try later) or "bounce" (permanent failure);
 *   text is the reason in Postfix's words ("delivered to maildir").
 */
#ifndef MOAT_IPC_PROTO_H
#define MOAT_IPC_PROTO_H

#define IPC_SOCK_CLEANUP "private/cleanup"
#define IPC_SOCK_QMGR "private/qmgr"
#define IPC_SOCK_LOCAL "private/local"

#define IPC_OP "op"
#define IPC_OP_BEGIN "begin"
#define IPC_OP_RCPT "rcpt"
#define IPC_OP_DATA "data"
#define IPC_OP_END "end"
#define IPC_OP_WAKE "wake"
#define IPC_OP_DELIVER "deliver"

#define IPC_SENDER "sender"
#define IPC_PROTOCOL "protocol"
#define IPC_CLIENT_ADDR "client_addr"
#define IPC_CLIENT_NAME "client_name"
#define IPC_HELO "helo"
#define IPC_AUTH_USER "auth_user"
#define IPC_SUBMIT_UID "submit_uid"
#define IPC_SUBMIT_USER "submit_user"
#define IPC_ADDR "addr"
#define IPC_ORIG "orig"
#define IPC_CHUNK "chunk"
#define IPC_QUEUE_ID "queue_id"
#define IPC_RCPT "rcpt"
#define IPC_ORIG_RCPT "orig_rcpt"
#define IPC_CONTENT_OFFSET "content_offset"
#define IPC_CONTENT_LENGTH "content_length"
#define IPC_ARRIVAL "arrival"

#define IPC_STATUS "status"
#define IPC_CODE "code"
#define IPC_DSN "dsn"
#define IPC_TEXT "text"

#define IPC_STATUS_OK "ok"
#define IPC_STATUS_DEFER "defer"
#define IPC_STATUS_REJECT "reject"
#define IPC_STATUS_SENT "sent"
#define IPC_STATUS_BOUNCE "bounce"

/* Largest chunk in one op=data frame. */
#define IPC_CHUNK_MAX (64 * 1024)

#endif
