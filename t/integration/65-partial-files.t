#!/usr/bin/env python3
"""Partial queue files (queue_file.h): cleanup makes each queue file in
active/ with mode 0200 and gives it 0600 once complete; it keeps files
ready (the spares, four made at once: 8 KiB of zeros each, on disk), so a
250 waits for one sync of a file whose size does not change (a message
that fits is sealed).  qmgr, the queue's owner but not root,
cannot open a partial file: it neither delivers it nor calls it corrupt,
`moat queue list` and `show` do not see it, and once it is an hour old
(the leftover of a killed cleanup) qmgr removes it and says so.  A
partial file that is sealed and that no cleanup holds (flock) was whole
when its writer stopped (a crash took its mode): qmgr gives it its mode
and delivers it; one whose seal does not match is left alone.  A cleanup
that stops removes its spares."""
import os
import pwd
import struct
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
t.ok(len(spares) >= 3, "cleanup keeps files ready in active/ (four made "
     "at once, one used since)", spares)
st = [os.lstat(inst.path("spool", "active", n)) for n in spares]
t.ok(st and all(s.st_mode & 0o7777 == 0o200 and s.st_uid == owner.pw_uid and
                s.st_size == 8192 for s in st),
     "  8 KiB (of zeros), mode 0200, owned by moat-queue",
     [(oct(s.st_mode), s.st_uid, s.st_size) for s in st])
t.ok(all(open(inst.path("spool", "active", n), "rb").read() == b"\0" * 8192
         for n in spares if os.path.exists(inst.path("spool", "active", n))),
     "  all zeros")

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



def record(kind, data):
    return kind + struct.pack(">I", len(data)) + data


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def sealed_file(tok, spoil=False):
    """A queue file as cleanup seals it, in 8 KiB; spoil: a byte of the
    content changed after sealing (a torn write)."""
    body = (b"V" + struct.pack(">I", 1) + b"1" +
            record(b"T", str(int(time.time())).encode()) +
            record(b"S", b"s@example.org") +
            record(b"R", b"-moatt_part@localhost") +
            record(b"M", ("Subject: %s\n\nbody\n" % tok).encode()))
    seal = struct.pack(">Q", fnv1a64(body))
    if spoil:
        body = body.replace(b"body", b"bodY")
    data = body + record(b"E", seal)
    return data + b"\0" * (8192 - len(data))


def plant(data, seq):
    qid = "%010X%05X%08X" % (int(time.time()), 2, 5000 + seq)
    p = inst.path("spool", "active", qid)
    with open(p, "wb") as f:
        f.write(data)
    os.chown(p, owner.pw_uid, owner.pw_gid)
    os.chmod(p, 0o200)
    return qid, p


good, good_path = plant(sealed_file("sealed-partial"), 1)
torn, torn_path = plant(sealed_file("torn", spoil=True), 2)
for q in (good, torn):
    inst.moat("queue", "requeue", q, check=False)
t.ok(wait_for(lambda: len(u.maildir_messages()) == 3, 30),
     "a sealed partial file no writer holds is delivered")
t.ok(inst.wait_log(r"active/%s: sealed but still partial" % good),
     "  and qmgr says why")
time.sleep(1)
t.ok(os.path.exists(torn_path) and
     os.stat(torn_path).st_mode & 0o7777 == 0o200 and
     not any(b"torn" in m for m in u.maildir_messages()),
     "one whose seal does not match is left partial and not delivered")
t.ok(not os.listdir(inst.path("spool", "corrupt")),
     "  nor called corrupt (it may still be written)")
os.unlink(torn_path)

inst.stop()
left = inst.queue_files("active", partial=True)
t.ok(not left, "a stopped cleanup removes its spare", left)
inst.destroy()
if t.failed:
    t.diag(inst.final_log()[-4000:])
t.done()
