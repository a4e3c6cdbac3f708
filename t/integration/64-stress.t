#!/usr/bin/env python3
"""Stress mode: an smtpd process that serves 80% of smtpd_client_limit
sessions logs "entering stress mode", gives idle clients (those already
waiting too) smtpd_stress_timeout instead of smtpd_timeout, disconnects a
client at its first error (smtpd_stress_error_limit), and logs "leaving
stress mode" once it serves fewer than 60%.  Outside stress mode the same
error is only an error."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, require_root, set_maxproc, wait_for

require_root()
t = Tap()
inst = Instance("stress", {"smtpd_client_limit": "5",
                           "smtpd_timeout": "300s",
                           "smtpd_stress_timeout": "3s"})
set_maxproc(inst, "private/smtpd", 1)  # one smtpd process
inst.start()


def session(ehlo=True):
    c = Smtp(inst.port, timeout=30)
    c.reply()
    if ehlo:
        c.cmd("EHLO idle.example")
    return c


# Outside stress mode an error is only an error.
c = session()
t.like(c.cmd("RCPT TO:<a@localhost>"), r"^503 ", "an error before stress")
t.like(c.cmd("NOOP"), r"^250 ", "the session goes on")
c.cmd("QUIT")
c.close()

first = session()  # idle before the stress begins: 300 s timeout so far
time.sleep(0.5)
idle = [session() for _ in range(3)]
t.ok(inst.wait_log(r"smtpd\[\d+\]: entering stress mode: 4 of 5 sessions", 10),
     "4 of 5 sessions: entering stress mode")
start = time.time()
t.like(first.reply(), r"^421 4\.4\.2 ", "a client idle since before the stress "
       "gets the stress timeout")
t.ok(time.time() - start < 10, "after about smtpd_stress_timeout, not smtpd_timeout "
     "(%.1f s)" % (time.time() - start))
first.close()
c = session()
t.like(c.cmd("RCPT TO:<a@localhost>"), r"^503 ", "an error in stress mode")
t.like(c.reply(), r"^421 ", "ends the session at once (smtpd_stress_error_limit 1)")
c.close()
for c in idle:
    c.reply()  # their 421 after the stress timeout
    c.close()
t.ok(inst.wait_log(r"smtpd\[\d+\]: leaving stress mode: [0-2] of 5 sessions", 15),
     "leaving stress mode when the sessions are gone")
inst.destroy()
t.done()
