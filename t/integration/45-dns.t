#!/usr/bin/env python3
"""Moat's DNS layer (common/dns*.c, through build/t/dnsquery) against a real
DNS world in a private network namespace (dnsworld.py: nsd authoritative,
unbound recursive, a signed zone with TLSA records, a tampered one): MX
order and the spread of equal preferences, implicit and null MX, CNAMEs
with their canonical names, NXDOMAIN against SERVFAIL against a timeout
(the deadline holds), DNSSEC secure, insecure and bogus, A and AAAA with
smtp_address_preference, this host as MX, PTR and DNSBL answers, several
queries at once from an event loop, and the same lookups after a chroot
into an empty directory as an unprivileged user.  Prints the lookup
latency against the local resolver."""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsworld  # noqa: E402
from moattest import TOP, Tap  # noqa: E402

DNSQUERY = os.path.join(TOP, "build", "t", "dnsquery")
if not os.access(DNSQUERY, os.X_OK):
    print("1..0 # SKIP build/t/dnsquery is not built")
    sys.exit(0)
dnsworld.enter_netns()
t = Tap()
w = dnsworld.DnsWorld()

TLSA_DATA = "5f" * 32
p = w.zone("plain.test")
for pref, host in ((10, "mx1"), (10, "mx2"), (20, "mx3")):
    p.add("multi", "MX", "%d %s.plain.test." % (pref, host))
for i in (1, 2, 3):
    p.add("mx%d" % i, "A", "127.0.53.1%d" % i)
p.add("_25._tcp.mx1", "TLSA", "3 1 1 " + TLSA_DATA)
p.add("nomx", "A", "127.0.53.14")
p.add("null", "MX", "0 .")
p.add("alias", "CNAME", "alias2.plain.test.")
p.add("alias2", "CNAME", "multi.plain.test.")
p.add("cnmx", "MX", "10 mxalias.plain.test.")
p.add("mxalias", "CNAME", "mx1.plain.test.")
p.add("dual", "MX", "10 dualhost.plain.test.")
for a in ("127.0.53.15", "127.0.53.16"):
    p.add("dualhost", "A", a)
for a in ("fd53::15", "fd53::16"):
    p.add("dualhost", "AAAA", a)
p.add("loop", "MX", "10 self.plain.test.").add("loop", "MX", "20 mx3.plain.test.")
p.add("below", "MX", "5 mx1.plain.test.").add("below", "MX", "10 self.plain.test.")
p.add("below", "MX", "20 mx3.plain.test.")
p.add("loopaddr", "MX", "10 localmx.plain.test.")
p.add("localmx", "A", "127.0.0.1")
p.add("halfdead", "MX", "10 mx.lame.test.").add("halfdead", "MX", "20 mx3.plain.test.")
p.add("nohost", "MX", "10 gone.plain.test.")
p.add("_mta-sts", "TXT", '"v=STSv1; id=20240101"')
s = w.zone("signed.test", signed=True)
s.add("@", "MX", "10 mx.signed.test.")
s.add("mx", "A", "127.0.53.20").add("mx", "AAAA", "fd53::20")
s.add("_25._tcp.mx", "TLSA", "3 1 1 " + TLSA_DATA)
b = w.zone("bogus.test", signed=True,
           tamper={"127.0.53.30": "127.0.53.31", "3 1 1 " + TLSA_DATA:
                   "3 1 1 " + "6e" * 32})
b.add("@", "MX", "10 mx.bogus.test.").add("mx", "A", "127.0.53.30")
b.add("_25._tcp.mx", "TLSA", "3 1 1 " + TLSA_DATA)
w.delegate_dead("dead.test")
w.delegate_lame("lame.test")
bl = w.zone("dnsbl.test")
bl.add("2.0.0.127", "A", "127.0.0.2").add("2.0.0.127", "TXT", '"listed: see dnsbl.test"')
rev = w.zone("127.in-addr.arpa")
rev.add("11.53.0", "PTR", "mx1.plain.test.")
started = time.time()
w.start()
t.ok(True, "the DNS world started in %.2fs" % (time.time() - started))

BASE = ["-o", "smtp_dns_resolver_address=" + w.resolver,
        "-o", "smtp_dns_trust_anchor_file=" + w.trust_anchor,
        "-o", "smtp_dns_timeout=3s", "-o", "myhostname=self.plain.test"]


def dq(*args, opts=(), timeout=60):
    """dnsquery's output, its stderr and its run time."""
    t0 = time.time()
    r = subprocess.run([DNSQUERY] + BASE + list(opts) + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.stdout, r.stderr, time.time() - t0


def lookup(rtype, name, opts=()):
    return dq("lookup", rtype, name, opts=opts)[0]


def plan(domain, opts=(), host=False):
    return dq("host" if host else "mx", domain, opts=opts)[0]


# -- MX --------------------------------------------------------------------
out = lookup("MX", "multi.plain.test")
t.like(out, r"status=found dnssec=insecure rcode=0 .*count=3", "MX found, insecure")
firsts = {}
runs = dq("mx", "multi.plain.test", "60")[0]
plans = runs.split("plan=")[1:]
for one in plans:
    hosts = re.findall(r"target host=(\S+)", one)
    if hosts[-1:] != ["mx3.plain.test"] or len(hosts) != 3:
        break
    firsts[hosts[0]] = firsts.get(hosts[0], 0) + 1
t.is_eq(len(plans), 60, "60 plans for multi.plain.test")
t.ok(sum(firsts.values()) == 60, "the preference 20 host is always last")
t.ok(firsts.get("mx1.plain.test", 0) > 5 and firsts.get("mx2.plain.test", 0) > 5,
     "equal preferences are shuffled: first mx1 %d times, mx2 %d times"
     % (firsts.get("mx1.plain.test", 0), firsts.get("mx2.plain.test", 0)))
out = plan("nomx.plain.test")
t.like(out, r"plan=ok .*\ntarget host=nomx.plain.test addr=127.0.53.14 pref=0 "
       r"canon=nomx.plain.test flags=implicit,", "no MX: implicit MX")
out = plan("null.plain.test")
t.like(out, r"plan=bounce dsn=5.1.10 text=Domain null.plain.test does not "
       r"accept mail \(nullMX\)", "null MX bounces with 5.1.10")
out = plan("loop.plain.test")
t.like(out, r"plan=bounce dsn=5.4.6 text=mail for loop.plain.test loops back "
       r"to myself", "best MX named myhostname: a loop")
out = plan("below.plain.test")
t.ok(re.findall(r"target host=(\S+)", out) == ["mx1.plain.test"],
     "MX hosts at and below myhostname's preference are dropped", out)
out = plan("loopaddr.plain.test")
t.like(out, r"plan=bounce dsn=5.4.6", "best MX at this host's address (127.0.0.1): a loop")
out = plan("nohost.plain.test")
t.like(out, r"plan=bounce dsn=5.4.4 text=Host or domain name not found. Name "
       r"service error for name=gone.plain.test type=A: Host not found",
       "an MX host that does not exist: bounce")

# -- CNAME -------------------------------------------------------------------
out = lookup("MX", "alias.plain.test")
t.like(out, r"status=found .*qname=alias.plain.test canon=multi.plain.test count=3",
       "CNAME chain followed, canonical name exposed")
out = plan("cnmx.plain.test")
t.like(out, r"target host=mxalias.plain.test addr=127.0.53.11 pref=10 "
       r"canon=mx1.plain.test", "an MX host behind a CNAME: its canonical name")

# -- NXDOMAIN, SERVFAIL, timeout ----------------------------------------------
out = lookup("A", "nosuch.plain.test")
t.like(out, r"status=nxdomain dnssec=insecure rcode=3", "NXDOMAIN")
out = plan("nosuch.plain.test")
t.like(out, r"plan=bounce dsn=5.4.4 text=Host or domain name not found. Name "
       r"service error for name=nosuch.plain.test type=MX: Host not found$",
       "a domain that does not exist bounces")
out, err, took = dq("lookup", "A", "x.lame.test")
t.like(out, r"status=tempfail .*rcode=2 .*why=SERVFAIL", "a lame delegation: SERVFAIL")
t.ok(took < 2.5, "SERVFAIL comes at once (%.2fs)" % took)
out = plan("lame.test")
t.like(out, r"plan=defer dsn=4.4.3 text=Host or domain name not found. Name "
       r"service error for name=lame.test type=MX: Host not found, try again",
       "SERVFAIL on the MX lookup defers")
out = plan("halfdead.plain.test")
t.ok(re.findall(r"target host=(\S+)", out) == ["mx3.plain.test"],
     "an MX host whose lookup fails is skipped", out)
out, err, took = dq("lookup", "A", "x.dead.test", opts=["-o", "smtp_dns_timeout=2s"])
t.like(out, r"status=tempfail .*why=timeout", "a resolver slower than the deadline: timeout")
t.ok(1.8 < took < 3.5, "the 2s deadline holds (%.2fs)" % took)
hole = w.blackhole()
out, err, took = dq("lookup", "MX", "multi.plain.test",
                    opts=["-o", "smtp_dns_resolver_address=" + hole,
                          "-o", "smtp_dns_timeout=2s"])
t.like(out, r"status=tempfail .*why=timeout", "a resolver that never answers: timeout")
t.ok(1.8 < took < 3.5, "the deadline holds there too (%.2fs)" % took)
out, err, took = dq("mx", "multi.plain.test",
                    opts=["-o", "smtp_dns_resolver_address=" + hole,
                          "-o", "smtp_dns_timeout=1s"])
t.like(out, r"plan=defer dsn=4.4.3", "no answer at all: the delivery defers")

# -- DNSSEC ------------------------------------------------------------------
out = lookup("TLSA", "_25._tcp.mx.signed.test")
t.like(out, r"status=found dnssec=secure .*count=1\nTLSA 3 1 1 %s\n" % TLSA_DATA,
       "TLSA in the signed zone: secure, fields decoded")
out = plan("signed.test")
t.like(out, r"target host=mx.signed.test addr=fd53::20 .*flags=mx-secure,addr-secure,",
       "MX and address of the signed zone flagged secure (IPv6 first)")
out = lookup("TLSA", "_25._tcp.mx1.plain.test")
t.like(out, r"status=found dnssec=insecure .*\nTLSA 3 1 1 %s" % TLSA_DATA,
       "TLSA in an unsigned zone (provably insecure delegation): insecure")
out = lookup("TLSA", "_25._tcp.mx.bogus.test")
t.like(out, r"status=tempfail dnssec=bogus .*why=DNSSEC validation failed",
       "a TLSA record with a broken signature: bogus, a temporary failure")
out = lookup("MX", "bogus.test")
t.like(out, r"status=found dnssec=secure", "the bogus zone's untouched MX still validates")
out = plan("bogus.test")
t.like(out, r"plan=defer dsn=4.4.3 .*name=mx.bogus.test type=A",
       "its MX host's bogus address: skipped, nothing left, defer")
out, err, _ = dq("lookup", "TLSA", "_25._tcp.mx.signed.test",
                 opts=["-o", "smtp_dns_trust_anchor_file=/nonexistent/root.key"])
t.like(out, r"status=found dnssec=insecure", "without a trust anchor file: insecure")
t.like(err, r"no DNSSEC validation: trust anchor file /nonexistent/root.key",
       "and the log says so")
bad = os.path.join(w.dir, "bad.key")
with open(bad, "w") as f:
    f.write("this is not a trust anchor\n")
out, err, _ = dq("lookup", "A", "mx1.plain.test",
                 opts=["-o", "smtp_dns_trust_anchor_file=" + bad])
t.like(err, r"dns_open: libunbound: .*trust anchor file %s" % re.escape(bad),
       "an unreadable trust anchor file stops the start, named")

# -- addresses ------------------------------------------------------------------
order = {}
for pref in ("any", "ipv6", "ipv4"):
    out = plan("dual.plain.test", opts=["-o", "smtp_address_preference=" + pref])
    addrs = re.findall(r"addr=(\S+)", out)
    order[pref] = " ".join("6" if ":" in a else "4" for a in addrs)
    if pref == "any":
        t.is_eq(sorted(addrs), ["127.0.53.15", "127.0.53.16", "fd53::15", "fd53::16"],
                "every address of the MX host, once")
t.is_eq(order["any"], "6 4 6 4", "smtp_address_preference=any: interleaved, IPv6 first")
t.is_eq(order["ipv6"], "6 6 4 4", "ipv6: IPv6 first")
t.is_eq(order["ipv4"], "4 4 6 6", "ipv4: IPv4 first")
out = plan("dual.plain.test", opts=["-o", "smtp_mx_address_limit=3"])
t.is_eq(len(re.findall(r"addr=", out)), 3, "smtp_mx_address_limit=3")
out = plan("dualhost.plain.test", host=True)
t.like(out, r"plan=ok .*\ntarget host=dualhost.plain.test addr=fd53::1[56] ",
       "a [host] next hop: no MX lookup, its addresses")
out, err, _ = dq("mx", "multi.plain.test", opts=["-o", "smtp_address_preference=both"])
t.like(err, r"smtp_address_preference: expected any, ipv6 or ipv4", "a bad preference is named")
out, err, _ = dq("lookup", "A", "mx1.plain.test",
                 opts=["-o", "smtp_dns_resolver_address=resolver.example"])
t.like(err, r"smtp_dns_resolver_address: \"resolver.example\" is not an IP address",
       "a resolver that is not an address is named")
out = lookup("A", "mx1.plain.test", opts=["-o", "smtp_dns_resolver_address=%s:53" % w.resolver])
t.like(out, r"status=found .*\nA 127.0.53.11", "a resolver given as IP:port")

# -- smtpd's lookups (issue 10): PTR, DNSBL, TXT -------------------------------
out = lookup("PTR", "11.53.0.127.in-addr.arpa")
t.like(out, r"status=found .*\nPTR mx1.plain.test\n",
       "PTR for 127.0.53.11 (libunbound's built-in 127/8 zone is bypassed)")
out = lookup("A", "2.0.0.127.dnsbl.test")
t.like(out, r"\nA 127.0.0.2\n", "a DNSBL listing")
out = lookup("TXT", "2.0.0.127.dnsbl.test")
t.like(out, r'\nTXT "listed: see dnsbl.test"\n', "the DNSBL's reply text")
out = lookup("TXT", "_mta-sts.plain.test")
t.like(out, r'\nTXT "v=STSv1; id=20240101"\n', "the _mta-sts TXT record")
out = lookup("A", "bad name.plain.test")
t.like(out, r"status=badname", "a name that is no host name is not asked")

# -- asynchronous ------------------------------------------------------------
out, err, took = dq("async", "A:x.dead.test", "MX:multi.plain.test",
                    "!A:mx2.plain.test", "TLSA:_25._tcp.mx.signed.test",
                    "PTR:11.53.0.127.in-addr.arpa", "A:nosuch.plain.test",
                    "A:bad..name", opts=["-o", "smtp_dns_timeout=2s"])
answered = re.findall(r"^query=(\S+) status=(\S+)", out, re.M)
t.like(out, r"started=7 pending=6", "7 queries started at once, 1 cancelled")
t.is_eq(sorted(q for q, _ in answered),
        sorted(["A:x.dead.test", "MX:multi.plain.test", "TLSA:_25._tcp.mx.signed.test",
                "PTR:11.53.0.127.in-addr.arpa", "A:nosuch.plain.test", "A:bad..name"]),
        "every query but the cancelled one answered once")
t.is_eq(answered[-1:], [("A:x.dead.test", "tempfail")],
        "the slow one times out last, after the others were answered")
t.like(out, r"query=TLSA:_25._tcp.mx.signed.test status=found dnssec=secure",
       "validation from the event loop")
t.ok(took < 4, "all within one deadline (%.2fs)" % took)

# -- after a chroot and a privilege drop ---------------------------------------
jail = tempfile.mkdtemp(prefix="moat-dnsjail-", dir="/tmp")
os.chmod(jail, 0o755)
opts = ["-u", "nobody", "-r", jail]
out, err, _ = dq("lookup", "TLSA", "_25._tcp.mx.signed.test", opts=opts)
t.like(out, r"^dropped uid=65534 chroot=%s\n" % re.escape(jail),
       "dnsquery chrooted into an empty directory as nobody")
t.like(out, r"status=found dnssec=secure .*\nTLSA 3 1 1 %s" % TLSA_DATA,
       "then a validated TLSA lookup works (libunbound needs no file there)")
t.is_eq(err, "", "and nothing is logged")
out, err, _ = dq("mx", "multi.plain.test", opts=opts)
t.ok(len(re.findall(r"target host=", out)) == 3, "an MX plan in the chroot", out)
out, err, _ = dq("lookup", "A", "mx.bogus.test", opts=opts)
t.like(out, r"status=tempfail dnssec=bogus", "bogus is still bogus there")
out, err, _ = dq("async", "MX:multi.plain.test", "A:x.lame.test", opts=opts)
t.ok(len(re.findall(r"^query=", out, re.M)) == 2, "the event-loop interface in the chroot", out)
t.is_eq(os.listdir(jail), [], "nothing was written into the chroot")
os.rmdir(jail)

# -- latency -------------------------------------------------------------------
out = dq("-t", "lookup", "A", "mx1.plain.test", "200")[0]
us = [int(x) for x in re.findall(r"time us=(\d+)", out)]
out = dq("-t", "lookup", "A", "%d.plain.test", "200")[0]
miss_us = [int(x) for x in re.findall(r"time us=(\d+)", out)]
out = dq("-t", "mx", "multi.plain.test", "100")[0]
plan_us = [int(x) for x in re.findall(r"time us=(\d+)", out)]
if len(us) == 200 and len(plan_us) == 100 and len(miss_us) == 200:
    t.ok(True, "lookup latency: the first A lookup %d us (thread start, "
         "cache empty); names new to libunbound (resolver -> nsd -> NXDOMAIN) "
         "median %d us, p90 %d us; repeated (libunbound's cache) median %d us; "
         "a cached MX plan (MX + 3x A + 3x AAAA) median %d us"
         % (us[0], statistics.median(miss_us[1:]),
            sorted(miss_us[1:])[int(len(miss_us) * 0.9)],
            statistics.median(us[1:]), statistics.median(plan_us[1:])))
else:
    t.ok(False, "latency runs printed their times", out)
w.stop()
t.done()
