#!/usr/bin/env python3
"""Outbound TLS against scripted peers with real certificates (a test CA
made by openssl now) and a real DNS world with a DNSSEC-signed zone:
opportunistic STARTTLS is used when offered (Trusted with a certificate
from smtp_tls_cafile, Untrusted with another), mail goes in clear text to
a server without STARTTLS at may but is deferred at encrypt (4.7.4);
verify succeeds for the MX name and defers a certificate for another name
(4.7.5, nothing sent); secure with match=; DANE-EE and DANE-TA records of
a signed zone give Verified, a TLSA record that does not match defers
(4.7.5, never in clear text), a bogus TLSA RRset defers, an unsigned zone
falls back to opportunistic TLS; the policy table picks the levels."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsworld  # noqa: E402
from moattest import Instance, Tap, require_root  # noqa: E402
from peers import ScriptedPeer, TestCA, send_to  # noqa: E402

require_root()
dnsworld.enter_netns()
t = Tap()

ca = TestCA()
other = TestCA("Some Other CA")

# Peers: address -> (certificate, or None for no STARTTLS).
MAY = "127.0.0.21"       # mx.may.plain.test, certificate of the test CA
SELF = "127.0.0.22"      # a certificate of another CA
CLEAR = "127.0.0.23"     # no STARTTLS
BROKEN = "127.0.0.24"    # answers STARTTLS with text, not TLS
INJECT = "127.0.0.25"    # sends a line after its 220 to STARTTLS
DANE_OK = "127.0.0.31"   # TLSA 3 1 1 of its key
DANE_BAD = "127.0.0.32"  # TLSA 3 1 1 of some other key
DANE_TA = "127.0.0.33"   # TLSA 2 0 1 of the test CA, chain sent
DANE_BOGUS = "127.0.0.34"
DANE_PKIX = "127.0.0.35"  # only a PKIX-EE record: unusable for SMTP
certs = {
    MAY: ca.issue(["mx.may.plain.test"]),
    SELF: other.issue(["mx.self.plain.test"]),
    DANE_OK: other.issue(["anything.invalid"]),
    DANE_BAD: ca.issue(["mx-bad.dane.test"]),
    DANE_TA: ca.issue(["mx-ta.dane.test"], chain=True),
    DANE_BOGUS: ca.issue(["mx-bogus.dane.test"]),
}
wrong = ca.spki_sha256(ca.issue(["unused.dane.test"])[0])
bogus_tlsa = "3 1 1 %s" % ca.spki_sha256(certs[DANE_BOGUS][0])

w = dnsworld.DnsWorld()
z = w.zone("plain.test")
for dom, host in (("may", "mx.may"), ("self", "mx.self"), ("clear", "mx.clear"),
                  ("enc", "mx.clear"), ("verify", "mx.may"),
                  ("badname", "alias"), ("secure", "mx.may"),
                  ("insecure", "mx.may"), ("broken", "mx.broken"),
                  ("inject", "mx.inject")):
    z.add(dom, "MX", "10 %s.plain.test." % host)
z.add("mx.may", "A", MAY).add("alias", "A", MAY)
z.add("mx.self", "A", SELF).add("mx.clear", "A", CLEAR)
z.add("mx.broken", "A", BROKEN).add("mx.inject", "A", INJECT)
d = w.zone("dane.test", signed=True,
           tamper={bogus_tlsa: "3 1 1 %s" % wrong})
for name, addr in (("ok", DANE_OK), ("bad", DANE_BAD), ("ta", DANE_TA),
                   ("bogus", DANE_BOGUS), ("pkix", DANE_PKIX)):
    d.add(name, "MX", "10 mx-%s.dane.test." % name)
    d.add("mx-%s" % name, "A", addr)
d.add("_25._tcp.mx-ok", "TLSA", "3 1 1 %s" % ca.spki_sha256(certs[DANE_OK][0]))
d.add("_25._tcp.mx-bad", "TLSA", "3 1 1 %s" % wrong)
d.add("_25._tcp.mx-ta", "TLSA", "2 0 1 %s" % ca.cert_sha256())
d.add("_25._tcp.mx-bogus", "TLSA", bogus_tlsa)
d.add("_25._tcp.mx-pkix", "TLSA", "1 1 1 %s" % wrong)
w.start()

peers = {}
for addr in (MAY, SELF, CLEAR, BROKEN, INJECT, DANE_OK, DANE_BAD, DANE_TA,
             DANE_BOGUS, DANE_PKIX):
    p = ScriptedPeer(addr, name="peer-%s" % addr)
    p.tls = certs.get(addr, certs[MAY])
    p.tls_garbage = {BROKEN: "late", INJECT: "inject"}.get(addr)
    if addr == CLEAR:
        p.tls = None
    peers[addr] = p.start()

inst = Instance("tlsout", {
    "smtp_dns_resolver_address": w.resolver,
    "smtp_dns_trust_anchor_file": w.trust_anchor,
    "smtp_dns_timeout": "3s",
    "smtp_connect_timeout": "2s",
    "smtp_tls_cafile": ca.cert,
    "smtp_tls_policy_maps": "$config_directory/tls_policy",
    "smtp_connection_reuse_count_limit": "1",
})
with open(inst.path("conf", "tls_policy"), "w") as f:
    f.write("enc.plain.test encrypt\n"
            "inject.plain.test encrypt\n"
            "verify.plain.test verify\n"
            "badname.plain.test verify\n"
            "secure.plain.test secure match=.plain.test\n"
            "insecure.plain.test dane\n"
            ".dane.test dane\n")
good_policy = open(inst.path("conf", "tls_policy")).read()
with open(inst.path("conf", "tls_policy"), "a") as f:
    f.write("# a typo\nexample.org secure protocols=!SSLv3\n")
r = inst.moat("map", "build", inst.path("conf", "tls_policy"), check=False)
t.ok(r.returncode != 0 and "tls_policy:9: example.org: not a TLS policy: "
     "unknown attribute" in r.stderr,
     "moat map build refuses a policy table with a bad value, naming the "
     "file and line", r.stderr)
t.ok(not os.path.exists(inst.path("conf", "tls_policy.lmdb")),
     "and builds nothing")
with open(inst.path("conf", "tls_policy"), "w") as f:
    f.write(good_policy)
inst.moat("map", "build", inst.path("conf", "tls_policy"))
inst.start()


def send(rcpt):
    return send_to(inst, rcpt)


def got(peer, rcpt, timeout=20):
    return peer.got(rcpt, timeout)


def status(qid, rcpt, rx, timeout=20):
    return inst.wait_log(r"%s: to=<%s>, .*%s" % (qid, rcpt.replace(".", r"\."), rx),
                         timeout)


# --- may: STARTTLS when offered ------------------------------------------
qid = send("a@may.plain.test")
m = got(peers[MAY], "a@may.plain.test")
t.ok(m and m[0]["tls"], "may: the message went over TLS", inst.log()[-2000:])
t.ok(inst.wait_log(r"%s: Trusted TLS connection established to "
                   r"mx\.may\.plain\.test\[127\.0\.0\.21\]:25: TLSv1\.[23] with "
                   r"cipher \S+ \(\d+/\d+ bits\)" % qid),
     "the log says Trusted (a certificate of smtp_tls_cafile), Postfix's way")
t.ok(status(qid, "a@may.plain.test", r"dsn=2\.0\.0, status=sent"), "and sent")
ehlos = [c for c in peers[MAY].commands if c.startswith("EHLO")]
t.ok(len(ehlos) >= 2 and "STARTTLS" in peers[MAY].commands,
     "EHLO, STARTTLS, EHLO again", peers[MAY].commands[:6])

qid = send("b@self.plain.test")
m = got(peers[SELF], "b@self.plain.test")
t.ok(m and m[0]["tls"], "may: another CA's certificate is still used")
t.ok(inst.wait_log(r"%s: Untrusted TLS connection established to "
                   r"mx\.self\.plain\.test\[127\.0\.0\.22\]:25" % qid),
     "and the log says Untrusted")

qid = send("c@clear.plain.test")
m = got(peers[CLEAR], "c@clear.plain.test")
t.ok(m and not m[0]["tls"], "may: no STARTTLS offered, sent in clear text")

qid = send("c2@broken.plain.test")
m = got(peers[BROKEN], "c2@broken.plain.test")
t.ok(m and not m[0]["tls"] and peers[BROKEN].tls_failures == 1,
     "may: a failed handshake, then a new connection without STARTTLS",
     inst.log()[-2000:])
t.ok(inst.wait_log(r"%s: host mx\.broken\.plain\.test\[127\.0\.0\.24\]: "
                   r"Cannot start TLS: handshake failure.*; trying "
                   r"mx\.broken\.plain\.test\[127\.0\.0\.24\]:25 again "
                   r"without TLS" % qid),
     "and the log says so")

# --- encrypt: STARTTLS required ---------------------------------------------
qid = send("d@enc.plain.test")
t.ok(status(qid, "d@enc.plain.test", r"dsn=4\.7\.4, status=deferred \(TLS is "
            r"required, but was not offered by host mx\.clear\.plain\.test"),
     "encrypt: a server without STARTTLS defers the mail (4.7.4)",
     inst.log()[-2000:])
t.ok(not got(peers[CLEAR], "d@enc.plain.test", 1), "and it was not sent")
qid = send("d2@inject.plain.test")
t.ok(status(qid, "d2@inject.plain.test", r"dsn=4\.7\.5, status=deferred "
            r"\(Cannot start TLS: host mx\.inject\.plain\.test\[127\.0\.0\.25\] "
            r"sent more after its reply to STARTTLS\)"),
     "encrypt: bytes after the 220 to STARTTLS (an injection): deferred",
     inst.log()[-1500:])
t.ok(not got(peers[INJECT], "d2@inject.plain.test", 1) and
     not any(c.startswith("MAIL") for c in peers[INJECT].commands),
     "nothing sent, and no try in clear text", peers[INJECT].commands)

# --- verify and secure --------------------------------------------------
qid = send("e@verify.plain.test")
t.ok(inst.wait_log(r"%s: Verified TLS connection established to "
                   r"mx\.may\.plain\.test\[127\.0\.0\.21\]:25" % qid),
     "verify: the test CA and the MX name: Verified", inst.log()[-2000:])
t.ok(got(peers[MAY], "e@verify.plain.test"), "and delivered")

qid = send("f@badname.plain.test")
t.ok(status(qid, "f@badname.plain.test", r"dsn=4\.7\.5, status=deferred \("
            r"host alias\.plain\.test\[127\.0\.0\.21\]: Server certificate "
            r"not verified"),
     "verify: a certificate without the MX host's name defers (4.7.5)",
     inst.log()[-2000:])
t.ok(not got(peers[MAY], "f@badname.plain.test", 1), "and nothing is sent")

qid = send("g@secure.plain.test")
t.ok(inst.wait_log(r"%s: Verified TLS connection established to "
                   r"mx\.may\.plain\.test" % qid) and
     got(peers[MAY], "g@secure.plain.test"),
     "secure match=.plain.test: a subdomain's certificate is Verified")

# --- DANE -------------------------------------------------------------------
qid = send("h@ok.dane.test")
t.ok(inst.wait_log(r"%s: Verified TLS connection established to "
                   r"mx-ok\.dane\.test\[127\.0\.0\.31\]:25: .* \(DANE\)" % qid),
     "DANE-EE 3 1 1 of the server's key: Verified, though no CA signed it",
     inst.log()[-2000:])
t.ok(got(peers[DANE_OK], "h@ok.dane.test"), "and delivered")

qid = send("i@ta.dane.test")
t.ok(inst.wait_log(r"%s: Verified TLS connection established to "
                   r"mx-ta\.dane\.test\[127\.0\.0\.33\]:25: .* \(DANE\)" % qid)
     and got(peers[DANE_TA], "i@ta.dane.test"),
     "DANE-TA 2 0 1 of the issuing CA: Verified and delivered",
     inst.log()[-2000:])

qid = send("j@bad.dane.test")
t.ok(status(qid, "j@bad.dane.test", r"dsn=4\.7\.5, status=deferred \(host "
            r"mx-bad\.dane\.test\[127\.0\.0\.32\]: Server certificate not "
            r"verified"),
     "a TLSA record that matches nothing defers (4.7.5)", inst.log()[-2000:])
t.ok(peers[DANE_BAD].tls_sessions >= 1 and not peers[DANE_BAD].messages and
     not any(c.startswith("MAIL") for c in peers[DANE_BAD].commands),
     "the handshake happened, no MAIL FROM: never sent in clear text",
     peers[DANE_BAD].commands)

qid = send("k@bogus.dane.test")
t.ok(status(qid, "k@bogus.dane.test", r"dsn=4\.7\.5, status=deferred \(TLSA "
            r"lookup error"),
     "a bogus TLSA RRset defers (4.7.5)", inst.log()[-2000:])
t.ok(peers[DANE_BOGUS].sessions == 0, "without connecting to the host")

qid = send("k2@pkix.dane.test")
m = got(peers[DANE_PKIX], "k2@pkix.dane.test")
t.ok(m and m[0]["tls"] and inst.wait_log(
    r"%s: Trusted TLS connection established to mx-pkix\.dane\.test"
    r"\[127\.0\.0\.35\]:25: .*\(unusable TLSA records\)" % qid),
    "only a PKIX-EE record (unusable for SMTP): TLS without authentication",
    inst.log()[-1500:])

qid = send("l@insecure.plain.test")
m = got(peers[MAY], "l@insecure.plain.test")
t.ok(m and m[0]["tls"] and inst.wait_log(
    r"%s: Trusted TLS connection established to mx\.may\.plain\.test" % qid),
    "dane for an unsigned zone: opportunistic TLS, as may")

peers_list = list(peers.values())
for p in peers_list:
    p.stop()
inst.destroy()
t.done()
