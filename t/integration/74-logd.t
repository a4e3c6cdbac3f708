#!/usr/bin/env python3
"""The log service as it runs: logd writes every line; each daemon's fd 2
is a channel of its own, and a line's tag is the program the master started
and the pid the kernel reports, so lines from every daemon carry the right
names and pids (checked against /proc); a process running as moat-smtpd
with smtpd's channel cannot log as qmgr, cannot claim another pid, and
cannot truncate or open the log; no process of the instance but the master
and logd holds the log file; a flood from one channel is cut to
log_rate_limit (bytes a second) with one notice of what was dropped; lines
read together reach the log file in one write, not one a line; logd killed with
SIGKILL is started again and the lines written meanwhile all arrive; a
reload after the log was renamed writes to a new file; maillog_file empty
sends RFC 3164 messages to syslog_socket (a socket of this test, never the
host's logger); under `moat start -f` the lines go to the standard error."""
import ctypes
import errno
import os
import pwd
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (MOAT, TOP, Instance, Tap, as_user, ipc_frame,
                      require_root, send_message, unix_connect, wait_for)

require_root()
t = Tap()
SENDMAIL = os.path.join(TOP, "build", "bin", "sendmail")
LIBC = ctypes.CDLL(None, use_errno=True)
SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438
RATE, BURST = 4096, 20000  # bytes a second, bytes at once
TAG = re.compile(r"^\w{3} [ \d]\d [\d:]{8} \S+ (\S+?)/(\S+?)\[(\d+)\]: (.*)$")


def steal_fd(pid, fd):
    """A copy of descriptor fd of process pid (pidfd_getfd, as root)."""
    pidfd = LIBC.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open")
    try:
        got = LIBC.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if got < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        return got
    finally:
        os.close(pidfd)


def tagged(text):
    """(name, program, pid, message) of each line of a log."""
    out = []
    for line in text.splitlines():
        m = TAG.match(line)
        if m:
            out.append((m.group(1), m.group(2), int(m.group(3)), m.group(4)))
    return out


def program_of(pid, conf=None):
    """The program pid runs (None when gone, or not of instance conf)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return None
    if conf is not None and conf.encode() not in argv:
        return None
    return os.path.basename(argv[0]).decode()


def instance_pids(master):
    """The master and every process below it."""
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p))
    out, todo = [], [master]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def fds_of(pid):
    d = "/proc/%d/fd" % pid
    try:
        names = os.listdir(d)
    except OSError:
        return {}
    out = {}
    for n in names:
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


def master_pid(inst):
    m = re.search(r"PID (\d+)", inst.moat("status").stdout)
    return int(m.group(1)) if m else 0


inst = Instance("logd", {"home_mailbox": "Maildir/",
                         "log_rate_limit": str(RATE),
                         "log_burst_limit": str(BURST)})
kim = inst.user("moatt_logkim")
inst.start()
log_path = inst.path("log", "maillog")
mpid = master_pid(inst)

# --- lines from every daemon, with their names and pids ---------------------
r = send_message(inst.port, "a@example.org", ["moatt_logkim@localhost"],
                 b"Subject: one\r\n\r\nhello\r\n")
t.like(r, r"^250 ", "a message is accepted over SMTP")
subprocess.run([SENDMAIL, "-C", inst.conf, "moatt_logkim@localhost"],
               input=b"Subject: two\n\nhi\n", capture_output=True)
smtpd_uid = pwd.getpwnam("moat-smtpd").pw_uid
as_user("moat-smtpd", lambda: unix_connect(inst.path("spool", "private", "anvil"))
        .sendall(b"\0\0\0\x05junk!"))
t.ok(wait_for(lambda: len(kim.maildir_messages()) == 2, 20),
     "both messages are delivered")
wanted = ("master", "smtpd", "cleanup", "qmgr", "local", "pickup", "anvil")
inst.wait_log(r"moat/anvil\[\d+\]: warning: peer", 10)
inst.wait_log(r"moat/local\[\d+\]: \S+: to=<moatt_logkim@localhost>.*"
              r"status=sent(?s:.*)status=sent", 10)
lines = tagged(inst.log())
seen = {}
for name, prog, pid, _ in lines:
    seen.setdefault(prog, set()).add(pid)
for prog in wanted:
    t.ok(prog in seen, "the log has lines of %s" % prog, sorted(seen))
t.ok(all(name == "moat" for name, _, _, _ in lines) and
     set(seen) <= set(wanted) | {"logd", "rcptmap", "screen"},
     "every line is tagged moat/ and a program the master runs", sorted(seen))
wrong = []
for prog, pids in seen.items():
    for pid in pids:
        now = program_of(pid, inst.conf)
        if now is not None and now != prog:
            wrong.append((prog, pid, now))
t.is_eq(wrong, [], "each live pid in the log runs the program its lines name")
t.ok(mpid in seen.get("master", ()), "the master's lines carry its pid")
for prog in ("smtpd", "qmgr", "anvil", "pickup"):
    live = set(inst.pids_of(prog))
    t.ok(seen.get(prog, set()) & live or not live,
         "%s's lines carry the pid of a running %s" % (prog, prog),
         sorted(seen.get(prog, ())), sorted(live))

# --- nobody but the master and logd holds the log ----------------------------
logd_pids = inst.pids_of("logd")
t.is_eq(len(logd_pids), 1, "one logd runs")
holders, stderr_kinds = [], set()
for pid in instance_pids(mpid):
    fds = fds_of(pid)
    if any(target == log_path for target in fds.values()):
        holders.append(program_of(pid))
    if pid not in (mpid,) and 2 in fds:
        stderr_kinds.add(fds[2].split(":")[0])
t.is_eq(sorted(holders), ["logd", "master"],
        "only the master and logd hold maillog_file open")
t.is_eq(stderr_kinds, {"socket"}, "every daemon's fd 2 is a socket (its channel)")
logd_uid = pwd.getpwnam("moat-log").pw_uid
with open("/proc/%d/status" % logd_pids[0]) as f:
    t.like(f.read(), r"(?m)^Uid:\s+%d\s+%d\s+%d" % ((logd_uid,) * 3),
           "logd runs as moat-log")
t.is_eq(os.readlink("/proc/%d/root" % logd_pids[0]),
        os.path.realpath(inst.path("spool")), "logd is chrooted in the spool")
daemon_dir = os.path.dirname(os.readlink("/proc/%d/exe" % logd_pids[0]))
t.is_eq(subprocess.run([os.path.join(daemon_dir, "logd"), "-S"], capture_output=True,
                       text=True).stdout,
        "program=logd\nuser=moat-log\nchroot=y\nsandbox=logd\npeers=root\n",
        "logd -S prints its stance: moat-log, chrooted, sandbox logd, peer root")

# --- a compromised smtpd: its channel, as moat-smtpd -------------------------
def steal_channel(program):
    """(pid, a copy of its fd 2) of a running process of program; smtpd is
    started on demand (it exits when the password file changes, as other
    tests' users come and go), so a connection makes sure one runs."""
    for _ in range(50):
        pids = inst.pids_of(program)
        if not pids:
            inst.accepting()
            time.sleep(0.1)
            continue
        try:
            return pids[0], steal_fd(pids[0], 2)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("no %s to take a channel from" % program)


smtpd_pid, chan = steal_channel("smtpd")
smtpd = [smtpd_pid]


def forge():
    out = []
    os.write(chan, b"moat/qmgr[1]: 0FORGED0: removed")
    s = socket.socket(fileno=os.dup(chan))
    try:
        s.sendmsg([b"claims pid 1"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS,
                                       struct.pack("iII", 1, os.getuid(), os.getgid()))])
        out.append("sent")
    except PermissionError:
        out.append("EPERM")
    for what, fn in (("ftruncate", lambda: os.ftruncate(chan, 0)),
                     ("open", lambda: open(log_path, "a"))):
        try:
            fn()
            out.append(what + ":done")
        except OSError as e:
            out.append(what + ":" + errno.errorcode[e.errno])
    return "%d %s" % (os.getpid(), " ".join(out))


got = as_user("moat-smtpd", forge).split()
writer = int(got[0])
t.is_eq(got[1:], ["EPERM", "ftruncate:EINVAL", "open:EACCES"],
        "as moat-smtpd: no other pid claimed, no truncate, no open of the log")
m = inst.wait_log(r"(?m)^.* (\S+)/(\S+)\[(\d+)\]: moat/qmgr\[1\]: 0FORGED0: removed$", 10)
t.ok(m and m.group(1, 2, 3) == ("moat", "smtpd", str(writer)),
     "the forged line is logged as smtpd with the writer's real pid",
     m.group(0) if m else None, "moat/smtpd[%d]: moat/qmgr[1]: ..." % writer)
t.ok(not re.search(r"(?m)^\S+ +\d+ \S+ \S+ moat/qmgr\[1\]:", inst.log()),
     "no line is tagged moat/qmgr[1]")

# --- lines gathered: many lines read at once go to the file in one write ------
def logd_writes():
    with open("/proc/%d/io" % inst.pids_of("logd")[0]) as f:
        return int(re.search(r"(?m)^syscw: (\d+)$", f.read()).group(1))


qmgr_pid, qchan = steal_channel("qmgr")
before = logd_writes()
os.write(qchan, b"\n".join(b"gathered %d" % i for i in range(50)))
t.ok(inst.wait_log(r"(?m)moat/qmgr\[\d+\]: gathered 49$", 10) and
     len(re.findall(r"(?m)moat/qmgr\[\d+\]: gathered \d+$", inst.log())) == 50,
     "a record of 50 lines: all 50 are logged")
t.ok(logd_writes() - before <= 5,
     "logd wrote them in a few writes, not one a line", logd_writes() - before, "<= 5")
os.close(qchan)

# --- a flood from one channel -------------------------------------------------
FLOOD = 3000


def flood():
    for i in range(FLOOD):
        os.write(chan, b"flood %d" % i)
    return "ok"


t.is_eq(as_user("moat-smtpd", flood), "ok", "3000 lines written as fast as possible")
m = inst.wait_log(r"moat/logd\[\d+\]: warning: (\d+) lines \(\d+ bytes\) from "
                  r"moat/smtpd\[%d\] dropped \(log_rate_limit: %d bytes a second\)"
                  % (smtpd[0], RATE), 15)
kept_lines = re.findall(r"(?m)^.*\]: flood \d+$", inst.log())
kept = len(kept_lines)
kept_bytes = sum(len(ln) + 1 for ln in kept_lines)
t.ok(m, "one notice says how many lines of smtpd's channel were dropped")
t.ok(BURST - 1000 <= kept_bytes <= BURST + 2 * RATE,
     "about log_burst_limit bytes of them are kept", kept_bytes,
     "%d + a little" % BURST)
t.is_eq(kept + (int(m.group(1)) if m else 0), FLOOD,
        "kept and dropped add up to what was written")
t.is_eq(len(re.findall(r"bytes\) from moat/smtpd\[%d\] dropped" % smtpd[0], inst.log())),
        1, "the notice is written once")

# --- logd killed: nothing written meanwhile is lost ---------------------------
achan = steal_channel("anvil")[1]
time.sleep(2)  # the bucket refills
old = inst.pids_of("logd")
os.kill(old[0], signal.SIGKILL)
wait_for(lambda: not os.path.exists("/proc/%d" % old[0]), 5)
for i in range(100):
    os.write(achan, b"while logd was down %d" % i)
r = send_message(inst.port, "b@example.org", ["moatt_logkim@localhost"],
                 b"Subject: outage\r\n\r\nx\r\n")
during = [p for p in inst.pids_of("logd") if p not in old]
t.ok(not during, "the lines were written while no logd ran")
new = wait_for(lambda: [p for p in inst.pids_of("logd") if p not in old], 15)
t.ok(new, "logd is started again after SIGKILL")
t.ok(inst.wait_log(r"(?m)while logd was down 99$", 10), "the lines written meanwhile arrive")
text = inst.log()
t.is_eq([len(re.findall(r"(?m)\]: while logd was down %d$" % i, text)) for i in range(100)],
        [1] * 100, "each of the 100 lines exactly once, none lost")
t.ok(inst.wait_log(r"moat/master\[%d\]: warning: process \S+/logd pid %d killed by "
                   r"signal 9" % (mpid, old[0]), 10),
     "the master's word on logd's death is logged too")
qid = re.search(r"queued as (\w+)", r or "")
t.ok(qid and inst.wait_log(r"moat/smtpd\[\d+\]: %s: client=" % qid.group(1), 10),
     "an SMTP session during the outage is logged")
os.close(achan)
os.close(chan)

# --- rotation: rename, reload, a new file -------------------------------------
os.rename(log_path, log_path + ".1")
inst.moat("reload")
t.ok(wait_for(lambda: os.path.exists(log_path), 10), "reload creates maillog_file again")
send_message(inst.port, "c@example.org", ["moatt_logkim@localhost"],
             b"Subject: rotated\r\n\r\nx\r\n")
t.ok(inst.wait_log(r"moat/smtpd\[\d+\]: connect from", 15),
     "lines after the reload go to the new file")
with open(log_path + ".1") as f:
    old_text = f.read()
t.like(old_text, r"moat/master\[%d\]: reload" % mpid, "the old file ends with the reload")
inst.stop()
t.like(inst.log(), r"moat/master\[%d\]: terminating on signal 15" % mpid,
       "stop: the master's last line is written before it exits")
t.ok(not inst.pids_of("logd"), "stop: logd is gone")

# --- maillog_file empty: the system's logger, here a socket of ours ------------
sock_dir = tempfile.mkdtemp(prefix="moat-syslog-")
sock_path = os.path.join(sock_dir, "log")
listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
listener.bind(sock_path)
listener.settimeout(0.5)
sys_inst = Instance("logdsys", {"maillog_file": "", "syslog_socket": sock_path,
                                "syslog_facility": "local3", "syslog_name": "mx-out"})
sys_inst.start()
send_message(sys_inst.port, "a@example.org", ["nobody-here@localhost"],
             b"Subject: x\r\n\r\nx\r\n")
got = []


def heard(pattern):
    end = time.time() + 15
    while time.time() < end:
        if any(re.search(pattern, g) for g in got):
            return True
        try:
            got.append(listener.recv(8192).decode("utf-8", "replace"))
        except socket.timeout:
            pass
    return False


t.ok(heard(r"^<158>\w{3} [ \d]\d [\d:]{8} mx-out/master\[\d+\]: daemon started"),
     "syslog: <local3.info>, time stamp, syslog_name/master[pid]", got[:3])
t.ok(heard(r"^<158>\w{3} [ \d]\d [\d:]{8} mx-out/smtpd\[\d+\]: NOQUEUE: reject: RCPT"),
     "syslog: a reject line, no host, no newline", [g for g in got if "smtpd" in g][:3])
t.ok(all(not g.endswith("\n") for g in got), "syslog: no message ends in a newline")
t.ok(not os.path.exists(sys_inst.path("log", "maillog")), "no log file is written")
sys_inst.stop()
sys_inst.destroy()
listener.close()
os.unlink(sock_path)
os.rmdir(sock_dir)

# --- moat start -f: lines on the standard error ------------------------------
fg = Instance("logdfg")
err_path = fg.path("stderr.txt")
with open(err_path, "wb") as err:
    proc = subprocess.Popen([MOAT, "-c", fg.conf, "start", "-f"],
                            stdout=subprocess.DEVNULL, stderr=err)
fg.started = True
t.ok(wait_for(fg.accepting, 20), "moat start -f: the instance answers")


def fg_text():
    with open(err_path, errors="replace") as f:
        return f.read()


t.ok(wait_for(lambda: re.search(r"moat/smtpd\[\d+\]: connect from", fg_text()), 10),
     "-f: daemons' lines go to the standard error")
proc.send_signal(signal.SIGTERM)
proc.wait(20)
fg.started = False
t.like(fg_text(), r"moat/master\[%d\]: terminating on signal 15" % proc.pid,
       "-f: the master's last line too")
t.ok(not os.path.exists(fg.path("log", "maillog")), "-f: maillog_file is not written")
fg.destroy()
inst.destroy()
t.done()
