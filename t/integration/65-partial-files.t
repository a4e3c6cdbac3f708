#!/usr/bin/env python3
"""Partial queue files (queue_file.h): cleanup makes each queue file in
active/ with mode 0200 and gives it 0600 once complete, just before its
fsync; after a submission it keeps the next file ready (the spare), so a
250 waits for one fsync.  qmgr, the queue's owner but not root, cannot
open a partial file: it neither delivers it nor calls it corrupt, `moat
queue list` and `show` do not see it, and once it is an hour old (the
leftover of a killed cleanup) qmgr removes it and says so.  A cleanup
that stops removes its spare."""
import os
import pwd
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, queued_id, require_root, send_message,
                      wait_for)

require_root()
t = Tap()
inst = Instance("partial", {"home_mailbox": "Maildir/", "max_idle": "300s"})
u = inst.user("moatt_part")
inst.start()
owner = pwd.getpwnam("moat-queue")

r = send_message(inst.port, "s@example.org", ["moatt_part@localhost"],
                 b"Subject: first\r\n\r\nbody\r\n")
qid = queued_id(r)
t.ok(qid, "a message is accepted", r)
t.ok(wait_for(lambda: len(u.maildir_messages()) == 1, 30), "and delivered")
t.ok(not os.path.exists(inst.path("spool", "active", qid or "x")),
     "its file is gone from active/")

spares = inst.queue_files("active", partial=True)
t.ok(spares, "cleanup keeps the next file ready in active/", spares)
st = [os.lstat(inst.path("spool", "active", n)) for n in spares]
t.ok(st and all(s.st_mode & 0o7777 == 0o200 and s.st_uid == owner.pw_uid and
                s.st_size == 0 for s in st),
     "  empty, mode 0200, owned by moat-queue",
     [(oct(s.st_mode), s.st_uid, s.st_size) for s in st])

# A partial file that is not cleanup's: garbage that qmgr would move to
# corrupt/ if it could read it.
pid = "%010X%05X%08X" % (int(time.time()), 1, 4242)
path = inst.path("spool", "active", pid)
with open(path, "wb") as f:
    f.write(b"not a queue file")
os.chown(path, owner.pw_uid, owner.pw_gid)
os.chmod(path, 0o200)
r = inst.moat("queue", "requeue", pid, check=False)
t.ok(r.returncode == 0, "requeue of the partial file makes qmgr look at it",
     r.stdout + r.stderr)
time.sleep(1)
t.ok(os.path.exists(path), "qmgr leaves a young partial file alone")
t.ok(not os.listdir(inst.path("spool", "corrupt")),
     "  and does not call it corrupt")
r = inst.moat("queue", "list", check=False)
t.ok(pid not in r.stdout and not any(n in r.stdout for n in spares),
     "moat queue list does not show partial files", r.stdout)
r = inst.moat("queue", "show", pid, check=False)
t.ok(r.returncode != 0 and "no such message" in r.stdout + r.stderr,
     "moat queue show does not show one", r.stdout + r.stderr)

old = time.time() - 7200
os.utime(path, (old, old))
inst.moat("queue", "requeue", pid, check=False)
t.ok(wait_for(lambda: not os.path.exists(path), 10),
     "an hour-old partial file is removed")
t.ok(inst.wait_log(r"active/%s: removed, left over from an interrupted "
                   r"submission" % pid), "  and qmgr says so")
t.ok(all(os.path.exists(inst.path("spool", "active", n)) for n in spares),
     "the young spares stay")

r = send_message(inst.port, "s@example.org", ["moatt_part@localhost"],
                 b"Subject: second\r\n\r\nbody\r\n")
t.ok(queued_id(r) in spares,
     "the next message is written into a spare (%s)" % queued_id(r), spares)
t.ok(wait_for(lambda: len(u.maildir_messages()) == 2, 30), "and delivered")

inst.stop()
left = inst.queue_files("active", partial=True)
t.ok(not left, "a stopped cleanup removes its spare", left)
inst.destroy()
if t.failed:
    t.diag(inst.final_log()[-4000:])
t.done()
