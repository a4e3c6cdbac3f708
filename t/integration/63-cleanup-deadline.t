#!/usr/bin/env python3
"""A trickling client cannot hold cleanup: a submission has a deadline
(cleanup_submission_time_limit plus a second per cleanup_submission_min_rate
bytes).  With one cleanup process and a client sending its DATA a line
every half second, another client's message still gets through once the
deadline frees the process, the trickler gets a 4xx and nothing of its
message is queued or delivered."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, require_root, set_maxproc, wait_for

require_root()
t = Tap()
inst = Instance("cldl", {"home_mailbox": "Maildir/",
                         "cleanup_submission_time_limit": "3s",
                         "cleanup_submission_min_rate": "1g"})
u = inst.user("moatt_cldl")
set_maxproc(inst, "private/cleanup", 1)
inst.start()

result = {}


def trickle():
    c = Smtp(inst.port, timeout=60)
    c.reply()
    c.cmd("EHLO slow.example")
    c.cmd("MAIL FROM:<slow@example.org>")
    c.cmd("RCPT TO:<moatt_cldl@localhost>")
    c.cmd("DATA")
    c.send(b"Subject: trickled\r\n\r\n")
    start = time.time()
    try:
        while time.time() - start < 8:
            c.send(b"x\r\n")
            time.sleep(0.5)
        c.send(b".\r\n")
        result["reply"] = c.reply()
    except OSError as e:
        result["reply"] = "error: %s" % e
    c.close()


th = threading.Thread(target=trickle)
th.start()
time.sleep(1)  # the trickler holds the one cleanup process now
start = time.time()
c = Smtp(inst.port, timeout=60)
c.reply()
c.cmd("EHLO fast.example")
c.cmd("MAIL FROM:<fast@example.org>")
c.cmd("RCPT TO:<moatt_cldl@localhost>")
r = c.cmd("DATA")
c.send(b"Subject: prompt\r\n\r\nprompt body\r\n.\r\n")
r = c.reply()
took = time.time() - start
c.cmd("QUIT")
c.close()
t.like(r, r"^250 ", "another client's message is accepted")
t.ok(took < 7, "within the trickler's deadline, not after its 8 s (%.1f s)" % took)
th.join()
t.like(result.get("reply", ""), r"^4\d\d ", "the trickler gets a temporary failure")
t.ok(inst.wait_log(r"cleanup\[\d+\]: warning: .*submission deadline", 10),
     "cleanup logs the deadline")
t.ok(wait_for(lambda: any(b"prompt body" in m for m in u.maildir_messages()), 20),
     "the prompt message is delivered")
time.sleep(1)
t.ok(not any(b"trickled" in m for m in u.maildir_messages()),
     "nothing of the trickled message is delivered")
inst.destroy()
t.done()
