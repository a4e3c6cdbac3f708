#!/usr/bin/env python3
"""Relay control: untrusted clients (127.0.0.2) may send only to local
domains and never with the old relay tricks; trusted clients (127.0.0.1 in
mynetworks) may send anywhere; mail for a domain that needs a DNS lookup
waits in the queue with its reason logged (until the DNS layer exists)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, queued_id, require_root, send_message, wait_for

require_root()
t = Tap()
inst = Instance("relay", {"home_mailbox": "Maildir/", "mynetworks": "127.0.0.1/32",
                          "smtpd_hard_error_limit": "100",
                          "smtpd_soft_error_limit": "100"})
frank = inst.user("moatt_frank")
inst.start()


def rcpt(source, addr):
    c = Smtp(inst.port, source=source)
    try:
        c.reply()
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<someone@example.org>")
        return c.cmd("RCPT TO:<%s>" % addr)
    finally:
        c.close()


t.like(rcpt("127.0.0.2", "victim@example.com"), r"^554 5\.7\.1 .*[Rr]elay access denied",
       "untrusted client to a foreign domain: 554 5.7.1 relay denied")
t.like(rcpt("127.0.0.2", "moatt_frank@localhost"), r"^250 ",
       "untrusted client to a local user: accepted")
for form in ("victim%example.com@localhost", '"victim@example.com"@localhost',
             "@localhost:victim@example.com", "example.com!victim@localhost",
             "victim@example.com@localhost"):
    r = rcpt("127.0.0.2", form)
    t.like(r, r"^5\d\d 5\.\d\.\d ", "untrusted relay test form refused: %s" % form)
t.like(rcpt("127.0.0.1", "victim@example.com"), r"^250 ",
       "trusted client to a foreign domain: accepted")
r = send_message(inst.port, "someone@example.org", ["victim@example.com"],
                 b"Subject: out\r\n\r\nfor a remote host\r\n", source="127.0.0.1")
qid = queued_id(r)
t.ok(qid, "trusted relay message queued", r)
t.ok(inst.wait_log(r"%s: to=<victim@example\.com>, .*dsn=4\.4\.3, status=deferred \(Host or "
                   r"domain name not found\. Name service error for name=example\.com "
                   r"type=MX" % qid),
     "foreign recipient deferred with the reason in the log")
t.ok(wait_for(lambda: qid in inst.queue_files("deferred"), 20), "message waits in deferred/")
r = send_message(inst.port, "someone@example.org", ["victim@example.com"],
                 b"Subject: out\r\n\r\nx\r\n", source="127.0.0.2")
t.like(r, r"^554 5\.7\.1 ", "untrusted full transaction refused at RCPT")
inst.destroy()
t.done()
