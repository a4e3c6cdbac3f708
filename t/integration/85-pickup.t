#!/usr/bin/env python3
"""pickup: files in maildrop/ (written here directly, as a hostile postdrop
could) reach a local user's Maildir with the owner's uid and name in the
Received header; garbage, a truncated file, an oversized one, a file with
two links, a wrong mode, a refused sender or recipient go to corrupt/; a
symbolic link to /etc/passwd and a fifo are removed without being followed;
a file still being written and a directory are left alone; pickup keeps
running and delivers a good file afterwards; an owner added after pickup
started is named once pickup has reread the user list."""
import hashlib
import os
import pwd
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, proc_ids, require_root, wait_for

require_root()
t = Tap()
PORT = 26601


def record(rtype, data):
    return rtype.encode() + struct.pack(">I", len(data)) + data


def maildrop_file(sender, rcpts, content):
    """A maildrop file in the queue file format of common/queue_file.h."""
    out = record("V", b"1") + record("T", b"%d" % int(time.time()))
    out += record("S", sender.encode())
    for r in rcpts:
        out += record("R", b"-" + r.encode())
    return out + record("M", content) + record("E", b"")


_seq = [0]


def fresh_name():
    """A name shaped like a queue ID (24 hex digits less one)."""
    _seq[0] += 1
    return "%010X%05X%08X" % (int(time.time()), _seq[0], os.getpid())


def drop(inst, data, owner, mode=0o744, name=None):
    """Write a file into maildrop/ as postdrop would: complete, then chmod."""
    name = name or fresh_name()
    path = inst.path("spool", "maildrop", name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, data)
    os.fchown(fd, owner.uid if hasattr(owner, "uid") else owner, owner.gid if hasattr(owner, "gid") else owner)
    os.fchmod(fd, mode)
    os.close(fd)
    return name


def message(subject, body=b"hello\n"):
    return b"Subject: " + subject.encode() + b"\n\n" + body


def maildrop(inst):
    return inst.queue_files("maildrop")


def corrupt(inst):
    return inst.queue_files("corrupt")


def delivered(user, marker):
    return [m for m in user.maildir_messages() if marker.encode() in m]


def pickup_pids(inst):
    return inst.pids_of("pickup")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


inst = Instance("pickup", {"home_mailbox": "Maildir/",
                           "message_size_limit": "20000"},
                listen=["127.0.0.1:%d" % PORT])
inst.port = PORT
alice = inst.user("moatt_pk_alice")
bob = inst.user("moatt_pk_bob")
inst.start()

# --- the spool and the process ---------------------------------------------
pk = pwd.getpwnam("moat-pickup")
st = os.stat(inst.path("spool", "maildrop"))
t.is_eq((st.st_uid, st.st_mode & 0o7777), (pk.pw_uid, 0o1730),
        "maildrop/ belongs to moat-pickup, mode 1730")
st = os.stat(inst.path("spool", "corrupt"))
t.is_eq((st.st_gid, st.st_mode & 0o7777), (pk.pw_gid, 0o730),
        "corrupt/ has group moat-pickup, mode 0730")
pids = wait_for(lambda: pickup_pids(inst), 10)
t.ok(pids, "pickup runs (one process, without any demand)")
spool = os.path.realpath(inst.path("spool"))
for pid in pids or []:
    t.is_eq(proc_ids(pid), (pk.pw_uid,) * 3, "pickup runs as moat-pickup")
    t.is_eq(os.readlink("/proc/%d/root" % pid), spool, "pickup is chrooted into the spool")

# --- a good file -------------------------------------------------------------
name = drop(inst, maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"],
                                message("first good one")), alice)
msgs = wait_for(lambda: delivered(bob, "first good one"), 20)
t.is_eq(len(msgs or []), 1, "a maildrop file is delivered to the recipient's Maildir")
if msgs:
    head = msgs[0].split(b"\n\n", 1)[0].decode("latin-1")
    t.like(head, r"Received: by \S+ with local id [0-9A-F]+ \(uid %d, user moatt_pk_alice\)" % alice.uid,
           "Received names the owner's uid and user name")
    t.like(head, r"(?m)^Return-Path: <moatt_pk_alice@[^>]+>$",
           "the sender without a domain gets myorigin")
m = inst.wait_log(r"moat/pickup\[\d+\]: ([0-9A-F]+): uid=%d from=<moatt_pk_alice>" % alice.uid)
t.ok(m, "pickup logs the new queue ID with uid= and from=")
if m:
    t.ok(inst.wait_log(r"%s: to=<moatt_pk_bob@localhost>.*status=sent" % m.group(1)),
         "the queue ID logged by pickup is the one qmgr delivers")
t.ok(wait_for(lambda: name not in maildrop(inst), 5), "the maildrop file is removed once queued")

# A file owned by root: root may send mail.
drop(inst, maildrop_file("root", ["moatt_pk_bob@localhost"], message("from root")), 0)
msgs = wait_for(lambda: delivered(bob, "from root"), 20)
t.ok(msgs, "a file owned by root is delivered")
if msgs:
    t.like(msgs[0].decode("latin-1"), r"\(uid 0, user root\)", "Received says uid 0, user root")

# A sender claimed in the file changes nothing about who submitted it.
drop(inst, maildrop_file("someone.else@example.org", ["moatt_pk_bob@localhost"],
                         message("claimed sender")), alice)
msgs = wait_for(lambda: delivered(bob, "claimed sender"), 20)
t.ok(msgs and ("(uid %d, user moatt_pk_alice)" % alice.uid).encode() in msgs[0],
     "the submitter is the file's owner, whatever the sender says")

# --- hostile files -------------------------------------------------------------
passwd_before = sha("/etc/passwd")
passwd_stat = os.stat("/etc/passwd")
good = maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"], message("TRUNCATED"))
bad = {}
bad["garbage"] = drop(inst, os.urandom(3000) + b"GARBAGE", alice)
bad["truncated"] = drop(inst, good[:len(good) - 12], alice)
bad["huge"] = drop(inst, maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"],
                                       message("HUGE", b"x" * 30000 + b"\n")), alice)
bad["wrong mode"] = drop(inst, maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"],
                                             message("WRONGMODE")), alice, mode=0o4755)
bad["bad sender"] = drop(inst, maildrop_file("a@@b", ["moatt_pk_bob@localhost"],
                                             message("BADSENDER")), alice)
bad["bad recipient"] = drop(inst, maildrop_file("moatt_pk_alice",
                                                ["moatt_pk_bob@localhost", "x@@y"],
                                                message("BADRCPT")), alice)
bad["odd name"] = drop(inst, b"junk", alice, name="odd name")
# Two links: one in maildrop/, one outside.
outside = os.path.join(os.path.dirname(inst.dir), "outside-link")
hl = fresh_name()
with open(inst.path("spool", "maildrop", hl), "wb") as f:
    f.write(maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"], message("HARDLINK")))
os.chown(inst.path("spool", "maildrop", hl), alice.uid, alice.gid)
os.chmod(inst.path("spool", "maildrop", hl), 0o744)
os.link(inst.path("spool", "maildrop", hl), outside)
bad["hard link"] = hl
# A symbolic link to /etc/passwd, and a fifo: removed, never opened.
sym = fresh_name()
os.symlink("/etc/passwd", inst.path("spool", "maildrop", sym))
fifo = fresh_name()
os.mkfifo(inst.path("spool", "maildrop", fifo), 0o744)
os.chown(inst.path("spool", "maildrop", fifo), alice.uid, alice.gid)
# Still being written (no owner execute bit): left for later.
writing = drop(inst, maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"],
                                   message("WRITING")), alice, mode=0o600)
# A directory: left alone.
subdir = fresh_name()
os.mkdir(inst.path("spool", "maildrop", subdir))

gone = lambda: all(n not in maildrop(inst) for n in list(bad.values()) + [sym, fifo])
t.ok(wait_for(gone, 20), "every hostile entry leaves maildrop/", maildrop(inst))
for what, n in sorted(bad.items()):
    if n == "odd name":
        continue
    t.ok(n in corrupt(inst), "%s: moved to corrupt/ under its name" % what, corrupt(inst))
    t.ok(inst.wait_log(r"warning: maildrop/%s: .*; moved to corrupt/" % n, 5),
         "%s: a warning says why it went to corrupt/" % what)
t.ok(inst.wait_log(r"warning: maildrop/odd name: .*; moved to corrupt/[0-9A-F]{23}", 5),
     "a name that is not a queue ID goes to corrupt/ under a fresh queue ID")
t.like(inst.log(), r"maildrop/%s: offset \d+: " % bad["truncated"], "truncated: the parser's reason is logged")
t.like(inst.log(), r"maildrop/%s: 2 hard links" % hl, "hard link: the link count is logged")
t.like(inst.log(), r"maildrop/%s: mode 4755, expected 0744" % bad["wrong mode"], "wrong mode: the mode is logged")
t.like(inst.log(), r"maildrop/%s: .*(too large|message_size_limit)" % bad["huge"], "huge: the size is logged")
t.like(inst.log(), r"maildrop/%s: uid=%d from=<a@@b>: cleanup refused it: 501 " % (bad["bad sender"], alice.uid),
       "bad sender: cleanup's refusal is logged")
t.like(inst.log(), r"maildrop/%s: .*cleanup refused it: 501 " % bad["bad recipient"],
       "bad recipient: cleanup's refusal is logged")
t.ok(inst.wait_log(r"warning: maildrop/%s: a symbolic link; removed" % sym, 5), "symlink: removed and logged")
t.ok(inst.wait_log(r"warning: maildrop/%s: a fifo; removed" % fifo, 5), "fifo: removed and logged")
t.ok(inst.wait_log(r"warning: maildrop/%s: a directory; left alone" % subdir, 5), "directory: left alone, logged")
t.is_eq(sha("/etc/passwd"), passwd_before, "/etc/passwd is untouched")
st = os.stat("/etc/passwd")
t.is_eq((st.st_ino, st.st_uid, st.st_mode, st.st_nlink),
        (passwd_stat.st_ino, passwd_stat.st_uid, passwd_stat.st_mode, passwd_stat.st_nlink),
        "/etc/passwd keeps its inode, owner, mode and links")
t.ok(os.path.exists(outside), "the other hard link is left where it was")
time.sleep(2)
t.ok(writing in maildrop(inst), "a file still being written is left alone")
t.ok(subdir in maildrop(inst), "a directory is left alone")
t.is_eq(inst.log().count("maildrop/%s: a directory" % subdir), 1, "the directory is reported once")
for marker in ("TRUNCATED", "HUGE", "WRONGMODE", "BADSENDER", "BADRCPT", "HARDLINK", "GARBAGE"):
    t.is_eq(delivered(bob, marker), [], "nothing delivered from the %s file" % marker.lower())

# The writer finishes: the file is taken.
os.chmod(inst.path("spool", "maildrop", writing), 0o744)
t.ok(wait_for(lambda: delivered(bob, "WRITING"), 20), "a file is taken once its writer sets the execute bit")

# A wake-up on private/pickup: accepted, nothing logged.
time.sleep(1)
before = inst.log()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(inst.path("spool", "private", "pickup"))
try:
    s.sendall(b"anything at all\n" * 100)
except (BrokenPipeError, ConnectionResetError):
    pass  # pickup closes a wake-up unread, perhaps before we finish
s.close()
time.sleep(1)
t.is_eq([ln for ln in inst.log()[len(before):].splitlines() if "pickup" in ln], [],
        "a wake-up from anyone is accepted and not logged")

# --- still running, still delivering -----------------------------------------
now_pids = pickup_pids(inst)
t.ok(now_pids, "pickup is still running", now_pids)
t.ok(not inst.wait_log(r"moat/pickup\[\d+\]: (fatal|panic)|process \S+/pickup pid \d+ (killed|exit)", 0.5),
     "pickup never died or failed")
drop(inst, maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"], message("after the storm")), alice)
t.ok(wait_for(lambda: delivered(bob, "after the storm"), 20), "a good file is still delivered afterwards")

# --- an owner pickup has not heard of --------------------------------------------
carol = inst.user("moatt_pk_carol")
drop(inst, maildrop_file("moatt_pk_carol", ["moatt_pk_bob@localhost"], message("from a new user")), carol)
msgs = wait_for(lambda: delivered(bob, "from a new user"), 30)
t.ok(msgs and ("(uid %d, user moatt_pk_carol)" % carol.uid).encode() in msgs[0],
     "a user added after pickup started is named (pickup reread the list)")
drop(inst, maildrop_file("ghost", ["moatt_pk_bob@localhost"], message("from a ghost")), 54321)
msgs = wait_for(lambda: delivered(bob, "from a ghost"), 30)
t.ok(msgs and b"(uid 54321, user unknown)" in msgs[0], "an owner without a passwd entry is 'unknown'")

# --- local submission while the master is stopped --------------------------------
inst.stop()
name = drop(inst, maildrop_file("moatt_pk_alice", ["moatt_pk_bob@localhost"], message("while stopped")), alice)
time.sleep(1)
t.ok(name in maildrop(inst), "a file waits in maildrop/ while Moat is stopped")
inst.start()
t.ok(wait_for(lambda: delivered(bob, "while stopped"), 20), "and is delivered once Moat starts")
inst.destroy()
t.done()
