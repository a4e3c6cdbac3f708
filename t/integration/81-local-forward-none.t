#!/usr/bin/env python3
"""local's resolver believes a missing ~/.forward for one second
(LOCAL_FORWARD_NONE_MS, local(8) FORWARD FILES), so that a burst of mail
to one user costs one look: a .forward created after that second is
followed by the next message, and a .forward that exists is read for
every message (a change to it counts at once)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, require_root, send_message,
                      subject_counts, wait_for)

require_root()
t = Tap()
inst = Instance("fwdnone", {"home_mailbox": "Maildir/"})
u = inst.user("moatt_fn")
v = inst.user("moatt_fnv")
w = inst.user("moatt_fnw")
inst.start()
t.ok(wait_for(inst.accepting, 30), "the instance runs")


def send(tok):
    r = send_message(inst.port, "s@example.org", ["moatt_fn@localhost"],
                     ("Subject: %s\r\n\r\n%s\r\n" % (tok, tok)).encode())
    return r.startswith("250")


def forward_to(name):
    path = os.path.join(u.home, ".forward")
    with open(path + ".new", "w") as f:
        f.write("%s@localhost\n" % name)
    os.chown(path + ".new", u.uid, u.gid)
    os.chmod(path + ".new", 0o644)
    os.rename(path + ".new", path)


def landed(user, tok):
    return wait_for(lambda: subject_counts(user).get(tok) == 1, 20)


t.ok(send("none") and landed(u, "none"),
     "without a .forward: the user's own Maildir")
forward_to("moatt_fnv")
time.sleep(1.2)  # past the second a missing .forward is believed
t.ok(send("to-v") and landed(v, "to-v"),
     "a .forward made after that second is followed")
t.ok("to-v" not in subject_counts(u), "and the user's Maildir did not get it")
forward_to("moatt_fnw")
t.ok(send("to-w") and landed(w, "to-w"),
     "a changed .forward counts at once (one that exists is read each time)")
t.ok("to-w" not in subject_counts(v), "the old target did not get it")
inst.destroy()
t.done()
