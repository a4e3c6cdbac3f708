#!/usr/bin/env python3
"""TLS on the way in (RFC 3207, RFC 8314), with real clients: Python's ssl
module and swaks.  A fresh `moat init` instance offers STARTTLS with its
demonstration certificates; the handshake is logged as Postfix logs it and
the Received header and protocol word say it; the session starts over
after it (EHLO again) and STARTTLS inside TLS is refused; bytes pipelined
after STARTTLS are dropped, never answered inside TLS (the CVE-2011-0411
injection); TLS 1.0 and 1.1 are refused, sessions resume with tickets.
With a test CA: ECDSA and RSA certificates over TLS 1.2 and 1.3, verified
by name; smtpd_tls_security_level = encrypt refuses MAIL before STARTTLS;
an implicit-TLS service (465) greets only inside TLS.  `moat reload`
picks up a renewed certificate while a session in progress goes on with
the old one.  A key readable by others is refused by moat check, moat
reload, moat start and the master itself, each naming the file, and moat
check finds a key that is not its certificate's.  No process but tlssign
has a private key: smtpd's memory is searched for it, and moat audit
finds no key file open in a network-facing process (and says so when one
is)."""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, free_port, require_root, wait_for
from tlstest import (HOST, OPENSSL, SWAKS, TestCA, TlsSmtp, add_service,
                     any_context, fingerprint, install, replace_file, swaks)

require_root()
if not OPENSSL or not SWAKS:
    print("1..0 # SKIP openssl and swaks are needed (make deps)")
    sys.exit(0)
t = Tap()
ca = TestCA()

# --- a fresh moat init instance: the demo certificates --------------------
inst = Instance("tls", {"home_mailbox": "Maildir/", "smtpd_error_sleep_time": "0"})
u = inst.user("moatt_tls")
inst.start()
c = TlsSmtp(inst.port)
t.like(c.reply(), r"^220 ", "greeting in clear text")
ehlo = c.cmd("EHLO client.example")
t.like(ehlo, r"(?m)^250-STARTTLS$", "a fresh instance offers STARTTLS")
t.ok("AUTH" not in ehlo, "and no AUTH in clear text")
t.is_eq(c.starttls(any_context()), "220 2.0.0 Ready to start TLS", "STARTTLS: 220")
t.is_eq(c.s.version(), "TLSv1.3", "TLS 1.3 by default")
t.like(inst.wait_log(r"TLS connection established from localhost\[127\.0\.0\.1\]: "
                     r"TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 \(256/256 bits\)")
       and "ok", "ok", "the handshake is logged in Postfix's words")
t.like(c.cmd("MAIL FROM:<a@example.org>"), r"^503 5\.5\.1 Error: send HELO/EHLO first",
       "after the handshake the session starts over: no MAIL before EHLO")
ehlo = c.cmd("EHLO client.example")
t.ok(ehlo.startswith("250") and "STARTTLS" not in ehlo,
     "inside TLS EHLO no longer offers STARTTLS", ehlo)
t.like(c.cmd("STARTTLS"), r"^503 5\.5\.1 Error: TLS already active",
       "STARTTLS inside TLS: 503 5.5.1")
c.cmd("MAIL FROM:<sender@example.org>")
c.cmd("RCPT TO:<moatt_tls@localhost>")
c.cmd("DATA")
c.send(b"Subject: over TLS\r\n\r\nsecret body\r\n.\r\n")
t.like(c.reply(), r"^250 2\.0\.0 Ok: queued as", "a message over TLS is accepted")
c.cmd("QUIT")
c.close()
t.ok(wait_for(lambda: u.maildir_messages(), 20), "and delivered")
msg = (u.maildir_messages() or [b""])[0].decode("utf-8", "replace")
t.like(msg, r"\(using TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 "
       r"\(256/256 bits\)\)\n\tby \S+ with ESMTPS id ",
       "Received: the TLS version and cipher, protocol ESMTPS")
t.like_soon(inst.log, r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1/2 "
            r"mail=1/2 rcpt=1 data=1 quit=1 commands=7/9",
            "the disconnect line counts starttls (one of two refused)")

# --- STARTTLS injection (CVE-2011-0411 class) ------------------------------
c = TlsSmtp(inst.port)
c.reply()
c.cmd("EHLO client.example")
c.send(b"STARTTLS\r\nNOOP\r\nRSET\r\n")
r = c.reply()
t.is_eq(r, "220 2.0.0 Ready to start TLS", "pipelined STARTTLS gets its 220 only")
t.is_eq(c.buf, b"", "and nothing else in clear text")
c.tls(any_context())
t.ok(c.quiet(1.5), "the pipelined NOOP and RSET get no answer inside TLS")
t.like(c.cmd("NOOP"), r"^250 2\.0\.0 Ok$", "a NOOP sent inside TLS is answered")
c.close()
t.like_soon(inst.log, r"localhost\[127\.0\.0\.1\]: 12 bytes sent after STARTTLS "
            r"before the handshake: discarded", "the dropped bytes are logged")
# Clear text sent after the 220, where the handshake should be: no TLS.
c = TlsSmtp(inst.port)
c.reply()
c.cmd("EHLO client.example")
t.like(c.cmd("STARTTLS"), r"^220 ", "STARTTLS")
c.send(b"EHLO evil.example\r\nMAIL FROM:<x@example.org>\r\n")
t.ok(c.closed(), "clear text in place of a handshake: the connection is closed")
c.close()
t.like_soon(inst.log, r"TLS handshake failed from localhost\[127\.0\.0\.1\]: ",
            "and the failed handshake is logged")

# --- versions, resumption ----------------------------------------------------
c = TlsSmtp(inst.port)
c.reply()
c.cmd("EHLO client.example")
c.cmd("STARTTLS")
old = any_context(minimum_version=ssl.TLSVersion.TLSv1,
                  maximum_version=ssl.TLSVersion.TLSv1_1)
old.set_ciphers("ALL:@SECLEVEL=0")
try:
    c.tls(old)
    refused = False
except (ssl.SSLError, OSError):
    refused = True
t.ok(refused, "TLS 1.0 and 1.1 are refused")
c.close()
ctx12 = any_context(maximum_version=ssl.TLSVersion.TLSv1_2)
c = TlsSmtp(inst.port)
c.reply()
c.cmd("EHLO client.example")
c.starttls(ctx12)
session = c.s.session
c.cmd("QUIT")
c.close()


def resumed(session):
    c = TlsSmtp(inst.port)
    c.reply()
    c.cmd("EHLO client.example")
    c.cmd("STARTTLS")
    c.s = ctx12.wrap_socket(c.s, session=session)
    reused, compressed = c.s.session_reused, c.s.compression()
    c.close()
    return reused, compressed


t.is_eq(resumed(session), (True, None),
        "a TLS 1.2 session resumes with its ticket; no TLS compression")
before = set(inst.pids_of("smtpd"))
inst.moat("reload")
t.ok(wait_for(lambda: not (set(inst.pids_of("smtpd")) & before), 20) and
     resumed(session)[0],
     "a new smtpd process (after moat reload) resumes it too: tlssign gives "
     "every process the same ticket key")

# --- swaks --------------------------------------------------------------------
rc, out = swaks("--server", "127.0.0.1:%d" % inst.port, "--tls", "--from",
                "swaks@example.org", "--to", "moatt_tls@localhost", "--helo",
                "swaks.example")
t.ok(rc == 0 and re.search(r"TLS started with cipher TLSv1\.3", out) and
     re.search(r"<~  250 2\.0\.0 Ok: queued as", out),
     "swaks --tls sends a message", out[-800:])
inst.destroy()

# --- a test CA, ECDSA and RSA, TLS 1.2 and 1.3 --------------------------------
inst = Instance("tlsca", {"smtpd_error_sleep_time": "0"})
ec, rsa = ca.issue("ec", "ec"), ca.issue("rsa", "rsa")
installed = install(inst, [ec, rsa])
port587, port465 = free_port(), free_port()
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 4 smtpd "
            "-o smtpd_tls_security_level=encrypt" % port587)
add_service(inst, "127.0.0.1:%d inet moat-smtpd y 4 smtpd "
            "-o smtpd_tls_wrappermode=yes" % port465)
r = inst.moat("check", check=False)
t.ok(not re.search(r"\.key|\.crt|master\.conf|tlssign", r.stderr),
     "moat check: the CA's certificates, their keys and the -o lines pass",
     r.stderr)
inst.start()


def handshake(ctx, port=None):
    c = TlsSmtp(port or inst.port)
    c.reply()
    c.cmd("EHLO client.example")
    c.starttls(ctx, HOST)
    return c


def der_of(path):
    return ssl.PEM_cert_to_DER_cert(open(path).read())


for name, kw, cert in (
        ("TLS 1.3 ECDSA", {}, ec[0]),
        ("TLS 1.2 ECDSA", {"maximum_version": ssl.TLSVersion.TLSv1_2}, ec[0]),
        ("TLS 1.2 RSA", {"maximum_version": ssl.TLSVersion.TLSv1_2}, rsa[0])):
    ctx = ca.context(**kw)
    if "RSA" in name:
        ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")
    c = handshake(ctx)
    t.is_eq(c.peer_fingerprint(), fingerprint(der_of(cert)),
            "%s: the CA's certificate, verified for %s" % (name, HOST))
    t.like(c.cmd("EHLO client.example"), r"^250-", "%s: the session works" % name)
    c.close()
ctx = ca.context(maximum_version=ssl.TLSVersion.TLSv1_3)
ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")  # TLS 1.3 ignores it
c = TlsSmtp(inst.port)
c.reply()
c.cmd("EHLO x")
c.cmd("STARTTLS")
c.s = ctx.wrap_socket(c.s, server_hostname=HOST)
t.is_eq(c.s.version(), "TLSv1.3", "TLS 1.3 with a CA-signed chain")
c.close()

# encrypt: MAIL before STARTTLS
c = TlsSmtp(port587)
c.reply()
t.like(c.cmd("EHLO client.example"), r"(?m)^250-STARTTLS$", "587: STARTTLS offered")
t.like(c.cmd("MAIL FROM:<a@example.org>"),
       r"^530 5\.7\.0 Must issue a STARTTLS command first",
       "smtpd_tls_security_level=encrypt: MAIL before STARTTLS gets 530 5.7.0")
c.starttls(ca.context(), HOST)
c.cmd("EHLO client.example")
t.like(c.cmd("MAIL FROM:<a@example.org>"), r"^250 ", "and MAIL inside TLS is taken")
c.close()

# implicit TLS: no greeting in clear text
p = socket.create_connection(("127.0.0.1", port465), timeout=2)
try:
    early = p.recv(100)
except socket.timeout:
    early = b""
t.is_eq(early, b"", "465 without TLS: no SMTP greeting")
p.sendall(b"EHLO plain.example\r\n")
try:
    p.settimeout(5)
    late = p.recv(100)
except (socket.timeout, ConnectionResetError):
    late = b""
t.ok(b"220" not in late and b"250" not in late,
     "clear text on 465 is never answered in SMTP", late)
p.close()
c = TlsSmtp(port465, implicit=ca.context(), server_hostname=HOST)
t.like(c.reply(), r"^220 ", "465 with TLS: the greeting comes inside TLS")
ehlo = c.cmd("EHLO client.example")
t.ok(ehlo.startswith("250") and "STARTTLS" not in ehlo, "465: no STARTTLS offered", ehlo)
c.close()
rc, out = swaks("--server", "127.0.0.1:%d" % port465, "--tlsc", "--quit-after",
                "EHLO", "--helo", "swaks.example")
t.ok(rc == 0 and re.search(r"TLS started with cipher", out) and
     re.search(r"<~  220 ", out), "swaks --tlsc talks to 465", out[-600:])

# --- the keys live in tlssign only ---------------------------------------------


def private_bytes(key):
    """The private scalar (EC) or first prime (RSA) in big-endian bytes."""
    text = openssl_text(key)
    m = re.search(r"(?:priv|prime1):\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
    return bytes.fromhex(re.sub(r"[\s:]", "", m.group(1))).lstrip(b"\0") if m else None


def openssl_text(key):
    return subprocess.run([OPENSSL, "pkey", "-in", key, "-text", "-noout"],
                          capture_output=True, text=True).stdout


def memory_has(pid, needles):
    """Search a process's writable memory for any of needles."""
    found = False
    try:
        with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb") as mem:
            for line in maps:
                fields = line.split()
                if "rw" not in fields[1]:
                    continue
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                try:
                    mem.seek(lo)
                    chunk = mem.read(hi - lo)
                except OSError:
                    continue
                if any(n in chunk for n in needles):
                    found = True
    except OSError:
        return None
    return found


needles = []
for _, key in installed:
    b = private_bytes(key)
    if b:
        needles += [b, b[::-1]]  # OpenSSL keeps numbers little-endian
    body = "".join(open(key).read().splitlines()[1:-1])
    needles.append(body[10:58].encode())  # the PEM text
t.ok(len(needles) == 6, "the keys' secrets are known to the test")
smtpds = inst.pids_of("smtpd")
signers = inst.pids_of("tlssign")
t.ok(smtpds and signers, "smtpd and tlssign processes are running")
t.ok(all(memory_has(p, needles) is True for p in signers),
     "the search works: tlssign holds the private keys")
t.ok(smtpds and all(memory_has(p, needles) is False for p in smtpds),
     "no smtpd process holds a private key, not even in freed memory")
r = inst.moat("audit", check=False)
t.ok(r.returncode == 0, "moat audit: no deviation (no key file open where it "
     "must not be)", r.stdout[-600:] + r.stderr)
# Were smtpd to hold a key file, audit would say so.  smtpd does hold the
# recipients map once it has looked a recipient up: name that file as a
# key in main.conf (read by audit, not by the running instance) and look.
c = handshake(ca.context())
c.cmd("EHLO client.example")
c.cmd("MAIL FROM:<a@example.org>")
c.cmd("RCPT TO:<postmaster@localhost>")
main = os.path.join(inst.conf, "main.conf")
saved = open(main).read()
inst.set({"smtpd_tls_key_file": inst.path("spool", "maps", "recipients.lmdb")})
r = inst.moat("audit", check=False)
t.ok(r.returncode == 1 and re.search(r"smtpd\[\d+\]: holds tls-key on fd \d+: .*"
                                     r"recipients\.lmdb", r.stdout),
     "moat audit names a network-facing process holding a key file",
     r.stdout[-800:])
with open(main, "w") as f:
    f.write(saved)
c.close()

# --- a renewed certificate through moat reload --------------------------------
keep = handshake(ca.context())
keep.cmd("EHLO client.example")
t.is_eq(keep.peer_fingerprint(), fingerprint(der_of(ec[0])), "a session in progress")
ec2 = ca.issue("ec2", "ec")
replace_file(ec2[0], installed[0][0], 0o644)
replace_file(ec2[1], installed[0][1], 0o600)
inst.moat("reload")


def new_cert():
    try:
        c = handshake(ca.context())
    except (ssl.SSLError, OSError):
        return None
    fp = c.peer_fingerprint()
    c.close()
    return fp if fp == fingerprint(der_of(ec2[0])) else None


t.ok(wait_for(new_cert, 20), "after moat reload new sessions get the renewed certificate")
keep.cmd("MAIL FROM:<a@example.org>")
keep.cmd("RCPT TO:<postmaster@localhost>")
keep.cmd("DATA")
keep.send(b"Subject: after the reload\r\n\r\nstill here\r\n.\r\n")
t.like(keep.reply(), r"^250 2\.0\.0 Ok: queued as",
       "the session that began before the reload goes on to the end")
keep.cmd("QUIT")
keep.close()

# --- a key that is not its certificate's: moat check says so -------------------
saved = open(main).read()
inst.set({"smtpd_tls_key_file": "%s, %s" % (installed[1][1], installed[0][1])})
r = inst.moat("check", check=False)
t.ok(r.returncode == 1 and "%s is not the private key of %s" % (installed[1][1], installed[0][0])
     in r.stderr, "moat check: a key that does not belong to its certificate", r.stderr)
with open(main, "w") as f:
    f.write(saved)

# --- a key file anyone may read: refused, naming the file ---------------------
bad = installed[0][1]
os.chmod(bad, 0o644)
r = inst.moat("check", check=False)
t.ok(r.returncode == 1 and bad + ": mode 0644" in r.stderr,
     "moat check names the key readable by others", r.stderr)
r = inst.moat("reload", check=False)
t.ok(r.returncode != 0 and bad in r.stderr, "moat reload refuses it", r.stderr)
master = int(open(inst.path("spool", "pid", "master.pid")).read())
os.kill(master, signal.SIGHUP)
t.ok(inst.wait_log(r"reload failed, the old configuration stays: %s: mode 0644"
                   % re.escape(bad)), "the master refuses it on SIGHUP, naming it")
t.ok(inst.accepting(), "and goes on with the configuration it had")
inst.stop()
r = inst.moat("start", check=False)
t.ok(r.returncode != 0 and bad in r.stderr, "moat start refuses it", r.stderr)
os.chmod(bad, 0o600)
inst.start()
t.ok(inst.accepting(), "with mode 600 again it starts")
inst.destroy()
ca.remove()
t.done()
