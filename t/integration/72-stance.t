#!/usr/bin/env python3
"""Each daemon's stance is the law, and trust comes from the kernel: a
master.conf line that runs smtpd as root, unchrooted, is refused by smtpd
itself; `smtpd -S` prints the declared stance; anvil runs as moat-anvil with
no right to the queue; each child reports its state on a pipe of its own;
and a process running as moat-smtpd that talks to cleanup cannot pass a
submission off as a local one (protocol=local, submit_uid)."""
import os
import pwd
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Tap, as_user, ipc_frame, ipc_read_frame,
                      proc_ids, require_root, unix_connect, wait_for)

require_root()
t = Tap()
inst = Instance("stance", {"home_mailbox": "Maildir/"})
lee = inst.user("moatt_lee")
inst.start()
daemon_dir = re.search(r"(?m)^daemon_directory = (.*)$",
                       inst.moat("config", "daemon_directory").stdout).group(1)

# --- the declaration, as the binary states it --------------------------------
out = subprocess.run([os.path.join(daemon_dir, "smtpd"), "-S"],
                     capture_output=True, text=True)
t.is_eq(out.stdout, "program=smtpd\nuser=moat-smtpd\nchroot=y\n"
        "sandbox=smtpd\npeers=*\npass_peers=screen\n",
        "smtpd -S prints its stance: anyone on an inet port, only the "
        "screen's user on its pass service")
out = subprocess.run([os.path.join(daemon_dir, "screen"), "-S"],
                     capture_output=True, text=True)
t.is_eq(out.stdout, "program=screen\nuser=moat-screen\nchroot=y\n"
        "sandbox=screen\npeers=*\n", "screen -S prints its stance")
out = subprocess.run([os.path.join(daemon_dir, "cleanup"), "-S"],
                     capture_output=True, text=True)
t.like(out.stdout, r"(?m)^user=\$mail_owner$", "cleanup's stance: $mail_owner")
t.like(out.stdout, r"(?m)^peers=smtpd,qmgr,pickup,\$local_resolver_user$",
       "cleanup's stance lists its peers: local's resolver user, never root")

# --- anvil has a user of its own ----------------------------------------------
anvil_uid = pwd.getpwnam("moat-anvil").pw_uid
pids = wait_for(lambda: inst.pids_of("anvil"), 10)
t.ok(pids, "anvil runs")
for pid in pids or []:
    t.is_eq(proc_ids(pid), (anvil_uid,) * 3, "anvil pid %d runs as moat-anvil" % pid)
    t.is_eq(os.readlink("/proc/%d/root" % pid), os.path.realpath(inst.path("spool")),
            "anvil pid %d is chrooted in the spool" % pid)
queue_uid = pwd.getpwnam("moat-queue").pw_uid
t.ok(anvil_uid != queue_uid, "moat-anvil is not the queue owner")
for sub in ("incoming", "active", "deferred", "hold"):
    st = os.stat(inst.path("spool", sub))
    t.ok(st.st_uid != anvil_uid and st.st_mode & 0o007 == 0,
         "spool/%s is closed to moat-anvil" % sub)

# --- each child has its own status pipe -----------------------------------------
def status_pipe(pid):
    """The inode of the pipe on the daemon's fd 4."""
    try:
        return os.readlink("/proc/%d/fd/4" % pid)
    except OSError:
        return None

daemons = [p for prog in ("smtpd", "cleanup", "qmgr", "pickup", "anvil")
           for p in inst.pids_of(prog)]
pipes = [status_pipe(p) for p in daemons]
t.ok(all(p and p.startswith("pipe:") for p in pipes),
     "every daemon has a status pipe on fd 4", pipes)
t.is_eq(len(set(pipes)), len(pipes), "no two children share one status pipe")

# --- master.conf cannot run smtpd as root, unchrooted ---------------------------
path = os.path.join(inst.conf, "master.conf")
with open(path) as f:
    original = f.read()
edited = re.sub(r"(?m)^(private/smtpd\s+pass\s+)moat-smtpd\s+y",
                r"\1root       n", original)
t.ok(edited != original, "master.conf edited: smtpd as root, chroot n")
with open(path, "w") as f:
    f.write(edited)
inst.moat("reload")
wait_for(lambda: not inst.pids_of("smtpd"), 10)
t.ok(not inst.accepting(), "no greeting from an smtpd started as root")
t.ok(inst.wait_log(r"smtpd\[\d+\]: fatal: service=private/smtpd: master\.conf "
                   r"runs it as root, but its stance is user moat-smtpd: "
                   r"refusing to start", 10),
     "smtpd refuses and says why", inst.log()[-1500:])
root_smtpd = [p for p in inst.pids_of("smtpd") if 0 in (proc_ids(p) or (0,))]
t.is_eq(root_smtpd, [], "no smtpd process runs as root")
with open(path, "w") as f:
    f.write(original)
inst.moat("reload")
t.ok(wait_for(inst.accepting, 70), "restored: smtpd greets again")

# --- cleanup believes the kernel, not the frame ---------------------------------
def submit(attrs_begin, rcpt, body):
    def go():
        s = unix_connect(inst.path("spool", "private", "cleanup"))
        try:
            s.sendall(ipc_frame(attrs_begin))
            s.sendall(ipc_frame([("op", "rcpt"), ("addr", rcpt)]))
            s.sendall(ipc_frame([("op", "data"), ("chunk", body)]))
            s.sendall(ipc_frame([("op", "end")]))
            reply = ipc_read_frame(s)
        except (ConnectionResetError, BrokenPipeError):
            reply = None
        s.close()
        return dict(reply) if reply else "closed"
    return as_user("moat-smtpd", go)

r = submit([("op", "begin"), ("sender", "root"), ("protocol", "local")],
           "moatt_lee", "Subject: forged\n\nx\n")
t.is_eq(r, "closed", "as moat-smtpd, protocol=local: cleanup ends the conversation")
t.ok(inst.wait_log(r"cleanup\[\d+\]: .*peer uid=%d: malformed submission: "
                   r"protocol is not an SMTP protocol"
                   % pwd.getpwnam("moat-smtpd").pw_uid, 10),
     "and logs the peer uid and why")
r = submit([("op", "begin"), ("sender", "a@example.org"), ("protocol", "ESMTP"),
            ("submit_uid", "0"), ("submit_user", "root")],
           "moatt_lee@localhost", "Subject: claims\n\nbody\n")
t.like(r, r"'status': 'ok'", "as moat-smtpd with submit_uid=0: queued as SMTP mail")
msgs = wait_for(lambda: lee.maildir_messages(), 20)
t.ok(msgs, "delivered")
text = msgs[0] if msgs else b""
if isinstance(text, bytes):
    text = text.decode("latin-1")
t.ok("uid 0" not in text and "root" not in text.split("\n\n")[0],
     "the Received header names no submitting uid or user", text[:400])
t.like(text, r"with ESMTP id", "the protocol is smtpd's")
inst.destroy()
t.done()
