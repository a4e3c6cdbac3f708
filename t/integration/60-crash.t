#!/usr/bin/env python3
"""Durability: kill -9 of each daemon in the middle of traffic loses no
message that was answered 250, and delivers each one once.  The master
restarts what died and logs how it died."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, kill_all, require_root, send_message,
                      subject_counts, wait_for)

require_root()
t = Tap()
inst = Instance("crash", {"home_mailbox": "Maildir/", "local_destination_concurrency_limit": "4"})
lea = inst.user("moatt_lea")
inst.start()

THREADS, PER_THREAD = 3, 12


def traffic(tag, accepted, lock):
    def worker(n):
        for i in range(PER_THREAD):
            token = "%s-%d-%d" % (tag, n, i)
            try:
                r = send_message(inst.port, "s@example.org", ["moatt_lea@localhost"],
                                 ("Subject: %s\r\n\r\nbody %s\r\n" % (token, token)).encode())
            except OSError:
                r = None
            if r and r.startswith("250"):
                with lock:
                    accepted.append(token)
            time.sleep(0.02)
    ths = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for th in ths:
        th.start()
    return ths


def delivered_counts():
    return subject_counts(lea)


for victim in ("smtpd", "cleanup", "qmgr", "local"):
    accepted, lock = [], threading.Lock()
    ths = traffic(victim, accepted, lock)
    wait_for(lambda: len(accepted) >= 6, 30)
    pids = inst.pids_of(victim)
    kill_all(pids, signal.SIGKILL)
    for th in ths:
        th.join(120)
    t.ok(pids, "%s: killed %d process(es) with SIGKILL mid-traffic" % (victim, len(pids)))
    t.ok(len(accepted) > 6, "%s: traffic went on after the kill (%d accepted)" % (victim, len(accepted)))
    ok = wait_for(lambda: all(delivered_counts().get(tok, 0) >= 1 for tok in accepted), 60)
    counts = delivered_counts()
    missing = [tok for tok in accepted if counts.get(tok, 0) == 0]
    dup = [tok for tok in accepted if counts.get(tok, 0) > 1]
    t.ok(ok and not missing, "%s: every accepted message delivered" % victim, missing)
    t.ok(not dup, "%s: no message delivered twice" % victim, dup)
    t.ok(inst.wait_log(r"process \S*/%s pid %d killed by signal 9" % (victim, pids[0]) if pids else "x^"),
         "%s: the master logged how its child died" % victim)
    t.ok(wait_for(lambda: inst.pids_of(victim) or victim in ("smtpd", "cleanup", "local"), 10),
         "%s: running again" % victim)

t.ok(wait_for(lambda: not inst.queue_files("active") and not inst.queue_files("deferred"), 30),
     "queue drained: nothing left in active/ or deferred/",
     (inst.queue_files("active"), inst.queue_files("deferred")))
inst.destroy()
t.done()
