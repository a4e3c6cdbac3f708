#!/usr/bin/env python3
"""local keeps its resolver (local_parent.c, local_resolver.c): one
moat-local process, dropped, Landlocked and filtered once, resolves one
recipient after another for its root parent (its pid tags the delivery log
lines of what it expanded), never more than local_resolver_max_use, and
holds nothing but its socket to the parent between messages.  A recipient
that is its own one mailbox goes to the parent as the last job: the parent
logs that line, and the resolver sends nothing more for it.  A rebuilt aliases map is used by
the very next message (the parent starts a new resolver); killed while
idle, it is replaced and nothing is lost; idle past
local_resolver_idle_time (and its few seconds of grace) it is gone."""
import os
import pwd
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, held_fds, live_as, proc_ids,
                      proc_status, require_root, send_message, wait_for)

require_root()
t = Tap()
inst = Instance("rkept", {"home_mailbox": "Maildir/",
                          "local_resolver_idle_time": "2s",
                          "local_resolver_max_use": "3"})
ann = inst.user("moatt_rkann")
ben = inst.user("moatt_rkben")
with open(inst.path("conf", "aliases")) as f:
    default_aliases = f.read()
inst.write_aliases(default_aliases + "rkalias: moatt_rkann\n"
                   "rkvia: moatt_rkann\n")
inst.start()
t.ok(wait_for(inst.accepting, 30), "the instance runs")
resolver_uid = pwd.getpwnam("moat-local").pw_uid


def resolvers():
    return live_as(inst, "local", resolver_uid)


def logged_by(rcpt, direct=False):
    """The pids that logged a delivery to rcpt, in order (direct: only
    those with no orig_to, the recipient as it came)."""
    rx = re.compile(r"moat/local\[(\d+)\]: \w+: to=<%s>%s.*status=sent"
                    % (re.escape(rcpt), ", relay=" if direct else ""))
    return [int(m.group(1)) for m in rx.finditer(inst.log())]


def deliver(user, rcpt, n, tag):
    before = len(user.maildir_messages())
    for i in range(n):
        send_message(inst.port, "s@example.org", [rcpt],
                     ("Subject: %s-%d\r\n\r\nbody\r\n" % (tag, i)).encode())
        wait_for(lambda: len(user.maildir_messages()) == before + i + 1, 20)
    return len(user.maildir_messages()) - before


# Through an alias, so that the resolver logs each line.
t.is_eq(deliver(ann, "rkvia@localhost", 7, "batch"), 7,
        "7 messages delivered one after the other")
pids = logged_by("moatt_rkann@localhost")
counts = {p: pids.count(p) for p in set(pids)}
t.ok(len(pids) == 7 and max(counts.values()) >= 2,
     "one resolver resolved several of them", counts)
t.ok(max(counts.values()) <= 3, "none more than local_resolver_max_use (3)",
     counts)

procs = wait_for(resolvers, 5) or []
t.is_eq(len(procs), 1, "a kept resolver waits for the next recipient")
for p in procs:
    t.is_eq(proc_ids(p), (resolver_uid,) * 3,
            "it runs as moat-local (real, effective, saved)")
    t.is_eq((proc_status(p, "Seccomp"), proc_status(p, "NoNewPrivs")),
            ("2", "1"), "filtered, with no_new_privs")
    fds = held_fds(p)
    # The aliases map (LMDB maps its file and keeps its descriptor).
    fds = [f for f in fds if not f.endswith("aliases.lmdb")]
    t.ok(len(fds) == 1 and fds[0].startswith("socket:"),
         "it holds only its socket to the parent (and the map)", fds)

t.is_eq(deliver(ann, "moatt_rkann@localhost", 2, "direct"), 2,
        "a recipient that is its own mailbox is delivered")
direct = set(logged_by("moatt_rkann@localhost", direct=True))
parents = set(live_as(inst, "local", 0))
t.ok(len(direct) >= 1 and direct <= parents,
     "its line is logged by local's root parent (the last job)",
     (direct, parents))

t.is_eq(deliver(ann, "rkalias@localhost", 1, "alias-old"), 1,
        "the alias reaches its first target")
kept = resolvers()
inst.write_aliases(default_aliases + "rkalias: moatt_rkben\n")
t.is_eq(deliver(ben, "rkalias@localhost", 1, "alias-new"), 1,
        "right after the map is rebuilt, the next message follows the new "
        "alias")
t.ok(not any(b"alias-new" in m for m in ann.maildir_messages()),
     "and not the old one")
now = resolvers()
t.ok(len(now) == 1 and now != kept,
     "a new resolver serves it (the old one had the old map open)",
     (kept, now))

for p in now:
    os.kill(p, signal.SIGKILL)
t.is_eq(deliver(ann, "moatt_rkann@localhost", 2, "after-kill"), 2,
        "killed while idle, it is replaced: the next messages arrive")
t.ok(not inst.queue_files("active") and not inst.queue_files("deferred"),
     "nothing deferred")
t.ok(wait_for(lambda: not resolvers(), 15),
     "idle past local_resolver_idle_time, it is gone")
t.is_eq(deliver(ann, "moatt_rkann@localhost", 1, "later"), 1,
        "and a new one serves the next message")
inst.destroy()
t.done()
