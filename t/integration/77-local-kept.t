#!/usr/bin/env python3
"""local keeps a delivery process per recipient's account for a batch of
mailbox deliveries (local_kept.c): several messages to one user are
written by one process running as that user (the Maildir file names carry
its pid), never more than local_child_max_use each; it runs as the user,
filtered, with no_new_privs, and holds nothing but its socket to the root
parent (no journal, no listener, no qmgr connection, no message between
jobs).  Killed while idle, it is replaced and nothing is lost; idle past
local_child_idle_time (and its few seconds of grace) it is gone."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, held_fds, live_as, proc_ids,
                      proc_status, require_root, send_message, wait_for)

require_root()
t = Tap()
inst = Instance("kept", {"home_mailbox": "Maildir/",
                         "local_child_idle_time": "2s",
                         "local_child_max_use": "3"})
u = inst.user("moatt_kept")
inst.start()
t.ok(wait_for(inst.accepting, 30), "the instance runs")


def kept():
    return live_as(inst, "local", u.uid)


def names():
    d = os.path.join(u.home, "Maildir", "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def pid_of(name):
    m = re.search(r"\.M\d+P(\d+)_", name)
    return int(m.group(1)) if m else None


def deliver(n, tag):
    before = len(names())
    for i in range(n):
        send_message(inst.port, "s@example.org", ["moatt_kept@localhost"],
                     ("Subject: %s-%d\r\n\r\nbody\r\n" % (tag, i)).encode())
        wait_for(lambda: len(names()) == before + i + 1, 20)
    return len(names()) - before


t.is_eq(deliver(7, "batch"), 7, "7 messages delivered one after the other")
pids = [pid_of(n) for n in names()]
counts = {p: pids.count(p) for p in set(pids)}
t.ok(None not in counts and max(counts.values()) >= 2,
     "one process wrote several of them", counts)
t.ok(max(counts.values()) <= 3, "none more than local_child_max_use (3)",
     counts)

procs = wait_for(kept, 5) or []
t.is_eq(len(procs), 1, "a kept delivery process waits for the next job")
for p in procs:
    t.is_eq(proc_ids(p), (u.uid,) * 3, "it runs as the user (real, "
            "effective, saved)")
    t.is_eq((proc_status(p, "Seccomp"), proc_status(p, "NoNewPrivs")),
            ("2", "1"), "filtered, with no_new_privs")
    fds = held_fds(p)
    t.ok(len(fds) == 1 and fds[0].startswith("socket:"),
         "it holds only its socket to the parent", fds)
    os.kill(p, signal.SIGKILL)

t.is_eq(deliver(2, "after-kill"), 2,
        "killed while idle, it is replaced: the next messages arrive")
t.ok(not inst.queue_files("active") and not inst.queue_files("deferred"),
     "nothing deferred")
t.ok(wait_for(lambda: not kept(), 15),
     "idle past local_child_idle_time, it is gone")
t.is_eq(deliver(1, "later"), 1, "and a new one serves the next message")
inst.destroy()
t.done()
