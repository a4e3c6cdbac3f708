#!/usr/bin/env python3
"""AUTH against a real Dovecot (smtpd_sasl_type = dovecot), the way most
Postfix sites check passwords: Debian's dovecot-core (make dovecot) runs
with its own configuration and users, its client socket inside the spool
where auth(8) reaches it chrooted.  PLAIN and LOGIN, from Python and from
swaks, succeed with the right password and get 535 with a wrong one (and
fail2ban's filter sees the failure); with Dovecot gone, AUTH gets 454
4.7.0, logged as the temporary failure fail2ban's filter ignores; once
Dovecot is back, AUTH works again."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, free_port, require_root, wait_for
from tlstest import (OPENSSL, SWAKS, TlsSmtp, add_service, any_context,
                     fail2ban_sasl, swaks)
import dovecot

require_root()
if not dovecot.available() or not OPENSSL or not SWAKS:
    print("1..0 # SKIP Dovecot is not unpacked (make dovecot), or no "
          "openssl or swaks")
    sys.exit(0)
t = Tap()
CLIENT = "127.0.0.2"

inst = Instance("dovecot", {"mynetworks": "127.0.0.1/32",
                            "smtpd_error_sleep_time": "0",
                            "smtpd_sasl_type": "dovecot",
                            "smtpd_sasl_path": "private/dovecot-auth"})
port = free_port()
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 4 smtpd -o "
            "smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes "
            "-o smtpd_sender_restrictions=permit_sasl_authenticated,reject" % port)
r = inst.moat("check", check=False)
t.ok(not re.search(r"sasl|auth|master\.conf", r.stderr),
     "moat check: a dovecot backend inside the spool passes", r.stderr)
inst.start()
dc = dovecot.Dovecot(inst, {"alice": "dove-pw", "bob@example.com": "bob-pw"})
dc.start()
st = os.stat(dc.socket)
t.ok(st.st_mode & 0o777 == 0o600, "Dovecot's socket: moat-auth's alone, mode 600")


def session():
    c = TlsSmtp(port, source=CLIENT)
    c.reply()
    c.cmd("EHLO client.example")
    c.starttls(any_context())
    c.cmd("EHLO client.example")
    return c


c = session()
t.like(c.cmd("AUTH PLAIN AGFsaWNlAGRvdmUtcHc="), r"^235 2\.7\.0 ",
       "Dovecot says yes: 235")
t.like(c.cmd("MAIL FROM:<alice@example.org>"), r"^250 ", "and the client may send")
t.like(c.cmd("RCPT TO:<friend@far-away.example>"), r"^250 ", "and relay")
c.close()
c = session()
t.like(c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n"), r"^535 5\.7\.8 ",
       "Dovecot says no: 535")
c.cmd("AUTH LOGIN")
c.cmd("Ym9iQGV4YW1wbGUuY29t")  # bob@example.com
t.like(c.cmd("Ym9iLXB3"), r"^235 ", "LOGIN, as PLAIN to Dovecot, with a full address")
c.close()
t.like_soon(inst.log, r"warning: unknown\[127\.0\.0\.2\]: SASL PLAIN authentication "
            r"failed: authentication failure, sasl_username=alice",
            "the failure is logged with the client and the user")
rc, out = swaks("--server", "127.0.0.1:%d" % port, "--local-interface", CLIENT,
                "--tls", "--auth", "PLAIN", "--auth-user", "alice",
                "--auth-password", "dove-pw", "--from", "alice@example.org",
                "--to", "postmaster@localhost")
t.ok(rc == 0 and "235 2.7.0" in out and "Ok: queued as" in out,
     "swaks --tls --auth PLAIN through Dovecot", out[-600:])

dc.stop()
c = session()
t.like(c.cmd("AUTH PLAIN AGFsaWNlAGRvdmUtcHc="),
       r"^454 4\.7\.0 Temporary authentication failure",
       "Dovecot gone: 454 4.7.0, not 535")
c.close()
t.like_soon(inst.log, r"auth\[\d+\]: warning: dovecot: connect to private/dovecot-auth",
            "auth says why")
t.like_soon(inst.log, r"SASL PLAIN authentication failed: Connection lost to "
            r"authentication server", "smtpd logs it in Postfix's words")
dc.start()


def auth_once():
    """One AUTH in a new session (its socket exists before Dovecot's auth
    process answers on it: 454 until then)."""
    c = session()
    r = c.cmd("AUTH PLAIN AGFsaWNlAGRvdmUtcHc=") or ""
    c.close()
    return r


last = []
t.ok(wait_for(lambda: last.append(auth_once()) or last[-1].startswith("235 "),
              10), "Dovecot back: 235 again", last[-1:])
inst.stop()
dc.destroy()

found = fail2ban_sasl(inst.path("log", "maillog"))
if found is not None:
    t.is_eq(found, [CLIENT],
            "fail2ban's filter counts the wrong password, not Dovecot's absence")
inst.destroy()
t.done()
