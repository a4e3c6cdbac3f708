#!/usr/bin/env python3
"""A trickling client cannot hold cleanup.  smtpd asks cleanup only once
a message is complete or 64 KB of it wait, so a client trickling a small
message holds its own session and no cleanup process: with one cleanup
process, another client's message is accepted at once meanwhile, and the
trickled message, complete in the end, is accepted too.  A client that
sends more than that and then trickles meets cleanup's submission
deadline (cleanup_submission_time_limit plus a second per
cleanup_submission_min_rate bytes): another client's message gets through
once the deadline frees the process, the trickler gets a 4xx and nothing
of its message is queued or delivered."""
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


def trickle(subject, head, seconds, result):
    """DATA: head at once, then a line every half second, then the dot."""
    c = Smtp(inst.port, timeout=60)
    c.reply()
    c.cmd("EHLO slow.example")
    c.cmd("MAIL FROM:<slow@example.org>")
    c.cmd("RCPT TO:<moatt_cldl@localhost>")
    c.cmd("DATA")
    c.send(b"Subject: %s\r\n\r\n" % subject + head)
    start = time.time()
    try:
        while time.time() - start < seconds:
            c.send(b"x\r\n")
            time.sleep(0.5)
        c.send(b".\r\n")
        result["reply"] = c.reply()
    except OSError as e:
        result["reply"] = "error: %s" % e
    c.close()


def prompt(tag):
    """Another client's message: (reply, seconds)."""
    start = time.time()
    c = Smtp(inst.port, timeout=60)
    c.reply()
    c.cmd("EHLO fast.example")
    c.cmd("MAIL FROM:<fast@example.org>")
    c.cmd("RCPT TO:<moatt_cldl@localhost>")
    c.cmd("DATA")
    c.send(b"Subject: prompt\r\n\r\n%s\r\n.\r\n" % tag)
    r = c.reply()
    c.cmd("QUIT")
    c.close()
    return r, time.time() - start


def delivered(text):
    return any(text in m for m in u.maildir_messages())


# -- a small message, trickled: no cleanup process is held -----------------
small = {}
th = threading.Thread(target=trickle, args=(b"trickled-small", b"", 4, small))
th.start()
time.sleep(1)
r, took = prompt(b"prompt-one")
t.like(r, r"^250 ", "while a small message trickles, another is accepted")
t.ok(took < 2, "at once (%.1f s): the trickler holds no cleanup process"
     % took)
th.join()
t.like(small.get("reply", ""), r"^250 ", "the trickled small message, "
       "complete, is accepted too")
t.ok(wait_for(lambda: delivered(b"trickled-small") and
              delivered(b"prompt-one"), 20), "both are delivered")

# -- 100 KB at once, then a trickle: cleanup's deadline --------------------
big = {}
head = (b"y" * 998 + b"\r\n") * 100
th = threading.Thread(target=trickle, args=(b"trickled-big", head, 8, big))
th.start()
time.sleep(1)  # the trickler holds the one cleanup process now
r, took = prompt(b"prompt-two")
t.like(r, r"^250 ", "another client's message is accepted")
t.ok(took < 7, "within the trickler's deadline, not after its 8 s (%.1f s)"
     % took)
th.join()
t.like(big.get("reply", ""), r"^4\d\d ",
       "the trickler gets a temporary failure")
t.ok(inst.wait_log(r"cleanup\[\d+\]: warning: .*submission deadline", 10),
     "cleanup logs the deadline")
t.ok(wait_for(lambda: delivered(b"prompt-two"), 20),
     "the prompt message is delivered")
time.sleep(1)
t.ok(not delivered(b"trickled-big"),
     "nothing of the trickled message is delivered")
inst.destroy()
t.done()
