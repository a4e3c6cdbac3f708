#!/usr/bin/env python3
"""local's root parent reads nothing: the kernel says who read what.  With
fanotify permission events (each reader is held until the test has looked
at its /proc entry) a delivery through an alias and a .forward shows that
the message's header, the aliases map and the .forward are read only by
processes that are not root: the resolver runs as moat-local, the .forward
is read as its owner.  While a delivery is held up, /proc shows the
process picture: a root parent, a moat-local resolver holding only the
message and its socket, and delivery children as the user holding no
journal: the root parent, which alone can open it, writes it on the
child's word (an older Moat's single journal file gives way to the
directory of files).  A resolver killed in the
middle defers the recipient, and the retry delivers to each destination
once.  Forwarding is resubmitted by the resolver and accepted by cleanup as
local; root itself is refused by cleanup and cannot wake qmgr."""
import ctypes
import os
import pwd
import re
import select
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, as_user, ipc_frame, ipc_read_frame, proc_ids,
                      queued_id, require_root, send_message, unix_connect,
                      wait_for)

FAN_CLASS_CONTENT = 0x04
FAN_CLOEXEC = 0x01
FAN_OPEN_PERM = 0x10000
FAN_ACCESS_PERM = 0x20000
FAN_EVENT_ON_CHILD = 0x08000000
FAN_MARK_ADD = 0x01
FAN_ALLOW = 0x01
EVENT = struct.Struct("=IBBHQii")


class ReadWatch:
    """Who opens or reads the marked files: (kind, program, uids) per
    event, looked up in /proc while the kernel holds the reader."""

    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint,
                                            ctypes.c_uint64, ctypes.c_int,
                                            ctypes.c_char_p]
        self.fd = self.libc.fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC,
                                          os.O_RDONLY | os.O_LARGEFILE)
        self.kinds = []
        self.events = []
        self.stop = False
        self.thread = None

    def mark(self, path, kind, mask):
        if self.fd < 0:
            return False
        rc = self.libc.fanotify_mark(self.fd, FAN_MARK_ADD, mask, -100,
                                     path.encode())
        self.kinds.append((os.path.realpath(path), kind))
        return rc == 0

    def kind_of(self, path):
        for prefix, kind in self.kinds:
            if path == prefix or path.startswith(prefix + "/"):
                return kind
        return None

    @staticmethod
    def who(pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                prog = os.path.basename(f.read().split(b"\0")[0]).decode()
        except OSError:
            prog = "?"
        return prog, proc_ids(pid)

    def run(self):
        while not self.stop:
            if not select.select([self.fd], [], [], 0.1)[0]:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            off = 0
            while off + EVENT.size <= len(data):
                length, _, _, _, mask, efd, pid = EVENT.unpack_from(data, off)
                off += length
                if efd < 0:
                    continue
                try:
                    path = os.readlink("/proc/self/fd/%d" % efd)
                    prog, ids = self.who(pid)
                    self.events.append((self.kind_of(path), path, prog, ids))
                finally:
                    os.write(self.fd, struct.pack("=iI", efd, FAN_ALLOW))
                    os.close(efd)

    def start(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def close(self):
        """Stop watching; pending readers are let through by the kernel."""
        self.stop = True
        if self.thread is not None:
            self.thread.join(5)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def by(self, kind, prog=None):
        return [(path, p, ids) for k, path, p, ids in self.events
                if k == kind and (prog is None or p == prog)]


require_root()
t = Tap()
inst = Instance("split", {"home_mailbox": "Maildir/", "max_idle": "60s"})
fwd = inst.user("moatt_fwd")
rcv = inst.user("moatt_rcv")
kil = inst.user("moatt_kil")
local_uid = pwd.getpwnam("moat-local").pw_uid
queue_uid = pwd.getpwnam("moat-queue").pw_uid
t.ok(local_uid != 0 and local_uid != queue_uid,
     "moat init made moat-local, a user of its own (uid %d)" % local_uid)

outdir = os.path.join(os.path.dirname(inst.dir), "out")
os.makedirs(outdir)
os.chmod(outdir, 0o1777)
commands = inst.path("conf", "commands")
with open(os.path.join(commands, "recorder"), "w") as f:
    f.write("#!/usr/bin/python3\n"
            "import sys\n"
            "data = sys.stdin.buffer.read()\n"
            "with open(sys.argv[1], 'ab') as fh:\n"
            "    fh.write(data)\n")
with open(os.path.join(commands, "blocker"), "w") as f:
    f.write("#!/usr/bin/python3\n"
            "import os, sys, time\n"
            "sys.stdin.buffer.read()\n"
            "with open(sys.argv[1], 'a') as fh:\n"
            "    fh.write('ran\\n')\n"
            "for _ in range(600):\n"
            "    if os.path.exists(sys.argv[2]):\n"
            "        break\n"
            "    time.sleep(0.1)\n")
for name in ("recorder", "blocker"):
    os.chmod(os.path.join(commands, name), 0o755)


def forward_file(user, text):
    path = os.path.join(user.home, ".forward")
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, user.uid, user.gid)
    os.chmod(path, 0o644)  # others may read it: still only its owner does
    return path


fwd_forward = forward_file(fwd, "moatt_rcv\n|recorder %s/fwd.out\n" % outdir)
kil_out = os.path.join(outdir, "kil.out")
release = os.path.join(outdir, "release")
forward_file(kil, "|blocker %s %s\nmoatt_rcv\n" % (kil_out, release))
inst.write_aliases("postmaster: moatt_rcv\nstaff: moatt_fwd\n"
                   "far: someone@remote.example\n")
inst.start()
# An older Moat's journal: one file by the name the directory now has.
old_journal = os.path.join(inst.path("spool"), "state", "local.journal")
with open(old_journal, "w") as f:
    f.write("0000000000000000000000\tmailbox:0:nobody\n")
os.chmod(old_journal, 0o600)


def has(user, text, n=1):
    return wait_for(lambda: sum(text in m for m in user.maildir_messages()) >= n, 30)


# --- the kernel's view of who reads what ------------------------------------
watch = ReadWatch()
marked = (watch.mark(inst.path("conf", "aliases.lmdb"), "aliases", FAN_OPEN_PERM) and
          watch.mark(fwd_forward, "forward", FAN_OPEN_PERM | FAN_ACCESS_PERM) and
          watch.mark(inst.path("spool", "active"), "queue",
                     FAN_ACCESS_PERM | FAN_EVENT_ON_CHILD))
t.ok(marked, "fanotify watches the aliases map, the .forward and the queue")
watch.start()
r = send_message(inst.port, "x@example.org", ["staff@localhost"],
                 b"Subject: who-reads\r\nDelivered-To: elsewhere@example.org\r\n\r\nbody\r\n")
t.ok(has(rcv, b"who-reads"), "alias -> .forward -> mailbox: delivered")
t.ok(wait_for(lambda: os.path.exists(os.path.join(outdir, "fwd.out")), 20),
     "and the .forward's command ran")
time.sleep(0.5)
watch.close()

fwd_ids = (fwd.uid,) * 3
reads = watch.by("queue", "local")
t.ok(reads, "local processes read the queue file (%d reads)" % len(reads))
t.is_eq([r for r in reads if 0 in r[2]], [],
        "no local process running as root read the message")
t.ok(any(r[2] == (local_uid,) * 3 for r in reads),
     "the resolver read it (the header block) as moat-local", reads)
t.ok(all(r[2] in ((local_uid,) * 3, (rcv.uid,) * 3, fwd_ids) for r in reads),
     "the others that read it ran as the recipients", reads)
opens = watch.by("forward")
t.ok(opens, "the .forward was opened and read (%d events)" % len(opens))
t.ok(all(o[2] == fwd_ids for o in opens),
     "only by processes running as its owner (real, effective, saved)", opens)
maps = watch.by("aliases", "local")
t.ok(any(m[2] == (local_uid,) * 3 for m in maps),
     "the aliases map was opened by the resolver, as moat-local", maps)
t.is_eq([m for m in maps if 0 in m[2]], [],
        "no local process running as root opened the aliases map")

# --- the process picture while a delivery waits ------------------------------
def fds(pid):
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.append((int(fd), os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
    return sorted(out)


def status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"(?m)^%s:\s+(.*)$" % field, f.read())
    return m.group(1) if m else None


r = send_message(inst.port, "x@example.org", ["moatt_kil@localhost"],
                 b"Subject: killtest\r\n\r\nkill the resolver\r\n")
qid = queued_id(r)
t.ok(wait_for(lambda: os.path.exists(kil_out), 20), "a .forward command is running and waits")
procs = {p: proc_ids(p) for p in inst.pids_of("local")}
roots = [p for p, ids in procs.items() if ids == (0, 0, 0)]
resolvers = [p for p, ids in procs.items() if ids == (local_uid,) * 3]
children = [p for p, ids in procs.items() if ids == (kil.uid,) * 3]
# As the user: the child running the command, and the kept delivery
# process that read the .forward (local_kept.c), when home_mailbox is set.
t.ok(roots and len(resolvers) == 1 and len(children) in (1, 2),
     "a root parent, one moat-local resolver and the children as the user",
     procs)
spool = os.path.realpath(inst.path("spool"))
journal_dir = os.path.join(spool, "state", "local.journal")


def is_journal(path):
    return path.startswith(journal_dir + "/")


t.ok(os.path.isdir(journal_dir) and os.listdir(journal_dir),
     "an older Moat's journal file gave way to the directory of files")

if resolvers:
    rfds = fds(resolvers[0])
    extra = sorted("socket" if p.startswith("socket:") else
                   "message" if p.startswith(spool + "/active/") else
                   "aliases" if p == os.path.realpath(inst.path("conf", "aliases.lmdb"))
                   else p for fd, p in rfds if fd > 2)
    t.is_eq(extra, ["aliases", "message", "socket"],
            "the resolver holds the message, its socket to the parent and the "
            "map it opened itself: no journal, no listener, no qmgr connection")
    t.ok(status(resolvers[0], "NoNewPrivs") == "1", "the resolver has no_new_privs")
    t.ok(status(resolvers[0], "CapEff") == "0000000000000000",
         "and no capabilities")
if children:
    cfds = [fds(c) for c in children]
    held = [path for p in roots for fd, path in fds(p) if is_journal(path)]
    t.ok(not any(is_journal(path) for f in cfds for fd, path in f) and held,
         "the delivery children hold no journal: the root parent, which "
         "opened it, writes it when a child says it delivered", cfds)
    t.ok(held and as_user("moatt_kil", lambda: open(held[0], "a")).startswith("exception"),
         "  a journal the user could not open itself")
    t.ok(all(status(c, "NoNewPrivs") == "1" for c in children),
         "the delivery children have no_new_privs")

# --- a resolver killed in the middle -------------------------------------------
for p in resolvers:
    os.kill(p, signal.SIGKILL)
with open(release, "w") as f:
    f.write("go\n")
t.ok(inst.wait_log(r"%s: to=<moatt_kil@localhost>, relay=local, .*dsn=4\.3\.0, "
                   r"status=deferred \(local delivery resolver failed" % qid, 30),
     "the killed resolver's recipient is deferred", inst.log()[-2000:])
t.ok(inst.wait_log(r"warning: %s: resolver pid=%d: .*; deferring" % (qid, resolvers[0] if resolvers else 0), 5),
     "and the parent says why")
t.ok(inst.wait_log(r"%s: removed" % qid, 40), "the retry finishes the message")
t.ok(inst.wait_log(r"%s: to=<moatt_kil@localhost>, relay=local, .*status=sent "
                   r"\(this destination already has the message \(journal\)\)" % qid, 5),
     "the retry skips the command that already ran (journal)")
t.is_eq(sum(b"killtest" in m for m in rcv.maildir_messages()), 1,
        "the other destination got the message once")
time.sleep(1)
with open(kil_out) as f:
    runs = f.read().count("ran")
t.is_eq(runs, 1, "the command ran once")

# --- forwarding, the loop check ------------------------------------------------
r = send_message(inst.port, "x@example.org", ["far@localhost"],
                 b"Subject: far-away\r\n\r\nforward me\r\n")
qid = queued_id(r)
m = inst.wait_log(r"%s: to=<someone@remote\.example>, orig_to=<far@localhost>, "
                  r"relay=local, .*status=sent \(forwarded to 1 address as ([0-9A-F]+)\)" % qid)
t.ok(m, "the resolver resubmits forwarded mail to cleanup")
if m:
    new = m.group(1)
    path = wait_for(lambda: next((inst.path("spool", d, new) for d in ("active", "deferred")
                                  if os.path.exists(inst.path("spool", d, new))), None), 20)
    data = open(path, "rb").read() if path else b""
    t.ok(b"Delivered-To: far@localhost" in data, "the copy carries Delivered-To for the loop check")
    t.like(data.decode("latin-1"), r"with local id %s" % new,
           "cleanup took it as local forwarding from moat-local's uid")
    lines = "".join(open(os.path.join(journal_dir, n)).read()
                    for n in os.listdir(journal_dir))
    t.ok("%s\tresubmit:0:far@localhost\n" % qid in lines,
         "the parent journalled the forwarding")
r = send_message(inst.port, "", ["moatt_rcv@localhost"],
                 b"Subject: looping\r\nDelivered-To: moatt_rcv@localhost\r\n\r\nx\r\n")
t.ok(inst.wait_log(r"%s: to=<moatt_rcv@localhost>, .*dsn=5\.4\.6, status=bounced "
                   r"\(mail forwarding loop for moatt_rcv@localhost\)" % queued_id(r)),
     "the resolver's header scan finds a forwarding loop")

# --- root is no peer ------------------------------------------------------------
s = unix_connect(inst.path("spool", "private", "cleanup"))
try:
    s.sendall(ipc_frame([("op", "begin"), ("sender", "root@localhost")]))
    reply = ipc_read_frame(s)
except (ConnectionResetError, BrokenPipeError):
    reply = None
s.close()
t.is_eq(reply, None, "cleanup closes a connection from uid 0 unanswered")
t.ok(inst.wait_log(r"cleanup\[\d+\]: warning: service=private/cleanup: refused "
                   r"connection from uid=0 pid=%d" % os.getpid(), 10),
     "and logs the refused root peer")
s = unix_connect(inst.path("spool", "private", "qmgr"))
try:
    s.sendall(ipc_frame([("op", "wake")]))
    reply = ipc_read_frame(s)
except (ConnectionResetError, BrokenPipeError):
    reply = None
s.close()
t.ok(inst.wait_log(r"request from uid 0 pid %d: wake-up not permitted; closed" % os.getpid(), 10),
     "qmgr takes no wake-up from root: only cleanup wakes it")

# --- local refuses a resolver user with the queue's rights ---------------------
inst.set({"local_resolver_user": "moat-queue"})
inst.moat("reload")
time.sleep(1)
send_message(inst.port, "x@example.org", ["moatt_rcv@localhost"], b"Subject: late\r\n\r\nx\r\n")
t.ok(inst.wait_log(r"local\[\d+\]: fatal: local_resolver_user moat-queue is "
                   r"mail_owner: it must be a user of its own", 20),
     "local refuses to start with the queue owner as its resolver user")
inst.destroy()
t.done()
