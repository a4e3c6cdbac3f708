#!/usr/bin/env python3
"""Each local recipient is a destination of its own: with
local_destination_concurrency_limit = 1, a delivery to one user that takes
seconds (a |command in .forward that sleeps) does not hold up a message to
another user, which is delivered while the slow one still runs; the slow
one is delivered too, and a second message to the slow user waits for the
first (the limit holds per recipient)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, require_root, send_message, wait_for

require_root()
t = Tap()
inst = Instance("localdest", {"home_mailbox": "Maildir/",
                              "local_destination_concurrency_limit": "1"})
slow = inst.user("moatt_slow")
fast = inst.user("moatt_fast")

outdir = os.path.join(os.path.dirname(inst.dir), "out")
os.makedirs(outdir)
os.chmod(outdir, 0o1777)
# Reads the message, sleeps, then records when it ended.
sleeper = inst.path("conf", "commands", "sleeper")
with open(sleeper, "w") as f:
    f.write("#!/usr/bin/python3\n"
            "import sys, time\n"
            "data = sys.stdin.buffer.read()\n"
            "time.sleep(4)\n"
            "with open(sys.argv[1], 'a') as fh:\n"
            "    fh.write('%f\\n' % time.time())\n")
os.chmod(sleeper, 0o755)
forward = os.path.join(slow.home, ".forward")
with open(forward, "w") as f:
    f.write("|%s %s/slow.done\n" % (sleeper, outdir))
os.chown(forward, slow.uid, slow.gid)
os.chmod(forward, 0o644)
inst.start()
done = os.path.join(outdir, "slow.done")


def ends():
    try:
        with open(done) as f:
            return [float(x) for x in f.read().split()]
    except OSError:
        return []


for n in (1, 2):
    r = send_message(inst.port, "x@example.org", ["moatt_slow@localhost"],
                     b"Subject: slow %d\r\n\r\nslow\r\n" % n)
    t.like(r, r"^250 ", "message %d to the slow user accepted" % n)
start = time.time()
r = send_message(inst.port, "x@example.org", ["moatt_fast@localhost"],
                 b"Subject: fast\r\n\r\nfast\r\n")
t.like(r, r"^250 ", "a message to another user accepted")
t.ok(wait_for(lambda: fast.maildir_messages(), 20),
     "the other user's message is delivered")
took = time.time() - start
t.ok(not ends(), "while the slow user's command still runs (%.1f s)" % took)
t.ok(wait_for(lambda: len(ends()) == 2, 30),
     "both messages to the slow user are delivered in the end")
e = ends()
t.ok(len(e) == 2 and e[1] - e[0] >= 3.5,
     "one after the other: the limit of 1 holds per recipient (%s)"
     % ["%.1f" % (x - start) for x in e])
t.done()
