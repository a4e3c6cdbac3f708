#!/usr/bin/env python3
"""smtpd greets at once: no pause before the greeting for a client in
mynetworks, for one the screen passed, nor for a well-behaved client of a
directly listening smtpd (an inet line without the screen); early talkers
are still refused there (bytes already waiting when the greeting is
written, or arriving sooner after it than an answer could) and by the
screen on the SMTP port.  Greeting times are measured and compared with
the old fixed 50 ms pause."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, free_port, require_root, send_message
from tlstest import add_service

require_root()
t = Tap()
UNTRUSTED = "127.0.0.2"

inst = Instance("greet", {"home_mailbox": "Maildir/",
                          "mynetworks": "127.0.0.1/32",
                          "postscreen_greet_wait": "1s"})
u = inst.user("moatt_greet")
direct = free_port()
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 2 smtpd" % direct)
inst.start()


def greet_ms(port, source):
    """Connect to the end of the greeting, in ms, and the greeting."""
    start = time.monotonic()
    c = Smtp(port, source=source)
    g = c.reply() or ""
    ms = (time.monotonic() - start) * 1000
    c.cmd("QUIT")
    c.close()
    return ms, g


def median_greet(port, source, n=20):
    runs = [greet_ms(port, source) for _ in range(n)]
    times = sorted(ms for ms, _ in runs)
    return times[n // 2], [g for _, g in runs]


def early_talker(port, source):
    """Talk at once; what the server says before it closes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"EHLO early\r\nMAIL FROM:<a@example.org>\r\n")
    s.settimeout(10)
    data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return data


# -- trusted (mynetworks), through the screen --------------------------------
med, greets = median_greet(inst.port, "127.0.0.1")
t.ok(all(g.startswith("220 ") for g in greets), "trusted: greeted", greets[:2])
t.ok(med < 25, "trusted client through the screen: greeting in %.1f ms "
     "(median of 20; the old pause alone was 50 ms)" % med)
t.diag("trusted via screen, median connect-to-greeting: %.2f ms" % med)

start = time.monotonic()
r = send_message(inst.port, "a@example.org", ["moatt_greet@localhost"],
                 b"Subject: quick\r\n\r\nx\r\n")
ms = (time.monotonic() - start) * 1000
t.like(r, r"^250 ", "trusted: a whole message accepted")
t.ok(ms < 1000, "in %.1f ms" % ms)

data = early_talker(inst.port, "127.0.0.1")
t.ok(b"554" in data and b"250" not in data,
     "trusted early talker: 554 from smtpd, never served", data)

# -- untrusted, directly on an inet smtpd line ---------------------------------
med, greets = median_greet(direct, UNTRUSTED)
t.ok(all(g.startswith("220 ") for g in greets), "direct: greeted", greets[:2])
t.ok(med < 25, "untrusted client of a direct smtpd: greeting in %.1f ms "
     "(median of 20)" % med)
t.diag("untrusted direct, median connect-to-greeting: %.2f ms" % med)
r = send_message(direct, "a@example.org", ["moatt_greet@localhost"],
                 b"Subject: direct\r\n\r\nx\r\n", source=UNTRUSTED)
t.like(r, r"^250 ", "direct: a well-behaved untrusted client's message accepted")

served = 0
for _ in range(5):
    data = early_talker(direct, UNTRUSTED)
    if b"250" in data or b"554" not in data:
        served += 1
t.is_eq(served, 0, "direct: five early talkers, none served (554 each)")
t.ok(inst.wait_log(r"reject: CONNECT from unknown\[127\.0\.0\.2\]"),
     "the early talker is logged as a CONNECT reject")

# -- untrusted, through the screen: its own greet pause ------------------------
data = early_talker(inst.port, UNTRUSTED)
t.ok(b"250" not in data or b"220-" in data,
     "untrusted early talker on the SMTP port: handled by the screen", data)
t.ok(inst.wait_log(r"screen\[\d+\]: PREGREET \d+ after [0-9.]+ from "
                   r"\[127\.0\.0\.2\]"),
     "the screen logged it (PREGREET)")

t.done()
