#!/usr/bin/env python3
"""The screen's DNSBL test against a real DNS world in a private network
namespace (dnsworld.py): a client listed with enough weight is refused at
RCPT with the list's reply (its name and its TXT text), and "DNSBL rank"
is logged; weights add up over lists, and one list below the threshold
is not enough; an A record the filter does not accept does not count; a
client no list names passes and delivers through screen -> smtpd; an
allow list's negative score ends the greet pause early; with the drop
action a listed client gets 521 and is disconnected."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsworld  # noqa: E402
from moattest import Instance, Smtp, Tap, require_root  # noqa: E402

require_root()
dnsworld.enter_netns()
t = Tap()
w = dnsworld.DnsWorld()
bl = w.zone("bl.test")
bl.add("2.0.0.127", "A", "127.0.0.2")
bl.add("2.0.0.127", "TXT", '"Listed by bl.test: see https://bl.test/q?127.0.0.2"')
bl.add("5.0.0.127", "A", "127.0.0.200")  # outside the filter
bl.add("6.0.0.127", "A", "127.0.0.3")
bl.add("8.0.0.127", "A", "127.0.0.2")
low = w.zone("low.test")
low.add("6.0.0.127", "A", "127.0.0.2")  # weight 1 only: not enough alone
low.add("2.0.0.127", "A", "127.0.0.2")
allow = w.zone("allow.test")
allow.add("4.0.0.127", "A", "127.0.0.10")
w.start()

SITES = "bl.test=127.0.0.[2..11]*2, low.test*1, allow.test*-5"
inst = Instance("dnsbl", {
    "home_mailbox": "Maildir/",
    "mynetworks": "127.0.0.1/32",
    "postscreen_greet_wait": "2s",
    "postscreen_dnsbl_sites": SITES,
    "postscreen_dnsbl_threshold": "3",
    "postscreen_dnsbl_allowlist_threshold": "-1",
    "smtp_dns_resolver_address": w.resolver,
    "smtp_dns_trust_anchor_file": w.trust_anchor,
    "smtp_dns_timeout": "3s",
})
kim = inst.user("moatt_blkim")
inst.start()


def session(source, early=None):
    """Greeting, then MAIL and RCPT: (greeting, rcpt reply, seconds to the
    end of the greeting)."""
    t0 = time.monotonic()
    c = Smtp(inst.port, source=source)
    g = c.reply()
    took = time.monotonic() - t0
    if not g or "\n220 " not in "\n" + g:
        c.close()
        return g, None, took
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<someone@example.org>")
    r = c.cmd("RCPT TO:<moatt_blkim@localhost>")
    if r.startswith("250"):
        c.cmd("DATA")
        c.send(b"Subject: not listed\r\n\r\nhello\r\n.\r\n")
        r = c.reply()
    c.cmd("QUIT")
    c.close()
    return g, r, took


g, r, took = session("127.0.0.2")
t.like(g, r"^220-\S+ ESMTP\n220 \S+ ESMTP$", "a listed client is greeted by the screen")
t.like(r, r"^550 5\.7\.1 Service unavailable; client \[127\.0\.0\.2\] blocked "
       r"using bl\.test; Listed by bl\.test: see https://bl\.test/q\?127\.0\.0\.2$",
       "and refused at RCPT with the list's name and its TXT text")
t.ok(inst.wait_log(r"screen\[\d+\]: DNSBL rank 3 for \[127\.0\.0\.2\]:\d+"),
     "DNSBL rank 3 (2 + 1) is logged")
t.ok(inst.wait_log(r"screen\[\d+\]: NOQUEUE: reject: RCPT from \[127\.0\.0\.2\]:\d+: "
                   r"550 5\.7\.1 Service unavailable; client \[127\.0\.0\.2\] "
                   r"blocked using bl\.test"), "the refused recipient is logged")

g, r, took = session("127.0.0.5")
t.like(r, r"^250 2\.0\.0 Ok: queued as ",
       "an A record outside the list's filter does not count: it delivers")
g, r, took = session("127.0.0.6")
t.like(r, r"^550 5\.7\.1 Service unavailable; client \[127\.0\.0\.6\] blocked "
       r"using bl\.test$", "weights add up over lists (2 + 1): refused, naming "
       "the heavier list (no TXT text: none in the reply)")
g, r, took = session("127.0.0.8")
t.like(r, r"^250 2\.0\.0 Ok: queued as ",
       "one list of weight 2 is below the threshold of 3: it delivers")
g, r, took = session("127.0.0.7")
t.like(r, r"^250 2\.0\.0 Ok: queued as ", "a client no list names delivers")
t.ok(took >= 1.9, "after the whole greet pause (%.2fs)" % took)
t.ok(inst.wait_log(r"screen\[\d+\]: PASS NEW \[127\.0\.0\.7\]:\d+"), "PASS NEW")
g, r, took = session("127.0.0.4")
t.like(r, r"^250 ", "a client on the allow list delivers")
t.ok(took < 1.5, "without waiting out the pause (%.2fs)" % took)
inst.destroy()

drop = Instance("dnsbldrop", {
    "mynetworks": "127.0.0.1/32",
    "postscreen_greet_wait": "1s",
    "postscreen_dnsbl_sites": "bl.test",
    "postscreen_dnsbl_action": "drop",
    "smtp_dns_resolver_address": w.resolver,
    "smtp_dns_trust_anchor_file": w.trust_anchor,
})
drop.start()
c = Smtp(drop.port, source="127.0.0.2")
g = c.reply()
t.like(g, r"^220-\S+ ESMTP\n521 5\.7\.1 Service unavailable; client \[127\.0\.0\.2\] "
       r"blocked using bl\.test; Listed by bl\.test", "drop: a listed client gets 521")
t.ok(c.closed(), "and is disconnected")
c.close()
drop.destroy()
w.stop()
t.done()
