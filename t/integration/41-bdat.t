#!/usr/bin/env python3
"""CHUNKING (RFC 3030) in smtpd: BDAT in three chunks delivered byte for
byte, with a CR LF split between two chunks and a chunk that holds
CR LF . CR LF, which ends nothing; pipelined chunks; a chunk over
message_size_limit (alone or with the chunks before it) refused before a
byte is stored, its bytes read and dropped, never taken as commands; DATA
after BDAT refused; a bare LF in a chunk refused as in DATA; a BDAT
without a size closes the session."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, require_root, smtp_session, wait_for  # noqa: E402

require_root()
t = Tap()

inst = Instance("bdat", {"home_mailbox": "Maildir/",
                         "message_size_limit": "10000"})
bob = inst.user("moatt_bdat")
inst.start()
RCPT = "moatt_bdat@localhost"


def session():
    return smtp_session(inst.port)


def canonical(b):
    return b.replace(b"\r\n", b"\n")


def body_of(msg):
    return msg.partition(b"\n\n")[2]


# --- EHLO, three chunks, byte for byte -----------------------------------
c, ehlo = session()
t.like(ehlo, r"(?m)^250-CHUNKING$", "EHLO offers CHUNKING")
t.ok("BINARYMIME" not in ehlo, "and not BINARYMIME", ehlo)
head = (b"From: a@example.org\r\nTo: " + RCPT.encode() + b"\r\n"
        b"Subject: chunks\r\nMessage-ID: <bdat-1@example.org>\r\n"
        b"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n")
chunks = [head + b"first line\r\nsplit line\r",
          b"\n.\r\nafter a lone dot: not the end\r\n..two dots\r\n"
          b"caf\xc3\xa9 8-bit\r\n",
          b"last line\r\n"]
t.is_eq(c.cmd("MAIL FROM:<a@example.org>"), "250 2.1.0 Ok", "MAIL")
t.is_eq(c.cmd("RCPT TO:<%s>" % RCPT), "250 2.1.5 Ok", "RCPT")
c.send(b"BDAT %d\r\n" % len(chunks[0]) + chunks[0])
t.is_eq(c.reply(), "250 2.0.0 Ok: %d octets" % len(chunks[0]),
        "first chunk (ends in CR)")
c.send(b"BDAT %d\r\n" % len(chunks[1]) + chunks[1])
t.is_eq(c.reply(), "250 2.0.0 Ok: %d octets" % len(chunks[1]),
        "second chunk (starts with LF, holds CR LF . CR LF)")
t.is_eq(c.cmd("DATA"), "503 5.5.1 Error: DATA after BDAT in one transaction",
        "DATA after BDAT refused")
c.send(b"BDAT %d LAST\r\n" % len(chunks[2]) + chunks[2])
r = c.reply()
t.like(r, r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$", "LAST chunk: queued")
c.cmd("QUIT")
c.close()
msgs = wait_for(lambda: bob.maildir_messages(), 20) or []
t.is_eq(len(msgs), 1, "one message delivered")
if msgs:
    t.is_eq(body_of(msgs[0]), canonical(b"".join(chunks)).partition(b"\n\n")[2],
            "the body is byte-exact (CR LF made LF, dots untouched)")
    t.ok(b"Subject: chunks\n" in msgs[0], "headers kept")
t.like_soon(inst.log, r"disconnect from .* data=0/1 bdat=3 quit=1 ", "the disconnect line counts BDAT")

# --- pipelined chunks, all in one write -------------------------------------
c, _ = session()
one = b"Subject: pipelined\r\n\r\nbody one\r\n"
two = b"body two\r\n"
c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<" + RCPT.encode() + b">\r\n"
       + b"BDAT %d\r\n" % len(one) + one
       + b"BDAT %d LAST\r\n" % len(two) + two + b"NOOP\r\n")
replies = [c.reply() for _ in range(5)]
t.is_eq(replies[:3], ["250 2.1.0 Ok", "250 2.1.5 Ok",
                      "250 2.0.0 Ok: %d octets" % len(one)],
        "pipelined MAIL, RCPT, BDAT answered in order")
t.like(replies[3], r"^250 2\.0\.0 Ok: queued as", "pipelined BDAT LAST queued")
t.is_eq(replies[4], "250 2.0.0 Ok", "the NOOP after the last chunk is a command")
c.close()
msgs = wait_for(lambda: (lambda m: m if len(m) >= 2 else None)(bob.maildir_messages()), 20) or []
t.ok(any(body_of(m) == b"body one\nbody two\n" for m in msgs),
     "the pipelined message arrived whole", [body_of(m) for m in msgs])

# --- over the size limit: refused before storing, bytes dropped ----------
def queued_count():
    return len([ln for ln in inst.log().splitlines() if "message-id=" in ln])


before = queued_count()
c, _ = session()
c.cmd("MAIL FROM:<a@example.org>")
c.cmd("RCPT TO:<%s>" % RCPT)
evil = (b"QUIT\r\nMAIL FROM:<x@example.org>\r\n" * 600)[:12000]
c.send(b"BDAT 12000 LAST\r\n" + evil)
t.is_eq(c.reply(), "552 5.3.4 Message size exceeds fixed limit",
        "a chunk over message_size_limit refused")
t.is_eq(c.cmd("NOOP"), "250 2.0.0 Ok",
        "its 12000 bytes (commands inside) were dropped, not obeyed")
t.is_eq(c.cmd("RCPT TO:<%s>" % RCPT),
        "503 5.5.1 Error: need MAIL command", "the transaction is over")
c.cmd("MAIL FROM:<a@example.org>")
c.cmd("RCPT TO:<%s>" % RCPT)
part = b"x" * 78 + b"\r\n"
c.send(b"BDAT 6000\r\n" + part * 75)
t.is_eq(c.reply(), "250 2.0.0 Ok: 6000 octets", "a chunk within the limit")
c.send(b"BDAT 6000 LAST\r\n" + part * 75)
t.is_eq(c.reply(), "552 5.3.4 Message size exceeds fixed limit",
        "the sum over the limit refused at the chunk that crosses it")
t.is_eq(c.cmd("NOOP"), "250 2.0.0 Ok", "its bytes dropped too")
c.cmd("QUIT")
c.close()
t.is_eq(queued_count(), before, "nothing was queued")
t.ok(inst.wait_log(r"NOQUEUE: reject: BDAT from .*552 5\.3\.4", 10),
     "the refusal is logged")

# --- a bare LF in a chunk, as in DATA ----------------------------------------
c, _ = session()
c.cmd("MAIL FROM:<a@example.org>")
c.cmd("RCPT TO:<%s>" % RCPT)
bad = b"Subject: x\r\n\r\nsmuggled\n.\nMAIL FROM:<x@example.org>\r\n"
c.send(b"BDAT %d\r\n" % len(bad) + bad + b"BDAT 3 LAST\r\nxyz")
t.is_eq(c.reply(), "550 5.6.0 Error: bare <LF> or <CR> in message; use <CR><LF>",
        "a bare LF in a chunk refused")
t.is_eq(c.reply(), "503 5.5.1 Error: need MAIL command",
        "the pipelined next chunk is refused, its bytes dropped")
t.is_eq(c.cmd("NOOP"), "250 2.0.0 Ok", "the session goes on")
c.close()

# --- no size: nothing can be skipped, so the session ends ----------------
c, _ = session()
c.cmd("MAIL FROM:<a@example.org>")
c.cmd("RCPT TO:<%s>" % RCPT)
t.is_eq(c.cmd("BDAT LAST"), "501 5.5.4 Syntax: BDAT count [LAST]",
        "BDAT without a size")
t.ok(c.closed(), "closes the connection")
c.close()
t.is_eq(len(bob.maildir_messages()), 2, "exactly the two good messages arrived")

t.done()
