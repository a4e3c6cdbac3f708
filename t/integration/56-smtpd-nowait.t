#!/usr/bin/env python3
"""No peer stalls smtpd's event loop: with anvil stopped (SIGSTOP), a new
untrusted client waits at most anvil's short deadline for its greeting
while another session of the same smtpd process is answered at once, and
the limits stay in force on the process's own counts; anvil continued, it
is asked again.  With cleanup stopped, a session streaming a 4 MB message
to it is held back (smtpd stops reading it: backpressure), while another
session of the same process is answered at once; cleanup continued, both
messages are queued and delivered.  All sessions are on one direct inet smtpd line with one
process, so they share one event loop."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, free_port, require_root, wait_for
from tlstest import add_service

require_root()
t = Tap()


def buffer_max(name):
    with open("/proc/sys/net/ipv4/" + name) as f:
        return int(f.read().split()[2])


# More than the socket buffers on both ends and smtpd's own can hold.
big_lines = (buffer_max("tcp_rmem") + buffer_max("tcp_wmem")) // 1000 + 8000

inst = Instance("nowait", {"home_mailbox": "Maildir/",
                           "mynetworks": "127.0.0.1/32",
                           "smtpd_client_connection_count_limit": "3",
                           "message_size_limit": str(big_lines * 1000 + 10**6)})
u = inst.user("moatt_nowait")
port = free_port()
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 1 smtpd" % port)
inst.start()


def timed(fn):
    start = time.monotonic()
    r = fn()
    return r, (time.monotonic() - start) * 1000


def session(source):
    c = Smtp(port, source=source)
    t.like(c.reply() or "", r"^220 ", "%s greeted" % source)
    t.like(c.cmd("EHLO x.example"), r"^250", "%s: EHLO" % source)
    return c


def stopped(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(")")[1].split()[0] == "T"


# -- anvil stopped ------------------------------------------------------------
a = session("127.0.0.2")  # counted by anvil, the process's loop is up
anvil = inst.pids_of("anvil")
t.is_eq(len(anvil), 1, "one anvil")
os.kill(anvil[0], signal.SIGSTOP)
try:
    t.ok(wait_for(lambda: stopped(anvil[0]), 5), "anvil stopped")
    start = time.monotonic()
    b = Smtp(port, source="127.0.0.3")  # waits for anvil's answer
    r, ms = timed(lambda: a.cmd("NOOP"))
    t.like(r, r"^250 ", "another session of the process is answered")
    t.ok(ms < 150, "at once (%.1f ms) while the new client waits for anvil"
         % ms)
    g = b.reply() or ""
    ms = (time.monotonic() - start) * 1000
    t.like(g, r"^220 ", "the new client is greeted on the process's own counts")
    t.ok(ms < 1500, "after anvil's short deadline (%.0f ms), not 2 s" % ms)
    t.ok(inst.wait_log(r"private/anvil: no answer within \d+ ms"),
         "the missed deadline is logged")
    # Limits stay on: 127.0.0.4 may hold 3 connections, the 4th is refused.
    held = []
    for _ in range(3):
        c = Smtp(port, source="127.0.0.4")
        held.append(c)
        t.like(c.reply() or "", r"^220 ", "127.0.0.4 greeted while anvil is away")
    c = Smtp(port, source="127.0.0.4")
    t.like(c.reply() or "", r"^421 4\.7\.0 ", "its 4th connection: 421 (own counts)")
    c.close()
    for c in held:
        c.cmd("QUIT")
        c.close()
    b.cmd("QUIT")
    b.close()
finally:
    os.kill(anvil[0], signal.SIGCONT)

# -- anvil back ------------------------------------------------------------------
t.ok(inst.wait_log(r"private/anvil: reconnected"), "smtpd reconnects to anvil")
r, ms = timed(lambda: Smtp(port, source="127.0.0.5").reply())
t.like(r or "", r"^220 ", "a new client after anvil came back is greeted")
t.ok(ms < 500, "at once (%.1f ms)" % ms)

# -- cleanup stopped --------------------------------------------------------------
cleanups = inst.pids_of("cleanup")
for pid in cleanups:
    os.kill(pid, signal.SIGSTOP)
big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * big_lines + b".\r\n"
sent = threading.Event()
progress = [0]  # bytes the kernel took from the client so far
try:
    t.ok(wait_for(lambda: all(stopped(p) for p in cleanups), 5),
         "every cleanup stopped (%d)" % len(cleanups))
    a.cmd("MAIL FROM:<a@example.org>")
    a.cmd("RCPT TO:<moatt_nowait@localhost>")
    t.like(a.cmd("DATA") or "", r"^354 ", "DATA to a stopped cleanup: 354")

    def stream():
        data = memoryview(big)
        while progress[0] < len(data):
            progress[0] += a.s.send(data[progress[0]:progress[0] + 65536])
        sent.set()

    def stalled():
        before = progress[0]
        time.sleep(0.5)
        return 0 < before == progress[0]

    th = threading.Thread(target=stream, daemon=True)
    th.start()
    t.ok(wait_for(stalled, 15) and not sent.is_set(),
         "%d MB to a stopped cleanup: the client is held back after %d MB "
         "(smtpd stopped reading it)" % (len(big) >> 20, progress[0] >> 20))
    c = Smtp(port, source="127.0.0.6")
    r, ms = timed(lambda: c.reply())
    t.like(r or "", r"^220 ", "meanwhile a new client of the process is greeted")
    for cmd, rx in (("EHLO y.example", r"^250"),
                    ("MAIL FROM:<b@example.org>", r"^250 "),
                    ("RCPT TO:<moatt_nowait@localhost>", r"^250 ")):
        r, ms2 = timed(lambda: c.cmd(cmd))
        t.like(r or "", rx, "and answered: %s" % cmd)
        ms = max(ms, ms2)
    t.ok(ms < 150, "each at once (slowest %.1f ms)" % ms)
finally:
    for pid in cleanups:
        os.kill(pid, signal.SIGCONT)
t.ok(sent.wait(30), "cleanup continued: the rest of the message went")
t.like(a.reply() or "", r"^250 2\.0\.0 .*queued as", "the big message is queued")
t.like(c.cmd("DATA") or "", r"^354 ", "the other session's DATA")
t.like(c.cmd("Subject: small\r\n\r\ny\r\n.") or "", r"^250 ",
       "its message is queued")
c.cmd("QUIT")
c.close()
a.cmd("QUIT")
a.close()
t.ok(wait_for(lambda: len(u.maildir_messages()) == 2, 30),
     "both delivered")

t.done()
