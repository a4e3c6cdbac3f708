#!/usr/bin/env python3
"""Durability, read from the system calls: the instance's master runs
under strace -f (every daemon it starts, and their children, traced),
20 messages arrive over SMTP and 5 through sendmail, and the trace must
show, for every message:
  - cleanup made the queue file partial (mode 0200) in active/, and
    either marked it complete (fchmod 0600) after its last write and
    fsync'd it after that, or (a message that fits in a spare's zeros,
    sealed: queue_file.h) fdatasync'd it after its last write and marked
    it complete after that sync; and an fsync of active/ began after the
    file was made (by that cleanup process or another: they share it,
    group_sync.h; usually before the message came: a spare made ahead);
    the messages here are small, so at least one was sealed; all ended
    before smtpd
    began writing "250 ... queued as ID" (SMTP) or before pickup unlinked
    the maildrop file (sendmail);
and for every delivery (several messages to the one user go to local as
one batch, local_delivery_batch_limit):
  - local fsync'd the Maildir file after its last write and fsync'd
    Maildir/new after the rename into it, both before local began to
    write the message's result to qmgr and before qmgr began to record
    the recipient's status in the queue file (pwrite) or removed it, and
    qmgr made that status durable (fdatasync or fsync of the queue file
    after the pwrite) or removed the file;
  - batches happened, and new/ was fsync'd fewer times than files were
    renamed into it (one fsync for a batch: the group commit);
  - local journalled the delivery after the rename into new/;
  - a message whose one recipient is delivered is removed with no status
    write or sync before the unlink (the unlink is the record).
Times are strace's (-ttt with -T): a call ends at its start plus its
duration, and "before" means it ended before the other began."""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (MOAT, TOP, Instance, Tap, queued_id, require_root,
                      send_message, wait_for)

require_root()
STRACE = shutil.which("strace")
SENDMAIL = os.path.join(TOP, "build", "bin", "sendmail")
if STRACE is None:
    print("1..0 # SKIP needs strace")
    sys.exit(0)
CALLS = ("execve,clone,clone3,fork,vfork,read,pread64,write,writev,pwrite64,"
         "sendto,sendmsg,fsync,fdatasync,fchmod,openat,rename,renameat,renameat2,"
         "unlink,unlinkat")
t = Tap()
inst = Instance("durable", {"home_mailbox": "Maildir/",
                            "local_destination_concurrency_limit": "1"})
u = inst.user("moatt_dur")
trace = os.path.join(os.path.dirname(inst.dir), "strace.out")

# strace -D: the tracer is a detached grandchild, so `moat start` returns
# while the master and everything it starts stay traced until they exit.
with open(os.path.join(os.path.dirname(inst.dir), "strace.err"), "w") as err:
    r = subprocess.run([STRACE, "-D", "-f", "-qq", "-ttt", "-T", "-y",
                        "-s", "4096", "-o", trace, "-e", "trace=" + CALLS,
                        MOAT, "-c", inst.conf, "start"],
                       stdout=subprocess.DEVNULL, stderr=err, timeout=60)
inst.started = r.returncode == 0
t.ok(inst.started and wait_for(inst.accepting, 30) and
     wait_for(lambda: os.path.exists(inst.recipients_map()), 30),
     "the instance runs under strace -f")

# --- the load -------------------------------------------------------------
smtp_ids = {}   # token -> queue ID from the 250
lock = threading.Lock()


def smtp_worker(k):
    for i in range(5):
        token = "dur-smtp-%d-%d" % (k, i)
        r = send_message(inst.port, "s@example.org", ["moatt_dur@localhost"],
                         ("Subject: %s\r\n\r\nbody %s\r\n" % (token, token)).encode())
        with lock:
            smtp_ids[token] = queued_id(r)


ths = [threading.Thread(target=smtp_worker, args=(k,)) for k in range(4)]
for th in ths:
    th.start()
sm_tokens = []
for i in range(5):
    token = "dur-sendmail-%d" % i
    p = subprocess.run(["setpriv", "--reuid=%d" % u.uid, "--regid=%d" % u.gid,
                        "--init-groups", SENDMAIL, "-C", inst.conf, "-i",
                        "moatt_dur@localhost"],
                       input=("Subject: %s\n\nbody %s\n" % (token, token)).encode(),
                       capture_output=True, env={"PATH": "/usr/bin:/bin"},
                       cwd="/", timeout=60)
    if p.returncode == 0:
        sm_tokens.append(token)
for th in ths:
    th.join(120)
t.ok(len(smtp_ids) == 20 and all(smtp_ids.values()),
     "20 messages accepted over SMTP", smtp_ids)
t.is_eq(len(sm_tokens), 5, "5 messages submitted with sendmail")
tokens = list(smtp_ids) + sm_tokens


def delivered():
    return sum(1 for m in u.maildir_messages()
               for tok in tokens if ("Subject: %s\n" % tok).encode() in m)


t.ok(wait_for(lambda: delivered() == len(tokens), 60),
     "all 25 delivered to the Maildir", delivered())
t.ok(wait_for(lambda: not inst.queue_files("active") and
              not inst.queue_files("incoming"), 30),
     "the queue is empty (every status recorded)")
inst.stop()
size = [-1]


def trace_done():
    """The tracer has written everything once the file stops growing."""
    s = os.path.getsize(trace) if os.path.exists(trace) else -1
    done = s == size[0] and s > 0
    size[0] = s
    return done


wait_for(trace_done, 30, 0.5)


# --- the trace ------------------------------------------------------------
LINE = re.compile(r"^(\d+)\s+(\d+\.\d+) (.*)$")
CALL = re.compile(r"^(\w+)\((.*)\) += (-?\w+)(?:<[^>]*>)?(?: [^<]*)?(?: <(\d+\.\d+)>)?$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)\) += (-?\w+)(?:<[^>]*>)?(?: [^<]*)?(?: <(\d+\.\d+)>)?$")
FD_PATH = re.compile(r"^\d+<([^>]*)>")


class Call:
    def __init__(self, pid, start, name, args, ret, dur):
        self.pid, self.start, self.name, self.args = pid, start, name, args
        self.ret = ret
        self.end = start + (dur or 0.0)
        m = FD_PATH.match(args)
        self.path = m.group(1) if m else ""


def parse(path):
    calls, pending, prog = [], {}, {}
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            pid, ts, rest = int(m.group(1)), float(m.group(2)), m.group(3)
            if rest.endswith("<unfinished ...>"):
                pending[pid] = (ts, rest[:-len("<unfinished ...>")].rstrip())
                continue
            r = RESUMED.match(rest)
            if r and pid in pending:
                ts0, head = pending.pop(pid)
                c = CALL.match(head + r.group(2) + ") = " + r.group(3) +
                               (" <%s>" % r.group(4) if r.group(4) else ""))
                if c:
                    calls.append(Call(pid, ts0, c.group(1), c.group(2),
                                      c.group(3), float(c.group(4) or 0)))
                continue
            c = CALL.match(rest)
            if c:
                calls.append(Call(pid, ts, c.group(1), c.group(2), c.group(3),
                                  float(c.group(4) or 0)))
    calls.sort(key=lambda c: c.start)
    for c in calls:  # which program each pid runs
        if c.name == "execve" and c.ret == "0":
            prog[c.pid] = os.path.basename(c.args.split('"')[1])
        elif c.name in ("clone", "clone3", "fork", "vfork") and c.ret.isdigit():
            prog.setdefault(int(c.ret), prog.get(c.pid, "?"))
    for c in calls:
        c.prog = prog.get(c.pid, "?")
    return calls


calls = parse(trace) if os.path.exists(trace) else []
t.ok(len(calls) > 100, "the trace holds the instance's calls (%d)" % len(calls))
WRITES = ("write", "writev", "pwrite64")
SYNCS = ("fsync", "fdatasync")
RENAMES = ("rename", "renameat", "renameat2")


def by(prog, names, pred):
    return [c for c in calls if c.prog == prog and c.name in names and pred(c)]


def base(path):
    return path.rstrip("/").rsplit("/", 1)[-1]


def rename_parts(c):
    """(from dir, from name, to dir, to name) of a rename call; dirs by
    their last component."""
    if c.name == "rename":
        a = re.findall(r'"([^"]*)"', c.args)
        if len(a) == 2:
            return (a[0].rsplit("/", 2)[-2:-1] or [""])[0], base(a[0]), \
                (a[1].rsplit("/", 2)[-2:-1] or [""])[0], base(a[1])
        return None
    m = re.match(r'\d+<([^>]*)>, "([^"]*)", \d+<([^>]*)>, "([^"]*)"', c.args)
    return (base(m.group(1)), m.group(2), base(m.group(3)), m.group(4)) if m else None


SEALED = []  # queue IDs written the sealed way


def queue_file_durable(qid, deadline):
    """cleanup made the file in active/ (partial); marked it complete
    (fchmod 0600) after its last write and fsync'd it after that, or
    synced it after its last write and marked it complete after that sync
    (sealed); and an fsync of active/ began after the file was made; each
    ended before deadline: '' when so, else what is missing."""
    writes = by("cleanup", WRITES, lambda c: c.path.endswith("/" + qid))
    if not writes:
        return "no write by cleanup to the queue file"
    last = max(c.end for c in writes)
    marked = by("cleanup", ("fchmod",), lambda c: c.path.endswith("/" + qid) and
                c.args.endswith(", 0600") and c.start >= last and
                c.end <= deadline)
    if not marked:
        return "not marked complete (fchmod 0600) after its last write"
    synced_first = by("cleanup", SYNCS, lambda c: c.path.endswith("/" + qid) and
                      c.start >= last and c.end <= marked[0].start)
    syncs = by("cleanup", SYNCS, lambda c: c.path.endswith("/" + qid) and
               c.start >= marked[0].end and c.end <= deadline)
    if synced_first:
        SEALED.append(qid)
    elif not syncs:
        return "no sync of the queue file after its last write, before the answer"
    made = by("cleanup", ("openat",), lambda c: ('"%s"' % qid) in c.args and
              "O_CREAT" in c.args and c.ret.isdigit())
    if not made or base(made[0].path) != "active" or ", 0200" not in made[0].args:
        return "not made partial (0200) in active/: %s" % (made[0].args if made else "no create")
    dsync = by("cleanup", SYNCS, lambda c: base(c.path) == "active" and
               c.start >= made[0].end and c.end <= deadline)
    return "" if dsync else "no fsync of active/ after the file got its name there"


def token_in(c, token):
    return ("Subject: %s\\n" % token) in c.args or ("Subject: %s\n" % token) in c.args


qid_of = {}  # token -> queue ID, from cleanup's writes
for tok in tokens:
    w = by("cleanup", WRITES, lambda c: token_in(c, tok) or
           ("Subject: %s\\r\\n" % tok) in c.args)
    if w:
        qid_of[tok] = base(w[0].path)

bad = []
for tok, qid in sorted(smtp_ids.items()):
    if qid_of.get(tok) != qid:
        bad.append((tok, "cleanup wrote it as %s, smtpd said %s" % (qid_of.get(tok), qid)))
        continue
    answer = by("smtpd", ("write", "writev", "sendto", "sendmsg"),
                lambda c: "queued as " + qid in c.args)
    if not answer:
        bad.append((tok, "no 250 write by smtpd"))
        continue
    why = queue_file_durable(qid, answer[0].start)
    if why:
        bad.append((tok, why))
t.ok(not bad and len(smtp_ids) == 20,
     "SMTP: each 250 follows the fsync of its queue file and of its "
     "directory entry", bad)
t.ok(SEALED, "small messages were sealed: synced, then marked complete "
     "(written into a spare's zeros)")

bad = []
for tok in sm_tokens:
    rd = by("pickup", ("read", "pread64"),
            lambda c: "/maildrop/" in c.path and tok in c.args)
    if not rd or tok not in qid_of:
        bad.append((tok, "pickup did not read it or cleanup did not write it"))
        continue
    name = base(rd[0].path)
    gone = by("pickup", ("unlink", "unlinkat"), lambda c: '"%s"' % name in c.args or
              c.args.endswith("/" + name + '"'))
    if not gone:
        bad.append((tok, "pickup never removed maildrop/%s" % name))
        continue
    why = queue_file_durable(qid_of[tok], gone[0].start)
    if why:
        bad.append((tok, why))
t.ok(not bad and len(sm_tokens) == 5,
     "sendmail: each maildrop file is removed only after its queue file "
     "and directory entry are on disk", bad)

def maildir_tmp(tok):
    """The Maildir/tmp path local first wrote tok to, or None."""
    mw = by("local", ("write", "writev"),
            lambda c: "/Maildir/tmp/" in c.path and token_in(c, tok))
    return mw[0].path if mw else None


def renames_of(name):
    return [c for c in by("local", RENAMES, lambda c: True)
            if (rename_parts(c) or ("",) * 4)[1] == name]


bad = []
for tok in tokens:
    qid = qid_of.get(tok)
    tmp = maildir_tmp(tok)
    if tmp is None or qid is None:
        bad.append((tok, "no write of it into Maildir/tmp by local"))
        continue
    name = base(tmp)
    last = max(c.end for c in by("local", ("write", "writev"),
                                 lambda c: c.path == tmp))
    fsync_file = by("local", SYNCS, lambda c: c.path == tmp and c.start >= last)
    moved = [c for c in renames_of(name) if rename_parts(c)[2] == "new"]
    if not fsync_file or not moved:
        bad.append((tok, "no fsync of the Maildir file or no rename into new/"))
        continue
    fsync_dir = by("local", SYNCS, lambda c: c.path.endswith("/Maildir/new") and
                   c.start >= moved[0].end)
    status = [c for c in calls if c.prog == "qmgr" and c.name == "pwrite64" and
              c.path.endswith("/" + qid)]
    removed = [c for c in calls if c.prog == "qmgr" and
               c.name in ("unlink", "unlinkat") and qid in c.args]
    if not fsync_dir or not (status or removed):
        bad.append((tok, "no fsync of new/, or qmgr recorded nothing"))
        continue
    record = (status or removed)[0]
    if not (fsync_file[0].end <= record.start and fsync_dir[0].end <= record.start):
        bad.append((tok, "qmgr recorded the status before local's fsyncs ended"))
        continue
    answer = by("local", ("write", "writev", "sendto", "sendmsg"),
                lambda c: "batch_index" in c.args and qid in c.args)
    if not answer:
        bad.append((tok, "no result frame from local to qmgr"))
        continue
    if not (fsync_file[0].end <= answer[0].start and
            fsync_dir[0].end <= answer[0].start):
        bad.append((tok, "local answered qmgr before its fsyncs ended"))
        continue
    if status and not by("qmgr", SYNCS, lambda c: c.path.endswith("/" + qid) and
                         c.start >= status[0].end) and not removed:
        bad.append((tok, "qmgr's status write was never synced"))
t.ok(not bad and len(tokens) == 25,
     "delivery: each result goes to qmgr, and each status is recorded, "
     "only after the Maildir file and new/ are on disk, and the status "
     "itself is synced", bad)

# The group commit: a batch's files are renamed into new/ one by one and
# new/ is synced once for them.
into_new = [c for c in by("local", RENAMES, lambda c: True)
            if (rename_parts(c) or ("",) * 4)[2] == "new" and c.ret == "0"]
new_syncs = by("local", SYNCS, lambda c: c.path.endswith("/Maildir/new"))
batches = [int(n) for n in re.findall(r"a batch of (\d+) messages",
                                      inst.final_log())]
t.ok(batches and len(into_new) == 25 and len(new_syncs) < len(into_new),
     "batches came (%s) and new/ was synced %d times for %d renames"
     % (batches, len(new_syncs), len(into_new)))

# One recipient each: once it is delivered the message is done, and the
# unlink is its record; qmgr writes and syncs no status before it.
bad = []
for tok in tokens:
    qid = qid_of.get(tok)
    if qid is None:
        continue
    removed = [c for c in calls if c.prog == "qmgr" and
               c.name in ("unlink", "unlinkat") and qid in c.args]
    touched = [c for c in calls if c.prog == "qmgr" and
               c.name in ("pwrite64", "fdatasync", "fsync") and
               c.path.endswith("/" + qid)]
    if not removed or touched:
        bad.append((tok, "removed" if removed else "not removed",
                    [c.name for c in touched]))
t.ok(not bad and len(qid_of) == 25,
     "qmgr removes each delivered single-recipient message without "
     "writing or syncing a status first", bad)

# The journal line (written by local's root parent when the delivery child
# says it delivered) follows the rename into new/.
bad = []
for tok in tokens:
    qid, tmp = qid_of.get(tok), maildir_tmp(tok)
    if qid is None or tmp is None:
        continue
    moved = renames_of(base(tmp))
    jw = by("local", ("write",), lambda c: "/local.journal/" in c.path
            and qid in c.args)
    if not moved or not jw or jw[0].start < moved[0].end:
        bad.append((tok, "renamed" if moved else "not renamed",
                    "journalled" if jw else "not journalled"))
t.ok(not bad and len(qid_of) == 25,
     "local journals each delivery after its rename into new/", bad)
inst.destroy()
t.done()
