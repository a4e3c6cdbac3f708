#!/usr/bin/env python3
"""Delivery over SMTP to a local user's Maildir and mbox, byte for byte:
8-bit bytes, a dot-stuffed line, 998-character lines; the Postfix-shaped log
line; the added trace headers."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, queued_id, require_root, send_message, wait_for

require_root()
t = Tap()

HEADERS = (b"From: Alice <alice@example.org>\r\n"
           b"To: bob@localhost\r\n"
           b"Subject: byte exact\r\n"
           b"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <exact-1@example.org>\r\n")
BODY = (b"plain line\r\n"
        b".a line that starts with a dot\r\n"
        b"..two dots\r\n"
        b".\tdot and tab\r\n"
        b"8-bit: \xc3\xa9t\xc3\xa9 \xff\xfe\x80 end\r\n"
        b"From the start of a line\r\n"
        + b"x" * 998 + b"\r\n"
        + b"y" * 997 + b".\r\n"
        b"last line\r\n")


def canonical(b):
    return b.replace(b"\r\n", b"\n")


def split_message(data):
    head, sep, body = data.partition(b"\n\n")
    return head, body


# --- Maildir -------------------------------------------------------------
inst = Instance("deliv", {"home_mailbox": "Maildir/"})
bob = inst.user("moatt_bob")
inst.start()
r = send_message(inst.port, "alice@example.org", ["moatt_bob@localhost"],
                 HEADERS + b"\r\n" + BODY)
t.like(r, r"^250 2\.0\.0 .*queued as [0-9A-F]+", "message accepted with 250 2.0.0 and a queue ID")
qid = queued_id(r)
msgs = wait_for(lambda: bob.maildir_messages(), 20)
t.is_eq(len(msgs or []), 1, "one message in Maildir/new")
if msgs:
    head, body = split_message(msgs[0])
    t.is_eq(body, canonical(BODY), "Maildir body byte-exact (8-bit, dots, 998-char lines)")
    t.ok(head.startswith(b"Return-Path: <alice@example.org>\n"), "Return-Path first", head[:80])
    t.like(head.decode("latin-1"), r"(?m)^Delivered-To: moatt_bob@localhost$", "Delivered-To added")
    t.like(head.decode("latin-1"), r"(?m)^Received: from client \(.*\[127\.0\.0\.1\]\)", "Received names helo and client address")
    t.like(head.decode("latin-1"), r"id %s" % qid, "Received carries the queue ID")
    t.ok(canonical(HEADERS) in head + b"\n", "original headers kept in order")
    t.ok(b"Moat" not in head and b"moat" not in head.lower().replace(b"moatt_bob", b""),
         "no software name in the trace headers", head)
    path = os.path.join(bob.home, "Maildir", "new")
    st = os.stat(os.path.join(path, os.listdir(path)[0]))
    t.is_eq((st.st_uid, st.st_mode & 0o777), (bob.uid, 0o600), "Maildir file owned by the recipient, mode 0600")
m = inst.wait_log(r"%s: to=<moatt_bob@localhost>, relay=local, delay=[0-9.]+, .*dsn=2\.0\.0, status=sent \(delivered to maildir\)" % qid)
t.ok(m, "log line in Postfix's shape: to=, relay=local, delay=, dsn=, status=sent")
t.ok(inst.wait_log(r"%s: removed" % qid), "queue file removed after delivery")
t.is_eq(inst.queue_files("active"), [], "active queue empty")

# Missing Date and Message-ID are added.
r = send_message(inst.port, "alice@example.org", ["moatt_bob@localhost"],
                 b"Subject: bare\r\n\r\nhello\r\n")
msgs = wait_for(lambda: len(bob.maildir_messages()) >= 2 and bob.maildir_messages(), 20)
if msgs:
    newest = [m for m in msgs if b"Subject: bare" in m]
    head = split_message(newest[0])[0].decode("latin-1") if newest else ""
    t.like(head, r"(?m)^Message-ID: <[^>]+@[^>]+>$", "missing Message-ID added")
    t.like(head, r"(?m)^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$", "missing Date added")
else:
    t.ok(False, "second message delivered")
inst.destroy()

# --- mbox ----------------------------------------------------------------
inst = Instance("mbox", {"home_mailbox": ""})
carol = inst.user("moatt_carol")
inst.start()
r = send_message(inst.port, "alice@example.org", ["moatt_carol@localhost"],
                 HEADERS + b"\r\n" + BODY)
t.like(r, r"^250 ", "mbox: message accepted")
data = wait_for(lambda: inst.mbox("moatt_carol"), 20)
t.ok(data is not None, "mbox file created in mail_spool_directory")
if data:
    t.like(data.decode("latin-1"), r"^From alice@example\.org \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n",
           "mbox starts with a From_ line")
    first, _, rest = data.partition(b"\n")
    head, body = split_message(rest)
    want = canonical(BODY).replace(b"\nFrom the start", b"\n>From the start") + b"\n"
    t.is_eq(body, want, "mbox body byte-exact with >From quoting and a closing empty line")
    st = os.stat(inst.path("mail", "moatt_carol"))
    t.is_eq((st.st_uid, st.st_mode & 0o777), (carol.uid, 0o600), "mbox owned by the recipient, mode 0600")
r = send_message(inst.port, "dave@example.org", ["moatt_carol@localhost"],
                 b"Subject: second\r\n\r\nsecond body\r\n")
data2 = wait_for(lambda: (inst.mbox("moatt_carol") or b"").count(b"\nFrom ") >= 1 and inst.mbox("moatt_carol"), 20)
t.ok(data2 and data2.startswith(data or b"-") and b"\nFrom dave@example.org " in data2,
     "second delivery appended after the first, unchanged")
t.ok(inst.wait_log(r"status=sent \(delivered to mailbox\)"), "mbox log line says delivered to mailbox")
inst.destroy()
t.done()
