#!/usr/bin/env python3
"""Durability: kill -9 of each daemon in the middle of traffic loses no
message that was answered 250, and delivers each one once, but for the
documented window of a delivery agent: a message local was delivering when
it was killed (qmgr logged its connection lost) may have been renamed into
new/ before the parent journalled it, and then comes twice; any other
message twice fails.  The master restarts what died and logs how it
died."""
import os
import re
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
                    m = re.search(r"queued as (\S+)", r)
                    accepted_ids[token] = m.group(1) if m else None
            time.sleep(0.02)
    ths = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for th in ths:
        th.start()
    return ths


def in_flight_at_kill(ids):
    """Queue IDs local was delivering when it died: qmgr lost the reply."""
    lost = set(re.findall(r"qmgr\[\d+\]: warning: (\S+): to=<[^>]*>: local: "
                          r"connection lost before the reply", inst.log()))
    return {qid for qid in ids.values() if qid in lost}


def delivered_counts():
    return subject_counts(lea)


for victim in ("smtpd", "cleanup", "qmgr", "local"):
    accepted, lock, accepted_ids = [], threading.Lock(), {}
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
    in_flight = in_flight_at_kill(accepted_ids) if victim == "local" else set()
    outside = [tok for tok in dup if accepted_ids.get(tok) not in in_flight]
    t.ok(ok and not missing, "%s: every accepted message delivered" % victim, missing)
    t.ok(not outside, "%s: no message delivered twice outside the window (%d "
         "copies of deliveries in flight at the kill)" % (victim, len(dup) - len(outside)),
         outside)
    t.ok(inst.wait_log(r"process \S*/%s pid %d killed by signal 9" % (victim, pids[0]) if pids else "x^"),
         "%s: the master logged how its child died" % victim)
    t.ok(wait_for(lambda: inst.pids_of(victim) or victim in ("smtpd", "cleanup", "local"), 10),
         "%s: running again" % victim)

t.ok(wait_for(lambda: not inst.queue_files("active") and not inst.queue_files("deferred"), 30),
     "queue drained: nothing left in active/ or deferred/",
     (inst.queue_files("active"), inst.queue_files("deferred")))
inst.destroy()
t.done()
