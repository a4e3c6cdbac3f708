/*
 * ipc_proto: the conversations between Moat's daemons, all in ipc.h frames.
 * Attribute names are declared here once.  Each server checks its peer's
 * uid with SO_PEERCRED before it reads a byte (see server.h peers).
 *
 * Submission to cleanup (socket private/cleanup; peers smtpd, qmgr, pickup
 * and local's resolver, local_resolver_user; never root), one message per
 * connection:
 *   -> {op=begin, sender, protocol, [client_addr], [client_name], [helo],
 *       [auth_user], [auth_header], [tls], [submit_uid], [submit_user],
 *       [smtputf8], [dsn_ret], [dsn_envid]}
 *                                         sender "" is the null sender;
 *                                         what the peer is (and so the
 *                                         protocol, and whether
 *                                         submit_uid and submit_user
 *                                         count: from pickup only) comes
 *                                         from its uid, not the frame;
 *                                         smtpd's protocol must be an
 *                                         SMTP one (ESMTP, ESMTPSA, ...);
 *                                         tls: "VERSION CIPHER BITS
 *                                         ALG_BITS" of smtpd's session;
 *                                         auth_header=1: the Received
 *                                         header names auth_user;
 *                                         smtputf8=1: SMTPUTF8, and only
 *                                         then UTF-8 in addresses;
 *                                         dsn_ret FULL|HDRS, dsn_envid
 *                                         decoded (RFC 3461)
 *   -> {op=rcpt, addr, [orig], [dsn_notify], [dsn_orcpt]}
 *                                         once per recipient, at least one;
 *                                         dsn_notify "NEVER" or a list of
 *                                         SUCCESS,FAILURE,DELAY; dsn_orcpt
 *                                         "type;address", decoded
 *   -> {op=data, chunk}                   content in canonical form: LF line
 *                                         ends, dot-unstuffed; any number
 *   -> {op=end}
 *   <- {status, code, dsn, text, [queue_id]}
 *   A connection closed before op=end aborts: nothing is queued.
 *   status: "ok" (queued; code 250), "defer" (4xx: try again) or "reject"
 *   (5xx: the message itself is refused, e.g. header limits).
 *
 * Wake-up of qmgr (socket private/qmgr; peer the cleanup service's user;
 * administrators use op=flush or op=requeue), no reply:
 *   -> {op=wake, [queue_id]}
 *
 * Queue administration (socket private/qmgr, the same listener: the socket
 * is open to every local user and qmgr checks each request's SO_PEERCRED
 * uid and gid itself).  One request per connection; qmgr closes it after
 * the last reply frame.  Every queue_id is checked with queue_id_valid
 * before a path is built from it.
 *   -> {op=list}                   see: root, admin_group members, anyone
 *                                  when restrict_mailq = no
 *   <- {entry=1, queue_id, queue, arrival, size, sender, rcpt...,
 *       [rcpt_more], [reason]}     zero or more, one a message
 *   <- {status=ok, count, [truncated=1]}
 *      queue: active | deferred | hold (the spool.h names); size: content
 *      bytes; rcpt: only recipients still to do (at most
 *      IPC_LIST_RCPT_MAX, the number left out in rcpt_more); reason: the
 *      last temporary failure qmgr remembers for it; truncated: the
 *      listing stopped at its limit.
 *   -> {op=show, queue_id}         root and admin_group members only
 *   <- {status=ok, queue} + a read-only descriptor of the queue file
 *   -> {op=flush}                  every deferred message, now; root,
 *                                  admin_group, anyone when restrict_qrun = no
 *   -> {op=hold, queue_id}         active/ or deferred/ to hold/
 *   -> {op=release, queue_id}      hold/ to deferred/, due now
 *   -> {op=requeue, queue_id}      deferred/ or hold/ to active/, now
 *   -> {op=delete, queue_id}       removed from the queue
 *                                  (these four: root and admin_group only)
 *   <- {status, text}              every reply but list entries
 *   status: "ok", "denied" (text "You are not permitted to see the queue",
 *   "... to run the queue" or "... to change the queue") or "error"
 *   (text: why, e.g. "no such message", "busy, try again").
 *
 * Delivery by local (socket private/local; peer qmgr), one per connection.
 * The frame carries a read-only descriptor of the queue file; the message
 * is content_length bytes at content_offset.  local never opens the queue.
 *   -> {op=deliver, queue_id, sender, rcpt, [orig_rcpt], content_offset,
 *       content_length, arrival} + fd
 *   <- {status, dsn, text, batch_index, queue_id}
 *   status: "sent", "defer" (try later) or "bounce" (permanent failure);
 *   text is the reason in Postfix's words ("delivered to maildir").
 *   A batch (local_delivery_batch_limit > 1): several messages for one
 *   recipient on one connection, as that many deliver frames, each with
 *   its own descriptor, the first carrying batch=N (2 to
 *   IPC_BATCH_MAX; absent: 1); one result frame per message comes back,
 *   batch_index its place in the batch (0 first) and queue_id its
 *   message's, each only once the message is on disk.
 *
 * Delivery by remote (socket private/remote; peer qmgr).  A connection
 * serves one destination (transport and next hop): qmgr sends one request
 * after another on it while it has messages for that destination, and
 * remote keeps its SMTP session to the destination open in between
 * (connection reuse); qmgr closes the connection once it has had nothing
 * for the destination for smtp_connection_cache_time_limit.
 *   -> {op=deliver, queue_id, transport, nexthop, sender, rcpt,
 *       [orig_rcpt], [dsn_notify], [dsn_orcpt], [rcpt, ...]...,
 *       content_offset, content_length, arrival, time_arrival,
 *       time_active, time_handoff, [dsn_ret], [dsn_envid], [smtputf8]}
 *       + fd
 *      recipients of one message, at most 1000; orig_rcpt, dsn_notify
 *      and dsn_orcpt belong to the rcpt before them.  nexthop: a domain
 *      or "[host]:port" in Postfix's forms; time_*: wall-clock
 *      milliseconds of the arrival, of entering qmgr's active set and of
 *      this hand-off, for the delays= of the log line remote writes.
 *   <- {rcpt_index, status, dsn, text, [diag], [remote_mta], [dsn_passed],
 *       [close]}
 *      one frame per recipient (rcpt_index: its place in the request),
 *      in any order, once it is final.  status: "sent", "defer",
 *      "bounce"; text: for the log and the DSN ("host mx[192.0.2.1] said:
 *      550 5.1.1 ... (in reply to RCPT TO command)"); diag: the remote
 *      reply itself (Diagnostic-Code: smtp; ...); remote_mta: the server's
 *      name (Remote-MTA: dns; ...); dsn_passed=1: sent to a server that
 *      offered DSN, so it took NOTIFY and ORCPT and notifies by itself
 *      (RFC 3461 "relayed" otherwise); close=1: remote ends the connection
 *      after this request (it is stopping), so qmgr sends no more on it.
 *
 * Connection accounting (socket private/anvil; peer smtpd).  Each smtpd
 * process keeps one connection open; anvil takes back every count a
 * connection added when it closes.  anvil counts by client_key.h's key
 * (an IPv4 address, an IPv6 network of smtpd_client_ipv6_prefix_length).
 *   -> {op=connect, client}        client: the numeric address
 *   <- {status=ok, count, rate}    count: simultaneous connections of the
 *                                  client now, this one included; rate:
 *                                  its connections in the current window
 *   <- {status=full}               the table is full of clients that all
 *                                  hold connections: nothing counted
 *   -> {op=disconnect, client}     no reply
 *   -> {op=auth, client}           an AUTH attempt of the client
 *   <- {status=ok, rate}           its attempts in the current window,
 *                                  this one included
 *   -> {op=restore, client, count} no reply: count sessions of client
 *                                  this smtpd serves already (sent after
 *                                  it connects to a restarted anvil, so
 *                                  the limits hold across the restart);
 *                                  client may be a key ("2001:db8::/64")
 *
 * The log service (the socket of the logd service in master.conf; peer
 * root: only the master connects).  The master opens one connection to
 * each logd it starts and hands it, one frame each, the sink and every
 * log channel alive (and each new one later); logd never replies.
 *   -> {op=sink, kind} + fd       where lines go: kind "file" (lines
 *                                 appended with write(2): maillog_file,
 *                                 or the master's standard error under
 *                                 -f) or "syslog" (a connected datagram
 *                                 socket, one RFC 3164 message a line)
 *   -> {op=channel, program, pid} + fd
 *                                 logd's end of a SOCK_SEQPACKET channel
 *                                 whose other end is fd 2 of the process
 *                                 the master started as pid from the
 *                                 master.conf command program; its
 *                                 lines are tagged syslog_name/program
 *                                 and the sender's pid as the kernel
 *                                 reports it (SCM_CREDENTIALS)
 *   -> {op=stop}                  write what every channel holds, then
 *                                 exit (reload: the next logd reads the
 *                                 new configuration; stop)
 *
 * Signatures for TLS handshakes (socket private/tlssign; peer smtpd).
 * Each smtpd process keeps one connection; tlssign holds the private
 * keys, smtpd only their certificates.
 *   -> {op=sign, key, alg, data}   key: tls_key_id of the certificate's
 *                                  public key; alg: "rsa_pkcs1" (data is
 *                                  a DigestInfo of SHA-256/384/512),
 *                                  "rsa_pss" (data is a whole PSS-encoded
 *                                  block, RFC 8017 9.1.1) or "ecdsa" (data
 *                                  is a SHA-256/384/512 digest)
 *   <- {status=ok, sig} | {status=error, text}
 *   -> {op=ticket, lifetime, window}
 *                                  the session ticket key of the time
 *                                  window floor(time / lifetime), the
 *                                  current one or the one before only
 *   <- {status=ok, sig} | {status=error, text}
 *                                  sig: 16 bytes of name, 32 of AES key,
 *                                  32 of HMAC key, the same in every
 *                                  tlssign process (HKDF of the keys)
 *
 * Password checks (socket private/auth; peer smtpd), one per connection:
 *   -> {op=auth, mech, user, pass, client_addr}
 *   <- {status, [user], [text]}    status "ok" (user: the name the
 *                                  backend knows), "fail" (wrong user or
 *                                  password) or "temp" (no answer now)
 * Passing a client (a pass service's socket, private/smtpd; peers: the
 * stance's pass_peers, the screen; server.h pass mode), one client per
 * connection, after the passer accepted and screened it:
 *   -> {op=pass, client_addr, client_port, [trusted=1]} + fd
 *                                  the client's TCP socket, not a byte of
 *                                  it read; its peer must be the address
 *                                  and port announced.  trusted: the
 *                                  client is in mynetworks (it may use the
 *                                  receiver's reserve)
 *   <- {status=ok}                 the receiver has it and serves it as if
 *                                  it had accepted it; the passer closes
 *                                  its own copy
 *   <- {status=busy}               no room now: the receiver closed its
 *                                  copy, the passer still holds the client
 *                                  (and, with no answer at all, too)
 *
 * Rebuild of the recipients map (socket private/rcptmap; peer root).  The
 * connection itself is the request: nothing is sent, rcptmap rebuilds the
 * map, answers once and closes.
 *   <- {status, text}              status "ok", or "error" (text: why;
 *                                  the old map stays)
 */
#ifndef MOAT_IPC_PROTO_H
#define MOAT_IPC_PROTO_H

#define IPC_SOCK_CLEANUP "private/cleanup"
#define IPC_SOCK_QMGR "private/qmgr"
#define IPC_SOCK_LOCAL "private/local"
#define IPC_SOCK_ANVIL "private/anvil"
#define IPC_SOCK_RCPTMAP "private/rcptmap"
#define IPC_SOCK_REMOTE "private/remote"
#define IPC_SOCK_TLSSIGN "private/tlssign"
#define IPC_SOCK_AUTH "private/auth"

#define IPC_OP "op"
#define IPC_OP_BEGIN "begin"
#define IPC_OP_RCPT "rcpt"
#define IPC_OP_DATA "data"
#define IPC_OP_END "end"
#define IPC_OP_WAKE "wake"
#define IPC_OP_DELIVER "deliver"
#define IPC_OP_LIST "list"
#define IPC_OP_SHOW "show"
#define IPC_OP_FLUSH "flush"
#define IPC_OP_HOLD "hold"
#define IPC_OP_RELEASE "release"
#define IPC_OP_REQUEUE "requeue"
#define IPC_OP_DELETE "delete"

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
#define IPC_ENTRY "entry"
#define IPC_QUEUE "queue"
#define IPC_SIZE "size"
#define IPC_RCPT_MORE "rcpt_more"
#define IPC_REASON "reason"
#define IPC_COUNT "count"
#define IPC_TRUNCATED "truncated"

/* Delivery by remote. */
#define IPC_TRANSPORT "transport"
#define IPC_NEXTHOP "nexthop"
#define IPC_DSN_NOTIFY "dsn_notify"
#define IPC_DSN_ORCPT "dsn_orcpt"
#define IPC_DSN_RET "dsn_ret"
#define IPC_DSN_ENVID "dsn_envid"
#define IPC_SMTPUTF8 "smtputf8"
#define IPC_TIME_ARRIVAL "time_arrival"
#define IPC_TIME_ACTIVE "time_active"
#define IPC_TIME_HANDOFF "time_handoff"
#define IPC_RCPT_INDEX "rcpt_index"
#define IPC_BATCH "batch"             /* local: messages in the batch */
#define IPC_BATCH_INDEX "batch_index" /* local: a result's message */
#define IPC_BATCH_MAX 100             /* messages in one local batch */
#define IPC_DIAG "diag"
#define IPC_REMOTE_MTA "remote_mta"
#define IPC_CLOSE "close"
#define IPC_DSN_PASSED "dsn_passed"

/* Connection accounting. */
#define IPC_OP_CONNECT "connect"
#define IPC_OP_DISCONNECT "disconnect"
#define IPC_OP_RESTORE "restore"
#define IPC_OP_PASS "pass"
#define IPC_CLIENT_PORT "client_port"
#define IPC_TRUSTED "trusted"
#define IPC_CLIENT "client"
#define IPC_RATE "rate"

/* The log service. */
#define IPC_OP_SINK "sink"
#define IPC_OP_CHANNEL "channel"
#define IPC_OP_STOP "stop"
#define IPC_KIND "kind"
#define IPC_PROGRAM "program"
#define IPC_PID "pid"
#define IPC_KIND_FILE "file"
#define IPC_KIND_SYSLOG "syslog"

/* TLS signatures and password checks. */
#define IPC_TLS "tls"
#define IPC_AUTH_HEADER "auth_header"
#define IPC_OP_SIGN "sign"
#define IPC_KEY "key"
#define IPC_ALG "alg"
#define IPC_SIG "sig"
#define IPC_DATA "data"
#define IPC_OP_TICKET "ticket"
#define IPC_LIFETIME "lifetime"
#define IPC_WINDOW "window"
#define IPC_OP_AUTH "auth"
#define IPC_MECH "mech"
#define IPC_USER "user"
#define IPC_PASS "pass"
#define IPC_STATUS_FAIL "fail"
#define IPC_STATUS_TEMP "temp"

#define IPC_STATUS "status"
#define IPC_CODE "code"
#define IPC_DSN "dsn"
#define IPC_TEXT "text"

#define IPC_STATUS_OK "ok"
#define IPC_STATUS_DEFER "defer"
#define IPC_STATUS_REJECT "reject"
#define IPC_STATUS_SENT "sent"
#define IPC_STATUS_BOUNCE "bounce"
#define IPC_STATUS_DENIED "denied"
#define IPC_STATUS_ERROR "error"
#define IPC_STATUS_FULL "full"
#define IPC_STATUS_BUSY "busy"

/* Largest chunk in one op=data frame. */
#define IPC_CHUNK_MAX (64 * 1024)
/* Most rcpt attributes in one list entry (IPC_ATTR_MAX bounds a frame). */
#define IPC_LIST_RCPT_MAX 1000

#endif
