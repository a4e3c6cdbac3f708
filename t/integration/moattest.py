"""moattest: the harness of Moat's integration tests.

Each test file makes its own instance in a temporary directory with
`moat init`, on its own loopback port, starts the real master (which starts
the real daemons under their own users), talks to it over real sockets, and
removes everything at exit.  Tests speak TAP so that prove reads them.

Only the Python 3 standard library is used.
"""

import atexit
import fcntl
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MOAT = os.path.join(TOP, "build", "bin", "moat")
TMP = "/tmp"  # where instances are made (bench/compare.py may move it)


class Tap:
    """A TAP emitter: ok() per check, done() prints the plan and exits."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, got=None, want=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name))
        if not cond and (got is not None or want is not None):
            print("#   expected: %r" % (want,))
            print("#   got:      %r" % (got,))
        sys.stdout.flush()
        return cond

    def is_eq(self, got, want, name):
        return self.ok(got == want, name, got, want)

    def like(self, got, pattern, name):
        return self.ok(got is not None and re.search(pattern, got) is not None,
                       name, got, "match /%s/" % pattern)

    def like_soon(self, get, pattern, name, timeout=10.0):
        """like() on get(), once it matches or timeout seconds passed: for
        the log, which logd writes a moment after the line was said."""
        rx = re.compile(pattern)
        return self.like(wait_for(lambda: (lambda v: v if rx.search(v) else
                                           None)(get()), timeout) or get(),
                         pattern, name)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        # The safety net of the seccomp allowlists: a daemon killed by its
        # filter on a rare path (a reload, a bounce) is restarted and the
        # test may pass anyway, so every test checks its instances' logs.
        for inst in INSTANCES:
            kills = [ln for ln in inst.final_log().splitlines()
                     if "killed by seccomp" in ln and
                     not any(p in ln for p in inst.expected_kills)]
            self.ok(not kills, "instance %s: no daemon killed by seccomp"
                    % inst.tag, kills[:5])
        print("1..%d" % self.n)
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def require_root():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root: instances create users and drop privileges")
        sys.exit(0)
    if not os.access(MOAT, os.X_OK):
        print("1..0 # SKIP build/bin/moat is not built")
        sys.exit(0)


_ports_given = set()


def free_port():
    """A free TCP port on 127.0.0.1 in 20000-29999, never one this process
    was given before (two services of one instance once drew the same)."""
    for _ in range(200):
        port = random.randint(20000, 29999)
        if port in _ports_given:
            continue
        _ports_given.add(port)
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def wait_for(pred, timeout=20.0, step=0.05):
    """Poll pred() until it returns a true value or timeout seconds pass."""
    end = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > end:
            return v
        time.sleep(step)


def user_lock(name, timeout=300):
    """Hold a lock on a test user's name for the rest of this process, so
    that tests run at once (prove -j, or two checkouts) never create and
    remove the same user under each other.  Given up after timeout."""
    f = open("/tmp/moattest-user-%s.lock" % name, "w")
    end = time.time() + timeout
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.time() > end:
                return f
            time.sleep(0.2)


class User:
    """A real system user with a home under the instance, removed at exit."""

    def __init__(self, inst, name):
        self.name = name
        self.home = os.path.join(inst.dir, "home", name)
        self.lock = user_lock(name)
        subprocess.run(["userdel", "-r", name], capture_output=True)
        subprocess.run(["useradd", "-m", "-d", self.home, "-s",
                        "/usr/sbin/nologin", name], check=True,
                       capture_output=True)
        pw = pwd.getpwnam(name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        inst.users.append(self)

    def remove(self):
        subprocess.run(["userdel", "-r", self.name], capture_output=True)

    def maildir_messages(self, sub="new"):
        d = os.path.join(self.home, "Maildir", sub)
        if not os.path.isdir(d):
            return []
        out = []
        for f in sorted(os.listdir(d)):
            with open(os.path.join(d, f), "rb") as fh:
                out.append(fh.read())
        return out


INSTANCES = []  # every Instance this test made, for Tap.done()


class Instance:
    """A real Moat instance: moat init, start, stop, and its files."""

    def __init__(self, tag, settings=None, listen=None):
        self.tag = tag
        self.saved_log = None
        # Programs (e.g. "sandbox_probe") a test makes its filter kill.
        self.expected_kills = []
        INSTANCES.append(self)
        base = tempfile.mkdtemp(prefix="moat-%s-" % tag, dir=TMP)
        os.chmod(base, 0o755)
        self.dir = os.path.join(base, "i")
        self.conf = os.path.join(self.dir, "conf")
        self.port = free_port()
        self.users = []
        self.started = False
        listen = listen or ["127.0.0.1:%d" % self.port]
        args = [MOAT, "init", self.dir]
        for a in listen:
            args += ["--listen", a]
        self.run(args)
        os.makedirs(os.path.join(self.dir, "home"), exist_ok=True)
        os.chmod(os.path.join(self.dir, "home"), 0o755)
        defaults = {
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "1s",
            "max_idle": "30s",
            # Nothing leaves the machine: names remote looks up go to a
            # closed port here (a test with a DNS world sets its own).
            "smtp_dns_resolver_address": "127.0.0.1:1",
            "smtp_dns_timeout": "2s",
        }
        defaults.update(settings or {})
        self.set(defaults)
        atexit.register(self.destroy)

    # -- commands -----------------------------------------------------------
    def run(self, args, check=True, **kw):
        r = subprocess.run(args, capture_output=True, text=True, **kw)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def moat(self, *args, check=True):
        return self.run([MOAT, "-c", self.conf] + list(args), check=check)

    def set(self, settings):
        """Set main.conf parameters (appended lines: the last one wins)."""
        with open(os.path.join(self.conf, "main.conf"), "a") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def write_aliases(self, text):
        path = os.path.join(self.conf, "aliases")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        self.moat("map", "build", path)

    def start(self):
        self.moat("start")
        self.started = True
        ok = wait_for(self.accepting, 20)
        if not ok:
            raise RuntimeError("instance did not start listening:\n" +
                               self.log())
        # Until rcptmap's first map, local recipients get 451.
        if not wait_for(lambda: os.path.exists(self.recipients_map()), 20):
            raise RuntimeError("rcptmap made no recipients map:\n" +
                               self.log())
        return ok

    def recipients_map(self):
        return self.path("spool", "maps", "recipients.lmdb")

    def stop(self):
        if self.started:
            self.moat("stop", check=False)
            self.started = False

    def final_log(self):
        """The log, also after destroy() removed the instance."""
        return self.saved_log if self.saved_log is not None else self.log()

    def destroy(self):
        try:
            self.stop()
        finally:
            if self.saved_log is None and os.path.isdir(self.dir):
                self.saved_log = self.log()
            for u in self.users:
                u.remove()
            self.users = []
            if os.environ.get("MOAT_KEEP") != "1":
                shutil.rmtree(os.path.dirname(self.dir), ignore_errors=True)

    def accepting(self):
        addr = getattr(self, "addr", "127.0.0.1")  # peers.PeerInstance
        try:
            s = socket.create_connection((addr, self.port), timeout=2)
        except OSError:
            return False
        try:
            s.settimeout(5)
            return s.recv(512).startswith(b"220")
        except OSError:
            return False
        finally:
            s.close()

    # -- files ---------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def log(self):
        try:
            with open(self.path("log", "maillog"), "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=20.0):
        """Wait until the log matches pattern; returns the match or None."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()), timeout)

    def queue_files(self, sub, partial=False):
        """The messages in a queue directory (not dot files such as
        cleanup's incoming/.active-sync page, nor the partial files
        cleanup is writing or keeps ready: mode 0200, queue_file.h);
        with partial=True, only those."""
        d = self.path("spool", sub)
        names = []
        try:
            for n in os.listdir(d):
                try:
                    mode = os.lstat(os.path.join(d, n)).st_mode & 0o7777
                except OSError:
                    continue  # gone meanwhile
                if not n.startswith(".") and (mode == 0o200) == partial:
                    names.append(n)
        except OSError:
            pass
        return sorted(names)

    def mbox(self, name):
        try:
            with open(self.path("mail", name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def pids_of(self, program):
        """PIDs of processes running daemon_directory/program."""
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and os.path.basename(argv[0]) == program.encode() and \
                    self.conf.encode() in argv:
                out.append(int(p))
        return out

    def user(self, name):
        return User(self, name)


def proc_ids(pid):
    """(real, effective, saved) uids of a process, from /proc."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return tuple(int(x) for x in line.split()[1:4])
    return None


def proc_status(pid, field):
    """A field of /proc/PID/status, or None once the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"(?m)^%s:\s+(.*)$" % field, f.read())
    except OSError:
        return None
    return m.group(1) if m else None


def live_as(inst, program, uid):
    """Live (not zombie) processes of inst's program running as uid."""
    return [p for p in inst.pids_of(program)
            if (proc_ids(p) or (0,))[0] == uid and
            (proc_status(p, "State") or "Z").split()[0] != "Z"]


def held_fds(pid):
    """What a process holds above descriptor 2 (readlink of each)."""
    return sorted(os.readlink("/proc/%d/fd/%s" % (pid, fd))
                  for fd in os.listdir("/proc/%d/fd" % pid) if int(fd) > 2)


class Smtp:
    """A raw SMTP client: exact bytes in, reply lines out."""

    def __init__(self, port, source="127.0.0.1", timeout=20):
        v6 = ":" in source  # an IPv6 source talks to [::1]
        self.s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,
                               socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.bind((source, 0))
        self.s.connect(("::1" if v6 else "127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def reply(self):
        """One whole (possibly multi-line) reply as text, or None on EOF."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    return "\n".join(lines) if lines else None
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self):
        """True when the server has closed the connection."""
        try:
            self.s.settimeout(5)
            data = self.s.recv(1)
            return data == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def smtp_session(port, helo="client.example"):
    """A connection past the greeting and EHLO: (Smtp, the EHLO reply)."""
    c = Smtp(port)
    c.reply()
    return c, c.cmd("EHLO " + helo)


def send_message(port, sender, rcpts, body, source="127.0.0.1", helo="client",
                 mail_params=""):
    """A whole transaction; body is bytes with CRLF line ends, not stuffed;
    mail_params follow MAIL FROM (" SMTPUTF8").  Returns the final reply
    text."""
    c = Smtp(port, source)
    try:
        greet = c.reply()
        if not greet or not greet.startswith("220"):
            return greet
        c.cmd("EHLO " + helo)
        r = c.cmd("MAIL FROM:<%s>%s" % (sender, mail_params))
        if not r.startswith("250"):
            return r
        for rc in rcpts:
            r = c.cmd("RCPT TO:<%s>" % rc)
            if not r.startswith("250"):
                return r
        r = c.cmd("DATA")
        if not r.startswith("354"):
            return r
        stuffed = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln
                               for ln in body.split(b"\r\n"))
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        c.send(stuffed + b".\r\n")
        r = c.reply()
        c.cmd("QUIT")
        return r
    finally:
        c.close()


def send_batch(port, count, body, rcpt, sender="b@example.org",
               latencies=None, lock=None):
    """count messages over one session, MAIL, RCPT and DATA pipelined
    (benchmarks); body has CRLF line ends and no line starting with a
    dot.  latencies, when given, gets the seconds from the end of the
    data to each 250 (under lock)."""
    c = Smtp(port)
    c.reply()
    c.cmd("EHLO bench.example")
    for _ in range(count):
        c.send(("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, rcpt)).encode())
        for _ in range(3):
            c.reply()
        t0 = time.monotonic()
        c.send(body + b".\r\n")
        r = c.reply()
        if latencies is not None:
            with lock:
                latencies.append(time.monotonic() - t0)
        if not r.startswith("250"):
            print("refused:", r, file=sys.stderr)
    c.cmd("QUIT")
    c.close()


def bench_args(what):
    """The options every benchmark takes (-n, -c, --size); root only."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000, help="messages")
    ap.add_argument("-c", type=int, default=8, help="parallel connections")
    ap.add_argument("--size", type=int, default=2000, help="body bytes")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (it makes %s)" % what)
    a.body = (b"Subject: bench\r\n\r\n" +
              (b"x" * 76 + b"\r\n") * max(1, a.size // 78))
    return a


def bench_send(port, a, rcpt, latencies=None):
    """a.n messages over a.c parallel sessions (send_batch); the seconds
    it took."""
    import threading
    lock = threading.Lock()
    per = [a.n // a.c + (1 if i < a.n % a.c else 0) for i in range(a.c)]
    start = time.monotonic()
    ths = [threading.Thread(target=send_batch, args=(port, k, a.body, rcpt),
                            kwargs={"latencies": latencies, "lock": lock})
           for k in per]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return time.monotonic() - start


def queued_id(reply):
    m = re.search(r"queued as ([0-9A-F]+)", reply or "")
    return m.group(1) if m else None


def kill_all(pids, sig=signal.SIGKILL):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


# -- Moat's IPC frames (common/ipc.h), to play a daemon's part -------------
def ipc_frame(attrs):
    """Encode [(name, value), ...] as one frame: a 4-byte big-endian length,
    then each name and value as a netstring."""
    payload = b""
    for name, value in attrs:
        for part in (name, value):
            if isinstance(part, str):
                part = part.encode()
            payload += b"%d:%s," % (len(part), part)
    return len(payload).to_bytes(4, "big") + payload


def ipc_read_frame(sock):
    """Read one frame; a list of (name, value) as text, or None on EOF."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data
    head = exactly(4)
    if head is None:
        return None
    payload = exactly(int.from_bytes(head, "big"))
    if payload is None:
        return None
    out, items = [], []
    while payload:
        length, rest = payload.split(b":", 1)
        n = int(length)
        items.append(rest[:n].decode("utf-8", "replace"))
        payload = rest[n + 1:]
    for i in range(0, len(items) - 1, 2):
        out.append((items[i], items[i + 1]))
    return out


def as_user(user, fn):
    """Run fn() in a child process that runs as user (all ids, no other
    groups), and return what it returned (a str), or an exception's text."""
    pw = pwd.getpwnam(user)
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            os.setgroups([])
            os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
            os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
            result = str(fn())
        except Exception as e:  # the test reads what went wrong
            result = "exception: %s" % e
        os.write(wr, result.encode())
        os._exit(0)
    os.close(wr)
    data = b""
    while True:
        chunk = os.read(rd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rd)
    os.waitpid(pid, 0)
    return data.decode("utf-8", "replace")


def unix_connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def set_maxproc(inst, name, n):
    """Set the maxproc column of the master.conf line of service name
    (before start, or followed by a reload)."""
    path = os.path.join(inst.conf, "master.conf")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^(%s\s+\S+\s+\S+\s+\S+\s+)\d+" % re.escape(name),
                  r"\g<1>%d" % n, text)
    with open(path, "w") as f:
        f.write(text)


def greet_time(port, source="127.0.0.1"):
    """(ms from connect to the end of the greeting, the greeting), then
    QUIT."""
    start = time.monotonic()
    c = Smtp(port, source=source)
    g = c.reply() or ""
    ms = (time.monotonic() - start) * 1000
    c.cmd("QUIT")
    c.close()
    return ms, g


def talk_early_held(inst, port, source="127.0.0.1", data=b"EHLO early\r\n"):
    """talk_early with inst's smtpd processes stopped meanwhile, so that
    the bytes are surely there before the greeting: smtpd greets at once,
    and a loaded machine may otherwise run the client only after that."""
    smtpds = inst.pids_of("smtpd")
    got = []
    th = threading.Thread(target=lambda: got.append(
        talk_early(port, source, data)))
    for pid in smtpds:
        os.kill(pid, signal.SIGSTOP)
    try:
        th.start()
        time.sleep(0.5)
    finally:
        for pid in smtpds:
            os.kill(pid, signal.SIGCONT)
    th.join(20)
    return got[0] if got else b""


def talk_early(port, source="127.0.0.1", data=b"EHLO early\r\n"):
    """Send data the moment the connection is up, before any greeting;
    everything the server says until it closes (or 10 s pass)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(10)
    got = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return got


def subject_counts(user):
    """How many copies of each Subject: a user's Maildir/new holds."""
    counts = {}
    for m in user.maildir_messages():
        for line in m.split(b"\n"):
            if line.startswith(b"Subject: "):
                tok = line[9:].decode()
                counts[tok] = counts.get(tok, 0) + 1
    return counts
