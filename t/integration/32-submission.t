#!/usr/bin/env python3
"""Authenticated submission (RFC 4954, RFC 6409, RFC 8314) with Moat's own
password map: services on "587" (STARTTLS required) and "465" (implicit
TLS) made by master.conf lines with -o overrides; passwords set with
`moat passwd` (read from standard input, hashed with yescrypt, bcrypt or
sha512-crypt; the map root's, mode 600; a plain password in it refused by
moat map build).  AUTH is never offered nor taken in clear text (530,
never 535); PLAIN and LOGIN work inside TLS, with swaks too; an
authenticated client relays, and smtpd_sender_login_maps keeps it to its
own addresses; a client that did not authenticate may not send on the
submission port.  While auth is stopped and its listener full (a flood
of AUTH attempts), a session's AUTH waits and another session of the
same smtpd process is answered at once; auth back, the AUTH succeeds.  A wrong password is refused with 535 after a delay that
grows with each failure, counts as an error, and is logged in the shape
fail2ban's stock postfix-sasl filter matches (checked with
fail2ban-regex); anvil limits AUTH attempts per client.  The Received
header says ESMTPSA and names the user only where
smtpd_sasl_authenticated_header says so.  The password check runs in auth
(moat-auth, chrooted): smtpd never has the map open."""
import collections
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (MOAT, Instance, Tap, free_port, proc_ids, require_root,
                      set_maxproc, wait_for)
from tlstest import (OPENSSL, SWAKS, TlsSmtp, add_service, any_context,
                     fail2ban_sasl, swaks)

require_root()
if not OPENSSL or not SWAKS:
    print("1..0 # SKIP openssl and swaks are needed (make deps)")
    sys.exit(0)
t = Tap()
CLIENT = "127.0.0.2"  # not in mynetworks: relays only once authenticated
PLAIN_ALICE = "AGFsaWNlAGFsaWNlLXB3"  # \0alice\0alice-pw

inst = Instance("submission", {"home_mailbox": "Maildir/",
                               "mynetworks": "127.0.0.1/32",
                               "smtpd_error_sleep_time": "1s",
                               "smtpd_sender_login_maps":
                                   "$config_directory/sender_logins"})
u = inst.user("moatt_sub")
p587, p465, p588, p589 = free_port(), free_port(), free_port(), free_port()
RESTRICT = ("-o smtpd_sender_restrictions=reject_sender_login_mismatch,"
            "permit_sasl_authenticated,reject")
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 4 smtpd -o "
            "smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes %s"
            % (p587, RESTRICT))
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 4 smtpd -o "
            "smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes -o "
            "smtpd_sasl_authenticated_header=yes %s" % (p465, RESTRICT))
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 4 smtpd -o "
            "smtpd_sasl_auth_enable=yes -o smtpd_client_auth_rate_limit=2 "
            "-o smtpd_hard_error_limit=5 -o smtpd_error_sleep_time=0"
            % p588)
# One smtpd process and one auth process: the busy-auth check below.
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 1 smtpd -o "
            "smtpd_sasl_auth_enable=yes" % p589)
set_maxproc(inst, "private/auth", 1)
logins = os.path.join(inst.conf, "sender_logins")
with open(logins, "w") as f:
    f.write("alice@example.com alice\n@shared.example alice, bob\n"
            "carol@example.net carol\n")
inst.moat("map", "build", logins)

# --- moat passwd ------------------------------------------------------------------


def passwd(user, password, *opts):
    return subprocess.run([MOAT, "-c", inst.conf, "passwd"] + list(opts) + [user],
                          input=password + "\n", capture_output=True, text=True)


src = os.path.join(inst.conf, "sasl_passwords")
t.is_eq(passwd("alice", "alice-pw").returncode, 0, "moat passwd alice (from stdin)")
t.is_eq(passwd("bob", "bob-pw", "-s", "bcrypt").returncode, 0, "moat passwd -s bcrypt bob")
t.is_eq(passwd("carol", "carol-pw", "-s", "sha512-crypt").returncode, 0,
        "moat passwd -s sha512-crypt carol")
text = open(src).read()
t.ok(re.search(r"(?m)^alice \$y\$", text) and re.search(r"(?m)^bob \$2b\$", text)
     and re.search(r"(?m)^carol \$6\$", text), "yescrypt, bcrypt and sha512-crypt hashes")
t.ok("alice-pw" not in text, "no password in clear in the source")
for path in (src, src + ".lmdb"):
    st = os.stat(path)
    t.ok(st.st_uid == 0 and st.st_mode & 0o777 == 0o600, "%s: root's, mode 600"
         % os.path.basename(path), oct(st.st_mode))
t.ok(passwd("dave", "").returncode != 0, "an empty password is refused")
t.ok(passwd("bad user", "x").returncode != 0, "a user name with a blank is refused")
with open(src, "a") as f:
    f.write("eve plaintext-password\n")
r = inst.moat("map", "build", src, check=False)
t.ok(r.returncode == 1 and re.search(r"sasl_passwords:\d+: the value for eve is not", r.stderr),
     "moat map build refuses a plain password, naming the line", r.stderr)
t.is_eq(passwd("eve", "x", "-d").returncode, 0, "moat passwd -d removes a user")
t.ok("eve" not in open(src).read(), "and its line")
r = inst.moat("check", check=False)
t.ok(not re.search(r"sasl|auth|sender_logins|master\.conf", r.stderr),
     "moat check: the AUTH setup passes", r.stderr)
inst.start()


def sender_refusal(c, sender):
    """The sender restrictions are applied at RCPT TO (as Postfix's
    smtpd_delay_reject = yes): MAIL's 250, then RCPT's reply, then RSET."""
    mail = c.cmd("MAIL FROM:<%s>" % sender)
    reply = c.cmd("RCPT TO:<friend@far-away.example>") if mail.startswith("250") else mail
    c.cmd("RSET")
    return reply


def session(port, tls=True, source=CLIENT):
    c = TlsSmtp(port, source=source)
    c.reply()
    c.cmd("EHLO client.example")
    if tls:
        c.starttls(any_context())
        c.ehlo = c.cmd("EHLO client.example")
    return c


# --- no AUTH in clear text ----------------------------------------------------------
c = session(p587, tls=False)
ehlo = c.cmd("EHLO client.example")
t.ok("AUTH" not in ehlo, "587: no AUTH offered before TLS", ehlo)
clear = [c.cmd("AUTH PLAIN " + PLAIN_ALICE), c.cmd("AUTH LOGIN")]
t.ok(all(r.startswith("530 5.7.0 Must issue a STARTTLS command first") for r in clear),
     "AUTH before TLS: 530 5.7.0, no 334, no 535", clear)
c.close()
c = session(inst.port)
t.ok("AUTH" not in c.ehlo, "port 25: AUTH is off, even inside TLS", c.ehlo)
t.like(c.cmd("AUTH PLAIN " + PLAIN_ALICE), r"^503 5\.5\.1 Error: authentication not enabled",
       "port 25: AUTH gets 503")
c.close()

# --- PLAIN and LOGIN inside TLS, relaying, sender logins ---------------------------
c = session(p587)
t.like(c.ehlo, r"(?m)^250-AUTH PLAIN LOGIN$", "587 inside TLS offers AUTH PLAIN LOGIN")
t.like(sender_refusal(c, "alice@example.com"),
       r"^553 5\.7\.1 <alice@example\.com>: Sender address rejected: not logged in",
       "an address someone owns, without AUTH: refused")
t.like(sender_refusal(c, "x@example.org"),
       r"^554 5\.7\.1 <x@example\.org>: Sender address rejected: Access denied",
       "587 takes no mail from a client that did not authenticate")
t.like(c.cmd("AUTH PLAIN " + PLAIN_ALICE), r"^235 2\.7\.0 Authentication successful",
       "AUTH PLAIN: 235")
t.like(sender_refusal(c, "bob@example.com"),
       r"^553 5\.7\.1 <bob@example\.com>: Sender address rejected: not owned by the user",
       "alice may not send as someone else")
t.like(c.cmd("MAIL FROM:<alice@example.com>"), r"^250 ", "alice sends as herself")
t.like(c.cmd("RCPT TO:<friend@far-away.example>"), r"^250 2\.1\.5 ",
       "an authenticated client relays (its address is outside mynetworks)")
t.like(c.cmd("RCPT TO:<moatt_sub@localhost>"), r"^250 ", "and to a local user")
c.cmd("DATA")
c.send(b"Subject: submitted\r\n\r\nhello\r\n.\r\n")
t.like(c.reply(), r"^250 2\.0\.0 Ok: queued as", "the message is queued")
c.cmd("QUIT")
c.close()
t.ok(wait_for(lambda: u.maildir_messages(), 20), "delivered")
msg = (u.maildir_messages() or [b""])[0].decode("utf-8", "replace")
t.like(msg, r"\(using TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\)\)\n\tby \S+ with "
       r"ESMTPSA id ", "Received: TLS and ESMTPSA")
t.ok("alice" not in msg.split("\n\n")[0].split("Received:", 1)[1].split("\n\t", 4)[0:3].__str__()
     and "Authenticated sender" not in msg, "the user is not named by default")
t.like(inst.log(), r"client=unknown\[127\.0\.0\.2\], sasl_method=PLAIN, sasl_username=alice",
       "the client= line names the method and user, as Postfix's")

c = session(p587)
t.like(c.cmd("AUTH LOGIN"), r"^334 VXNlcm5hbWU6$", "AUTH LOGIN asks for the user")
t.like(c.cmd("Ym9i"), r"^334 UGFzc3dvcmQ6$", "then for the password")
t.like(c.cmd("Ym9iLXB3"), r"^235 ", "bob (bcrypt) is in")
t.like(c.cmd("MAIL FROM:<someone@shared.example>"), r"^250 ", "MAIL from bob")
t.like(c.cmd("RCPT TO:<friend@far-away.example>"), r"^250 ",
       "an @domain entry of the login map lists bob")
c.close()

# --- a wrong password ----------------------------------------------------------------
c = session(p587)
times = []
for _ in range(2):
    start = time.monotonic()
    r = c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n")  # \0alice\0wrong
    times.append(time.monotonic() - start)
    t.like(r, r"^535 5\.7\.8 Error: authentication failed", "a wrong password: 535")
t.ok(times[0] >= 0.9 and times[1] >= 1.9,
     "the answer waits, longer each time (%.1fs, %.1fs)" % tuple(times))
t.like(c.cmd("AUTH PLAIN " + PLAIN_ALICE), r"^235 ", "the right one still works")
c.close()
c = session(p587)
c.cmd("AUTH LOGIN")
c.cmd("bWFsbG9yeQ==")  # mallory
t.like(c.cmd("eA=="), r"^535 ", "an unknown user: the same 535")
c.close()
t.like_soon(inst.log, r"warning: unknown\[127\.0\.0\.2\]: SASL PLAIN authentication failed: "
            r"authentication failure, sasl_username=alice",
            "PLAIN failure logged with the client and the user")
t.like_soon(inst.log, r"warning: unknown\[127\.0\.0\.2\]: SASL LOGIN authentication failed: "
            r"UGFzc3dvcmQ6, sasl_username=mallory", "LOGIN failure logged as Postfix does")

# --- the AUTH rate limit and the error limit ---------------------------------------
c = session(p588)
got = [c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n") for _ in range(3)]
t.ok(got[0].startswith("535") and got[1].startswith("535") and
     got[2].startswith("450 4.7.1 Error: too many AUTH commands from 127.0.0.2"),
     "smtpd_client_auth_rate_limit=2: the third attempt gets 450 4.7.1", got)
t.like_soon(inst.log, r"warning: AUTH command rate limit exceeded: 3 from "
            r"unknown\[127\.0\.0\.2\] for service 127\.0\.0\.1:%d" % p588,
            "and is logged")
got = [c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n") for _ in range(3)]
t.like(got[-1], r"^421 4\.7\.0 .*too many errors",
       "failed AUTH counts toward smtpd_hard_error_limit")
c.close()

# --- swaks, 465 and the named sender --------------------------------------------------
rc, out = swaks("--server", "127.0.0.1:%d" % p587, "--local-interface", CLIENT,
                "--tls", "--auth", "LOGIN", "--auth-user", "alice",
                "--auth-password", "alice-pw", "--from", "alice@example.com",
                "--to", "moatt_sub@localhost")
t.ok(rc == 0 and "235 2.7.0 Authentication successful" in out and
     "Ok: queued as" in out, "swaks --tls --auth LOGIN on 587", out[-700:])
rc, out = swaks("--server", "127.0.0.1:%d" % p465, "--local-interface", CLIENT,
                "--tlsc", "--auth", "PLAIN", "--auth-user", "carol",
                "--auth-password", "carol-pw", "--from", "carol@example.net",
                "--to", "moatt_sub@localhost", "--header", "Subject: via 465")
t.ok(rc == 0 and "235 2.7.0" in out and "Ok: queued as" in out,
     "swaks --tlsc --auth PLAIN on 465 (sha512-crypt)", out[-700:])
t.ok(wait_for(lambda: any(b"via 465" in m for m in u.maildir_messages()), 20),
     "the 465 message is delivered")
m465 = [m for m in u.maildir_messages() if b"via 465" in m]
t.ok(m465 and b"(Authenticated sender: carol)" in m465[0] and b"with ESMTPSA" in m465[0],
     "smtpd_sasl_authenticated_header=yes names the user in Received")

# --- a new password, through the reload moat passwd makes ----------------------
t.is_eq(passwd("alice", "new-pw").returncode, 0, "moat passwd alice: a new password")


def new_password_works():
    c = session(p587)
    r = c.cmd("AUTH PLAIN AGFsaWNlAG5ldy1wdw==")  # \0alice\0new-pw
    c.close()
    return r.startswith("235")


t.ok(wait_for(new_password_works, 20), "the new password works at once")
c = session(p587)
t.like(c.cmd("AUTH PLAIN " + PLAIN_ALICE), r"^535 ", "the old one no longer does")
c.close()

# --- auth busy: the session waits, its smtpd process does not --------------------
auths = inst.pids_of("auth")
t.is_eq(len(auths), 1, "one auth process (maxproc 1)")
a, b = session(p589), session(p589)  # one smtpd process serves both
fillers = []
for pid in auths:
    os.kill(pid, signal.SIGSTOP)
try:
    full = False
    for _ in range(2000):
        f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        f.setblocking(False)
        try:
            f.connect(inst.path("spool", "private", "auth"))
        except BlockingIOError:
            f.close()
            full = True
            break
        fillers.append(f)
    t.ok(full, "auth stopped and its listener full (%d connections wait)"
         % len(fillers))
    a.send(b"AUTH PLAIN AGFsaWNlAG5ldy1wdw==\r\n")  # alice's new password
    t.ok(a.quiet(0.5), "an AUTH waits for auth")
    start = time.monotonic()
    r = b.cmd("NOOP")
    ms = (time.monotonic() - start) * 1000
    t.like(r or "", r"^250 ", "another session of the same process is answered")
    t.ok(ms < 150, "at once (%.1f ms): smtpd does not wait in connect" % ms)
finally:
    for f in fillers:
        f.close()
    for pid in auths:
        os.kill(pid, signal.SIGCONT)
t.like(a.reply() or "", r"^235 ", "auth back: the waiting AUTH succeeds")
a.close()
b.close()

# --- where the hashes are ---------------------------------------------------------------
auth_uid = pwd.getpwnam("moat-auth").pw_uid
auths = inst.pids_of("auth")
t.ok(auths and all(proc_ids(p) == (auth_uid,) * 3 and
                   os.readlink("/proc/%d/root" % p) == inst.path("spool") for p in auths),
     "auth runs as moat-auth, chrooted in the spool")
open_maps = [(p, os.readlink("/proc/%d/fd/%s" % (p, fd)))
             for p in inst.pids_of("smtpd") for fd in os.listdir("/proc/%d/fd" % p)
             if "sasl_passwords" in os.readlink("/proc/%d/fd/%s" % (p, fd))]
t.is_eq(open_maps, [], "no smtpd has the password map open")
r = inst.moat("audit", check=False)
t.ok(r.returncode == 0, "moat audit: no deviation", r.stdout[-1500:])
inst.stop()

# --- fail2ban's postfix-sasl filter ---------------------------------------------------
found = fail2ban_sasl(inst.path("log", "maillog"))
if found is not None:
    ips = collections.Counter(found)
    failures = len(re.findall(r"SASL \w+ authentication failed: (?!Connection lost)",
                              inst.log()))
    t.ok(ips == {CLIENT: failures} and failures >= 5,
         "fail2ban-regex, postfix[mode=auth]: every failure, by client (%d)"
         % failures, dict(ips))
else:
    t.ok(True, "fail2ban-regex is not installed # SKIP")
inst.destroy()
t.done()
