#!/usr/bin/env python3
"""smtpd's reject_rbl_client and reject_rhsbl_sender against a real DNS
world in a private network namespace (dnsworld.py): a listed client gets
554 5.7.1 naming the list, with its TXT text, and the refusal is logged;
an unlisted client delivers; the filter leaves out an A record it does
not name (which counts on a list without a filter); an IPv6 client is
asked about by nibbles; a listed sender domain is refused; permit_mynetworks
before a list keeps a trusted client from it; a list that fails (SERVFAIL)
or never answers (a dead delegation, smtpd_dnsbl_timeout) counts as not
listed and is logged; a RCPT that waits for a list keeps pipelined
commands in order, and while it waits another session of the same smtpd
process is served."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsworld  # noqa: E402
from moattest import (Instance, Smtp, Tap, free_port, require_root,  # noqa: E402
                      send_message, wait_for)
from tlstest import add_service  # noqa: E402

require_root()
dnsworld.enter_netns()
subprocess.run(["ip", "-6", "addr", "add", "2001:db8::5/128", "dev", "lo",
                "nodad"], check=True)
t = Tap()
w = dnsworld.DnsWorld()
zen = w.zone("zen.test")
for owner, a in (("2.0.0.127", "127.0.0.3"),
                 ("5.0.0.127", "127.0.0.99"),  # outside the filter
                 ("1.0.0.127", "127.0.0.2"),   # a trusted client
                 (".".join(reversed("20010db8" + "0" * 23 + "5")),
                  "127.0.0.4")):
    zen.add(owner, "A", a)
zen.add("2.0.0.127", "TXT", '"Blocked, see https://zen.test/lookup?ip=127.0.0.2"')
zen.add(".".join(reversed("20010db8" + "0" * 23 + "5")), "TXT",
        '"v6 listed"')
rhs = w.zone("rhs.test")
rhs.add("spam.example", "A", "127.0.0.2")
rhs.add("spam.example", "TXT", '"spam.example sends spam"')
w.delegate_dead("slow.test")
w.delegate_lame("lame.test")
w.start()

inst = Instance("dnsbl59", {
    "home_mailbox": "Maildir/",
    "mynetworks": "127.0.0.1/32",
    "smtpd_rdns_timeout": "0",  # the lists open the resolver on their own
    "smtpd_dnsbl_timeout": "1s",
    "smtpd_client_restrictions": "permit_mynetworks, "
                                 "reject_rbl_client lame.test, "
                                 "reject_rbl_client zen.test=127.0.0.[2..11]",
    "smtpd_sender_restrictions": "reject_rhsbl_sender rhs.test",
    "smtp_dns_resolver_address": w.resolver,
    "smtp_dns_trust_anchor_file": w.trust_anchor,
    "smtp_dns_timeout": "5s",
})
u = inst.user("moatt_dnsbl")
RCPT = "moatt_dnsbl@localhost"
port_a, port_b, port_6 = free_port(), free_port(), free_port()
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 2 smtpd" % port_a)
add_service(inst, "[::1]:%d inet moat-smtpd y 1 smtpd" % port_6)
# B: a list that never answers first, zen.test without a filter, no
# permit_mynetworks; one process, so its sessions share it.
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 1 smtpd -o "
            "smtpd_client_restrictions=reject_rbl_client,slow.test,"
            "reject_rbl_client,zen.test" % port_b)
inst.start()


def envelope(port, source, sender="a@example.org", rcpt=RCPT):
    """(MAIL's reply, RCPT's reply, seconds from connect to RCPT's)."""
    t0 = time.monotonic()
    c = Smtp(port, source=source)
    c.reply()
    c.cmd("EHLO client.example")
    m = c.cmd("MAIL FROM:<%s>" % sender)
    r = c.cmd("RCPT TO:<%s>" % rcpt)
    took = time.monotonic() - t0
    c.cmd("QUIT")
    c.close()
    return m, r, took


# B first: every client waits for slow.test, whose server never answers
# (the first query there; the resolver then gives up on the server and
# answers SERVFAIL at once).
t0 = time.monotonic()
c1 = Smtp(port_b, source="127.0.0.7")
c1.reply()
c1.cmd("EHLO client.example")
c1.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<%s>\r\nNOOP\r\n" % RCPT)
m1 = c1.reply()
t_mail = time.monotonic() - t0
t1 = time.monotonic()
c2 = Smtp(port_b, source="127.0.0.9")
g2 = c2.reply()
n2 = c2.cmd("NOOP")
t_other = time.monotonic() - t1
other_done = time.monotonic() - t0
r1 = c1.reply()
t_rcpt = time.monotonic() - t0
n1 = c1.reply()
t.is_eq(m1, "250 2.1.0 Ok", "B: MAIL is answered before the waiting RCPT")
t.ok(t_mail < 0.8, "at once (%.2fs)" % t_mail)
t.like(g2, r"^220 ", "another client of the same process is greeted while "
       "the RCPT waits")
t.is_eq(n2, "250 2.0.0 Ok", "and answered")
t.ok(t_other < 0.8 and other_done < t_rcpt,
     "at once (%.2fs), before the waiting RCPT's reply" % t_other)
t.like(r1, r"^250 2\.1\.5 ", "a list that never answers: the RCPT is taken")
t.ok(0.8 <= t_rcpt < 4, "at smtpd_dnsbl_timeout, 1s after the connection "
     "(%.2fs)" % t_rcpt)
t.is_eq(n1, "250 2.0.0 Ok", "the NOOP after it is answered next")
c1.cmd("QUIT")
c1.close()
c2.cmd("QUIT")
c2.close()
t.ok(inst.wait_log(r"smtpd\[\d+\]: warning: DNS list lookup failed: "
                   r"list=slow\.test name=7\.0\.0\.127\.slow\.test "
                   r"client=\[127\.0\.0\.7\] error=(timeout|SERVFAIL); taken "
                   r"as not listed"),
     "the timeout is logged, naming the list (SERVFAIL when the resolver "
     "gave up first, on a loaded machine)",
     [l for l in inst.log().splitlines() if "DNS list" in l][-5:])
pids = {a: re.findall(r"smtpd\[(\d+)\]: connect from unknown\[%s\]" %
                      re.escape(a), inst.log()) for a in ("127.0.0.7",
                                                          "127.0.0.9")}
t.ok(pids["127.0.0.9"] and pids["127.0.0.9"][-1] in pids["127.0.0.7"],
     "both sessions were one smtpd process's", str(pids))

m, r, took = envelope(port_a, "127.0.0.2")
t.is_eq(m, "250 2.1.0 Ok", "a listed client's MAIL is taken")
t.is_eq(r, "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked "
      "using zen.test; Blocked, see https://zen.test/lookup?ip=127.0.0.2",
      "its RCPT gets 554 5.7.1 naming the list, with the list's TXT text")
t.ok(inst.wait_log(r"smtpd\[\d+\]: NOQUEUE: reject: RCPT from "
                   r"unknown\[127\.0\.0\.2\]: 554 5\.7\.1 Service unavailable; "
                   r"Client host \[127\.0\.0\.2\] blocked using zen\.test; "
                   r".*from=<a@example\.org> to=<moatt_dnsbl@localhost>"),
     "the refusal is logged with the list's name and the envelope")

r = send_message(port_a, "a@example.org", [RCPT],
                 b"Subject: clean\r\n\r\nx\r\n", source="127.0.0.7")
t.like(r, r"^250 2\.0\.0 Ok: queued as ", "an unlisted client delivers")
t.ok(wait_for(lambda: len(u.maildir_messages()) == 1, 20), "its mail arrives")
t.ok(inst.wait_log(r"smtpd\[\d+\]: warning: DNS list lookup failed: "
                   r"list=lame\.test name=7\.0\.0\.127\.lame\.test "
                   r"client=\[127\.0\.0\.7\] error=\S.*; taken as not listed"),
     "a list that fails (SERVFAIL) is logged and counts as not listed")

m, r, took = envelope(port_a, "127.0.0.5")
t.like(r, r"^250 2\.1\.5 ", "an A record outside the filter does not count")
m, r, took = envelope(port_b, "127.0.0.5")
t.like(r, r"^554 5\.7\.1 Service unavailable; Client host \[127\.0\.0\.5\] "
       r"blocked using zen\.test$",
       "on a list without a filter it does (no TXT: no text after the list)")

m, r, took = envelope(port_a, "127.0.0.1", rcpt="x@elsewhere.example")
t.like(r, r"^250 2\.1\.5 ", "permit_mynetworks before the list: a trusted "
       "client the list names relays")
m, r, took = envelope(port_b, "127.0.0.1")
t.like(r, r"^554 5\.7\.1 Service unavailable; Client host \[127\.0\.0\.1\] "
       r"blocked using zen\.test$", "without it the list refuses it")

m, r, took = envelope(port_6, "2001:db8::5")
t.is_eq(r, "554 5.7.1 Service unavailable; Client host [2001:db8::5] blocked "
      "using zen.test; v6 listed", "an IPv6 client is asked about by nibbles")

m, r, took = envelope(port_a, "127.0.0.7", sender="bob@Spam.Example")
t.is_eq(r, "554 5.7.1 Service unavailable; Sender address [spam.example] "
      "blocked using rhs.test; spam.example sends spam",
      "reject_rhsbl_sender refuses a listed sender domain")
m, r, took = envelope(port_a, "127.0.0.7", sender="")
t.like(r, r"^250 2\.1\.5 ", "the null sender is not asked about")

# Pipelined: the RCPT waits for the sender's list (asked at MAIL), the
# commands after it keep their order.
c = Smtp(port_a, source="127.0.0.7")
c.reply()
c.cmd("EHLO client.example")
c.send("MAIL FROM:<x@spam.example>\r\nRCPT TO:<%s>\r\nRSET\r\n"
       "MAIL FROM:<x@clean.example>\r\nRCPT TO:<%s>\r\n"
       "RCPT TO:<y@elsewhere.example>\r\nNOOP\r\nQUIT\r\n" % (RCPT, RCPT))
replies = [c.reply() for _ in range(8)]
codes = [(x or "")[:9] for x in replies]
t.is_eq(" ".join(codes), "250 2.1.0 554 5.7.1 250 2.0.0 250 2.1.0 250 2.1.5 "
      "554 5.7.1 250 2.0.0 221 2.0.0",
      "pipelined commands around waiting RCPTs are answered in order")
t.like(replies[1], r"Sender address \[spam\.example\] blocked using rhs\.test",
       "the first RCPT is refused by the list")
t.like(replies[5], r"Relay access denied", "the relay RCPT by the relay rule")
c.close()

inst.destroy()
w.stop()
t.done()
