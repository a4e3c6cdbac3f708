#!/usr/bin/env python3
"""The master and `moat start/status/stop/reload` on a real instance: every
daemon runs under its own user; a second start is refused; a child killed
with SIGKILL is logged with its signal and replaced; a reload is seen by the
next SMTP connection and adds and removes listeners of master.conf; stop
removes the pid file and the sockets and leaves no process behind."""
import os
import random
import re
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, proc_ids, require_root, wait_for

require_root()
t = Tap()

DAEMONS = {"smtpd": "moat-smtpd", "cleanup": "moat-queue",
           "qmgr": "moat-queue", "local": "root"}


def free_port(lo=26000, hi=26099, avoid=()):
    """A free loopback port in this test's own range."""
    ports = [p for p in range(lo, hi + 1) if p not in avoid]
    random.shuffle(ports)
    for port in ports:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


def banner(port):
    """The greeting of a new connection, or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None
    try:
        s.settimeout(5)
        return s.recv(512).decode("latin-1")
    except OSError:
        return None
    finally:
        s.close()


def uid_of(user):
    return int(subprocess.run(["id", "-u", user], capture_output=True,
                              text=True, check=True).stdout)


port = free_port()
inst = Instance("master", listen=["127.0.0.1:%d" % port])
inst.port = port
pid_file = inst.path("spool", "pid", "master.pid")
try:
    inst.start()
    t.ok(True, "moat start: the instance answers on 127.0.0.1:%d" % port)
    t.like_soon(inst.log, r"moat/master\[\d+\]: daemon started, configuration %s"
           % re.escape(inst.conf), "the master logs its start")

    r = inst.moat("status", check=False)
    m = re.search(r"the mail system is running: PID (\d+)", r.stdout)
    t.ok(r.returncode == 0 and m, "moat status: running, with the PID",
         r.stdout + r.stderr)
    master_pid = int(m.group(1)) if m else 0
    with open(pid_file) as f:
        t.is_eq(f.read().strip(), str(master_pid), "the pid file names the master")

    for prog, user in sorted(DAEMONS.items()):
        # smtpd is started on demand after an exit (max_idle, a changed
        # password file): a connection makes sure one runs.
        pids = wait_for(lambda: inst.pids_of(prog) or (banner(port) and None), 10)
        ids = proc_ids(pids[0]) if pids else None
        t.ok(pids and ids == (uid_of(user),) * 3,
             "%s runs as %s (real, effective and saved uid)" % (prog, user),
             ids, (uid_of(user),) * 3)

    r = inst.moat("start", check=False)
    t.ok(r.returncode != 0 and "already running" in r.stderr,
         "a second moat start is refused", r.stderr)
    daemons = inst.moat("config", "daemon_directory").stdout.split("=", 1)[1].strip()
    r = subprocess.run([os.path.join(daemons, "master"), "-c", inst.conf],
                       capture_output=True, text=True)
    t.ok(r.returncode != 0 and
         re.search(r"fatal: the mail system is already running \(pid %d\)"
                   % master_pid, r.stderr),
         "a second master is refused and names the running one", r.stderr)
    t.ok(os.path.exists(inst.path("spool", "private", "cleanup")),
         "the refused master left the running one's sockets alone")

    # A killed child is logged with its signal and replaced.
    for prog in ("smtpd", "qmgr"):
        old = wait_for(lambda: inst.pids_of(prog) or (banner(port) and None), 10)
        for p in old:
            os.kill(p, signal.SIGKILL)
        t.ok(old and inst.wait_log(r"warning: process \S+/%s pid %d killed "
                                   r"by signal 9" % (prog, old[0]), 10),
             "SIGKILL of %s is logged as killed by signal 9" % prog)
        new = wait_for(lambda: [p for p in inst.pids_of(prog) if p not in old], 10)
        t.ok(new, "%s is started again after it was killed" % prog)
    t.ok(wait_for(lambda: (banner(port) or "").startswith("220"), 10),
         "smtpd answers again after the restart")

    # Reload: a new banner for the next connection.
    inst.moat("config", "-e", "smtpd_banner=$myhostname ESMTP reloaded-1")
    r = inst.moat("reload", check=False)
    t.is_eq(r.returncode, 0, "moat reload succeeds")
    got = wait_for(lambda: "reloaded-1" in (banner(port) or ""), 15)
    t.ok(got, "after the reload a new connection sees the new smtpd_banner",
         banner(port))
    t.like_soon(inst.log, r"moat/master\[%d\]: reload" % master_pid,
           "the master logs the reload")

    # Reload of master.conf: a listener added, then removed.
    port2 = free_port(avoid=(port,))
    master_conf = os.path.join(inst.conf, "master.conf")
    with open(master_conf) as f:
        orig = f.read()
    with open(master_conf, "a") as f:
        f.write("127.0.0.1:%d inet moat-smtpd y 2 smtpd\n" % port2)
    inst.moat("reload")
    t.ok(wait_for(lambda: (banner(port2) or "").startswith("220"), 10),
         "a service added to master.conf listens after a reload")
    with open(master_conf, "w") as f:
        f.write(orig)
    inst.moat("reload")
    t.ok(wait_for(lambda: banner(port2) is None, 10),
         "a service removed from master.conf stops listening after a reload")

    # A broken main.conf: reload refused, the master keeps running.
    inst.set({"max_idle": "banana"})
    r = inst.moat("reload", check=False)
    t.ok(r.returncode != 0 and "main.conf" in r.stderr,
         "moat reload refuses a main.conf that does not load", r.stderr)
    with open(os.path.join(inst.conf, "main.conf")) as f:
        text = f.read().replace("max_idle = banana\n", "")
    with open(os.path.join(inst.conf, "main.conf"), "w") as f:
        f.write(text)

    r = inst.moat("stop", check=False)
    inst.started = False
    t.is_eq(r.returncode, 0, "moat stop succeeds")
    t.ok(not os.path.exists(pid_file), "stop removes the pid file")
    t.ok(not os.path.exists(inst.path("spool", "private", "qmgr")),
         "stop removes the unix sockets")
    t.like_soon(inst.log, r"moat/master\[%d\]: terminating on signal 15" % master_pid,
           "the master logs why it stopped")
    left = wait_for(lambda: not any(inst.pids_of(p) for p in DAEMONS)
                    and not os.path.exists("/proc/%d" % master_pid), 5)
    t.ok(left, "no master or daemon process is left")
    r = inst.moat("status", check=False)
    t.ok(r.returncode == 1 and "not running" in r.stdout,
         "moat status: not running, exit status 1", r.stdout)
    t.ok(banner(port) is None, "nothing listens on the port after stop")
except Exception as e:  # report, then clean up below
    t.ok(False, "no unexpected error", repr(e))
    t.diag(inst.log())
finally:
    inst.destroy()
t.done()
