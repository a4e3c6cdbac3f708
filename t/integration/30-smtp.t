#!/usr/bin/env python3
"""The SMTP dialogue of a running smtpd: banner, EHLO keywords, pipelining,
VRFY/EXPN that harvest nothing, probes answered 500 and logged, unknown
users refused at RCPT, limits, and a 100 KB HELO that leaves the server
serving."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Smtp, Tap, require_root, send_message,
                      talk_early_held, wait_for)

require_root()
t = Tap()
inst = Instance("smtp", {"home_mailbox": "Maildir/", "smtpd_recipient_limit": "3",
                         "smtpd_hard_error_limit": "6", "smtpd_soft_error_limit": "3",
                         "smtpd_error_sleep_time": "0s",
                         "smtpd_banner": "$myhostname ESMTP"})
erin = inst.user("moatt_erin")
inst.start()

c = Smtp(inst.port)
greet = c.reply()
t.like(greet, r"^220 \S+ ESMTP$", "banner is 220 host ESMTP")
t.ok(not any(w in greet.lower() for w in ("moat", "version", "0.", "1.")),
     "banner names no software and no version", greet)
ehlo = c.cmd("EHLO client.example")
for kw in ("PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES"):
    t.like(ehlo, r"(?m)^250[ -]%s\b" % kw, "EHLO offers %s" % kw)
t.like(c.cmd("VRFY root"), r"^252 2\.\d\.\d ", "VRFY answers 252 without looking up")
t.is_eq(c.cmd("VRFY nosuchuser_xyz")[:3], "252", "VRFY of an unknown user answers the same 252")
t.like(c.cmd("EXPN postmaster"), r"^502 5\.\d\.\d ", "EXPN answers 502")
for probe in ("DEBUG", "SHOWQ", "WIZ", "KILL"):
    t.like(c.cmd(probe), r"^500 5\.5\.\d ", "%s answers 500" % probe)
t.like(c.cmd("HELP"), r"^214", "HELP answers 214")
t.like(c.cmd("NOOP"), r"^250 2\.0\.0", "NOOP answers 250 2.0.0")
c.cmd("QUIT")
c.close()
t.ok(inst.wait_log(r"DEBUG from \S*\[127\.0\.0\.1\]"), "the DEBUG probe is logged with the client address")

# Unknown local user: 550 5.1.1 at RCPT; known user: 250.
c = Smtp(inst.port)
c.reply()
c.cmd("EHLO client.example")
t.like(c.cmd("MAIL FROM:<a@example.org>"), r"^250 2\.1\.0", "MAIL FROM 250 2.1.0")
t.like(c.cmd("RCPT TO:<nosuchuser_xyz@localhost>"), r"^550 5\.1\.1 ", "unknown local user: 550 5.1.1")
t.like(c.cmd("RCPT TO:<moatt_erin@localhost>"), r"^250 2\.1\.5", "known local user: 250 2.1.5")
t.like(c.cmd("RCPT TO:<postmaster>"), r"^250 ", "RCPT TO:<postmaster> without a domain is accepted")
t.like(c.cmd("RCPT TO:<moatt_erin@localhost>"), r"^250 ", "third recipient accepted")
t.like(c.cmd("RCPT TO:<moatt_erin@localhost>"), r"^452 4\.5\.3 ", "recipient over the limit: 452 4.5.3")
t.like(c.cmd("RSET"), r"^250 2\.0\.0", "RSET")
c.cmd("QUIT")
c.close()

# Pipelining: a whole transaction in one write.
c = Smtp(inst.port)
c.reply()
c.cmd("EHLO client.example")
c.send(b"MAIL FROM:<p@example.org>\r\nRCPT TO:<moatt_erin@localhost>\r\n"
       b"RCPT TO:<nobody_here_xyz@localhost>\r\nDATA\r\n")
replies = [c.reply() for _ in range(4)]
t.like(replies[0], r"^250 ", "pipelined MAIL")
t.like(replies[1], r"^250 ", "pipelined RCPT (known)")
t.like(replies[2], r"^550 ", "pipelined RCPT (unknown)")
t.like(replies[3], r"^354 ", "pipelined DATA")
c.send(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
t.like(c.reply(), r"^250 2\.0\.0 .*queued as", "pipelined message queued")
t.like(c.reply(), r"^221 ", "pipelined QUIT")
c.close()
t.ok(wait_for(lambda: any(b"Subject: pipelined" in m for m in erin.maildir_messages()), 20),
     "the pipelined message is delivered")

# A 100 KB HELO is rejected; the same connection and the server keep serving.
c = Smtp(inst.port)
c.reply()
c.send(b"HELO " + b"A" * 100000 + b"\r\n")
t.like(c.reply(), r"^500 5\.5\.\d ", "100 KB HELO: 500 line too long")
t.like(c.cmd("HELO ok.example"), r"^250 ", "the connection still serves after it")
c.cmd("QUIT")
c.close()
r = send_message(inst.port, "a@example.org", ["moatt_erin@localhost"], b"Subject: after\r\n\r\nx\r\n")
t.like(r, r"^250 ", "the server accepts mail after the long HELO")

# Sequence and syntax errors carry enhanced codes; the hard error limit disconnects.
c = Smtp(inst.port)
c.reply()
t.like(c.cmd("MAIL FROM:<a@example.org>"), r"^503 5\.5\.1 ", "MAIL before HELO: 503 5.5.1")
c.cmd("EHLO x")
t.like(c.cmd("MAIL FROM:<not an address>"), r"^501 5\.1\.7 ", "bad sender: 501 5.1.7")
t.like(c.cmd("DATA"), r"^503 5\.5\.1 ", "DATA without recipients: 503 5.5.1")
last = None
for i in range(10):
    last = c.cmd("BOGUS%d" % i)
    if last is None or last.startswith("421"):
        break
t.like(last or "", r"^421 4\.7\.0 ", "hard error limit: 421 4.7.0 and disconnect")
t.ok(c.closed(), "the connection is closed after the error limit")
c.close()

# Talking before the greeting is dropped.
data = talk_early_held(inst, inst.port)
t.ok(b"554" in data or data.startswith(b"220") and b"250" not in data,
     "a client that talks before the greeting is not served", data)
# A user added while smtpd runs is known within seconds, without a reload,
# even to a session that was already open and asked before.
import time


def rcpt_reply(local):
    c = Smtp(inst.port)
    c.reply()
    c.cmd("EHLO late.example")
    c.cmd("MAIL FROM:<a@example.org>")
    r = c.cmd("RCPT TO:<%s@localhost>" % local)
    c.cmd("QUIT")
    c.close()
    return r


c = Smtp(inst.port)
c.reply()
c.cmd("EHLO late.example")
c.cmd("MAIL FROM:<a@example.org>")
t.like(c.cmd("RCPT TO:<moatt_late@localhost>"), r"^550 5\.1\.1 ", "a user not yet created: 550 5.1.1")
inst.user("moatt_late")
added = time.time()
known = wait_for(lambda: rcpt_reply("moatt_late").startswith("250"), 10, 0.1)
t.ok(known, "after useradd, a new connection knows the new user (no reload)")
t.diag("known %.1f s after useradd" % (time.time() - added))
t.like(c.cmd("RCPT TO:<moatt_late@localhost>"), r"^250 ",
       "and the session that was open before asks again and gets 250")
c.cmd("QUIT")
c.close()
inst.destroy()
t.done()
