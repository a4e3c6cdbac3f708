"""dnsworld: a private DNS for integration tests, made at test time.

The test runs in a network namespace of its own (enter_netns(): the .t file
re-execs itself under `unshare -n` and brings lo up), where every 127.x
address is usable and nothing leaves the machine.  In it:

  127.0.53.1  nsd, authoritative for every zone of the world
  127.0.53.2  unbound, a recursive resolver (not validating) with stub
              zones pointing at nsd: what smtp_dns_resolver_address names
              (resolver), as a host's resolv.conf would name its resolver
  127.0.53.4  a second nsd without zones, which refuses every query: the
              server of lame delegations (SERVFAIL at the resolver)

The zone "test." is the top of the world: it is DNSSEC-signed, and every
zone below it is delegated from it (with a DS record when the child is
signed), so its key is the one trust anchor (trust_anchor: a file for
smtp_dns_trust_anchor_file), as the root's key is on the Internet.  Keys are
made at start with ldns-keygen and zones signed with ldns-signzone.  Other
apexes (127.in-addr.arpa) are stub zones of their own, unsigned.

    world = DnsWorld()
    z = world.zone("peer.test", signed=True)
    z.add("@", "MX", "10 mx.peer.test.")
    z.add("mx", "A", "127.0.0.25")
    world.start()            # writes, signs, starts, waits until it answers
    ... world.resolver, world.trust_anchor, world.resolv_conf ...
    world.stop()             # also at exit

Later tests start peer MTAs on other 127.x addresses in the same namespace
(mount world.resolv_conf over /etc/resolv.conf in a mount namespace for
programs that use the system's resolver).  nsd and unbound come from
Debian's packages, unpacked into build/dnsworld by `make dnsworld`.

Only the Python 3 standard library is used; answers are read with drill
(ldnsutils), never parsed here.
"""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVERS = os.path.join(TOP, "build", "dnsworld", "usr", "sbin")
NSD = os.path.join(SERVERS, "nsd")
UNBOUND = os.path.join(SERVERS, "unbound")
AUTH_ADDR = "127.0.53.1"
RESOLVER_ADDR = "127.0.53.2"
LAME_ADDR = "127.0.53.4"
TOOLS = ("ldns-keygen", "ldns-signzone", "drill", "ip", "unshare")


def missing_tools():
    """What this machine lacks for a DNS world (empty: nothing)."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    missing += [p for p in (NSD, UNBOUND) if not os.access(p, os.X_OK)]
    return missing


def skip(reason):
    print("1..0 # SKIP %s" % reason)
    sys.exit(0)


def enter_netns():
    """Run the rest of this test in a new network namespace with lo up.
    Re-executes the script under `unshare -n` the first time; SKIPs when
    that is impossible (not root, no tools)."""
    if os.geteuid() != 0:
        skip("needs root: a network namespace and DNS servers on port 53")
    missing = missing_tools()
    if missing:
        skip("the DNS world needs %s (make dnsworld; apt-get install "
             "ldnsutils iproute2)" % ", ".join(missing))
    if os.environ.get("MOAT_DNSWORLD_NETNS") != "1":
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
        if probe.returncode != 0:
            skip("unshare -n fails here: %s" % probe.stderr.decode().strip())
        os.environ["MOAT_DNSWORLD_NETNS"] = "1"
        sys.stdout.flush()
        os.execvp("unshare", ["unshare", "-n", "--", sys.executable]
                  + sys.argv)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


class Zone:
    """A zone's records, written as a zone file at start."""

    def __init__(self, world, name, signed, tamper):
        self.world = world
        self.name = name.rstrip(".").lower()
        self.signed = signed
        self.tamper = tamper or {}
        self.records = []
        self.ds = None

    def fqdn(self, owner):
        if owner == "@":
            return self.name + "."
        if owner.endswith("."):
            return owner
        return "%s.%s." % (owner, self.name)

    def add(self, owner, rtype, rdata, ttl=300):
        """A record; owner relative to the zone, "@", or absolute with a
        trailing dot; rdata in zone file syntax."""
        self.records.append((self.fqdn(owner), ttl, rtype, rdata))
        return self

    def text(self):
        lines = ["$ORIGIN %s." % self.name, "$TTL 300",
                 "@ SOA ns.test. hostmaster.test. 1 3600 600 86400 60",
                 "@ NS ns.test."]
        for owner, ttl, rtype, rdata in self.records:
            lines.append("%s %d IN %s %s" % (owner, ttl, rtype, rdata))
        return "\n".join(lines) + "\n"


class DnsWorld:
    """nsd and unbound serving test zones in this network namespace."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="moat-dnsworld-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.zones = {}
        self.dead = {}
        self.procs = []
        self.blackholes = []
        self.auth = AUTH_ADDR
        self.resolver = RESOLVER_ADDR
        self.trust_anchor = os.path.join(self.dir, "trust-anchor.ds")
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        self.top = self.zone("test", signed=True)
        self.top.add("ns", "A", AUTH_ADDR)
        atexit.register(self.stop)

    # -- building the world --------------------------------------------------
    def zone(self, name, signed=False, tamper=None):
        """A zone (created once).  signed: DNSSEC-signed with a key made at
        start and a DS in its parent.  tamper: {"old rdata": "new rdata"}
        replaced in the signed zone, so those records fail validation."""
        name = name.rstrip(".").lower()
        if name not in self.zones:
            self.zones[name] = Zone(self, name, signed, tamper)
        return self.zones[name]

    def delegate_dead(self, name, addr="127.0.53.99"):
        """A delegation from test. to a server at addr that never runs:
        the resolver tries it for many seconds before its SERVFAIL, so a
        lookup below name meets Moat's deadline first (a slow timeout)."""
        self.dead[name.rstrip(".").lower()] = addr

    def delegate_lame(self, name):
        """A delegation from test. to a server that refuses the zone (a
        second nsd, at LAME_ADDR, with no zones): the resolver answers
        SERVFAIL at once."""
        self.dead[name.rstrip(".").lower()] = LAME_ADDR

    def blackhole(self, addr="127.0.53.9", port=53):
        """A UDP and TCP server at addr:port that reads queries and never
        answers: a resolver address for timeouts."""
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((addr, port))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((addr, port))
        tcp.listen(16)
        self.blackholes += [udp, tcp]

        def swallow():
            while True:
                try:
                    udp.recvfrom(4096)
                except OSError:
                    return
        threading.Thread(target=swallow, daemon=True).start()
        return "%s:%d" % (addr, port)

    def parent_of(self, name):
        """The nearest zone of the world above name, or None."""
        labels = name.split(".")
        for i in range(1, len(labels)):
            cand = ".".join(labels[i:])
            if cand in self.zones:
                return self.zones[cand]
        return None

    # -- start and stop --------------------------------------------------
    def run(self, args):
        r = subprocess.run(args, cwd=self.dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s%s" % (" ".join(args), r.stdout,
                                                    r.stderr))
        return r.stdout

    def sign(self, zone, path):
        key = self.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k",
                        zone.name]).strip()
        self.run(["ldns-signzone", "-o", zone.name, "-f", path + ".signed",
                  path, key])
        with open(os.path.join(self.dir, key + ".ds")) as f:
            zone.ds = f.read().split()[3:]  # tag alg digest-type digest
        if zone.tamper:
            with open(path + ".signed") as f:
                text = f.read()
            for old, new in zone.tamper.items():
                if old not in text:
                    raise RuntimeError("tamper: %r not in %s" % (old, zone.name))
                text = text.replace(old, new)
            with open(path + ".signed", "w") as f:
                f.write(text)
        return path + ".signed"

    def write_zones(self):
        """Zone files, children first, so each parent gets its DS records."""
        for name, addr in self.dead.items():
            parent = self.parent_of(name)
            parent.add(name + ".", "NS", "ns.%s." % name)
            parent.add("ns.%s." % name, "A", addr)
        files = {}
        for name in sorted(self.zones, key=lambda n: -n.count(".")):
            zone = self.zones[name]
            parent = self.parent_of(name)
            if parent is not None:
                parent.add(name + ".", "NS", "ns.test.")
            path = os.path.join(self.dir, name + ".zone")
            with open(path, "w") as f:
                f.write(zone.text())
            if zone.signed:
                path = self.sign(zone, path)
            if parent is not None and zone.ds:
                parent.add(name + ".", "DS", " ".join(zone.ds))
            files[name] = path
        with open(self.trust_anchor, "w") as f:
            f.write("test. IN DS %s\n" % " ".join(self.top.ds))
        return files

    def write_nsd_conf(self, files, tag="nsd", addr=AUTH_ADDR):
        conf = os.path.join(self.dir, tag + ".conf")
        d = os.path.join(self.dir, tag)
        os.makedirs(d, exist_ok=True)
        lines = ["server:", "  ip-address: %s" % addr, "  port: 53",
                 '  username: ""', '  chroot: ""', '  database: ""',
                 "  zonesdir: %s" % self.dir,
                 "  pidfile: %s/nsd.pid" % d,
                 "  logfile: %s/nsd.log" % d,
                 "  xfrdfile: %s/xfrd.state" % d,
                 "  xfrdir: %s" % d,
                 "  zonelistfile: %s/zone.list" % d,
                 "  server-count: 1", "  verbosity: 1",
                 "remote-control:", "  control-enable: no"]
        for name, path in files.items():
            lines += ["zone:", "  name: %s." % name, "  zonefile: %s" % path]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return conf

    def write_unbound_conf(self):
        conf = os.path.join(self.dir, "unbound.conf")
        stubs = [n for n in self.zones if self.parent_of(n) is None]
        lines = ["server:", "  interface: %s" % RESOLVER_ADDR, "  port: 53",
                 '  username: ""', '  chroot: ""',
                 "  directory: %s" % self.dir,
                 "  pidfile: %s/unbound.pid" % self.dir,
                 "  logfile: %s/unbound.log" % self.dir,
                 "  use-syslog: no", "  do-daemonize: no",
                 "  verbosity: 1", "  num-threads: 1",
                 "  access-control: 127.0.0.0/8 allow",
                 "  do-not-query-localhost: no",
                 "  module-config: \"iterator\"",
                 "  qname-minimisation: no",
                 "  do-ip6: no",
                 "  cache-max-ttl: 5",
                 "  cache-max-negative-ttl: 5",
                 "remote-control:", "  control-enable: no"]
        for name in stubs:
            lines.insert(1, '  local-zone: "%s." nodefault' % name)
            lines += ["stub-zone:", "  name: %s." % name,
                      "  stub-addr: %s" % AUTH_ADDR]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return conf

    def start(self, timeout=20.0):
        files = self.write_zones()
        nsd_conf = self.write_nsd_conf(files)
        unbound_conf = self.write_unbound_conf()
        with open(self.resolv_conf, "w") as f:
            f.write("nameserver %s\n" % RESOLVER_ADDR)
        lame_conf = self.write_nsd_conf({}, "lame", LAME_ADDR)
        self.procs.append(self.spawn([NSD, "-d", "-c", nsd_conf], "nsd"))
        self.procs.append(self.spawn([NSD, "-d", "-c", lame_conf], "lame"))
        self.wait_answers(AUTH_ADDR, "test.", timeout)
        self.procs.append(self.spawn([UNBOUND, "-d", "-c", unbound_conf],
                                     "unbound"))
        self.wait_answers(RESOLVER_ADDR, "test.", timeout)
        return self

    def spawn(self, argv, name):
        log = open(os.path.join(self.dir, name + ".out"), "w")
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)

    def answers(self, server, name, rtype="SOA"):
        """drill's answer for name at server, or None when it failed."""
        r = subprocess.run(["drill", "-Q", "@" + server, name, rtype],
                           capture_output=True, text=True, timeout=10)
        return r.stdout if r.returncode == 0 and r.stdout.strip() else None

    @staticmethod
    def listening(addr, port=53):
        """1 when some process has a UDP socket bound to addr:port (drill
        waits seconds for an answer that an unbound port never gives)."""
        want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(addr),
                                             "little"), port)
        with open("/proc/net/udp") as f:
            return any(line.split()[1] == want for line in f.readlines()[1:])

    def wait_answers(self, server, name, timeout):
        end = time.time() + timeout
        while time.time() < end:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError("DNS server exited: %s" % self.logs())
            if self.listening(server) and self.answers(server, name):
                return
            time.sleep(0.05)
        raise RuntimeError("no answer from %s:\n%s" % (server, self.logs()))

    def logs(self):
        out = []
        for name in ("nsd.out", "nsd/nsd.log", "lame.out", "lame/nsd.log",
                     "unbound.out", "unbound.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    out.append("== %s\n%s" % (name, f.read()[-3000:]))
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        for s in self.blackholes:
            s.close()
        self.blackholes = []
        if os.environ.get("MOAT_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
