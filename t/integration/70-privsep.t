#!/usr/bin/env python3
"""Privilege separation as it runs: the smtpd process serving a connection
has real, effective and saved uid not 0 and is chrooted into the spool; the
daemons run as their own users; the local child that writes a mailbox runs
as the recipient."""
import os
import pwd
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, proc_ids, require_root, send_message, wait_for

require_root()
t = Tap()
inst = Instance("privsep", {"home_mailbox": "Maildir/"})
kim = inst.user("moatt_kim")
inst.start()

c = Smtp(inst.port)
c.reply()
c.cmd("EHLO probe.example")
# The master may start another smtpd at any moment (one more than the
# busy ones): look only at processes that are through their drop, taken
# in the same look that saw them dropped.


def dropped_smtpds():
    ps = inst.pids_of("smtpd")
    return ps if ps and all((proc_ids(p) or (1, 1, 1))[1] != 0
                            for p in ps) else None


pids = wait_for(dropped_smtpds, 20) or inst.pids_of("smtpd")
t.ok(pids, "an smtpd process serves the connection")
spool = os.path.realpath(inst.path("spool"))
smtpd_uid = pwd.getpwnam("moat-smtpd").pw_uid
for pid in pids:
    ids = proc_ids(pid)
    t.ok(ids and 0 not in ids, "smtpd pid %d: real, effective and saved uid are not 0" % pid, ids)
    t.is_eq(ids, (smtpd_uid,) * 3, "smtpd pid %d runs as moat-smtpd" % pid)
    t.is_eq(os.readlink("/proc/%d/root" % pid), spool, "smtpd pid %d is chrooted into the spool" % pid)
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    t.like(status, r"(?m)^NoNewPrivs:\s+1$", "smtpd pid %d has no_new_privs" % pid)
    t.like(status, r"(?m)^CapEff:\s+0+$", "smtpd pid %d has no effective capabilities" % pid)
c.cmd("QUIT")
c.close()

queue_uid = pwd.getpwnam("moat-queue").pw_uid
wait_for(lambda: inst.pids_of("qmgr"), 10)
for prog in ("cleanup", "qmgr"):
    for pid in inst.pids_of(prog):
        t.is_eq(proc_ids(pid), (queue_uid,) * 3, "%s pid %d runs as moat-queue" % (prog, pid))
        t.is_eq(os.readlink("/proc/%d/root" % pid), spool, "%s pid %d is chrooted" % (prog, pid))
for pid in inst.pids_of("master"):
    t.is_eq(os.readlink("/proc/%d/root" % pid), "/", "master is not chrooted")

send_message(inst.port, "a@example.org", ["moatt_kim@localhost"], b"Subject: who\r\n\r\nx\r\n")
msgs = wait_for(lambda: kim.maildir_messages(), 20)
t.ok(msgs, "message delivered")
d = os.path.join(kim.home, "Maildir", "new")
if msgs:
    st = os.stat(os.path.join(d, os.listdir(d)[0]))
    t.is_eq(st.st_uid, kim.uid, "the local child wrote the mailbox as the recipient")
for sub in ("tmp", "new", "cur"):
    st = os.stat(os.path.join(kim.home, "Maildir", sub))
    t.is_eq((st.st_uid, st.st_mode & 0o777), (kim.uid, 0o700), "Maildir/%s made by the recipient, 0700" % sub)

# The spool is closed to others.
for sub in ("incoming", "active", "deferred", "hold"):
    st = os.stat(inst.path("spool", sub))
    t.is_eq((st.st_uid, st.st_mode & 0o777), (queue_uid, 0o700), "spool/%s is moat-queue 0700" % sub)
st = os.stat(inst.path("spool", "corrupt"))
t.is_eq((st.st_uid, st.st_mode & 0o777), (queue_uid, 0o730), "spool/corrupt is moat-queue 0730 (pickup may move files in)")
st = os.stat(inst.path("spool", "maildrop"))
t.is_eq((st.st_uid, st.st_mode & 0o7777), (pwd.getpwnam("moat-pickup").pw_uid, 0o1730),
        "spool/maildrop is moat-pickup 1730: postdrop may only add files")
st = os.stat(inst.path("spool", "state"))
t.is_eq((st.st_uid, st.st_mode & 0o777), (0, 0o700), "spool/state (local's journal) is root 0700")
inst.destroy()
t.done()
