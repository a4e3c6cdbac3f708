"""peers: remote SMTP servers for the tests of Moat's SMTP client.

Every test that uses them runs in a network namespace of its own
(enter_netns re-executes the test under `unshare -n` and brings the
loopback up), so peers may listen on port 25 of any 127.x address without
touching the host, and nothing can leave the machine.  The DNS world of
the DNS tests (dnsworld.py) lives in such a namespace too and combines
with these peers: a peer only needs an address and a port.

Three kinds of peer:
  PeerInstance  a second real Moat instance listening on ADDR:25
  SmtpSink      Postfix's smtp-sink, unpacked from Debian's package into
                build/postfix by `make postfix-peer` (never installed)
  ScriptedPeer  a small SMTP server written here whose every answer a
                test chooses: 4xx, 5xx to one recipient, a hang after the
                greeting, no PIPELINING, a small SIZE, a slow dot...
                It records sessions, concurrency and each transaction.

Only the Python 3 standard library is used.
"""

import os
import pwd
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

from moattest import TOP, Instance, wait_for

SINK = os.path.join(TOP, "build", "postfix", "usr", "sbin", "smtp-sink")
SINK_LIBS = os.path.join(TOP, "build", "postfix", "usr", "lib", "postfix")


def enter_netns():
    """Run the rest of this test in a new network namespace with the
    loopback up; prints a TAP skip and exits when that is impossible."""
    if os.environ.get("MOAT_NETNS") == "1":
        r = subprocess.run(["ip", "link", "set", "lo", "up"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("1..0 # SKIP cannot bring up lo: %s" % r.stderr.strip())
            sys.exit(0)
        return
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        print("1..0 # SKIP needs unshare(1) and ip(8)")
        sys.exit(0)
    env = dict(os.environ, MOAT_NETNS="1")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        print("1..0 # SKIP cannot make a network namespace")
        sys.exit(0)
    os.execvpe("unshare", ["unshare", "-n", "--", sys.executable] +
               [os.path.abspath(sys.argv[0])] + sys.argv[1:], env)


def listening(addr, port):
    try:
        s = socket.create_connection((addr, port), timeout=2)
    except OSError:
        return False
    s.close()
    return True


class PeerInstance(Instance):
    """A Moat instance that receives on ADDR:PORT (default port 25);
    Instance.accepting() looks at self.addr."""

    def __init__(self, tag, addr, settings=None, port=25):
        self.addr = addr
        Instance.__init__(self, tag, settings, listen=["%s:%d" % (addr, port)])
        self.port = port


class SmtpSink:
    """Postfix's smtp-sink on ADDR:PORT, dumping each message into a
    directory; None from start() when it is not unpacked."""

    def __init__(self, addr, port=25, extra=()):
        self.addr, self.port, self.extra = addr, port, list(extra)
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="moat-sink-", dir="/tmp")
        os.chmod(self.dir, 0o777)

    @staticmethod
    def available():
        return os.access(SINK, os.X_OK)

    def start(self):
        if not self.available():
            return None
        env = dict(os.environ, LD_LIBRARY_PATH=SINK_LIBS)
        args = [SINK, "-u", "nobody", "-d", os.path.join(self.dir, "%M.")]
        args += self.extra + ["%s:%d" % (self.addr, self.port), "256"]
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        if not wait_for(lambda: listening(self.addr, self.port), 10):
            self.stop()
            return None
        return self

    def messages(self):
        return sorted(os.listdir(self.dir))

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class _Handler(socketserver.StreamRequestHandler):
    timeout = 120

    def send(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        peer = self.server.peer
        peer.session_start()
        try:
            self.converse(peer)
        except (OSError, ValueError):
            pass
        finally:
            peer.session_end()

    def converse(self, peer):
        if peer.hang_after_greeting is not None:
            self.send(peer.greeting)
            time.sleep(peer.hang_after_greeting)
            return
        self.send(peer.greeting)
        if not peer.greeting.startswith("220"):
            return
        txn = None
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            peer.log(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.send(peer.ehlo_reply())
            elif verb == "HELO":
                self.send("250 %s" % peer.name)
            elif verb == "MAIL":
                txn = {"mail": cmd, "rcpt": [], "data": None}
                self.send(peer.mail_reply)
            elif verb == "RCPT":
                addr = cmd[cmd.find("<") + 1:cmd.find(">")]
                reply = peer.rcpt_replies.get(addr, "250 2.1.5 Ok")
                if txn is not None and reply.startswith("2"):
                    txn["rcpt"].append(addr)
                self.send(reply)
            elif verb == "DATA":
                if txn is None or not txn["rcpt"]:
                    self.send("554 5.5.1 Error: no valid recipients")
                    continue
                peer.data_seen()
                if peer.data_delay:
                    time.sleep(peer.data_delay)
                self.send(peer.data_reply)
                if not peer.data_reply.startswith("354"):
                    continue
                data = b""
                while True:
                    chunk = self.rfile.readline(65536)
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    data += chunk
                txn["data"] = data
                peer.dot_arrived()
                if peer.dot_delay:
                    time.sleep(peer.dot_delay)
                peer.record(txn)
                self.send(peer.dot_reply)
                txn = None
            elif verb == "RSET":
                txn = None
                self.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("502 5.5.2 Error: command not recognized")


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


class ScriptedPeer:
    """An SMTP server on ADDR:PORT whose answers the test sets through
    the attributes below; it records what it saw."""

    def __init__(self, addr, port=25, name="peer.test"):
        self.addr, self.port, self.name = addr, port, name
        self.greeting = "220 %s ESMTP" % name
        self.pipelining = True
        self.size = None            # SIZE limit to announce, or None
        self.extensions = ["8BITMIME", "ENHANCEDSTATUSCODES", "DSN"]
        self.ehlo = None            # a whole reply instead of 250 + caps
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_replies = {}      # address -> reply
        self.data_reply = "354 End data with <CR><LF>.<CR><LF>"
        self.dot_reply = "250 2.0.0 Ok: queued as PEER1"
        self.dot_delay = 0.0        # seconds before answering the dot
        self.data_delay = 0.0       # seconds before answering DATA
        self.hang_after_greeting = None  # seconds to stay silent
        self.lock = threading.Lock()
        self.sessions = 0           # TCP sessions so far
        self.active = 0
        self.max_active = 0
        self.datas = 0              # DATA commands accepted
        self.dots = 0               # message contents fully received
        self.messages = []          # {"mail", "rcpt", "data"}
        self.commands = []
        self.server = None

    def ehlo_reply(self):
        if self.ehlo is not None:
            return self.ehlo
        caps = list(self.extensions)
        if self.pipelining:
            caps.append("PIPELINING")
        if self.size is not None:
            caps.append("SIZE %d" % self.size)
        lines = [self.name] + caps
        return "\r\n".join("250%s%s" % ("-" if i < len(lines) - 1 else " ", l)
                           for i, l in enumerate(lines))

    def session_start(self):
        with self.lock:
            self.sessions += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def session_end(self):
        with self.lock:
            self.active -= 1

    def log(self, cmd):
        with self.lock:
            self.commands.append(cmd)

    def data_seen(self):
        with self.lock:
            self.datas += 1

    def dot_arrived(self):
        with self.lock:
            self.dots += 1

    def record(self, txn):
        with self.lock:
            self.messages.append(txn)

    def start(self):
        self.server = _Server((self.addr, self.port), _Handler)
        self.server.peer = self
        th = threading.Thread(target=self.server.serve_forever, daemon=True)
        th.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def maildir_of(user):
    """The messages in a user's Maildir/new, as bytes."""
    d = os.path.join(pwd.getpwnam(user).pw_dir, "Maildir", "new")
    out = []
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            with open(os.path.join(d, f), "rb") as fh:
                out.append(fh.read())
    return out
