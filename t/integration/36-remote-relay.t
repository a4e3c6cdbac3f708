#!/usr/bin/env python3
"""Relaying through remote, in a network namespace of the test's own:
instance A relays to instance B on 127.0.0.2:25 (relayhost) and the
message arrives byte for byte in B's Maildir, with only B's trace lines
added; A's log has Postfix's delivery line, which pflogsumm counts; a
transport_maps entry sends another domain to Postfix's smtp-sink on
127.0.0.3:25; a destination whose DNS does not answer waits with 4.4.3."""
import os
import re
import pwd
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, ipc_frame, proc_ids, queued_id, require_root,  # noqa: E402
                      send_message, unix_connect, wait_for)
from peers import PeerInstance, SmtpSink, enter_netns  # noqa: E402

require_root()
enter_netns()
t = Tap()

b = PeerInstance("relay-b", "127.0.0.2", {"home_mailbox": "Maildir/",
                                          "mydestination": "b.example, localhost"})
bob = b.user("moatt_rbob")
b.start()
a = Instance("relay-a", {"relayhost": "[127.0.0.2]:25",
                         "transport_maps": "$config_directory/transport"})
with open(a.path("conf", "transport"), "w") as f:
    f.write("sink.example smtp:[127.0.0.3]:25\nneeds-dns.example smtp:\n")
a.moat("map", "build", a.path("conf", "transport"))
a.start()

body = (b"Message-ID: <relay-1@client.example>\r\n"
        b"Date: Mon, 07 Dec 2026 00:00:00 +0000\r\n"
        b"From: <alice@client.example>\r\n"
        b"To: <moatt_rbob@b.example>\r\n"
        b"Subject: byte exact\r\n"
        b"\r\n"
        b"first line\r\n"
        b".a line that starts with a dot\r\n"
        b"..two dots\r\n"
        b".\r\n"
        b"caf\xc3\xa9 8-bit text\r\n"
        b"last line\r\n")
r = send_message(a.port, "alice@client.example", ["moatt_rbob@b.example"], body)
qid = queued_id(r)
t.ok(qid, "A accepted a message for B's domain", r)

got = wait_for(lambda: bob.maildir_messages(), 30)
t.ok(got, "the message arrived in B's Maildir", a.log()[-3000:])
if got:
    msg = got[0]
    head, _, rest = msg.partition(b"\nReceived: ")
    # B adds Return-Path and Delivered-To (local) and its Received line;
    # A's Received line comes next, then the client's bytes, in LF form.
    t.like(head.decode(), r"^Return-Path: <alice@client\.example>\nDelivered-To: moatt_rbob@b\.example$",
           "B's delivery lines come first")
    b_received, _, rest = rest.partition(b"\nReceived: ")
    t.like(b_received.decode(), r"from \S+ \(\S* ?\[127\.0\.0\.1\]\)",
           "B's Received line names A's address")
    a_received_end = rest.find(b"\nMessage-ID: ")
    original = rest[a_received_end + 1:]
    t.is_eq(original, body.replace(b"\r\n", b"\n"),
            "the client's message is unchanged byte for byte (dots and 8-bit "
            "text included)")

line = a.wait_log(r"%s: to=<moatt_rbob@b\.example>, relay=127\.0\.0\.2\[127\.0\.0\.2\]:25, "
                  r"delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, "
                  r"status=sent \(250 2\.0\.0 .*queued as [0-9A-F]+\)" % qid)
t.ok(line, "A logs the delivery in Postfix's shape with B's reply",
     a.log()[-2000:])
t.ok(wait_for(lambda: not a.queue_files("active") and not a.queue_files("deferred"), 20),
     "A's queue is empty afterwards")

pfl = "/usr/sbin/pflogsumm"
if os.access(pfl, os.X_OK):
    out = subprocess.run([pfl, "--syslog-name=moat", a.path("log", "maillog")],
                         capture_output=True, text=True).stdout
    t.like(out, r"\n\s*1\s+delivered", "pflogsumm counts the delivery")
else:
    t.ok(True, "pflogsumm not installed # SKIP")

# Postfix's smtp-sink, chosen by transport_maps.
sink = SmtpSink("127.0.0.3").start()
if sink is None:
    t.ok(True, "Postfix's smtp-sink is not unpacked (make postfix-peer) # SKIP")
else:
    r = send_message(a.port, "alice@client.example", ["x@sink.example", "y@sink.example"],
                     b"Subject: to the sink\r\n\r\nhello sink\r\n")
    qid2 = queued_id(r)
    t.ok(wait_for(lambda: len(sink.messages()) >= 1, 30),
         "smtp-sink (Postfix's code) received the message", a.log()[-2000:])
    t.ok(a.wait_log(r"%s: to=<x@sink\.example>, relay=127\.0\.0\.3\[127\.0\.0\.3\]:25, .*status=sent" % qid2)
         and a.wait_log(r"%s: to=<y@sink\.example>, relay=127\.0\.0\.3.*status=sent" % qid2),
         "both recipients delivered in one transaction to the sink")
    t.is_eq(len(sink.messages()), 1, "one transaction for two recipients of one destination")
    sink.stop()

r = send_message(a.port, "alice@client.example", ["z@needs-dns.example"],
                 b"Subject: dns\r\n\r\nx\r\n")
qid3 = queued_id(r)
t.ok(a.wait_log(r"%s: to=<z@needs-dns\.example>, relay=none, .*dsn=4\.4\.3, "
                r"status=deferred \(Host or domain name not found\. Name service "
                r"error for name=needs-dns\.example type=MX" % qid3),
     "a destination whose DNS does not answer is deferred with 4.4.3")
lst = a.moat("queue", "list").stdout
t.like(lst, r"Name service error for name=needs-dns\.example",
       "moat queue list shows the reason")

# --- remote's stance ---------------------------------------------------------
ruid = pwd.getpwnam("moat-remote").pw_uid
pids = a.pids_of("remote")
t.ok(pids and all(proc_ids(p) == (ruid,) * 3 for p in pids),
     "remote runs as moat-remote (created by moat init from master.conf)")
t.ok(pids and all(os.readlink("/proc/%d/root" % p) == a.path("spool") for p in pids),
     "remote is chrooted in the spool")
s = unix_connect(a.path("spool", "private", "remote"))
try:  # remote may close before we are done writing: that is the refusal
    s.sendall(ipc_frame([("op", "deliver"), ("queue_id", "0")]))
    data = s.recv(100)
except OSError:
    data = b""
s.close()
t.ok(data == b"" and a.wait_log(r"service=private/remote: refused connection from uid=0 "),
     "remote refuses every peer but qmgr (root included)")

time.sleep(3)  # idle connections to remote time out meanwhile
t.ok(not re.search(r"(qmgr|remote) pid \d+ killed by signal (?!9\b)", a.log()),
     "no daemon crashed", re.findall(r".*killed by signal.*", a.log()))
a.destroy()
b.destroy()
t.done()
