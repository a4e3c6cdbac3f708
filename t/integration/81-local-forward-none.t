#!/usr/bin/env python3
"""local's resolver believes a missing ~/.forward for one second
(LOCAL_FORWARD_NONE_MS, local(8) FORWARD FILES), so that a burst of mail
to one user costs one look: a .forward created after that second is
followed by the next message, and a .forward that exists is read for
every message (a change to it counts at once).  Its root parent believes
an account it found for a second too (LOCAL_ACCOUNT_KEEP_MS): a home
moved by usermod is where the next message goes after that second."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, live_as, require_root, send_message,
                      subject_counts, wait_for)

require_root()
t = Tap()
inst = Instance("fwdnone", {"home_mailbox": "Maildir/",
                            "local_child_idle_time": "1s"})
u = inst.user("moatt_fn")
v = inst.user("moatt_fnv")
w = inst.user("moatt_fnw")
x = inst.user("moatt_fnx")
inst.start()
t.ok(wait_for(inst.accepting, 30), "the instance runs")


def send(tok, to="moatt_fn"):
    r = send_message(inst.port, "s@example.org", [to + "@localhost"],
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

t.ok(send("old-home", x.name) and landed(x, "old-home"),
     "an account's first message: its home")
# usermod refuses while local's kept delivery process runs as the user:
# it retires after local_child_idle_time (1s here).
t.ok(wait_for(lambda: not live_as(inst, "local", x.uid), 20),
     "the user's kept delivery process retired")
moved = x.home + "-moved"
subprocess.run(["usermod", "-d", moved, "-m", x.name], check=True,
               capture_output=True)
x.home = moved
time.sleep(1.2)  # past the second an account found is believed
t.ok(send("new-home", x.name) and landed(x, "new-home"),
     "after usermod -d and that second, the next one goes to the new home")
inst.destroy()
t.done()
