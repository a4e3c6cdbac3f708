#!/usr/bin/env python3
"""Batches of local deliveries (local_delivery_batch_limit): messages
queued for one recipient go to local several per request, and the kept
delivery process writes, syncs and renames each into Maildir/new, then
syncs new/ once for the batch before any result goes back to qmgr.

Killed with SIGKILL in the middle of a batch (stopped first, once a few
of the batch's files are in new/ and more are still to come), it loses
nothing and delivers nothing twice: the messages it renamed but whose
directory sync it never did are deferred (local's journal has them, so
the retry records them without a second copy), the one it was writing is
deferred and delivered again from the start (its tmp/ file never
reached new/), and the rest of the batch goes to a new process.  The
only window for a duplicate is the documented one, between a rename
and the journal line (one write(2)), which a stop signal hits only by
chance."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, live_as, require_root, send_message,
                      subject_counts, wait_for)

require_root()
t = Tap()
inst = Instance("batch", {"home_mailbox": "Maildir/",
                          "local_destination_concurrency_limit": "1",
                          "local_delivery_batch_limit": "20"})
u = inst.user("moatt_batch")
inst.start()
t.ok(wait_for(inst.accepting, 30), "the instance runs")
BODY = ("x" * 999 + "\r\n") * 400  # 400 KB: a batch takes a while


def kept():
    return live_as(inst, "local", u.uid)


def new_names():
    d = os.path.join(u.home, "Maildir", "new")
    return os.listdir(d) if os.path.isdir(d) else []


def counts():
    return subject_counts(u)


def send(tok, body="body\r\n"):
    r = send_message(inst.port, "s@example.org", ["moatt_batch@localhost"],
                     ("Subject: %s\r\n\r\n%s" % (tok, body)).encode())
    return r.startswith("250")


# A kept process exists once one message went through.
t.ok(send("first") and wait_for(lambda: counts().get("first") == 1, 20),
     "a first message is delivered")
procs = wait_for(kept, 10) or []
t.is_eq(len(procs), 1, "a kept delivery process waits for the next job")

# Stopped, it holds the next delivery (local's concurrency is 1), so the
# messages after it queue up in qmgr and go as one batch once it runs.
for p in procs:
    os.kill(p, signal.SIGSTOP)
t.ok(send("held"), "a message whose delivery the stopped process holds")
time.sleep(0.5)
tokens = ["b-%02d" % i for i in range(30)]
t.ok(all(send(tok, BODY) for tok in tokens), "30 more accepted meanwhile")
before = len(new_names())
for p in procs:
    os.kill(p, signal.SIGCONT)

# Stop it again as soon as a few of the batch's files are in new/.
deadline = time.time() + 30
while time.time() < deadline and len(new_names()) < before + 4:
    pass
for p in procs:
    os.kill(p, signal.SIGSTOP)
mid = len(new_names()) - before
t.ok(4 <= mid < 1 + 20, "stopped in the middle of the batch "
     "(%d of its messages in new/)" % mid)
t.ok(inst.wait_log(r"a batch of 20 messages", 10),
     "qmgr handed local a batch of 20")
for p in procs:
    os.kill(p, signal.SIGKILL)
t.ok(inst.wait_log(r"delivery process pid=%d user=moatt_batch: .*" %
                   procs[0], 20),
     "local's parent saw the process die and said so")

# Deferred ones come back at the next queue run; ask for it now.
wait_for(lambda: inst.queue_files("deferred"), 10)
inst.moat("queue", "flush")
all_tokens = ["first", "held"] + tokens
ok = wait_for(lambda: all(counts().get(tok, 0) >= 1 for tok in all_tokens),
              60)
c = counts()
t.ok(ok, "every message delivered",
     [tok for tok in all_tokens if c.get(tok, 0) == 0])
t.ok(not [tok for tok in all_tokens if c.get(tok, 0) > 1],
     "none delivered twice",
     [tok for tok in all_tokens if c.get(tok, 0) > 1])
t.ok(wait_for(lambda: not inst.queue_files("active") and
              not inst.queue_files("deferred"), 30),
     "the queue is empty")
log = inst.log()
t.ok("deferring what it delivered in the batch" in log,
     "the batch's renamed but unsynced messages were deferred")
t.ok("already has the message (journal)" in log,
     "and recorded on retry from the journal, without a second copy")
inst.destroy()
t.done()
