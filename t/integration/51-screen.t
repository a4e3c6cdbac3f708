#!/usr/bin/env python3
"""The pre-greeting screen in front of smtpd (screen(8)): a client in
mynetworks is handed to smtpd at once and delivers mail; a new client gets
"220-", the greet pause, then smtpd's "220 " and delivers through screen ->
smtpd; the next time it is not delayed (PASS OLD), also after a restart of
the whole instance (the cache is an LMDB file in the spool); an early
talker is logged as postscreen logs it (PREGREET) and refused at RCPT with
550 (enforce) or at once with 521 (drop); the screen's per-client limit;
a client that passed waits for a busy smtpd (not lost) while a trusted one
takes the reserved session; and the smtpd serving a passed client is as
confined as ever (seccomp 2, no_new_privs, not root, chrooted)."""
import os
import pwd
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Smtp, Tap, proc_ids, require_root,
                      set_maxproc, wait_for)

require_root()
t = Tap()
BODY = b"Subject: screened\r\n\r\nthrough the screen\r\n"


def greet(port, source):
    """Connect; (the whole greeting, seconds it took, the connection)."""
    t0 = time.monotonic()
    c = Smtp(port, source=source)
    g = c.reply()
    return g, time.monotonic() - t0, c


def deliver(c, rcpt):
    """The rest of a transaction on a greeted connection: the last reply."""
    c.cmd("EHLO client.example")
    for line in ("MAIL FROM:<someone@example.org>", "RCPT TO:<%s>" % rcpt,
                 "DATA"):
        r = c.cmd(line)
        if not r or r[0] not in "23":
            return r
    c.send(BODY + b".\r\n")
    r = c.reply()
    c.cmd("QUIT")
    c.close()
    return r


inst = Instance("screen", {"home_mailbox": "Maildir/",
                           "mynetworks": "127.0.0.1/32",
                           "postscreen_greet_wait": "1s"})
kim = inst.user("moatt_scrkim")
inst.start()
spool = os.path.realpath(inst.path("spool"))

# --- mynetworks: no banner, no pause, straight to smtpd ------------------------
g, took, c = greet(inst.port, "127.0.0.1")
t.like(g, r"^220 [^\n]*$", "a mynetworks client gets smtpd's one-line greeting")
t.ok(took < 0.5, "at once (%.3fs)" % took)
t.like(deliver(c, "moatt_scrkim@localhost"), r"^250 ", "and delivers mail")
t.ok(inst.wait_log(r"screen\[\d+\]: ALLOWLISTED \[127\.0\.0\.1\]:\d+"),
     "the screen logs it ALLOWLISTED")

# --- a new client: the banner, the pause, then smtpd ---------------------------
g, took, c = greet(inst.port, "127.0.0.2")
t.like(g, r"^220-\S+ ESMTP\n220 \S+ ESMTP$",
       "a new client: the screen's 220- line, then smtpd's 220")
t.ok(0.9 <= took < 3, "after the greet pause (%.2fs)" % took)
smtpd_pids = inst.pids_of("smtpd")
t.like(deliver(c, "moatt_scrkim@localhost"), r"^250 2\.0\.0 Ok: queued as ",
       "it delivers through screen -> smtpd")
t.ok(inst.wait_log(r"screen\[\d+\]: CONNECT from \[127\.0\.0\.2\]:\d+ to "
                   r"\[127\.0\.0\.1\]:%d" % inst.port), "CONNECT is logged")
t.ok(inst.wait_log(r"screen\[\d+\]: PASS NEW \[127\.0\.0\.2\]:\d+"),
     "PASS NEW is logged")
t.ok(inst.wait_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.2\]"),
     "smtpd serves it under its own address")
t.ok(wait_for(lambda: len(kim.maildir_messages()) == 2, 20),
     "both messages are delivered")

# The smtpd that serves a passed client: confined as ever.
g, took, c = greet(inst.port, "127.0.0.2")
c.cmd("EHLO probe.example")
smtpd_uid = pwd.getpwnam("moat-smtpd").pw_uid
for pid in inst.pids_of("smtpd"):
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    t.like(status, r"(?m)^Seccomp:\s+2$", "smtpd pid %d: seccomp filter on" % pid)
    t.like(status, r"(?m)^NoNewPrivs:\s+1$", "smtpd pid %d: no_new_privs" % pid)
    t.is_eq(proc_ids(pid), (smtpd_uid,) * 3, "smtpd pid %d runs as moat-smtpd" % pid)
    t.is_eq(os.readlink("/proc/%d/root" % pid), spool, "smtpd pid %d is chrooted" % pid)
for pid in inst.pids_of("screen"):
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    t.like(status, r"(?m)^Seccomp:\s+2$", "screen pid %d: seccomp filter on" % pid)
    t.is_eq(proc_ids(pid), (pwd.getpwnam("moat-screen").pw_uid,) * 3,
            "screen pid %d runs as moat-screen" % pid)
    t.is_eq(os.readlink("/proc/%d/root" % pid), spool, "screen pid %d is chrooted" % pid)

# --- passed once: not delayed the next time ------------------------------------
t.like(g, r"^220 [^\n]*$", "the client that passed: one line, no banner")
t.ok(took < 0.5, "and no pause (%.3fs)" % took)
c.cmd("QUIT")
c.close()
t.ok(inst.wait_log(r"screen\[\d+\]: PASS OLD \[127\.0\.0\.2\]:\d+"),
     "PASS OLD is logged")

# --- an early talker -----------------------------------------------------------
c = Smtp(inst.port, source="127.0.0.3")
c.send("HELO test\r\n")
g = c.reply()
t.like(g, r"^220-\S+ ESMTP\n220 \S+ ESMTP$",
       "an early talker is greeted by the screen itself")
t.like(c.reply(), r"^250 ", "its early HELO is answered")
t.like(c.cmd("MAIL FROM:<bot@example.org>"), r"^250 ", "its MAIL is taken")
t.like(c.cmd("RCPT TO:<moatt_scrkim@localhost>"), r"^550 5\.5\.1 Protocol error$",
       "and every RCPT refused with 550 5.5.1")
t.like(c.cmd("DATA"), r"^554 ", "DATA gets 554")
t.like(c.cmd("QUIT"), r"^221 ", "QUIT")
c.close()
t.ok(inst.wait_log(r"(?m)screen\[\d+\]: PREGREET 11 after [0-9.]+ from "
                   r"\[127\.0\.0\.3\]:\d+: HELO test\\r\\n$"),
     "logged as postscreen logs it: PREGREET 11 after ... HELO test\\r\\n")
t.ok(inst.wait_log(r"screen\[\d+\]: NOQUEUE: reject: RCPT from \[127\.0\.0\.3\]:\d+: "
                   r"550 5\.5\.1 Protocol error; from=<bot@example\.org>, "
                   r"to=<moatt_scrkim@localhost>, proto=ESMTP, helo=<test>"),
     "the refused recipient is logged with sender and helo")
t.ok(not re.search(r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.3\]", inst.log()),
     "the early talker never reached smtpd")
c = Smtp(inst.port, source="127.0.0.3")
g = c.reply()
c.close()
t.like(g, r"^220-", "an early talker is not remembered: tested again")

# --- the cache survives a restart ------------------------------------------------
inst.stop()
inst.start()
g, took, c = greet(inst.port, "127.0.0.2")
c.close()
t.ok(g and g.startswith("220 ") and took < 0.5,
     "after a restart the client that passed is still not delayed (%.3fs, %r)"
     % (took, g))
t.ok(os.path.exists(inst.path("spool", "screen", "cache.lmdb")),
     "the cache is spool/screen/cache.lmdb")
st = os.stat(inst.path("spool", "screen"))
t.is_eq((st.st_uid, st.st_mode & 0o777), (pwd.getpwnam("moat-screen").pw_uid, 0o700),
        "spool/screen is moat-screen's, 0700")

# A cache LMDB cannot read is replaced by an empty one.
inst.stop()
cache = inst.path("spool", "screen", "cache.lmdb")
st = os.stat(cache)
with open(cache, "r+b") as f:
    f.write(b"not an LMDB file" * 512)
inst.start()
t.ok(inst.wait_log(r"screen\[\d+\]: warning: cache screen/cache\.lmdb: .*; "
                   r"starting an empty one"), "a damaged cache is logged")
g, took, c = greet(inst.port, "127.0.0.2")
c.close()
t.like(g, r"^220-", "and started afresh: the client is tested again")
t.is_eq(os.stat(cache).st_uid, st.st_uid, "the new cache is moat-screen's too")
inst.destroy()

# --- drop, and a busy smtpd -----------------------------------------------------
inst = Instance("screen2", {"mynetworks": "127.0.0.1/32",
                            "postscreen_greet_wait": "1s",
                            "postscreen_greet_action": "drop",
                            "postscreen_client_connection_count_limit": "2",
                            "smtpd_client_limit": "2",
                            "smtpd_trusted_client_reserve": "1"})
set_maxproc(inst, "private/smtpd", 1)
inst.start()
c = Smtp(inst.port, source="127.0.0.3")
c.send("EHLO bot\r\n")
g = c.reply()
t.like(g, r"^220-\S+ ESMTP\n521 5\.5\.1 Protocol error$",
       "drop: an early talker gets 521 at once")
t.ok(c.closed(), "and is disconnected")
c.close()

held = [Smtp(inst.port, source="127.0.0.5") for _ in range(2)]
third = Smtp(inst.port, source="127.0.0.5")
t.like(third.reply(), r"^421 4\.7\.0 Error: too many connections$",
       "a third connection of one client in the screen: 421 4.7.0")
third.close()
t.ok(inst.wait_log(r"screen\[\d+\]: NOQUEUE: reject: CONNECT from "
                   r"\[127\.0\.0\.5\]:\d+: too many connections"), "and logged")
for c in held:
    c.close()
t.ok(wait_for(lambda: len(re.findall(r"HANGUP after [0-9.]+ from \[127\.0\.0\.5\]:\d+ "
                                     r"in tests before SMTP handshake",
                                     inst.log())) == 2, 10),
     "clients that hang up during the pause: HANGUP ... in tests before SMTP "
     "handshake")

g, took, first = greet(inst.port, "127.0.0.6")
t.like(g, r"\n220 ", "one untrusted session in the only smtpd")
g, took, trusted = greet(inst.port, "127.0.0.1")
t.like(g, r"^220 ", "a trusted client gets the reserved session")
trusted.cmd("QUIT")
trusted.close()
second = Smtp(inst.port, source="127.0.0.7")
time.sleep(2.5)
try:
    g = second.s.recv(4096, socket.MSG_DONTWAIT).decode()
except OSError:
    g = ""
t.like(g, r"^220-[^\n]*\n$",
       "a second untrusted client passes, but smtpd is full: it waits "
       "(banner only)")
first.cmd("QUIT")
first.close()
t0 = time.monotonic()
rest = second.reply()
t.like(rest, r"^220 ", "once the session ends, smtpd greets the waiting client "
       "(%.2fs later)" % (time.monotonic() - t0))
t.like(second.cmd("EHLO late.example"), r"^250", "and serves it")
second.close()

# A reload: the screen ends its tests, hands over its queue and goes; the
# next one takes the port.
c = Smtp(inst.port, source="127.0.0.8")
time.sleep(0.2)
inst.moat("reload")
t0 = time.monotonic()
g = c.reply()
t.like(g, r"^220-\S+ ESMTP\n220 ", "a reload while a client is in the pause: it "
       "is passed on (%.2fs)" % (time.monotonic() - t0))
c.close()
t.ok(wait_for(lambda: len(inst.pids_of("screen")) == 1 and
              inst.wait_log(r"screen\[\d+\]: CONNECT from \[127\.0\.0\.8\]", 1), 10),
     "the old screen is gone")
g, took, c = greet(inst.port, "127.0.0.9")
c.close()
t.like(g, r"^220-", "after the reload a new screen serves the port")
t.ok(took < 5, "at once (%.2fs)" % took)

path = os.path.join(inst.conf, "master.conf")
with open(path) as f:
    text = f.read()
with open(path, "w") as f:
    f.write(re.sub(r"(?m)^(127\.0\.0\.1:\d+\s+inet\s+moat-screen\s+y\s+1\s+screen)$",
                   r"\1 private/nothing", text))
r = inst.moat("check", check=False)
t.like(r.stdout + r.stderr, r"master\.conf line \d+: screen hands clients to "
       r"private/nothing, which is no pass service",
       "moat check: a screen must hand its clients to a pass service")
inst.destroy()
t.done()
