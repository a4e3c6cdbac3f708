#!/usr/bin/env python3
"""Durability under benchmark load: bench/smtpload sends mail as fast as
the instance takes it, to a Maildir user and (when Postfix's smtp-sink is
unpacked) relayed to a sink on loopback, while smtpd, cleanup, qmgr,
local and remote are killed with SIGKILL at random every few tenths of a
second.  Then every message answered 250 must be delivered, and a message
delivered twice only inside the documented window: a delivery agent
(local, remote) or qmgr was killed between its first and its last copy
(the crash between a delivery and its status write).  Bounded: the load
is stopped after LOAD_SECONDS, the whole test takes about a minute (more
only when the master holds back a service killed too often)."""
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import TOP, Instance, Tap, free_port, require_root, wait_for
from peers import SmtpSink

require_root()
LOAD = os.path.join(TOP, "build", "bench", "smtpload")
if not os.access(LOAD, os.X_OK):
    print("1..0 # SKIP build/bench/smtpload is not built")
    sys.exit(0)
LOAD_SECONDS = 15
t = Tap()
sink = SmtpSink("127.0.0.1", free_port()).start() if SmtpSink.available() else None
settings = {"home_mailbox": "Maildir/"}
if sink:
    settings["relayhost"] = "[127.0.0.1]:%d" % sink.port
inst = Instance("crashload", settings)
u = inst.user("moatt_crl")
inst.start()
work = tempfile.mkdtemp(prefix="moat-crashload-", dir="/tmp")
victims = ["smtpd", "cleanup", "qmgr", "local"] + (["remote"] if sink else [])


def load(tag, n, sessions, rcpt):
    return subprocess.Popen([LOAD, "-p", str(inst.port), "-r", rcpt, "-n", str(n),
                             "-c", str(sessions), "-t", "15", "-T", tag,
                             "-A", os.path.join(work, tag)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


loads = [load("L", 4000, 5, "moatt_crl@localhost")]  # bounded by -t 15
if sink:
    loads.append(load("R", 2000, 3, "to@relay.example"))
kills = []  # (time, victim)
end = time.time() + LOAD_SECONDS
time.sleep(0.5)
while time.time() < end and any(p.poll() is None for p in loads):
    # Each victim once first: the load may be over in a few seconds.
    spared = [v for v in victims if v not in set(k for _, k in kills)]
    victim = random.choice(spared or victims)
    pids = inst.pids_of(victim)
    if pids:
        try:
            os.kill(random.choice(pids), signal.SIGKILL)
            kills.append((time.time(), victim))
        except ProcessLookupError:
            pass
    time.sleep(random.uniform(0.15, 0.4))
for p in loads:  # smtpload lists each message as it is accepted
    if p.poll() is None:
        p.terminate()
    p.wait()
killed = sorted(set(v for _, v in kills))
t.is_eq(killed, sorted(victims), "each of %s killed at least once (%d kills)"
        % (", ".join(victims), len(kills)))


def accepted(tag):
    try:
        with open(os.path.join(work, tag)) as f:
            return f.read().split()
    except OSError:
        return []


TOKEN = re.compile(rb"^X-Smtpload: ([LR]-\d+)\r?$", re.M)


def copies(paths):
    """token -> [mtime of each copy]"""
    out = {}
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read(4096)
            mtime = os.stat(p).st_mtime
        except OSError:
            continue
        for tok in TOKEN.findall(data):
            out.setdefault(tok.decode(), []).append(mtime)
    return out


def delivered():
    d = os.path.join(u.home, "Maildir", "new")
    paths = [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []
    if sink:
        paths += [os.path.join(sink.dir, f) for f in os.listdir(sink.dir)]
    return copies(paths)


acc = accepted("L") + accepted("R")
t.ok(len(accepted("L")) > 100 and (not sink or len(accepted("R")) > 50),
     "messages were accepted under the kills (%d local, %d relayed)"
     % (len(accepted("L")), len(accepted("R"))))
# A service killed again soon after each start waits up to the master's
# longest backoff (MASTER_BACKOFF_MAX, 60 s) for its next one.
SETTLE = 30 + 60
wait_for(lambda: all(tok in delivered() for tok in acc), SETTLE, 0.5)
got = delivered()
missing = [tok for tok in acc if tok not in got]
t.ok(not missing, "every accepted message delivered (%d)" % len(acc), missing[:20])


def explained(tok, times):
    """A second copy needs a kill of the agent or qmgr in between."""
    agent = "local" if tok.startswith("L") else "remote"
    return any(v in (agent, "qmgr") and min(times) - 1 <= when <= max(times) + 1
               for when, v in kills)


dups = {tok: ts for tok, ts in got.items() if len(ts) > 1}
unexplained = [tok for tok, ts in dups.items() if not explained(tok, ts)]
if dups:
    t.diag("delivered twice after a kill of the agent or qmgr: %s"
           % " ".join(sorted(dups)))
t.ok(not unexplained, "no message delivered twice outside the window "
     "(%d copies inside it)" % (len(dups) - len(unexplained)), unexplained[:20])
# A kill of cleanup may leave partial files in active/ (the submission it
# was writing and its spares: CLEANUP_SPARES, 4, at most), which qmgr
# removes after an hour (QMGR_INCOMING_MAX_AGE); a cleanup that is stopped
# removes its spares.
cleanup_kills = sum(1 for _, v in kills if v == "cleanup")
t.ok(wait_for(lambda: not inst.queue_files("active") and
              not inst.queue_files("deferred"), SETTLE),
     "the queue drained")
inst.stop()
left = inst.queue_files("active", partial=True) + inst.queue_files("incoming")
t.ok(len(left) <= 4 * cleanup_kills,
     "after a stop, %d cleanup kills left %d partial files (4 at most each)"
     % (cleanup_kills, len(left)), left)
inst.destroy()
if sink:
    sink.stop()
subprocess.run(["rm", "-rf", work])
t.done()
