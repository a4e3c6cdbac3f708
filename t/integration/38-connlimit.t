#!/usr/bin/env python3
"""Per-client connection limits shared by all smtpd processes (anvil): an
untrusted client (127.0.0.2) gets 421 4.7.0 beyond
smtpd_client_connection_count_limit simultaneous connections or beyond
smtpd_client_connection_rate_limit connections a window; trusted clients
(mynetworks) are never counted; counts come back when sessions end, and
when an smtpd process is killed, anvil forgets what that process held.
anvil killed mid-flood keeps the limits in force: smtpd counts on its own
while anvil is away and restores its sessions in the new anvil.  (The
clients reach smtpd through the screen, which delays each new one once.)"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Smtp, Tap, kill_all, require_root,
                      set_maxproc, wait_for)

require_root()
t = Tap()
UNTRUSTED = "127.0.0.2"
TOO_MANY = r"^421 4\.7\.0 \S+ Error: too many connections from 127\.0\.0\.2$"


def open_many(inst, source, n):
    conns, greets = [], []
    for _ in range(n):
        c = Smtp(inst.port, source=source)
        conns.append(c)
        greets.append((c.reply() or "").split("\n")[-1])
    return conns, greets


def close_all(conns):
    for c in conns:
        c.close()


inst = Instance("connlimit", {"mynetworks": "127.0.0.1/32",
                              "smtpd_client_connection_count_limit": "5"})
inst.start()

held, greets = open_many(inst, UNTRUSTED, 5)
t.ok(all(g.startswith("220") for g in greets),
     "five connections from an untrusted client: all greeted", greets)
sixth = Smtp(inst.port, source=UNTRUSTED)
t.like(sixth.reply(), TOO_MANY, "the sixth gets 421 4.7.0 too many connections")
t.ok(sixth.closed(), "and is closed")
sixth.close()
t.ok(inst.wait_log(r"warning: Connection concurrency limit exceeded: 6 from "
                   r"unknown\[127\.0\.0\.2\] for service smtpd"),
     "the refusal is logged in Postfix's words")

trusted, greets = open_many(inst, "127.0.0.1", 8)
t.ok(all(g.startswith("220") for g in greets),
     "eight connections from mynetworks: all greeted (not counted)", greets)
close_all(trusted)

close_all(held)
t.ok(wait_for(lambda: inst.log().count("disconnect from unknown[127.0.0.2]") >= 6, 10),
     "the untrusted sessions ended")
c = Smtp(inst.port, source=UNTRUSTED)
t.like(c.reply(), r"^220 ", "after they closed, a new untrusted connection is greeted")
c.close()
wait_for(lambda: inst.log().count("disconnect from unknown[127.0.0.2]") >= 7, 10)

# Five held again, then every smtpd killed: anvil must forget their counts.
held, greets = open_many(inst, UNTRUSTED, 5)
t.ok(all(g.startswith("220") for g in greets), "five untrusted connections held again",
     greets)
pids = inst.pids_of("smtpd")
anvil_pids = inst.pids_of("anvil")
t.ok(len(anvil_pids) == 1, "one anvil process runs", anvil_pids)
kill_all(pids, signal.SIGKILL)
t.ok(pids and inst.wait_log(r"smtpd pid %d killed by signal 9" % pids[0]),
     "smtpd killed with SIGKILL (%d process(es))" % len(pids))
close_all(held)
t.ok(wait_for(inst.accepting, 20), "the master restarted smtpd")
fresh, greets = open_many(inst, UNTRUSTED, 5)
t.ok(all(g.startswith("220") for g in greets),
     "five new untrusted connections accepted: the dead process's counts are gone",
     greets)
close_all(fresh)
t.is_eq(inst.pids_of("anvil"), anvil_pids, "anvil itself kept running")
inst.destroy()

rated = Instance("connrate", {"mynetworks": "127.0.0.1/32",
                              "smtpd_client_connection_rate_limit": "3",
                              "anvil_rate_time_unit": "60s"})
rated.start()
replies = []
for _ in range(4):
    c = Smtp(rated.port, source=UNTRUSTED)
    replies.append(c.reply() or "")
    c.close()
t.ok(all(r.startswith("220") for r in replies[:3]),
     "three connections within the window: greeted", replies)
t.like(replies[3], TOO_MANY, "the fourth within the window gets 421 4.7.0")
t.ok(rated.wait_log(r"warning: Connection rate limit exceeded: 4 from "
                    r"unknown\[127\.0\.0\.2\] for service smtpd"),
     "the rate refusal is logged")
c = Smtp(rated.port, source="127.0.0.1")
t.like(c.reply(), r"^220 ", "a trusted client is not rate limited")
c.close()
rated.destroy()

# --- anvil killed mid-flood --------------------------------------------------
# One smtpd process, so that its own counts are the whole story while anvil
# is away; then the restored counts in the new anvil.
kill = Instance("anvilkill", {"mynetworks": "127.0.0.1/32",
                              "postscreen_greet_wait": "1s",
                              "smtpd_client_connection_count_limit": "5"})
set_maxproc(kill, "private/smtpd", 1)
kill.start()
held, greets = open_many(kill, UNTRUSTED, 5)
t.ok(all(g.endswith("ESMTP") for g in greets), "five untrusted sessions held",
     greets)
old = kill.pids_of("anvil")
kill_all(old, signal.SIGKILL)
t.ok(old and kill.wait_log(r"anvil pid %d killed by signal 9" % old[0]),
     "anvil killed with SIGKILL mid-flood")
sixth = Smtp(kill.port, source=UNTRUSTED)
t.like(sixth.reply(), TOO_MANY, "the sixth still gets 421 4.7.0")
sixth.close()
t.ok(wait_for(lambda: kill.pids_of("anvil") and kill.pids_of("anvil") != old, 20),
     "the master started a new anvil")
t.ok(kill.wait_log(r"smtpd\[\d+\]: private/anvil: reconnected; 1 clients' "
                   r"sessions restored", 10),
     "smtpd reconnects by itself and restores its sessions")
seventh = Smtp(kill.port, source=UNTRUSTED)
t.like(seventh.reply(), TOO_MANY,
       "with the new anvil: still 421 4.7.0 (it learned the five sessions)")
seventh.close()
t.ok(kill.wait_log(r"warning: Connection concurrency limit exceeded: 6 from "
                   r"unknown\[127\.0\.0\.2\]"), "refusals are logged")
close_all(held)
t.ok(wait_for(lambda: kill.log().count("disconnect from unknown[127.0.0.2]") >= 7, 10),
     "the sessions ended")
c = Smtp(kill.port, source=UNTRUSTED)
t.like(c.reply(), r"^220 ", "then a new connection is greeted: counts went down")
c.close()
kill.destroy()
t.done()
