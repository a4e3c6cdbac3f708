#!/usr/bin/env python3
"""bench/perfrecord: where the time of one message goes, measured on a real
instance during bench/compare.py's S1 load (10 sessions, a new
connection per message, mail to one Maildir user).

    sudo bench/perfrecord.py [-n 2000] [--postfix] [--out DIR] [--fs tmp]

perf record -a samples the CPU (cpu-clock at a fixed 4 kHz: one sample
is 0.25 ms) together with the tracepoints of fsync, fdatasync, fork,
exec and context switches; the instance's processes are its master and
everything forked from it (followed through the fork events, so local's
per-delivery children count).  Prints, per process name: CPU ms per
message, fsyncs, fdatasyncs, forks, execs and context switches per
message, then the top functions of each daemon (perf report).  With
--postfix the same for the private Postfix instance of compare.py.
The queues and the Maildir are on compare.py's own ext4 (a loop device,
with a journal) unless --fs tmp.  Needs perf (Debian's linux-perf).
Figures, not a test.
"""
import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402

PERIOD_NS = 250000
EVENTS = ["cpu-clock", "sched:sched_switch", "sched:sched_process_fork",
          "sched:sched_process_exec", "syscalls:sys_enter_fsync",
          "syscalls:sys_enter_fdatasync"]
SHORT = {"cpu-clock": "cpu", "sched:sched_switch": "cswitch",
         "sched:sched_process_fork": "fork", "sched:sched_process_exec": "exec",
         "syscalls:sys_enter_fsync": "fsync",
         "syscalls:sys_enter_fdatasync": "fdatasync"}


def record(system, user, n, data):
    compare.smtpload(system.port, 50, 5)  # every daemon started
    compare.wait_count(lambda: system.maildir_count(user.home), 50, 60)
    user.clear()
    roots = set(system.cpu.pids())
    events = ["cpu-clock/period=%d/" % PERIOD_NS] + EVENTS[1:]
    perf = subprocess.Popen(["perf", "record", "-q", "-a", "-o", data] +
                            sum((["-e", e] for e in events), []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    t0 = time.monotonic()
    load = compare.smtpload(system.port, n, 10)
    compare.wait_count(lambda: system.maildir_count(user.home), int(load["ok"]),
                       60 + n / 20)
    elapsed = time.monotonic() - t0
    perf.send_signal(signal.SIGINT)
    perf.wait(60)
    return roots, system.maildir_count(user.home), elapsed


def parse(data, roots):
    """(counts[(comm, event)], pids of the instance)"""
    out = subprocess.run(["perf", "script", "-i", data, "-F",
                          "comm,pid,event,trace"], capture_output=True,
                         text=True).stdout
    pids = set(roots)
    counts = collections.Counter()
    fork = re.compile(r"pid=(\d+) child_comm=\S+ child_pid=(\d+)")
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\s*(.+?)\s+(\d+)\s+(\S+):(?:\s+(.*))?$", line)
        if m:
            ev = "cpu-clock" if m.group(3).startswith("cpu-clock") else m.group(3)
            rows.append((m.group(1), int(m.group(2)), ev, m.group(4) or ""))
    for comm, pid, ev, trace in rows:  # the fork tree from the roots
        if ev == "sched:sched_process_fork":
            f = fork.search(trace)
            if f and int(f.group(1)) in pids:
                pids.add(int(f.group(2)))
    for comm, pid, ev, trace in rows:
        if pid in pids and ev in SHORT:
            counts[(comm, SHORT[ev])] += 1
    return counts, pids


def table(counts, n):
    comms = sorted({c for c, _ in counts},
                   key=lambda c: -counts[(c, "cpu")])
    lines = ["| process | CPU ms/msg | fsync/msg | fdatasync/msg | fork/msg | "
             "exec/msg | context switches/msg |", "|---|---:|---:|---:|---:|---:|---:|"]
    tot = collections.Counter()
    for c in comms:
        row = [counts[(c, k)] for k in ("cpu", "fsync", "fdatasync", "fork",
                                        "exec", "cswitch")]
        for k, v in zip(("cpu", "fsync", "fdatasync", "fork", "exec",
                         "cswitch"), row):
            tot[k] += v
        lines.append("| %s | %.3f | %.2f | %.2f | %.2f | %.2f | %.1f |" % (
            c, row[0] * PERIOD_NS / 1e6 / n, row[1] / n, row[2] / n,
            row[3] / n, row[4] / n, row[5] / n))
    lines.append("| all | %.3f | %.2f | %.2f | %.2f | %.2f | %.1f |" % (
        tot["cpu"] * PERIOD_NS / 1e6 / n, tot["fsync"] / n,
        tot["fdatasync"] / n, tot["fork"] / n, tot["exec"] / n,
        tot["cswitch"] / n))
    return "\n".join(lines)


def top(data, pids, comm, k=15):
    """The k functions with the most self time in one program."""
    r = subprocess.run(["perf", "report", "-i", data, "--stdio",
                        "--no-children", "--percentage", "relative",
                        "--comms", comm, "--pid",
                        ",".join(str(p) for p in sorted(pids)),
                        "--sort", "dso,sym", "--percent-limit", "1.5"],
                       capture_output=True, text=True)
    lines, cpu = [], False
    for ln in r.stdout.splitlines():  # only the section of cpu-clock
        if ln.startswith("# Samples:"):
            cpu = "cpu-clock" in ln
        elif cpu and ln.strip() and not ln.startswith("#"):
            lines.append(ln)
    return "\n".join(lines[:k])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--postfix", action="store_true")
    ap.add_argument("--out", default=os.path.join(compare.TOP, "build",
                                                  "bench", "profile"))
    ap.add_argument("--fs", choices=("loop", "tmp"), default="loop",
                    help="a fresh journaled ext4 (compare.py's default) "
                    "or /tmp as it is")
    a = ap.parse_args()
    if os.geteuid() != 0 or shutil.which("perf") is None:
        sys.exit("perfrecord: run as root, with perf installed (linux-perf)")
    os.makedirs(a.out, exist_ok=True)
    fs = compare.LoopFs() if a.fs == "loop" and compare.LoopFs.possible() \
        else None
    try:
        profile(a, fs)
    finally:
        if fs is not None:
            fs.destroy()


def profile(a, fs):
    base = tempfile.mkdtemp(prefix="moat-bench-", dir=compare.moattest.TMP)
    os.chmod(base, 0o755)
    user = compare.BenchUser(base)
    classes = [compare.MoatSystem] + ([compare.PostfixSystem] if a.postfix and
                                      compare.pfinstance.available() else [])
    report = ["# on %s\n" % ("a fresh journaled ext4 (loop device)"
                              if fs is not None else "/tmp")]
    try:
        for cls in classes:
            s = cls({}, user.home)
            data = os.path.join(a.out, "%s.perf.data" % cls.name.lower())
            try:
                roots, got, elapsed = record(s, user, a.n, data)
            finally:
                s.destroy()
            counts, pids = parse(data, roots)
            report.append("## %s: %d messages, %.0f msg/s end to end\n\n%s\n" %
                          (cls.name, got, got / elapsed, table(counts, got)))
            daemons = sorted({c for c, _ in counts}, key=lambda c: -counts[(c, "cpu")])
            for c in daemons[:6]:
                report.append("### %s: top functions (self, %% of its CPU)\n\n"
                              "```\n%s\n```\n" % (c, top(data, pids, c)))
    finally:
        user.remove()
        shutil.rmtree(base, ignore_errors=True)
    text = "\n".join(report)
    print(text)
    with open(os.path.join(a.out, "profile.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
