#!/usr/bin/env python3
"""Moat's log read by the tools that read Postfix's, unchanged: after a
known mix of traffic on a live instance (N messages received and
delivered, M recipients refused: unknown users and relaying denied),
Debian's pflogsumm with --syslog-name=moat counts N received, N delivered
and M rejected, with both reasons; and fail2ban-regex with the stock postfix
filter given _daemon=moat/\\w+ matches exactly the M reject lines and finds
the one client that made at least the stock jail's maxretry of them, the
client fail2ban would ban."""
import collections
import configparser
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, require_root, send_message, wait_for

require_root()
PFLOGSUMM = shutil.which("pflogsumm")
F2B_REGEX = shutil.which("fail2ban-regex")
JAIL_CONF = "/etc/fail2ban/jail.conf"
if not PFLOGSUMM or not F2B_REGEX or not os.path.exists(JAIL_CONF):
    print("1..0 # SKIP pflogsumm or fail2ban is not installed "
          "(apt-get install pflogsumm fail2ban; make deps does)")
    sys.exit(0)
t = Tap()

N = 4           # messages received and delivered
BAD = "127.0.0.2"   # refuses often: fail2ban bans it
ONCE = "127.0.0.3"  # refused once: below maxretry


def refuse(source, rcpts):
    """One session from source whose recipients are all refused."""
    c = Smtp(inst.port, source)
    try:
        c.reply()
        c.cmd("EHLO probe.example")
        c.cmd("MAIL FROM:<probe@example.net>")
        return [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
    finally:
        c.cmd("QUIT")
        c.close()


inst = Instance("logtools", {"home_mailbox": "Maildir/",
                             "mynetworks": "127.0.0.1/32",
                             "smtpd_error_sleep_time": "0"})
u = inst.user("moatt_lt")
inst.start()
for i in range(N):
    r = send_message(inst.port, "sender%d@example.org" % i, ["moatt_lt@localhost"],
                     b"Subject: tool %d\r\n\r\nbody\r\n" % i)
    t.like(r, r"^250 ", "message %d is accepted" % i)
# smtpd answers 451 (and logs a reject) while the password file changes
# under it, as other tests add users: such a recipient is tried again, and
# the counts below follow the replies.
replies = []
for source, rcpt in ([(BAD, "nosuch%d@localhost" % i) for i in (1, 2, 3)] +
                     [(BAD, "victim@example.%s" % d) for d in ("com", "net", "org")] +
                     [(ONCE, "nosuch4@localhost")]):
    for _ in range(5):
        replies.append((source, refuse(source, [rcpt])[0]))
        if not replies[-1][1].startswith("4"):
            break
M = len(replies)
unknown = sum(1 for _, r in replies if r.startswith("550 5.1.1"))
relay = sum(1 for _, r in replies if r.startswith("554 5.7.1"))
by_client = collections.Counter(s for s, r in replies if r.startswith("5"))
t.is_eq((unknown, relay, unknown + relay + sum(1 for _, r in replies if r[:1] == "4")),
        (4, 3, M), "7 recipients refused: unknown users and relaying denied")
t.ok(wait_for(lambda: len(u.maildir_messages()) == N, 20), "the messages are delivered")
t.ok(inst.wait_log(r"(?s)(status=sent.*){%d}" % N, 10) and
     inst.wait_log(r"(?s)(NOQUEUE: reject: RCPT.*){%d}" % M, 10),
     "the log has the deliveries and the rejects")
inst.stop()
log = inst.path("log", "maillog")

# --- pflogsumm ---------------------------------------------------------------
out = subprocess.run([PFLOGSUMM, "--syslog-name=moat", log], capture_output=True,
                     text=True).stdout


def total(label):
    m = re.search(r"(?m)^\s+(\d+)\s+%s\b" % label, out)
    return int(m.group(1)) if m else None


t.is_eq(total("received"), N, "pflogsumm: %d received" % N)
t.is_eq(total("delivered"), N, "pflogsumm: %d delivered" % N)
t.is_eq(total("rejected"), M, "pflogsumm: %d rejected" % M)
t.is_eq(total("bounced"), 0, "pflogsumm: none bounced")
detail = out.split("message reject detail", 1)[-1]
t.like(detail, r"User unknown in local recipient table \(total: 4\)",
       "pflogsumm's reject detail: 4 unknown users")
t.like(detail, r"Relay access denied \(total: 3\)\n\s+3\s+%s\n" % re.escape(BAD),
       "pflogsumm's reject detail: 3 relaying denied, all from %s" % BAD)
out = subprocess.run([PFLOGSUMM, "--syslog-name=postfix", log], capture_output=True,
                     text=True).stdout
t.is_eq(total("received"), 0,
        "pflogsumm: the syslog name matters (postfix finds nothing to count)")

# --- fail2ban ----------------------------------------------------------------
jail = configparser.RawConfigParser(strict=False, interpolation=None)
jail.read(JAIL_CONF)
maxretry = int(jail.get("DEFAULT", "maxretry"))
r = subprocess.run([F2B_REGEX, "-o", "ip", log, r"postfix[_daemon=moat/\w+]"],
                   capture_output=True, text=True)
ips = collections.Counter(r.stdout.split())
t.is_eq(dict(ips), dict(by_client),
        "fail2ban's postfix filter matches each 5xx reject, by client")
t.is_eq(sorted(ip for ip, n in ips.items() if n >= maxretry), [BAD],
        "the client fail2ban would ban (maxretry %d): %s" % (maxretry, BAD))
r = subprocess.run([F2B_REGEX, log, r"postfix[_daemon=moat/\w+]"],
                   capture_output=True, text=True)
t.like(r.stdout, r"(?m)^Lines: \d+ lines, 0 ignored, %d matched" % (unknown + relay),
       "fail2ban-regex: the 5xx rejects matched, and nothing else")
inst.destroy()
t.done()
