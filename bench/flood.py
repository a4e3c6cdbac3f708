#!/usr/bin/env python3
"""bench/flood: does legitimate mail still flow while Moat is flooded?

Makes an instance (as the tests do) in a network namespace of its own
(loopback only: nothing leaves the machine), then, for --duration seconds:

  - N idle connections (-n, default 10000) from many 127.x addresses (25 a
    source) and, as a tenth of them, from 40 IPv6 /64 networks put on lo:
    they connect and never say a word, and one that the server closes
    connects again (up to 3 N connections in all), as a flood does;
  - trickling DATA clients (--trickle, default 5): they pass the screen,
    start a message and send one byte a second;
  - early talkers (--early, default 200): they talk before the greeting;
  - one trusted client (127.0.0.1, in mynetworks) sending a real message
    every second.

It prints the trusted message's accept latency (end of DATA to 250, and
connect to 250), the peak memory of the whole Moat process tree (PSS from
/proc/PID/smaps_rollup, summed over the master and all its descendants,
and per program), how many connections were held (open and not refused)
at the peak and at the end, and how the early talkers fared, each figure
beside its target.  When `make postfix-peer` has unpacked Debian's
postfix, the same load then runs against a private Postfix instance
(bench/pfinstance.py) with postscreen turned on as its documentation
says, and its figures are printed beside Moat's; with --peer ADDR:PORT
and --peer-pid PID, against another server already listening in this
namespace instead.  Bounded in count and time;
nothing is asserted: figures, not a test.

    sudo bench/flood.py [-n 10000] [--duration 30] [--trickle 5] [--early 200]
"""
import argparse
import os
import re
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "integration"))
from moattest import Instance, Smtp, free_port, send_message, wait_for  # noqa: E402
from peers import enter_netns  # noqa: E402
import pfinstance  # noqa: E402

PER_SOURCE = 25
V6_NETS = 40
TRICKLE_HEAD_START = 4 # seconds
TARGET_HELD = 10000
TARGET_LATENCY_MS = 50
TARGET_PSS_MB = 100
BODY = b"Subject: legitimate\r\n\r\n" + b"a real message\r\n" * 20


def args():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10000, help="idle connections")
    ap.add_argument("--duration", type=int, default=30, help="seconds held")
    ap.add_argument("--trickle", type=int, default=5)
    ap.add_argument("--early", type=int, default=200)
    ap.add_argument("--peer", help="ADDR:PORT of another server to flood")
    ap.add_argument("--peer-pid", type=int, help="the root of its processes")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (an instance, a network namespace)")
    a.n = max(0, min(a.n, 15000))
    a.duration = max(5, min(a.duration, 300))
    a.trickle = max(0, min(a.trickle, 50))
    a.early = max(0, min(a.early, 2000))
    return a


# --- memory ------------------------------------------------------------------
def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            m = re.search(r"(?m)^Pss:\s+(\d+) kB", f.read())
        return int(m.group(1)) if m else 0
    except OSError:
        return 0


def tree(root):
    """root and all its descendants: [(pid, program)]."""
    children, names = {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        rest = st.rsplit(")", 1)
        names[int(p)] = st[st.find("(") + 1:len(rest[0])]
        children.setdefault(int(rest[1].split()[1]), []).append(int(p))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append((pid, names.get(pid, "?")))
        todo += children.get(pid, [])
    return out


class Sampler(threading.Thread):
    """PSS of a process tree every half second; keeps the peak."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root, self.peak, self.by_prog, self.stop = root, 0, {}, False
        self.first = self.sample()  # before the flood

    def sample(self):
        by = {}
        for pid, name in tree(self.root):
            by[name] = by.get(name, 0) + pss_kb(pid)
        return by

    def run(self):
        while not self.stop:
            by = self.sample()
            total = sum(by.values())
            if total > self.peak:
                self.peak, self.by_prog = total, by
            time.sleep(0.5)


# --- the flood -----------------------------------------------------------------
class Client:
    __slots__ = ("sock", "kind", "buf", "state", "greeted", "last", "src")

    def __init__(self, sock, kind, src):
        self.sock, self.kind, self.src = sock, kind, src
        self.buf, self.state, self.greeted, self.last = b"", "connecting", False, 0


class Flood:
    def __init__(self, a, dst, port, sources, v6sources, rcpt):
        self.a, self.dst, self.port, self.rcpt = a, dst, port, rcpt
        self.sel = selectors.DefaultSelector()
        self.sources, self.v6 = sources, v6sources
        self.clients = set()
        self.tricklers = []
        self.opened = 0
        self.budget = 3 * a.n
        self.stats = {"refused": 0, "closed": 0, "early_refused": 0,
                      "early_passed": 0, "trickling": 0, "connect_failed": 0}
        self.held_peak = 0

    def open(self, kind, src):
        fam = socket.AF_INET6 if ":" in src else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((src, 0))
            s.connect_ex((self.dst if fam == socket.AF_INET else "::1",
                          self.port))
        except OSError:
            s.close()
            self.stats["connect_failed"] += 1
            return
        c = Client(s, kind, src)
        self.clients.add(c)
        if kind == "trickle":
            self.tricklers.append(c)
        self.opened += 1
        self.sel.register(s, selectors.EVENT_WRITE, c)

    def close(self, c, why):
        self.sel.unregister(c.sock)
        c.sock.close()
        self.clients.discard(c)
        self.stats[why] += 1
        if c.kind == "idle" and self.opened < self.budget:
            self.open("idle", c.src)  # a flood comes back

    def send(self, c, data):
        try:
            c.sock.send(data)
        except OSError:
            pass

    def on_connected(self, c):
        if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            self.close(c, "closed")
            return
        c.state = "open"
        self.sel.modify(c.sock, selectors.EVENT_READ, c)
        if c.kind == "early":
            self.send(c, b"EHLO bot.example\r\nMAIL FROM:<bot@example.org>\r\n"
                      b"RCPT TO:<%s>\r\nQUIT\r\n" % self.rcpt.encode())

    def on_line(self, c, line):
        code = line[:3]
        final = line[3:4] != b"-"
        if not final:
            return
        if c.kind == "idle":
            if code == b"220":
                c.greeted = True
            elif code[:1] in (b"4", b"5"):
                self.close(c, "refused")
        elif c.kind == "early":
            if code == b"550":
                self.stats["early_refused"] += 1
            elif code == b"250" and c.state == "open":
                pass
        elif c.kind == "trickle":
            self.trickle_step(c, code)

    def trickle_step(self, c, code):
        steps = {"open": (b"220", b"EHLO trickle.example\r\n", "ehlo"),
                 "ehlo": (b"250", b"MAIL FROM:<slow@example.org>\r\n", "mail"),
                 "mail": (b"250", b"RCPT TO:<%s>\r\n" % self.rcpt.encode(),
                          "rcpt"),
                 "rcpt": (b"250", b"DATA\r\n", "data"),
                 "data": (b"354", b"Subject: slow\r\n", "trickle")}
        if c.state not in steps:
            return
        want, send, nxt = steps[c.state]
        if code != want:
            self.close(c, "refused")
            return
        self.send(c, send)
        c.state = nxt
        if nxt == "trickle":
            self.stats["trickling"] += 1

    def on_read(self, c):
        try:
            data = c.sock.recv(4096)
        except OSError:
            data = b""
        if not data:
            self.close(c, "closed")
            return
        c.buf += data
        while b"\n" in c.buf and c in self.clients:
            line, c.buf = c.buf.split(b"\n", 1)
            self.on_line(c, line.rstrip(b"\r"))

    def poll(self, timeout):
        for key, mask in self.sel.select(timeout):
            c = key.data
            if c not in self.clients:
                continue
            if c.state == "connecting":
                self.on_connected(c)
            else:
                self.on_read(c)

    def tick_tricklers(self, now):
        for c in self.tricklers:
            if c in self.clients and c.state == "trickle" and now - c.last >= 1:
                c.last = now
                self.send(c, b"x")

    def held(self):
        return sum(1 for c in self.clients
                   if c.kind == "idle" and c.state == "open")

    def run(self, until):
        a = self.a
        srcs = [(s, "idle") for s in self.sources for _ in range(PER_SOURCE)]
        v6 = [(s, "idle") for s in self.v6 for _ in range(PER_SOURCE)]
        plan = (v6 + srcs)[:a.n]
        plan += [("127.2.%d.%d" % (i // 250, 1 + i % 250), "early")
                 for i in range(a.early)]
        # The trickling clients first, so that they reach smtpd (and
        # cleanup) before the idle flood takes every session.
        for i in range(a.trickle):
            self.open("trickle", "127.3.0.%d" % (1 + i))
        flood_at = time.monotonic() + TRICKLE_HEAD_START
        i = 0
        while time.monotonic() < until:
            if time.monotonic() >= flood_at:
                for src, kind in plan[i:i + 200]:  # ramp up in batches
                    self.open(kind, src)
                i += 200
            self.poll(0.05)
            now = time.monotonic()
            self.tick_tricklers(now)
            self.held_peak = max(self.held_peak, self.held())
        self.held_end = self.held()
        self.greeted_end = sum(1 for c in self.clients
                               if c.kind == "idle" and c.greeted)

    def shutdown(self):
        for c in list(self.clients):
            self.sel.unregister(c.sock)
            c.sock.close()
        self.clients.clear()


# --- the trusted sender ------------------------------------------------------------
class Trusted(threading.Thread):
    """A real message every second from 127.0.0.1; times each."""

    def __init__(self, dst, port, rcpt, until):
        super().__init__(daemon=True)
        self.dst, self.port, self.rcpt, self.until = dst, port, rcpt, until
        self.accept, self.session, self.failed = [], [], []

    def one(self):
        t0 = time.monotonic()
        try:
            c = Smtp(self.port, source="127.0.0.1", timeout=30)
        except OSError as e:
            return "connect: %s" % e
        try:
            g = c.reply()
            if not g or not g.split("\n")[-1].startswith("220"):
                return "greeting: %r" % g
            c.cmd("EHLO trusted.example")
            for line in ("MAIL FROM:<boss@example.org>", "RCPT TO:<%s>" % self.rcpt,
                         "DATA"):
                r = c.cmd(line)
                if not r or r[0] not in "23":
                    return "%s: %r" % (line, r)
            t1 = time.monotonic()
            c.send(BODY + b".\r\n")
            r = c.reply()
            t2 = time.monotonic()
            if not r or not r.startswith("250"):
                return "end of data: %r" % r
            self.accept.append(t2 - t1)
            self.session.append(t2 - t0)
            c.cmd("QUIT")
            return None
        except OSError as e:
            return "%s after %.1fs" % (e, time.monotonic() - t0)
        finally:
            c.close()

    def run(self):
        while time.monotonic() < self.until:
            t = time.monotonic()
            why = self.one()
            if why:
                self.failed.append(why)
            time.sleep(max(0, 1 - (time.monotonic() - t)))


# --- setting up --------------------------------------------------------------------
def addresses(n):
    """127.1.x.y sources for n idle connections, and IPv6 ones on lo."""
    count = (n + PER_SOURCE - 1) // PER_SOURCE
    v4 = ["127.1.%d.%d" % (i // 250, 1 + i % 250) for i in range(count)]
    v6 = []
    for i in range(min(V6_NETS, count // 10)):
        addr = "2001:db8:f:%x::1" % i
        r = subprocess.run(["ip", "-6", "addr", "add", addr + "/128", "dev",
                            "lo", "nodad"], capture_output=True)
        if r.returncode == 0:
            v6.append(addr)
    return v4, v6


def flood(a, dst, port, rcpt, root_pid, label):
    v4, v6 = addresses(a.n)
    sampler = Sampler(root_pid)
    sampler.start()
    until = time.monotonic() + a.duration
    f = Flood(a, dst, port, v4, v6, rcpt)
    trusted = Trusted(dst, port, rcpt, until)
    trusted.start()
    f.run(until)
    trusted.join(35)
    sampler.stop = True
    sampler.join()
    f.shutdown()
    return {"label": label, "flood": f, "trusted": trusted, "pss": sampler}


def ms(v):
    return "%.1f ms" % (v * 1000)


def report(r):
    f, tr, pss = r["flood"], r["trusted"], r["pss"]
    print("== %s" % r["label"])
    print("connections held (idle, open): peak %d, at the end %d (of them "
          "greeted by an smtpd: %d)   target: %d"
          % (f.held_peak, f.held_end, f.greeted_end, TARGET_HELD))
    print("flood connections opened: %d (refused %d, closed by the server %d, "
          "failed %d)" % (f.opened, f.stats["refused"], f.stats["closed"],
                          f.stats["connect_failed"]))
    print("early talkers refused (550 at RCPT): %d of %d"
          % (f.stats["early_refused"], f.a.early))
    print("trickling clients in DATA: %d of %d%s"
          % (f.stats["trickling"], f.a.trickle,
             " (each holds its smtpd session only: smtpd asks cleanup "
             "once a message is complete or 64 KB of it wait)"
             if r["label"] == "Moat" else ""))
    if tr.accept:
        print("legitimate message, end of DATA to 250: median %s, max %s "
              "(%d messages)   target: < %d ms"
              % (ms(statistics.median(tr.accept)), ms(max(tr.accept)),
                 len(tr.accept), TARGET_LATENCY_MS))
        print("legitimate message, connect to 250: median %s, max %s"
              % (ms(statistics.median(tr.session)), ms(max(tr.session))))
    print("legitimate messages that failed: %d%s" % (
        len(tr.failed), (" (first: %s)" % tr.failed[0]) if tr.failed else ""))
    print("peak PSS of the process tree: %.1f MB   target: < %d MB"
          % (pss.peak / 1024, TARGET_PSS_MB))
    if pss.by_prog:
        print("  at the peak: " + ", ".join(
            "%s %.1f MB" % (k, v / 1024) for k, v in
            sorted(pss.by_prog.items(), key=lambda kv: -kv[1])))
    waiting = f.held_end - f.greeted_end
    grown = pss.by_prog.get("screen", 0) - pss.first.get("screen", 0)
    if waiting > 0 and "screen" in pss.first:
        print("  the screen grew by %.1f MB for the %d connections it held "
              "(greeting not yet from smtpd): %d bytes a connection, in "
              "user space (the kernel's socket buffers are not in PSS)"
              % (grown / 1024, waiting, grown * 1024 // waiting))


def flood_postfix(a, rcpt):
    """The same flood against a private Postfix (bench/pfinstance.py) with
    postscreen on, as its documentation turns it on, and its greet action
    set to Moat's default (enforce); the same trusted network."""
    pport = free_port()
    pf = pfinstance.Postfix(pport, {
        "mynetworks": "127.0.0.1/32, [::1]/128",
        "inet_protocols": "all",
        "postscreen_greet_action": "enforce",
    }, postscreen=True)
    try:
        pf.start()
        wait_for(lambda: accepting(pport), 20, 0.2)
        send_message(pport, "warm@example.org", [rcpt], BODY)
        return flood(a, "127.0.0.1", pport, rcpt, pf.master_pid(),
                     "Postfix (postscreen on)")
    finally:
        pf.destroy()


def accepting(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def main():
    a = args()
    enter_netns()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = a.n + a.early + a.trickle + 200
    if need > hard:
        a.n = max(0, hard - a.early - a.trickle - 200)
        print("note: %d descriptors at most here: %d idle connections"
              % (hard, a.n))
    port = free_port()
    inst = Instance("flood", {"home_mailbox": "Maildir/",
                              "mynetworks": "127.0.0.1/32, [::1]/128",
                              "max_idle": "300s"},
                    listen=["127.0.0.1:%d" % port, "[::]:%d" % port])
    inst.port = port
    inst.user("moatt_flood")
    inst.start()
    rcpt = "moatt_flood@localhost"
    send_message(port, "warm@example.org", [rcpt], BODY)  # warm up
    master = inst.pids_of("master")[0]
    results = [flood(a, "127.0.0.1", port, rcpt, master, "Moat")]
    screen_lines = inst.log()
    if a.peer and a.peer_pid:
        host, pport = a.peer.rsplit(":", 1)
        results.append(flood(a, host, int(pport), rcpt, a.peer_pid, "peer " + a.peer))
    elif pfinstance.available():
        results.append(flood_postfix(a, rcpt))
    inst.destroy()
    print("flood: %d idle connections (%d a source, a tenth from IPv6 /64s), "
          "%d early talkers, %d trickling clients, %d s"
          % (a.n, PER_SOURCE, a.early, a.trickle, a.duration))
    for r in results:
        report(r)
    if not a.peer and not pfinstance.available():
        print("== Postfix (postscreen on): not run here: `make postfix-peer` "
              "unpacks Debian's postfix for a private instance, or give "
              "--peer and --peer-pid of another server")
    print("screen log: PREGREET %d, PASS NEW %d, PASS OLD %d, all server ports "
          "busy %d" % tuple(len(re.findall(p, screen_lines)) for p in (
              r"PREGREET ", r"PASS NEW ", r"PASS OLD ",
              r"all server ports busy")))


if __name__ == "__main__":
    main()
