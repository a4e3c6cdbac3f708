#!/usr/bin/env python3
"""MTA-STS (RFC 8461) against a real HTTPS policy server on
mta-sts.DOMAIN:443 (http.server and ssl, a certificate of the test CA)
and a DNS world with _mta-sts TXT records: a domain whose enforced policy
lists its MX is delivered over verified TLS; one whose MX is not in its
policy is deferred (4.7.5) without a connection; a testing policy only
logs; the policy is kept in spool/mta-sts and a second delivery does not
fetch it again; a new id in the TXT record fetches it anew; a domain
without a TXT record gets no policy (opportunistic TLS)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsworld  # noqa: E402
from moattest import Instance, Tap, require_root  # noqa: E402
from peers import PolicyServer, ScriptedPeer, TestCA, send_to  # noqa: E402

require_root()
dnsworld.enter_netns()
t = Tap()

ca = TestCA()
MX = "127.0.0.41"      # mx.sts.test: listed in the policies
OTHER = "127.0.0.42"   # mx-other.sts.test: listed in none
HTTPS = "127.0.0.45"   # mta-sts.*.sts.test

w = dnsworld.DnsWorld()
z = w.zone("sts.test")
z.add("mx", "A", MX).add("mx-other", "A", OTHER)
for dom, mx, rid in (("good", "mx", "id1"), ("bad", "mx-other", "id1"),
                     ("test", "mx-other", "id7"), ("renew", "mx", "two")):
    z.add(dom, "MX", "10 %s.sts.test." % mx)
    z.add("_mta-sts.%s" % dom, "TXT", '"v=STSv1; id=%s;"' % rid)
    z.add("mta-sts.%s" % dom, "A", HTTPS)
z.add("none", "MX", "10 mx.sts.test.")
w.start()

hosts = ["mta-sts.%s.sts.test" % d for d in ("good", "bad", "test", "renew")]
POLICY = "version: STSv1\r\nmode: %s\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n"
policy = PolicyServer(HTTPS, ca.issue(hosts), {
    "mta-sts.good.sts.test": POLICY % "enforce",
    "mta-sts.bad.sts.test": POLICY % "enforce",
    "mta-sts.test.sts.test": POLICY % "testing",
    "mta-sts.renew.sts.test": POLICY % "enforce",
}).start()
peers = {}
for addr, name in ((MX, "mx.sts.test"), (OTHER, "mx-other.sts.test")):
    p = ScriptedPeer(addr, name=name)
    p.tls = ca.issue([name])
    peers[addr] = p.start()

inst = Instance("mtasts", {
    "smtp_dns_resolver_address": w.resolver,
    "smtp_dns_trust_anchor_file": w.trust_anchor,
    "smtp_dns_timeout": "3s",
    "smtp_connect_timeout": "2s",
    "smtp_tls_cafile": ca.cert,
    "smtp_mta_sts_timeout": "5s",
    # A new session, and so a new policy lookup, for every message.
    "smtp_connection_reuse_count_limit": "1",
})
inst.start()


def send(rcpt):
    return send_to(inst, rcpt)


def got(peer, rcpt, timeout=20):
    return peer.got(rcpt, timeout)


qid = send("a@good.sts.test")
m = got(peers[MX], "a@good.sts.test")
t.ok(m and m[0]["tls"], "enforce, MX listed: delivered over TLS",
     inst.log()[-2000:])
t.ok(inst.wait_log(r"%s: MTA-STS policy of good\.sts\.test: mode=enforce, "
                   r"max_age=86400, mx=1, id=id1 \(fetched\)" % qid),
     "the policy was fetched over HTTPS and logged")
t.ok(inst.wait_log(r"%s: Verified TLS connection established to "
                   r"mx\.sts\.test\[127\.0\.0\.41\]:25: .*\(MTA-STS\)" % qid),
     "the MX host's certificate was verified for its name")
t.is_eq(policy.fetches("mta-sts.good.sts.test"), 1, "one fetch so far")
cache = inst.path("spool", "mta-sts", "good.sts.test")
t.ok(os.path.isfile(cache) and oct(os.stat(cache).st_mode & 0o777) == "0o600",
     "the policy is kept in spool/mta-sts, mode 600")

qid = send("b@good.sts.test")
t.ok(got(peers[MX], "b@good.sts.test"), "a second message is delivered")
t.is_eq(policy.fetches("mta-sts.good.sts.test"), 1,
        "from the kept policy: no second fetch")

qid = send("c@bad.sts.test")
t.ok(inst.wait_log(r"%s: to=<c@bad\.sts\.test>, relay=none, .*dsn=4\.7\.5, "
                   r"status=deferred \(MX host mx-other\.sts\.test does not "
                   r"match the MTA-STS policy of bad\.sts\.test \(mode "
                   r"enforce\)\)" % qid),
     "enforce, MX not listed: deferred (4.7.5)", inst.log()[-2000:])
t.is_eq(peers[OTHER].sessions, 0, "and the unlisted MX was never contacted")

qid = send("d@test.sts.test")
t.ok(got(peers[OTHER], "d@test.sts.test"),
     "testing, MX not listed: delivered anyway", inst.log()[-2000:])
t.ok(inst.wait_log(r"%s: MTA-STS policy of test\.sts\.test \(testing\): MX "
                   r"host mx-other\.sts\.test is not in the policy" % qid),
     "and the mismatch is logged")

qid = send("e@none.sts.test")
m = got(peers[MX], "e@none.sts.test")
t.ok(m and m[0]["tls"] and inst.wait_log(
    r"%s: Trusted TLS connection established to mx\.sts\.test" % qid),
    "no TXT record: no policy, opportunistic TLS")

qid = send("f@renew.sts.test")
t.ok(got(peers[MX], "f@renew.sts.test"), "renew.sts.test: delivered")
t.is_eq(policy.fetches("mta-sts.renew.sts.test"), 1, "after one fetch")
# A policy kept under another id is fetched again.
path = inst.path("spool", "mta-sts", "renew.sts.test")
with open(path) as f:
    text = f.read()
with open(path, "w") as f:
    f.write(text.replace(" two ", " one ", 1))
qid = send("g@renew.sts.test")
t.ok(got(peers[MX], "g@renew.sts.test") and
     policy.fetches("mta-sts.renew.sts.test") == 2,
     "a kept policy whose id is not the record's: fetched again",
     policy.requests)

# A damaged cache file is ignored (and replaced by a fetch).
with open(path, "w") as f:
    f.write("moat-mta-sts 1 renew.sts.test two 1 2 5\nversion")
qid = send("h@renew.sts.test")
t.ok(got(peers[MX], "h@renew.sts.test") and
     policy.fetches("mta-sts.renew.sts.test") == 3,
     "a damaged cache file is ignored, the policy fetched")
t.ok(inst.wait_log(r"MTA-STS cache mta-sts/renew\.sts\.test: .*; ignored"),
     "and the damage logged")

for p in peers.values():
    p.stop()
policy.stop()
inst.destroy()
t.done()
