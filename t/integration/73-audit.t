#!/usr/bin/env python3
"""`moat audit` on a live instance: it lists every process of the master's
tree with its ids, capabilities, root directory, seccomp mode and
descriptors, every service socket with its mode and the users its server
lets in, and exits 1 naming each deviation from the declared stances: a
socket or spool directory with the wrong mode, a master.conf line that runs
a daemon as another user.  --json gives the same to tools; only root and
admin_group may run it."""
import json
import os
import pwd
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import MOAT, Instance, Smtp, Tap, proc_ids, require_root, wait_for

require_root()
t = Tap()
inst = Instance("audit")
inst.start()


def audit(*args):
    r = inst.moat("audit", *args, check=False)
    return r.returncode, r.stdout, r.stderr




def settled():
    """Every daemon the master started has dropped root (the instance
    greets before the slowest, auth and remote, are through their start)."""
    for prog in ("screen", "smtpd", "cleanup", "qmgr", "pickup", "anvil",
                 "remote", "logd", "tlssign", "auth", "rcptmap"):
        for pid in inst.pids_of(prog):
            try:
                if proc_ids(pid)[1] == 0:
                    return False
            except (OSError, TypeError):
                pass
    return True


t.ok(wait_for(settled, 20), "every daemon has dropped root")
c = Smtp(inst.port)
c.reply()
c.cmd("EHLO audit.example")
serving = inst.pids_of("smtpd")

rc, out, err = audit("--json")
try:
    report = json.loads(out)
except ValueError:
    report = None
t.ok(report is not None, "--json prints one JSON object", out[:300] + err)
report = report or {"processes": [], "sockets": [], "deviations": []}
procs = {p["pid"]: p for p in report["processes"]}
progs = sorted({p["program"] for p in report["processes"]})
for prog in ("master", "smtpd", "cleanup", "qmgr", "local", "pickup", "anvil"):
    t.ok(prog in progs, "the tree lists %s" % prog, progs)
for pid in serving:
    p = procs.get(pid)
    t.ok(p is not None, "the smtpd serving the connection (pid %d) is listed" % pid)
    if p:
        smtpd_uid = pwd.getpwnam("moat-smtpd").pw_uid
        t.is_eq(p["uid"], [smtpd_uid] * 4, "its real/effective/saved/fs uid")
        t.is_eq(p["root"], os.path.realpath(inst.path("spool")), "its root directory")
        t.ok(any(f["kind"] == "listen" and f["text"] == "unix private/smtpd"
                 for f in p["fds"]),
             "its listening socket is the pass service private/smtpd")
        t.ok("seccomp" in p and "no_new_privs" in p and "cap_eff" in p,
             "seccomp, no_new_privs and capabilities are reported")
screens = [p for p in report["processes"] if p["program"] == "screen"]
t.is_eq(len(screens), 1, "one screen process")
for p in screens:
    screen_uid = pwd.getpwnam("moat-screen").pw_uid
    t.is_eq(p["uid"], [screen_uid] * 4, "the screen runs as moat-screen")
    t.is_eq(p["root"], os.path.realpath(inst.path("spool")), "chrooted in the spool")
    t.ok(any(f["kind"] == "listen" and f["text"] == "tcp 127.0.0.1:%d" % inst.port
             for f in p["fds"]), "it holds the SMTP port")
    t.ok(not any(f["kind"] in ("log", "passwd", "queue") for f in p["fds"]),
         "and no log, password or queue file", p["fds"])
socks = {s["name"]: s for s in report["sockets"]}
t.is_eq(socks.get("private/smtpd", {}).get("peers"), "screen(moat-screen)",
        "only the screen may pass clients to smtpd")
cl = socks.get("private/cleanup", {})
t.is_eq(cl.get("mode"), "srw-rw-rw-", "private/cleanup's mode")
t.like(cl.get("peers", ""), r"smtpd\(moat-smtpd\)", "cleanup's peers are named with their users")
t.is_eq(socks.get("127.0.0.1:%d" % inst.port, {}).get("peers"), "* (anyone)",
        "the SMTP port lets anyone in")
t.is_eq(report.get("ok"), rc == 0, "ok says what the exit status says")
t.is_eq((rc, report["deviations"]), (0, []),
        "a healthy instance: exit 0, no deviation from the declared stances")

rc, out, err = audit()
t.like(out, r"(?m)^PROGRAM\s+PID\s+UID r/e/s/fs", "the table has its header")
t.like(out, r"(?m)^SOCKETS$", "and a sockets section")
c.cmd("QUIT")
c.close()

# --- each kind of deviation is named, and makes the exit status 1 ---------------
base = set(report["deviations"])


def new_deviations():
    rc, out, err = audit("--json")
    return rc, [d for d in json.loads(out)["deviations"] if d not in base]


sock = inst.path("spool", "private", "cleanup")
os.chmod(sock, 0o644)
rc, dev = new_deviations()
t.is_eq(rc, 1, "a socket chmod'ed 0644: exit 1")
t.ok(any("private/cleanup" in d and "0666" in d for d in dev),
     "and the socket is named", dev)
os.chmod(sock, 0o666)

active = inst.path("spool", "active")
os.chmod(active, 0o755)
rc, dev = new_deviations()
t.ok(rc == 1 and any("spool/active has mode 0755, expected 0700" in d for d in dev),
     "spool/active chmod'ed 0755 is reported", dev)
os.chmod(active, 0o700)

path = os.path.join(inst.conf, "master.conf")
with open(path) as f:
    original = f.read()
with open(path, "w") as f:
    f.write(re.sub(r"(?m)^(private/anvil\s+unix\s+)moat-anvil", r"\1moat-queue",
                   original))
rc, dev = new_deviations()
t.ok(rc == 1 and any(re.search(r"master\.conf line \d+: anvil runs as moat-queue "
                               r"chroot y, its stance is moat-anvil chroot y", d)
                     for d in dev),
     "a master.conf line running anvil as moat-queue is reported", dev)
r = inst.moat("check", check=False)
t.ok(r.returncode != 0 and re.search(r"anvil runs as moat-queue chroot y, its stance is "
                                     r"moat-anvil", r.stderr),
     "moat check reports the same line", r.stderr)
with open(path, "w") as f:
    f.write(original)
rc, dev = new_deviations()
t.is_eq(dev, [], "restored: nothing new to report")

# --- who may audit -----------------------------------------------------------------
r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                    MOAT, "-c", inst.conf, "audit"], capture_output=True, text=True)
t.ok(r.returncode == 1 and "only root and members of moat-admin" in r.stderr,
     "nobody may not audit", r.stderr)
admin_gid = subprocess.run(["getent", "group", "moat-admin"], capture_output=True,
                           text=True).stdout.split(":")[2]
r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                    "--groups=" + admin_gid, MOAT, "-c", inst.conf, "audit"],
                   capture_output=True, text=True)
t.like(r.stdout, r"descriptors: not readable \(not root\)",
       "a moat-admin member gets the table, without what /proc hides")
inst.destroy()
t.done()
