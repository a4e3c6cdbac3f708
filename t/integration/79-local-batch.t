#!/usr/bin/env python3
"""Batches of local deliveries (local_delivery_batch_limit): messages
queued for one recipient go to local several per request.  The kept
delivery process writes each into Maildir/tmp with its writeback started;
at the batch's sync it fsyncs them all, then renames them into new/ one at
a time, each named to local's parent (which journals it) and answered
before the next, and syncs new/ once, all before any result goes back to
qmgr.

Two kills in the middle of a batch, each losing nothing:
1. The delivery process, while it writes the batch into tmp/: nothing of
   the batch is in new/; every message it wrote is deferred (the parent
   says so) and delivered once on retry.
2. Local's root parents, while the delivery process renames the batch
   into new/: the child stops at its next question (nobody answers), and
   the retry records the renamed ones from the journal without a second
   copy.  At most one message (renamed, its line not yet journalled) may
   be delivered twice: local(8)'s documented window.  A round whose
   renames were over before this test looked is let finish and another
   is tried, three at most."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, live_as, proc_status, require_root,
                      send_message, set_maxproc, subject_counts, wait_for)

require_root()
t = Tap()
inst = Instance("batch", {"home_mailbox": "Maildir/",
                          "local_destination_concurrency_limit": "1",
                          "local_delivery_batch_limit": "20"})
# One local process: the batch goes to the one whose kept delivery process
# this test stops (a new client wakes one idle process, the longest idle,
# which could be another one with a kept process of its own).
set_maxproc(inst, "private/local", 1)
u = inst.user("moatt_batch")
inst.start()
t.ok(wait_for(inst.accepting, 30), "the instance runs")
BIG = ("x" * 999 + "\r\n") * 400  # 400 KB: writing a batch takes a while


def kept():
    return live_as(inst, "local", u.uid)


def names(sub):
    d = os.path.join(u.home, "Maildir", sub)
    return os.listdir(d) if os.path.isdir(d) else []


def counts():
    return subject_counts(u)


def send(tok, body="body\r\n"):
    r = send_message(inst.port, "s@example.org", ["moatt_batch@localhost"],
                     ("Subject: %s\r\n\r\n%s" % (tok, body)).encode())
    return r.startswith("250")


def signal_all(pids, sig):
    for p in pids:
        if p <= 1:
            continue  # never 0: the process group, this test included
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def queue_batch(tag, body):
    """Stop the kept process, which then holds the next delivery (local's
    concurrency is 1), so that 30 messages queue up behind it in qmgr and
    go as batches once it runs again (there may be one per local process
    by now: all are stopped).  Returns (processes, their parents,
    tokens)."""
    procs = wait_for(kept, 20) or []
    t.ok(procs, "%s: a kept delivery process waits" % tag)
    parents = [int(proc_status(p, "PPid") or 0) for p in procs]
    signal_all(procs, signal.SIGSTOP)
    t.ok(send(tag + "-held"), "%s: a message the stopped process holds" % tag)
    time.sleep(0.5)
    tokens = ["%s-%02d" % (tag, i) for i in range(30)]
    t.ok(all(send(tok, body) for tok in tokens),
         "%s: 30 more accepted meanwhile" % tag)
    return procs, parents, [tag + "-held"] + tokens


def delivered_once(tag, tokens, dup_allowed):
    """Every token delivered after a queue flush; no more than dup_allowed
    of them twice."""
    wait_for(lambda: inst.queue_files("deferred"), 10)
    inst.moat("queue", "flush")
    ok = wait_for(lambda: all(counts().get(tok, 0) >= 1 for tok in tokens),
                  60)
    c = counts()
    t.ok(ok, "%s: every message delivered" % tag,
         [tok for tok in tokens if c.get(tok, 0) == 0])
    dup = [tok for tok in tokens if c.get(tok, 0) > 1]
    t.ok(len(dup) <= dup_allowed and all(c[tok] == 2 for tok in dup),
         "%s: %s" % (tag, "none delivered twice" if dup_allowed == 0 else
                     "at most %d delivered twice (%d)" % (dup_allowed,
                                                         len(dup))), dup)
    t.ok(wait_for(lambda: not inst.queue_files("active") and
                  not inst.queue_files("deferred"), 30),
         "%s: the queue is empty" % tag)


t.ok(send("first") and wait_for(lambda: counts().get("first") == 1, 20),
     "a first message is delivered")

# 1. The delivery process killed while it writes the batch into tmp/.
procs, _, tokens = queue_batch("w", BIG)
tmp_before = len(names("tmp"))
signal_all(procs, signal.SIGCONT)
deadline = time.time() + 30
while time.time() < deadline and len(names("tmp")) < tmp_before + 4:
    pass
signal_all(procs, signal.SIGSTOP)
in_tmp = len(names("tmp")) - tmp_before
c = counts()
t.ok(in_tmp >= 4 and not [tok for tok in tokens[1:] if c.get(tok)],
     "w: stopped while it wrote the batch (%d files in tmp/, none of the "
     "batch in new/)" % in_tmp)
t.ok(inst.wait_log(r"a batch of 20 messages", 10),
     "w: qmgr handed local a batch of 20")
signal_all(procs, signal.SIGKILL)
t.ok(inst.wait_log(r"delivery process pid=\d+ user=moatt_batch: .*deferring "
                   r"what it delivered in the batch", 20),
     "w: local's parent saw the process die and deferred the batch")
delivered_once("w", tokens, 0)

# 2. Local's parents killed while its delivery process renames the batch.
# The renames take a few milliseconds: when this process looks too late
# (the whole batch in new/ already), that round is let finish and the
# next one tried, three at most.
for attempt in (1, 2, 3):
    tag = "r%d" % attempt
    procs, parents, tokens = queue_batch(tag, "body\r\n")
    t.ok(parents and all(p > 1 and
                         (proc_status(p, "Uid") or "x").split()[0] == "0"
                         for p in parents),
         "%s: the kept processes' parents are local's root processes" % tag)
    new_before = len(names("new"))
    signal_all(procs, signal.SIGCONT)
    deadline = time.time() + 30
    while time.time() < deadline and len(names("new")) < new_before + 3:
        pass  # the held message, then the batch's first two
    signal_all(parents, signal.SIGSTOP)
    time.sleep(0.5)  # a child that did not wait for its answers goes on
    mid = len(names("new")) - new_before - 1
    t.diag("%s: %d of the batch in new/ half a second after local's "
           "parents stopped" % (tag, mid))
    if 2 <= mid < 20 or attempt == 3:
        break
    signal_all(parents, signal.SIGCONT)
    delivered_once(tag + " (looked too late, let finish)", tokens, 0)
signal_all(parents, signal.SIGKILL)
t.ok(2 <= mid < 20, "%s: killed in the middle of the renames "
     "(%d of the batch's 20 in new/)" % (tag, mid))
t.ok(wait_for(lambda: not kept(), 20),
     "%s: the delivery processes left with their parents" % tag)
delivered_once(tag, tokens, 1)
t.ok("already has the message (journal)" in inst.log(),
     "%s: the renamed ones recorded on retry from the journal" % tag)
inst.destroy()
t.done()
