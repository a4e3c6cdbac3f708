#!/usr/bin/env python3
"""bench/compare: Moat and Postfix side by side, the same load against
both in one run, one table of figures with the ratio Moat/Postfix.

    sudo bench/compare.py [--quick] [--only S1,S1lat,...] [--no-postfix]
                          [--set NAME=VALUE ...] [--out FILE]

Builds Moat (make all) and unpacks Debian's postfix package into
build/postfix (make postfix-peer: apt-get download + dpkg -x, never
installed), then runs each scenario on a private Moat instance (as the
integration tests make them) and a private Postfix instance
(bench/pfinstance.py: Debian's default main.cf and master.cf, its own
config and queue directories under /tmp, users of its own).  Everything
listens on 127.0.0.1; nothing else is touched, and both instances and
their users are removed at the end.  Mail goes to one Maildir user.

Scenarios (--quick: smaller counts, same shape):
  S1       10 sessions, a new connection per message, N messages of 2 KB:
           messages/s until all are in Maildir/new, CPU ms per message
  S1lat    one session, a new connection per message: connect to the
           reply to QUIT, p50 and p99
  S1keep   10 sessions, each keeping its connection
  S2       the same as S1 but relayed (relayhost) to Postfix's smtp-sink
           on loopback: messages/s until the sink has them all
  size     one message of 1, 10 and 50 MB (message_size_limit raised):
           time to accept, and the peak RSS (VmHWM) of every process
  queue    N messages in deferred/ (Moat: bench/qfill writes them; Postfix:
           submitted with defer_transports=local): start time of qmgr,
           its RSS, the time of a queue listing, the time to deliver all
           after a flush

Filesystem (--fs): by default both instances and the Maildir live on a
fresh ext4 made for the run (mkfs.ext4's defaults, so with a journal) in
an 8 GB sparse image under /tmp, mounted through a loop device and
removed at the end (class LoopFs); --fs tmp uses /tmp as it is, and then
the bench writes everything back (sync) and waits 6 s before each timed
scenario, so that no run pays for the files the previous one removed
(see settle()).

CPU: each instance's master is started inside a cgroup of its own
(cgroup v1 cpuacct, or v2 cpu.stat), so the figure is the CPU time of
every process of the instance, those that exited included; without
cgroups, the master's utime+stime+cutime+cstime plus every live
daemon's.  The client is bench/smtpload (C, one thread per session);
it is not in the cgroup.  Figures, not a test: nothing is asserted.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "t", "integration"))
sys.path.insert(0, HERE)
import moattest  # noqa: E402
from moattest import MOAT, Instance, free_port, user_lock, wait_for  # noqa: E402
import pfinstance  # noqa: E402
from peers import SmtpSink, listening  # noqa: E402

LOAD = os.path.join(TOP, "build", "bench", "smtpload")
QFILL = os.path.join(TOP, "build", "bench", "qfill")
USER = "moatb_bench"
MB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")
CPU_METHOD = [None]  # how the CPU figures were measured


# -- CPU of a whole instance ---------------------------------------------
class CpuGroup:
    """A cgroup the instance's master starts in; usage() in seconds."""

    def __init__(self, tag):
        self.path, self.kind = None, None
        name = "moat-bench-%s-%d" % (tag, os.getpid())
        for kind, root in (("v1", "/sys/fs/cgroup/cpuacct"),
                           ("v2", "/sys/fs/cgroup/unified"),
                           ("v2", "/sys/fs/cgroup")):
            marker = "cpuacct.usage" if kind == "v1" else "cgroup.procs"
            if not os.path.exists(os.path.join(root, marker)):
                continue
            try:
                os.mkdir(os.path.join(root, name))
            except OSError:
                continue
            self.path, self.kind = os.path.join(root, name), kind
            break
        self.fallback_pid = None

    def join(self):
        """preexec_fn: the child (and all it forks) joins the group."""
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    def usage(self):
        if self.kind == "v1":
            with open(os.path.join(self.path, "cpuacct.usage")) as f:
                return int(f.read()) / 1e9
        if self.kind == "v2":
            with open(os.path.join(self.path, "cpu.stat")) as f:
                for line in f:
                    if line.startswith("usage_usec"):
                        return int(line.split()[1]) / 1e6
        return self._proc_tree() / TICK

    def _proc_tree(self):
        """No cgroup: the master with its reaped children, plus each
        live descendant with its own."""
        total = 0
        for pid in self.pids():
            total += proc_cpu(pid)
        return total

    def pids(self):
        if self.path:
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as f:
                    return [int(x) for x in f.read().split()]
            except OSError:
                return []
        return descendants(self.fallback_pid) if self.fallback_pid else []

    def describe(self):
        if self.kind == "v1":
            return "cgroup v1 cpuacct.usage (every process, exited ones too)"
        if self.kind == "v2":
            return "cgroup v2 cpu.stat usage_usec (every process, exited too)"
        return "/proc: master's utime+stime+cutime+cstime and live daemons'"

    def remove(self):
        if not self.path:
            return
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def descendants(root):
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def proc_status(pid):
    """(name, VmHWM kB, VmRSS kB) of a process, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None
    vals = dict(re.findall(r"^(Name|VmHWM|VmRSS):\s+(\S+)", text, re.M))
    if "VmHWM" not in vals:
        return None
    return vals["Name"], int(vals["VmHWM"]), int(vals["VmRSS"])


class HwmSampler:
    """Samples VmHWM of every process of a group every 10 ms; the
    largest seen per program name (short-lived children included when
    they live longer than a sample)."""

    def __init__(self, group):
        self.group, self.peak = group, {}
        self.stop_flag = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop_flag.is_set():
            for pid in self.group.pids():
                st = proc_status(pid)
                if st:
                    self.peak[st[0]] = max(self.peak.get(st[0], 0), st[1])
            time.sleep(0.01)

    def stop(self):
        self.stop_flag.set()
        self.th.join()
        return dict(self.peak)


# -- the two systems --------------------------------------------------------
class BenchMoat(Instance):
    """moattest's instance, its master started in the CPU group."""

    def __init__(self, tag, settings):
        self.cpu = CpuGroup("moat")
        Instance.__init__(self, tag, settings)

    def run(self, args, check=True, **kw):
        if "start" in args:
            kw["preexec_fn"] = self.cpu.join
        return Instance.run(self, args, check, **kw)

    def start(self):
        Instance.start(self)
        pid = self.pids_of("master")
        self.cpu.fallback_pid = pid[0] if pid else None

    def destroy(self):
        Instance.destroy(self)
        self.cpu.remove()


class System:
    """What a scenario needs from either MTA."""
    name = ""

    def maildir_count(self, home):
        d = os.path.join(home, "Maildir", "new")
        try:
            return len(os.listdir(d))
        except OSError:
            return 0


class MoatSystem(System):
    name = "Moat"

    # The test harness's shorter timers, back at Moat's defaults; its DNS
    # setting (a closed local port) stays: nothing leaves the machine.
    DEFAULTS = {"max_idle": "100s", "queue_run_delay": "300s",
                "minimal_backoff_time": "300s",
                "maximal_backoff_time": "4000s", "home_mailbox": "Maildir/"}

    EXTRA = {}  # --set: main.conf settings the run was asked to try

    def __init__(self, settings, home):
        self.inst = BenchMoat("bench", dict(self.DEFAULTS, **dict(
            self.EXTRA, **settings)))
        self.port = self.inst.port
        self.cpu = self.inst.cpu
        self.inst.start()
        CPU_METHOD[0] = self.cpu.describe()

    def queue_empty(self):
        return not any(self.inst.queue_files(d)
                       for d in ("incoming", "active", "deferred"))

    def destroy(self):
        self.inst.destroy()


class PostfixSystem(System):
    name = "Postfix"

    def __init__(self, settings, home):
        self.port = free_port()
        self.pf = pfinstance.Postfix(self.port, settings)
        self.cpu = CpuGroup("postfix")
        CPU_METHOD[0] = self.cpu.describe()
        self.pf.start(lambda *a, **kw: subprocess.Popen(
            *a, preexec_fn=self.cpu.join, **kw))
        self.cpu.fallback_pid = self.pf.master_pid()
        if not wait_for(lambda: listening("127.0.0.1", self.port), 30):
            raise RuntimeError("postfix did not start:\n" + self.pf.log())

    def queue_empty(self):
        for d in ("incoming", "active", "deferred", "maildrop"):
            for _root, _dirs, files in os.walk(os.path.join(self.pf.spool, d)):
                if files:
                    return False
        return True

    def destroy(self):
        self.pf.destroy()
        self.cpu.remove()


# -- the bench user ------------------------------------------------------
class BenchUser:
    def __init__(self, base):
        self.lock = user_lock(USER)
        self.home = os.path.join(base, "home")
        subprocess.run(["userdel", "-r", USER], capture_output=True)
        subprocess.run(["useradd", "-m", "-d", self.home, "-s",
                        "/usr/sbin/nologin", USER], check=True,
                       capture_output=True)

    def clear(self):
        shutil.rmtree(os.path.join(self.home, "Maildir"), ignore_errors=True)

    def remove(self):
        subprocess.run(["userdel", "-r", USER], capture_output=True)


# -- the filesystem -------------------------------------------------------
class LoopFs:
    """A fresh ext4 made by mkfs.ext4's defaults (so with a journal) in a
    sparse image under /tmp, mounted through a loop device: both MTAs'
    instances and the bench user's Maildir live on it, so no run inherits
    another's freed inodes (see settle()) and the figures are those of the
    filesystem a mail server usually has.  Removed at the end."""
    SIZE = 8 * 1024 ** 3

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="moat-benchfs-", dir="/tmp")
        self.img = os.path.join(self.dir, "fs.img")
        self.mnt = os.path.join(self.dir, "mnt")
        os.chmod(self.dir, 0o755)
        os.mkdir(self.mnt)
        with open(self.img, "wb") as f:
            f.truncate(self.SIZE)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-E",
                        "lazy_itable_init=0,lazy_journal_init=0", self.img],
                       check=True, capture_output=True)
        subprocess.run(["mount", "-o", "loop", self.img, self.mnt],
                       check=True, capture_output=True)
        os.chmod(self.mnt, 0o755)
        moattest.TMP = pfinstance.TMP = self.mnt

    @staticmethod
    def possible():
        return shutil.which("mkfs.ext4") is not None and \
            os.path.exists("/dev/loop-control")

    def destroy(self):
        moattest.TMP = pfinstance.TMP = "/tmp"
        if subprocess.run(["umount", self.mnt],
                          capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- load ---------------------------------------------------------------
def smtpload(port, n, sessions, keep=False, size=2000, rcpt=None):
    args = [LOAD, "-p", str(port), "-r", rcpt or USER + "@localhost",
            "-n", str(n), "-c", str(sessions), "-s", str(size), "-t", "300"]
    if keep:
        args.append("-k")
    r = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    figures = dict(kv.split("=", 1) for kv in r.stdout.split())
    return {k: float(v) for k, v in figures.items()}


# ext4 without a journal (this VM's /tmp) skips, at every file creation,
# each free inode of the block group freed in the last 5 s, or in the last
# 305 s while its inode table block is not yet written back
# (recently_deleted() in fs/ext4/ialloc.c): after a run freed thousands of
# queue and Maildir files, the next run's creations pay for them, whichever
# MTA it is.  Writing everything back and waiting out the 5 s before each
# timed scenario leaves each MTA only what its own run frees.
SETTLE_S = 6


def settle():
    if moattest.TMP == "/tmp":  # not needed on the bench's own ext4
        os.sync()
        time.sleep(SETTLE_S)


def wait_count(get, n, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if get() >= n:
            return True
        time.sleep(0.02)
    return False


# -- scenarios ----------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.a = args
        self.rows = []        # (key, label, unit, moat, postfix, better)
        self.notes = []
        self.details = {}     # system -> {key: ...}
        self.base = tempfile.mkdtemp(prefix="moat-bench-", dir=moattest.TMP)
        os.chmod(self.base, 0o755)
        self.user = BenchUser(self.base)

    def systems(self):
        out = [MoatSystem]
        if not self.a.no_postfix and pfinstance.available():
            out.append(PostfixSystem)
        return out

    def put(self, key, label, unit, system, value, better="higher"):
        print("# %s %s: %s %s" % (system, label or key, fmt(value), unit),
              file=sys.stderr, flush=True)
        for r in self.rows:
            if r[0] == key:
                r[3 if system == "Moat" else 4] = value
                return
        row = [key, label, unit, None, None, better]
        row[3 if system == "Moat" else 4] = value
        self.rows.append(row)

    def e2e(self, sysobj, n, sessions, keep, key, label):
        """Send n messages and wait until all are in Maildir/new."""
        self.user.clear()
        settle()
        cpu0 = sysobj.cpu.usage()
        t0 = time.monotonic()
        load = smtpload(sysobj.port, n, sessions, keep)
        ok = int(load["ok"])
        done = wait_count(lambda: sysobj.maildir_count(self.user.home), ok,
                          60 + n / 20)
        elapsed = time.monotonic() - t0
        cpu = sysobj.cpu.usage() - cpu0
        got = sysobj.maildir_count(self.user.home)
        name = sysobj.name
        self.put(key, label + " end to end", "msg/s", name, got / elapsed)
        self.put(key + "acc", label + " accepted (client side)", "msg/s",
                 name, load["rate"])
        self.put(key + "cpu", label + " CPU per message", "ms", name,
                 cpu * 1000 / max(got, 1), "lower")
        if not done or load["failed"]:
            self.notes.append("%s %s: %d of %d delivered, %d refused" % (
                name, key, got, n, load["failed"]))

    def run_local(self, cls):
        n = self.a.n
        s = cls({}, self.user.home)
        try:
            name = s.name
            if self.want("S1"):
                smtpload(s.port, 20, 2)  # warm up: every daemon started
                wait_count(lambda: s.maildir_count(self.user.home), 20, 30)
                self.e2e(s, n, 10, False, "S1",
                         "S1: 10 sessions, new connection per message,")
            if self.want("S1lat"):
                settle()
                lat = smtpload(s.port, self.a.nlat, 1)
                self.put("S1lat50", "S1lat: 1 session, connect to QUIT, p50",
                         "ms", name, lat["p50_ms"], "lower")
                self.put("S1lat99", "S1lat: 1 session, connect to QUIT, p99",
                         "ms", name, lat["p99_ms"], "lower")
            if self.want("S1keep"):
                self.e2e(s, n, 10, True, "S1keep",
                         "S1keep: 10 sessions, connections kept,")
        finally:
            s.destroy()

    def run_relay(self, cls):
        if not SmtpSink.available():
            self.notes.append("S2: no smtp-sink (make postfix-peer): skipped")
            return
        sink = SmtpSink("127.0.0.1", free_port()).start()
        relay = {"relayhost": "[127.0.0.1]:%d" % sink.port}
        s = cls(relay, self.user.home)
        try:
            n = self.a.n
            smtpload(s.port, 20, 2, rcpt="warm@relay.example")
            wait_count(lambda: len(sink.messages()), 20, 30)
            base = len(sink.messages())
            settle()
            cpu0 = s.cpu.usage()
            t0 = time.monotonic()
            load = smtpload(s.port, n, 10, rcpt="to@relay.example")
            done = wait_count(lambda: len(sink.messages()) - base,
                              int(load["ok"]), 60 + n / 20)
            elapsed = time.monotonic() - t0
            got = len(sink.messages()) - base
            self.put("S2", "S2: relayed to smtp-sink, 10 sessions, end to end",
                     "msg/s", s.name, got / elapsed)
            self.put("S2cpu", "S2: CPU per message", "ms", s.name,
                     (s.cpu.usage() - cpu0) * 1000 / max(got, 1), "lower")
            if not done:
                self.notes.append("%s S2: %d of %d relayed" % (s.name, got, n))
        finally:
            s.destroy()
            sink.stop()

    def run_size(self, cls):
        limit = {"message_size_limit": str(60 * MB)}
        s = cls(limit, self.user.home)
        try:
            smtpload(s.port, 2, 1)  # every daemon started
            wait_count(lambda: s.maildir_count(self.user.home), 2, 30)
            per_proc = {}
            for mb in self.a.sizes:
                self.user.clear()
                sampler = HwmSampler(s.cpu)
                load = smtpload(s.port, 1, 1, size=mb * MB)
                done = wait_count(lambda: s.maildir_count(self.user.home), 1,
                                  120)
                time.sleep(0.1)
                peak = sampler.stop()
                per_proc[mb] = peak
                self.put("size%d" % mb, "size: %d MB message, accept time" % mb,
                         "s", s.name, load["max_ms"] / 1000, "lower")
                top = max(peak.items(), key=lambda kv: kv[1]) if peak else ("", 0)
                self.put("rss%d" % mb, "size: %d MB, largest peak RSS (VmHWM)" % mb,
                         "MB", s.name, top[1] / 1024.0, "lower")
                self.put("rssp%d" % mb, "size: %d MB, process with that peak" % mb,
                         "", s.name, top[0], "")
                if not done or load["failed"]:
                    self.notes.append("%s size %d MB: not delivered" % (s.name, mb))
            self.details.setdefault(s.name, {})["peak_rss_kb"] = per_proc
        finally:
            s.destroy()

    def run_queue_moat(self):
        n = self.a.nqueue
        s = MoatSystem({}, self.user.home)
        inst = s.inst
        try:
            self.user.clear()
            inst.stop()
            r = subprocess.run([QFILL, inst.path("spool"), str(n),
                                USER + "@localhost"], capture_output=True,
                               text=True)
            if r.returncode != 0:
                self.notes.append("qfill failed: " + r.stderr.strip())
                return
            t0 = time.monotonic()
            inst.moat("start")
            inst.started = True
            probe = "0" * 23
            answered = wait_for(lambda: "no such message" in inst.moat(
                "queue", "show", probe, check=False).stderr, 300, 0.01)
            start = time.monotonic() - t0
            qpid = inst.pids_of("qmgr")
            st = proc_status(qpid[0]) if qpid else None
            self.put("qstart", "queue: %d deferred, qmgr start (moat start to "
                     "first admin answer)" % n, "s", "Moat", start, "lower")
            if st:
                self.put("qrss", "queue: qmgr RSS after start", "MB", "Moat",
                         st[2] / 1024.0, "lower")
            t0 = time.monotonic()
            lst = inst.moat("queue", "list", check=False)
            self.put("qlist", "queue: listing (moat queue list / postqueue -p)",
                     "s", "Moat", time.monotonic() - t0, "lower")
            if not answered or lst.stdout.count("\n") < n:
                self.notes.append("Moat queue: list gave %d lines for %d" % (
                    lst.stdout.count("\n"), n))
            self.queue_flush(s, n, lambda: inst.moat("queue", "flush"),
                             st[2] if st else 0)
        finally:
            s.destroy()

    def queue_flush(self, s, n, flush, base_kb):
        settle()
        sampler = HwmSampler(s.cpu)
        t0 = time.monotonic()
        flush()
        done = wait_count(lambda: s.maildir_count(self.user.home), n,
                          120 + n / 20)
        elapsed = time.monotonic() - t0
        peak = sampler.stop()
        got = s.maildir_count(self.user.home)
        self.put("qflush", "queue: deliver all after a flush", "msg/s",
                 s.name, got / elapsed)
        qm = peak.get("qmgr", 0)
        self.put("qmgrhwm", "queue: qmgr peak RSS during the flush", "MB",
                 s.name, qm / 1024.0, "lower")
        self.put("qperkb", "queue: qmgr peak RSS above its start, per "
                 "queued message", "KB", s.name, (qm - base_kb) / max(n, 1),
                 "lower")
        if not done:
            self.notes.append("%s queue: %d of %d delivered after flush" % (
                s.name, got, n))

    def run_queue_postfix(self):
        n = self.a.nqueue
        s = PostfixSystem({"defer_transports": "local"}, self.user.home)
        try:
            self.user.clear()
            smtpload(s.port, n, 10)
            wait_for(lambda: s.pf.command("postqueue", "-j").stdout.count(
                "\n") >= n and not os.listdir(os.path.join(s.pf.spool, "active"))
                and not os.listdir(os.path.join(s.pf.spool, "incoming")),
                120 + n / 50, 1)
            s.pf.stop()
            s.pf.postconf({"defer_transports": ""})
            t0 = time.monotonic()
            s.pf.start(lambda *a, **kw: subprocess.Popen(
                *a, preexec_fn=s.cpu.join, **kw))
            wait_for(lambda: [p for p in s.cpu.pids()
                              if (proc_status(p) or ("",))[0] == "qmgr"], 60, 0.01)
            time.sleep(0.5)
            qpid = [p for p in s.cpu.pids() if (proc_status(p) or ("",))[0] == "qmgr"]
            st = proc_status(qpid[0]) if qpid else None
            self.put("qstart", "", "s", "Postfix", None, "lower")
            if st:
                self.put("qrss", "", "MB", "Postfix", st[2] / 1024.0, "lower")
            t0 = time.monotonic()
            s.pf.command("postqueue", "-p")
            self.put("qlist", "", "s", "Postfix", time.monotonic() - t0, "lower")
            self.queue_flush(s, n, lambda: s.pf.command("postqueue", "-f"),
                             st[2] if st else 0)
        finally:
            s.destroy()

    def want(self, name):
        return not self.a.only or name in self.a.only

    def run(self):
        for cls in self.systems():
            if self.want("S1") or self.want("S1lat") or self.want("S1keep"):
                self.run_local(cls)
            if self.want("S2"):
                self.run_relay(cls)
            if self.want("size"):
                self.run_size(cls)
        if self.want("queue"):
            self.run_queue_moat()
            if PostfixSystem in self.systems():
                self.run_queue_postfix()

    def destroy(self):
        self.user.remove()
        shutil.rmtree(self.base, ignore_errors=True)


# -- the table ------------------------------------------------------------
def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def table(b):
    lines = ["| figure | unit | Moat | Postfix | Moat/Postfix |",
             "|---|---|---:|---:|---:|"]
    for key, label, unit, m, p, _better in b.rows:
        ratio = "-"
        if isinstance(m, (int, float)) and isinstance(p, (int, float)) and p:
            ratio = "%.2fx" % (m / p)
        lines.append("| %s | %s | %s | %s | %s |" % (label, unit, fmt(m),
                                                      fmt(p), ratio))
    return "\n".join(lines)


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", "/tmp"],
                        capture_output=True, text=True).stdout.strip()
    where = "queues and Maildir on /tmp (%s)" % (fs or "?")
    if moattest.TMP != "/tmp":
        where = "queues and Maildir on a fresh ext4 (loop device, journal)"
    return "%d cores (%s), %.0f GiB, kernel %s, %s" % (
        os.cpu_count(), cpu, mem, platform.release(), where)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1,000 messages, 200 for S1lat, 10,000 queued")
    ap.add_argument("--only", default="",
                    help="comma-separated: S1,S1lat,S1keep,S2,size,queue")
    ap.add_argument("--no-postfix", action="store_true")
    ap.add_argument("--set", action="append", default=[],
                    metavar="NAME=VALUE",
                    help="a Moat main.conf setting for this run (the "
                    "table's notes name it): to try one, not Moat's "
                    "defaults")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--fs", choices=("loop", "tmp"), default="loop",
                    help="loop (default): a fresh ext4 with a journal on a "
                    "loop device; tmp: /tmp as it is")
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench",
                                                  "compare.md"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("compare: run as root (it makes instances and users)")
    a.only = [x for x in a.only.split(",") if x]
    for kv in a.set:
        name, eq, value = kv.partition("=")
        if not eq or not name:
            sys.exit("compare: --set wants NAME=VALUE, not %r" % kv)
        MoatSystem.EXTRA[name.strip()] = value.strip()
    a.n, a.nlat, a.nqueue = (1000, 200, 10000) if a.quick else (5000, 1000, 100000)
    a.sizes = (1, 10, 50)
    if not a.no_build:
        subprocess.run(["make", "-s", "-C", TOP, "-j2", "all"], check=True)
        subprocess.run(["make", "-s", "-C", TOP, "postfix-peer"], check=True)
    fs = None
    if a.fs == "loop" and LoopFs.possible():
        fs = LoopFs()
    elif a.fs == "loop":
        print("# compare: no mkfs.ext4 or loop devices: using /tmp",
              file=sys.stderr)
    t0 = time.monotonic()
    try:
        b = Bench(a)
        try:
            b.run()
        finally:
            b.destroy()
        head = ["# bench/compare.py%s: Moat and Postfix %s" % (
            " --quick" if a.quick else "", "3.7 (Debian's package)" if
            PostfixSystem in b.systems() else "(not available: Moat alone)"),
                "",
                "%s, %s; %d messages (S1, S1keep, S2), %d (S1lat), %d "
                "queued; 2 KB bodies; client bench/smtpload; CPU: %s; "
                "%.0f s." % (
                    time.strftime("%Y-%m-%d"), machine(), a.n, a.nlat,
                    a.nqueue, CPU_METHOD[0] or "-", time.monotonic() - t0),
                ""]
    finally:
        if fs is not None:
            fs.destroy()
    if MoatSystem.EXTRA:
        b.notes.append("Moat not at its defaults (--set): " + ", ".join(
            "%s = %s" % kv for kv in sorted(MoatSystem.EXTRA.items())))
    text = "\n".join(head) + table(b) + "\n"
    if b.notes:
        text += "\nNotes:\n" + "".join("- %s\n" % n for n in b.notes)
    for name, d in b.details.items():
        for mb, peak in sorted(d.get("peak_rss_kb", {}).items()):
            text += "\n%s, %d MB message, peak RSS (MB) by process: %s" % (
                name, mb, ", ".join("%s %.1f" % (k, v / 1024.0)
                                    for k, v in sorted(peak.items())))
    text += "\n"
    print(text)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump({"rows": b.rows, "notes": b.notes}, f, indent=1)


if __name__ == "__main__":
    main()
