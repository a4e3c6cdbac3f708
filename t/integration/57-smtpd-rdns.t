#!/usr/bin/env python3
"""smtpd's reverse DNS before the greeting, against a real DNS world in a
private network namespace (dnsworld.py): a client whose PTR name maps
back to its address is logged by that name ("connect from
mail.good.test[127.0.0.7]") and named in the Received header; one without
a PTR, or whose PTR name does not map back, is "unknown"; a lookup that
hangs (a dead delegation) ends at smtpd_rdns_timeout and the client is
greeted as unknown; a client in mynetworks is looked up too.  The
loopback address itself is named localhost without asking (RFC 6761),
whatever the world's PTR says."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsworld  # noqa: E402
from moattest import (Instance, Tap, free_port, greet_time,  # noqa: E402
                      require_root, send_message, wait_for)
from tlstest import add_service  # noqa: E402

require_root()
dnsworld.enter_netns()
t = Tap()
w = dnsworld.DnsWorld()
rev = w.zone("127.in-addr.arpa")
rev.add("1.0.0", "PTR", "loopback.good.test.")  # never asked
rev.add("11.0.0", "PTR", "trusted.good.test.")
rev.add("7.0.0", "PTR", "mail.good.test.")
rev.add("8.0.0", "PTR", "liar.good.test.")     # its A is elsewhere
rev.add("10.0.0", "PTR", "slow.dead.test.")    # its A never answers
good = w.zone("good.test")
good.add("loopback", "A", "127.0.0.1")
good.add("trusted", "A", "127.0.0.11")
good.add("mail", "A", "127.0.0.7")
good.add("liar", "A", "127.0.0.99")
w.delegate_dead("dead.test")
w.start()

inst = Instance("rdns", {
    "home_mailbox": "Maildir/",
    "mynetworks": "127.0.0.11/32",
    "smtpd_rdns_timeout": "1s",
    "smtp_dns_resolver_address": w.resolver,
    "smtp_dns_trust_anchor_file": w.trust_anchor,
    "smtp_dns_timeout": "5s",
})
u = inst.user("moatt_rdns")
port = free_port()
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 2 smtpd" % port)
inst.start()


def greet(source):
    ms, g = greet_time(port, source)
    return g, ms


g, ms = greet("127.0.0.7")
t.like(g, r"^220 ", "a client with a good PTR is greeted")
t.ok(ms < 900, "after its lookup (%.0f ms)" % ms)
t.ok(inst.wait_log(r"smtpd\[\d+\]: connect from mail\.good\.test\[127\.0\.0\.7\]"),
     "logged by its name: connect from mail.good.test[127.0.0.7]")

r = send_message(port, "a@example.org", ["moatt_rdns@localhost"],
                 b"Subject: named\r\n\r\nx\r\n", source="127.0.0.7",
                 helo="helo.example")
t.like(r, r"^250 ", "its message is accepted")
t.ok(wait_for(lambda: len(u.maildir_messages()) == 1, 20), "and delivered")
msgs = u.maildir_messages()
t.like(msgs[0].decode("utf-8", "replace") if msgs else "",
       r"Received: from helo\.example \(mail\.good\.test \[127\.0\.0\.7\]\)",
       "the Received header names it")

g, ms = greet("127.0.0.9")
t.like(g, r"^220 ", "a client without a PTR is greeted")
t.ok(inst.wait_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.9\]"),
     "as unknown")

g, ms = greet("127.0.0.8")
t.ok(inst.wait_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.8\]"),
     "a PTR name that does not map back: unknown")
t.ok("liar.good.test" not in inst.log(), "its PTR name is never used")

g, ms = greet("127.0.0.10")
t.like(g, r"^220 ", "a client whose lookup hangs is greeted")
t.ok(800 <= ms < 3000, "at smtpd_rdns_timeout (1 s): %.0f ms" % ms)
t.ok(inst.wait_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.10\]"),
     "as unknown")

g, ms = greet("127.0.0.11")
t.ok(inst.wait_log(r"smtpd\[\d+\]: connect from trusted\.good\.test\[127\.0\.0\.11\]"),
     "a client in mynetworks is looked up too")

g, ms = greet("127.0.0.1")
t.like(g, r"^220 ", "the loopback address is greeted")
t.ok(inst.wait_log(r"smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]"),
     "as localhost, not by the world's PTR name")

t.done()
