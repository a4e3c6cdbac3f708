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
                With .tls it offers STARTTLS (Python's ssl module), with
                .auth it offers AUTH PLAIN and LOGIN and checks the user
                and password it was given.
And for TLS tests:
  TestCA        a certificate authority made at test time by openssl(1),
                issuing server certificates for given names
  PolicyServer  an HTTPS server (http.server and ssl) for MTA-STS
                policies at https://mta-sts.DOMAIN/.well-known/mta-sts.txt

Only the Python 3 standard library (and the openssl command) is used.
"""

import atexit
import base64
import hashlib
import http.server
import os
import pwd
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from moattest import TOP, Instance, queued_id, send_message, wait_for

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


class TestCA:
    """A certificate authority made now with openssl(1) in a directory of
    its own (removed at exit); issue() makes server certificates."""

    def __init__(self, name="Moat Test CA"):
        self.dir = tempfile.mkdtemp(prefix="moat-ca-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.key = os.path.join(self.dir, "ca.key")
        self.cert = os.path.join(self.dir, "ca.crt")
        self.n = 0
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                     self.key, "-out", self.cert, "-days", "2", "-subj",
                     "/CN=%s" % name, "-addext",
                     "basicConstraints=critical,CA:TRUE", "-addext",
                     "keyUsage=critical,keyCertSign,cRLSign")
        os.chmod(self.cert, 0o644)
        atexit.register(self.remove)

    def openssl(self, *args, data=None):
        r = subprocess.run(["openssl"] + list(args), input=data,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (args[0], r.stderr))
        return r.stdout

    def issue(self, names, chain=False):
        """A certificate for names (the first is the CN, all are SANs):
        (certfile, keyfile); chain: the CA certificate follows it."""
        self.n += 1
        base = os.path.join(self.dir, "s%d" % self.n)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" %
                    ",".join("DNS:%s" % n for n in names))
        self.openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                     base + ".key", "-out", base + ".csr", "-subj",
                     "/CN=%s" % names[0])
        self.openssl("x509", "-req", "-in", base + ".csr", "-CA", self.cert,
                     "-CAkey", self.key, "-set_serial", str(1000 + self.n),
                     "-days", "2", "-extfile", ext, "-out", base + ".crt")
        if chain:
            with open(base + ".crt", "ab") as out, open(self.cert, "rb") as f:
                out.write(f.read())
        return base + ".crt", base + ".key"

    def spki_sha256(self, certfile):
        """TLSA 3 1 1 (or 2 1 1) data of a certificate, in hex."""
        pem = self.openssl("x509", "-in", certfile, "-pubkey", "-noout")
        der = self.openssl("pkey", "-pubin", "-outform", "DER", data=pem)
        return hashlib.sha256(der).hexdigest()

    def cert_sha256(self, certfile=None):
        """TLSA x 0 1 data: the whole certificate's digest, in hex."""
        der = self.openssl("x509", "-in", certfile or self.cert,
                           "-outform", "DER")
        return hashlib.sha256(der).hexdigest()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def server_context(certkey):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certkey[0], certkey[1])
    return ctx


def _serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def _shut(server):
    if server is not None:
        server.shutdown()
        server.server_close()


def send_to(inst, rcpt, body=b"Subject: test\r\n\r\nhello\r\n",
            sender="alice@client.example"):
    """One message for rcpt into inst over SMTP; its queue ID, or None."""
    return queued_id(send_message(inst.port, sender, [rcpt], body))


class _Handler(socketserver.StreamRequestHandler):
    timeout = 120

    def send(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def starttls(self, peer):
        """STARTTLS: 220, then the handshake on the same socket."""
        self.send("220 2.0.0 Ready to start TLS")
        try:
            self.request = server_context(peer.tls).wrap_socket(
                self.request, server_side=True)
        except (OSError, ValueError):
            peer.count("tls_failures")
            raise
        self.rfile = self.request.makefile("rb")
        self.wfile = self.request.makefile("wb")
        peer.count("tls_sessions")

    def authenticate(self, peer, cmd, tls):
        """AUTH PLAIN (initial response or 334) and AUTH LOGIN; True when
        the user and password are the peer's."""
        words = cmd.split()
        mech = words[1].upper() if len(words) > 1 else ""
        try:
            if mech == "PLAIN":
                if len(words) > 2:
                    resp = words[2]
                else:
                    self.send("334 ")
                    resp = self.rfile.readline(4096).strip().decode()
                _, user, password = base64.b64decode(resp).split(b"\0")
            elif mech == "LOGIN":
                self.send("334 VXNlcm5hbWU6")
                user = base64.b64decode(self.rfile.readline(4096).strip())
                self.send("334 UGFzc3dvcmQ6")
                password = base64.b64decode(self.rfile.readline(4096).strip())
            else:
                self.send("504 5.5.4 Unrecognized authentication type")
                return False
        except ValueError:
            self.send("501 5.5.2 Cannot decode response")
            return False
        user, password = user.decode(), password.decode()
        peer.record_auth({"mech": mech, "user": user, "password": password,
                          "tls": tls})
        if peer.auth_reply is not None:
            self.send(peer.auth_reply)
            return peer.auth_reply.startswith("235")
        if (user, password) == peer.auth:
            self.send("235 2.7.0 Authentication successful")
            return True
        self.send("535 5.7.8 Error: authentication failed")
        return False

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
        tls = authed = False
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            peer.log(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.send(peer.ehlo_reply(tls))
            elif verb == "HELO":
                self.send("250 %s" % peer.name)
            elif verb == "STARTTLS" and peer.tls is not None and not tls:
                if peer.starttls_reply is not None:
                    self.send(peer.starttls_reply)
                    continue
                if peer.tls_garbage == "inject":
                    self.send("220 2.0.0 Ready to start TLS\r\n"
                              "250 injected before the handshake")
                    return
                if peer.tls_garbage == "late":
                    self.send("220 2.0.0 Ready to start TLS")
                    time.sleep(0.3)
                    self.send("this is not a TLS handshake")
                    peer.count("tls_failures")
                    return
                self.starttls(peer)
                tls, txn = True, None
            elif verb == "AUTH" and peer.auth_offered(tls) and not authed:
                authed = self.authenticate(peer, cmd, tls)
            elif verb == "MAIL" and peer.auth is not None and not authed:
                self.send("530 5.7.0 Authentication required")
            elif verb == "MAIL":
                txn = {"mail": cmd, "rcpt": [], "data": None, "tls": tls,
                       "auth": authed}
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
        self.tls = None             # (certfile, keyfile): offer STARTTLS
        self.starttls_reply = None  # a refusal instead of 220
        self.tls_garbage = None     # "late": 220, then text, not TLS;
        #                             "inject": a line with the 220
        self.auth = None            # (user, password): offer and want AUTH
        self.auth_in_clear = False  # offer AUTH before STARTTLS too
        self.auth_reply = None      # a fixed reply to AUTH (e.g. 535)
        self.tls_sessions = 0       # handshakes that succeeded
        self.tls_failures = 0       # and that failed
        self.auths = []             # {"mech", "user", "password", "tls"}
        self.auth_mechs = ["PLAIN", "LOGIN"]
        self.lock = threading.Lock()
        self.sessions = 0           # TCP sessions so far
        self.active = 0
        self.max_active = 0
        self.datas = 0              # DATA commands accepted
        self.dots = 0               # message contents fully received
        self.messages = []          # {"mail", "rcpt", "data"}
        self.commands = []
        self.server = None

    def auth_offered(self, tls):
        return self.auth is not None and (tls or self.auth_in_clear)

    def ehlo_reply(self, tls=False):
        if self.ehlo is not None:
            return self.ehlo
        caps = list(self.extensions)
        if self.pipelining:
            caps.append("PIPELINING")
        if self.size is not None:
            caps.append("SIZE %d" % self.size)
        if self.tls is not None and not tls:
            caps.append("STARTTLS")
        if self.auth_offered(tls):
            caps.append("AUTH %s" % " ".join(self.auth_mechs))
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

    def record_auth(self, a):
        with self.lock:
            self.auths.append(a)

    def count(self, attr):
        with self.lock:
            setattr(self, attr, getattr(self, attr) + 1)

    def got(self, rcpt, timeout=20):
        """The transactions that delivered to rcpt, once there is one or
        timeout seconds passed (an empty list)."""
        return wait_for(lambda: [m for m in self.messages
                                 if rcpt in m["rcpt"]], timeout) or []

    def start(self):
        self.server = _Server((self.addr, self.port), _Handler)
        self.server.peer = self
        _serve(self.server)
        return self

    def stop(self):
        _shut(self.server)
        self.server = None


class _PolicyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server.owner
        host = (self.headers.get("Host") or "").lower()
        with srv.lock:
            srv.requests.append((host, self.path))
        body = srv.policies.get(host)
        if self.path != "/.well-known/mta-sts.txt" or body is None:
            self.send_error(404)
            return
        body = body.encode()
        self.send_response(srv.status)
        self.send_header("Content-Type", srv.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class _PolicyHttp(socketserver.ThreadingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class PolicyServer:
    """HTTPS on ADDR:443 serving the MTA-STS policy of each host name in
    policies ({"mta-sts.example.test": "version: STSv1\n..."}) with the
    certificate certkey; it records every request as (host, path)."""

    def __init__(self, addr, certkey, policies, port=443):
        self.addr, self.port, self.certkey = addr, port, certkey
        self.policies = dict(policies)
        self.status = 200
        self.content_type = "text/plain"
        self.requests = []
        self.lock = threading.Lock()
        self.server = None

    def fetches(self, host):
        with self.lock:
            return sum(1 for h, _ in self.requests if h == host)

    def start(self):
        self.server = _PolicyHttp((self.addr, self.port), _PolicyHandler)
        self.server.owner = self
        self.server.socket = server_context(self.certkey).wrap_socket(
            self.server.socket, server_side=True)
        _serve(self.server)
        return self

    def stop(self):
        _shut(self.server)
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
