#!/usr/bin/env python3
"""Remote delivery by MX, against a real DNS world and real peers in a
network namespace of the test's own: mail goes to the best MX; equal
preferences share the load; a dead first MX falls back to the second; a
domain without MX is delivered to its own address (implicit MX); a null
MX bounces at once with 5.1.10; a domain that does not exist bounces
(5.4.4); a name server that does not answer defers (4.4.3); an MX that is
this host is a loop (5.4.6); the bounces carry the reason."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsworld  # noqa: E402
from moattest import Instance, Tap, queued_id, require_root, send_message, wait_for  # noqa: E402
from peers import ScriptedPeer  # noqa: E402

require_root()
dnsworld.enter_netns()
t = Tap()

w = dnsworld.DnsWorld()
z = w.zone("mx.test", signed=True)
z.add("best", "MX", "10 mx1.mx.test.").add("best", "MX", "20 mx2.mx.test.")
z.add("equal", "MX", "10 mx1.mx.test.").add("equal", "MX", "10 mx3.mx.test.")
z.add("fallback", "MX", "10 dead.mx.test.").add("fallback", "MX", "20 mx2.mx.test.")
z.add("mx1", "A", "127.0.0.11")
z.add("mx2", "A", "127.0.0.12")
z.add("mx3", "A", "127.0.0.13")
z.add("dead", "A", "127.0.0.19")
z.add("nomx", "A", "127.0.0.12")
z.add("null", "MX", "0 .")
z.add("loop", "MX", "10 self.mx.test.")
z.add("self", "A", "127.0.0.1")
w.delegate_dead("dead.test")
w.start()

peers = {a: ScriptedPeer(a, name="mx%s.mx.test" % a[-1]).start()
         for a in ("127.0.0.11", "127.0.0.12", "127.0.0.13")}

inst = Instance("remotedns", {
    "smtp_dns_resolver_address": w.resolver,
    "smtp_dns_trust_anchor_file": w.trust_anchor,
    "smtp_dns_timeout": "3s",
    "smtp_connect_timeout": "2s",
    # A session for each message, so that each one draws its MX anew.
    "smtp_connection_reuse_count_limit": "1",
})
inst.start()


def send(rcpt, subject):
    r = send_message(inst.port, "alice@client.example", [rcpt],
                     ("Subject: %s\r\n\r\nbody\r\n" % subject).encode())
    return queued_id(r)


def delivered_to(peer, rcpt, timeout=20):
    return wait_for(lambda: any(rcpt in m["rcpt"] for m in peer.messages),
                    timeout)


qid = send("a@best.mx.test", "best")
t.ok(delivered_to(peers["127.0.0.11"], "a@best.mx.test"),
     "delivered to the MX of the lowest preference", inst.log()[-2000:])
t.ok(inst.wait_log(r"%s: to=<a@best\.mx\.test>, relay=mx1\.mx\.test\[127\.0\.0\.11\]:25, "
                   r".*dsn=2\.0\.0, status=sent" % qid),
     "the log names the MX host and its address")
t.ok(not any("a@best.mx.test" in m["rcpt"] for m in peers["127.0.0.12"].messages),
     "not to the second MX")

for i in range(16):
    send("e%d@equal.mx.test" % i, "equal %d" % i)
wait_for(lambda: sum(len(peers[a].messages) for a in ("127.0.0.11", "127.0.0.13")) >= 17, 40)
n11 = sum(1 for m in peers["127.0.0.11"].messages if any("@equal." in r for r in m["rcpt"]))
n13 = sum(1 for m in peers["127.0.0.13"].messages if any("@equal." in r for r in m["rcpt"]))
t.is_eq(n11 + n13, 16, "all 16 messages to equal MX hosts delivered")
t.ok(n11 > 0 and n13 > 0, "equal preferences share the load (%d and %d)" % (n11, n13))

qid = send("f@fallback.mx.test", "fallback")
t.ok(delivered_to(peers["127.0.0.12"], "f@fallback.mx.test", 30),
     "the first MX is down: delivered to the second", inst.log()[-2000:])

qid = send("n@nomx.mx.test", "implicit")
t.ok(delivered_to(peers["127.0.0.12"], "n@nomx.mx.test"),
     "no MX: delivered to the domain's own address")

qid = send("x@null.mx.test", "null")
t.ok(inst.wait_log(r"%s: to=<x@null\.mx\.test>, relay=none, .*dsn=5\.1\.10, "
                   r"status=bounced \(.*nullMX" % qid),
     "a null MX bounces at once with 5.1.10", inst.log()[-2000:])

qid = send("x@nowhere.mx.test", "nxdomain")
t.ok(inst.wait_log(r"%s: to=<x@nowhere\.mx\.test>, relay=none, .*dsn=5\.4\.4, "
                   r"status=bounced \(Host or domain name not found" % qid),
     "a domain that does not exist bounces (5.4.4)", inst.log()[-2000:])

qid = send("x@loop.mx.test", "loop")
t.ok(inst.wait_log(r"%s: to=<x@loop\.mx\.test>, relay=none, .*dsn=5\.4\.6, "
                   r"status=bounced \(.*loops back to myself" % qid),
     "an MX that is this host is a loop (5.4.6)", inst.log()[-2000:])

qid = send("x@host.dead.test", "servfail")
t.ok(inst.wait_log(r"%s: to=<x@host\.dead\.test>, relay=none, .*dsn=4\.4\.3, "
                   r"status=deferred" % qid, 30),
     "a name server that does not answer: deferred (4.4.3)", inst.log()[-2000:])
t.ok(wait_for(lambda: qid in inst.queue_files("deferred"), 20), "and it waits in deferred/")

for p in peers.values():
    p.stop()
inst.destroy()
t.done()
