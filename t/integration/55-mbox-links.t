#!/usr/bin/env python3
"""The dead.letter lesson: a mailbox that is a symbolic link, a hard link or
another user's file is never written; the delivery waits (deferred) with a
warning, and the file it points at is left byte for byte as it was."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, queued_id, require_root, send_message, wait_for

require_root()
t = Tap()
inst = Instance("links", {"home_mailbox": ""})
hal = inst.user("moatt_hal")
ivy = inst.user("moatt_ivy")
jon = inst.user("moatt_jon")
inst.start()

victim_dir = os.path.join(os.path.dirname(inst.dir), "victims")
os.makedirs(victim_dir)
sym_target = os.path.join(victim_dir, "passwd-like")
with open(sym_target, "w") as f:
    f.write("root:x:0:0:root:/root:/bin/bash\n")
os.symlink(sym_target, inst.path("mail", "moatt_hal"))

hard_target = inst.path("mail", "precious")
with open(hard_target, "w") as f:
    f.write("precious\n")
os.chown(hard_target, ivy.uid, ivy.gid)
os.chmod(hard_target, 0o600)
os.link(hard_target, inst.path("mail", "moatt_ivy"))

other = inst.path("mail", "moatt_jon")
with open(other, "w") as f:
    f.write("not jon's\n")
os.chown(other, ivy.uid, ivy.gid)
os.chmod(other, 0o600)


def deliver(user):
    r = send_message(inst.port, "a@example.org", ["%s@localhost" % user], b"Subject: s\r\n\r\nbody\r\n")
    return queued_id(r)


for user, what in (("moatt_hal", "symlink"), ("moatt_ivy", "hard link"), ("moatt_jon", "wrong owner")):
    qid = deliver(user)
    t.ok(qid, "message for %s accepted" % user)
    t.ok(inst.wait_log(r"%s: to=<%s@localhost>.*status=deferred" % (qid, user)),
         "a mailbox that is a %s: delivery deferred" % what)

with open(sym_target) as f:
    t.is_eq(f.read(), "root:x:0:0:root:/root:/bin/bash\n", "the symlink's target is untouched")
t.ok(os.path.islink(inst.path("mail", "moatt_hal")), "the symlink itself is left in place")
with open(hard_target) as f:
    t.is_eq(f.read(), "precious\n", "the hard-linked file is untouched")
t.is_eq(os.stat(hard_target).st_nlink, 2, "the hard link is left in place")
with open(other) as f:
    t.is_eq(f.read(), "not jon's\n", "another user's file is untouched")
t.ok(not os.path.exists(inst.path("mail", "dead.letter")) and
     not any(os.path.exists(os.path.join(u.home, "dead.letter")) for u in (hal, ivy, jon)),
     "no dead.letter anywhere")
inst.destroy()
t.done()
