#!/usr/bin/env python3
"""SMTPUTF8 (RFC 6531, 6532) end to end, in a private network namespace:
a UTF-8 address without the SMTPUTF8 parameter refused with 553 5.6.7;
an SMTPUTF8 message to a UTF-8 local part (an alias: login names are
ASCII) delivered byte for byte, UTF-8 headers untouched; relayed through
remote to a second Moat that offers SMTPUTF8 (passed on, delivered byte
for byte there); bounced 5.6.7 when the next hop does not offer it (a
scripted peer), while an SMTPUTF8 message that is all ASCII still goes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, require_root, send_message, smtp_session, wait_for  # noqa: E402
from peers import PeerInstance, ScriptedPeer, enter_netns, listening  # noqa: E402
from dsnreport import report  # noqa: E402

require_root()
enter_netns()
t = Tap()

PEER_IP, OLD_IP = "127.0.0.21", "127.0.0.22"
a = Instance("utf8", {"home_mailbox": "Maildir/",
                      "transport_maps": "$config_directory/transport"})
with open(a.path("conf", "transport"), "w") as f:
    f.write("peer.example smtp:[%s]:25\nold.example smtp:[%s]:25\n" % (PEER_IP, OLD_IP))
a.moat("map", "build", a.path("conf", "transport"))
with open(a.path("conf", "aliases")) as f:
    default_aliases = f.read()
a.write_aliases(default_aliases + "j\u00f6rg: moatt_u8r\n")
rcpt = a.user("moatt_u8r")
snd = a.user("moatt_u8s")
a.start()

b = PeerInstance("utf8peer", PEER_IP, {"home_mailbox": "Maildir/",
                                       "mydestination": "peer.example, localhost"})
with open(b.path("conf", "aliases")) as f:
    b.write_aliases(f.read() + "\u7528\u6237: moatt_u8p\n")
prcpt = b.user("moatt_u8p")
b.start()
old = ScriptedPeer(OLD_IP, name="mx.old.example").start()
wait_for(lambda: listening(OLD_IP, 25), 10)

U_LOCAL = "j\u00f6rg@localhost"
U_PEER = "\u7528\u6237@peer.example"
SENDER = "moatt_u8s@localhost"


def session():
    return smtp_session(a.port)


def send8(sender, rcpts, data):
    """An SMTPUTF8 transaction; the final reply."""
    return send_message(a.port, sender, rcpts, data, mail_params=" SMTPUTF8")


def message(to, subject):
    return ("From: J\u00f6rg <j\u00f6rg@example.org>\r\nTo: %s\r\n"
            "Subject: %s\r\nMessage-ID: <%s@example.org>\r\n"
            "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Gr\u00fc\u00dfe aus K\u00f6ln \u2014 \u4f60\u597d\r\nzweite Zeile\r\n"
            % (to, subject, subject.replace(" ", "-"))).encode()


def canonical(b):
    return b.replace(b"\r\n", b"\n")


# --- refused without SMTPUTF8 ---------------------------------------------
c, ehlo = session()
t.like(ehlo, r"(?m)^250-SMTPUTF8$", "EHLO offers SMTPUTF8")
t.is_eq(c.cmd("MAIL FROM:<j\u00f6rg@example.org>"),
        "553 5.6.7 Error: a UTF-8 address needs MAIL FROM with SMTPUTF8",
        "a UTF-8 sender without SMTPUTF8 is refused")
t.is_eq(c.cmd("MAIL FROM:<a@example.org>"), "250 2.1.0 Ok", "an ASCII one is fine")
t.is_eq(c.cmd("RCPT TO:<%s>" % U_LOCAL),
        "553 5.6.7 Error: a UTF-8 address needs MAIL FROM with SMTPUTF8",
        "a UTF-8 recipient without SMTPUTF8 is refused")
c.cmd("RSET")
c.send(b"MAIL FROM:<a\xc3zb@example.org> SMTPUTF8\r\n")
t.like(c.reply(), r"^501 5\.1\.7", "malformed UTF-8 is refused even with SMTPUTF8")
c.send(b"MAIL FROM:<a\xc0\xafb@example.org> SMTPUTF8\r\n")
t.like(c.reply(), r"^501 5\.1\.7", "so is an overlong form")
c.close()

# --- a UTF-8 local part (an alias), byte for byte ---------------------------
data = message(U_LOCAL, "local utf8")
r = send8("j\u00f6rg@example.org", [U_LOCAL], data)
t.like(r, r"^250 2\.0\.0 Ok: queued as", "an SMTPUTF8 message to a UTF-8 alias is taken")
msgs = wait_for(lambda: rcpt.maildir_messages(), 20) or []
t.is_eq(len(msgs), 1, "delivered to the user the UTF-8 alias names")
if msgs:
    head, _, body = msgs[0].partition(b"\n\n")
    t.is_eq(body, canonical(data).partition(b"\n\n")[2], "the body is byte-exact")
    t.ok(canonical(data).partition(b"\n\n")[0] in head,
         "the UTF-8 header block is untouched (RFC 6532)", head)
    t.ok(("for <%s>" % U_LOCAL).encode() in head,
         "the Received header names the UTF-8 recipient as it is", head)
    t.ok(b"with UTF8SMTP id" in head, "the protocol is UTF8SMTP (RFC 6531 3.7.7)", head)
    t.ok(head.startswith("Return-Path: <j\u00f6rg@example.org>\n".encode()),
         "Return-Path keeps the UTF-8 sender", head[:60])

# --- relayed to a Moat peer with SMTPUTF8 ----------------------------------
data = message(U_PEER, "relayed utf8")
r = send8(SENDER, [U_PEER], data)
t.like(r, r"^250 2\.0\.0 Ok: queued as", "an SMTPUTF8 message for the peer is taken")
t.ok(a.wait_log(r"to=<%s>, relay=%s\[%s\]:25, .*status=sent" % (U_PEER, PEER_IP, PEER_IP), 30),
     "remote delivered it to the peer", a.log()[-1500:])
pm = wait_for(lambda: prcpt.maildir_messages(), 20) or []
t.is_eq(len(pm), 1, "the peer delivered it to its UTF-8 alias")
if pm:
    t.is_eq(pm[0].partition(b"\n\n")[2], canonical(data).partition(b"\n\n")[2],
            "byte-exact at the peer")
    t.ok(canonical(data).partition(b"\n\n")[0] in pm[0], "headers intact at the peer")
    t.ok(b"with UTF8SMTP id" in pm[0].split(b"\n\n")[0],
         "the peer received it with SMTPUTF8 (UTF8SMTP in its trace)")

# --- a next hop without SMTPUTF8 -----------------------------------------
data = message("x@old.example", "utf8 to old")
r = send8(SENDER, ["\u00fcser@old.example"], data)
t.like(r, r"^250", "an SMTPUTF8 message for an old server is taken")
t.ok(a.wait_log(r"to=<\u00fcser@old\.example>, .*dsn=5\.6\.7, status=bounced", 30),
     "it is bounced 5.6.7: the next hop lacks SMTPUTF8")
t.is_eq([m for m in old.commands if m.startswith("MAIL")], [],
        "no transaction was tried with the old server")
bounces = wait_for(lambda: [m for m in snd.maildir_messages()
                            if b"Undelivered Mail" in m], 20) or []
t.is_eq(len(bounces), 1, "the sender got a non-delivery notification")
if bounces:
    dsn, per_msg, per_rcpt = report(bounces[0])
    ctypes = [p.get_content_type() for p in dsn.walk()]
    t.ok("message/global-delivery-status" in ctypes,
         "a UTF-8 report: message/global-delivery-status (RFC 6533)", ctypes)
    r0 = per_rcpt[0] if per_rcpt else {}
    t.is_eq(r0.get("Final-Recipient"), "utf-8; \u00fcser@old.example",
            "Final-Recipient of type utf-8")
    t.is_eq((r0.get("Action"), r0.get("Status")), ("failed", "5.6.7"),
            "Action failed, Status 5.6.7")

data = ("Subject: ascii only\r\nFrom: a@example.org\r\n\r\nplain\r\n").encode()
r = send8(SENDER, ["plain@old.example"], data)
t.ok(a.wait_log(r"to=<plain@old\.example>, relay=%s.*status=sent" % OLD_IP, 30),
     "an all-ASCII SMTPUTF8 message goes to the old server anyway")
mail = [m for m in old.commands if m.startswith("MAIL")]
t.ok(mail and "SMTPUTF8" not in mail[-1], "without the SMTPUTF8 parameter", mail)

old.stop()
t.done()
