#!/usr/bin/env python3
"""Postfix-style restriction lists on a real instance (screen -> smtpd),
with real tables: a CIDR table (cidr_table(5) syntax) and LMDB access maps
built by `moat map build`, named in smtpd_client_restrictions,
smtpd_helo_restrictions, smtpd_sender_restrictions and
smtpd_recipient_restrictions.  Every list is applied at RCPT TO
(smtpd_delay_reject = yes), so each refusal is logged in Postfix's shape
with the whole envelope; OK, REJECT text, DEFER, DUNNO and "5NN X.Y.Z
text" actions; access(5)'s key order (parent domains, localpart@,
network prefixes); the relay rule and unknown local users (now the
default recipient list) still hold; the bare postmaster is taken; and a
table that does not parse stops smtpd with the file and line, which
`moat check` reports too."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, require_root, wait_for  # noqa: E402

require_root()
t = Tap()
inst = Instance("restrict", {"home_mailbox": "Maildir/",
                             "mynetworks": "127.0.0.1/32",
                             "mydestination": "localhost, rs.example",
                             "postscreen_greet_wait": "1s"})
u = inst.user("moatt_rs")
conf = inst.conf
CIDR = os.path.join(conf, "client.cidr")
tables = {
    "client.cidr": "# networks and actions\n"
                   "127.0.0.3/32   REJECT cidr says no\n"
                   "127.0.0.4      550 5.7.0 go\n"
                   "   away\n"
                   "2001:db8::/32  REJECT\n"
                   "127.0.0.0/8    DUNNO\n",
    "client_access": "127.0.0.5 REJECT lmdb says no\n"
                     "127.0.0.6 DEFER\n",
    "helo_access": "bad.example REJECT no such helo\n",
    "sender_access": "spammer@example.org REJECT\n"
                     "junk.example 550 5.7.0 junk domain\n"
                     "friend@ OK\n",
    "rcpt_access": "blocked@rs.example REJECT not for you\n"
                   "odd.example bogus action\n",
}
for name, text in tables.items():
    path = os.path.join(conf, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    if name != "client.cidr":
        inst.moat("map", "build", path)
P = lambda name: os.path.join(conf, name)  # noqa: E731
inst.set({
    "smtpd_client_restrictions": "check_client_access cidr:%s, "
                                 "check_client_access lmdb:%s"
                                 % (CIDR, P("client_access")),
    "smtpd_helo_restrictions": "reject_invalid_helo_hostname, "
                               "reject_non_fqdn_helo_hostname, "
                               "check_helo_access hash:%s" % P("helo_access"),
    "smtpd_sender_restrictions": "reject_non_fqdn_sender, "
                                 "check_sender_access %s" % P("sender_access"),
    "smtpd_recipient_restrictions": "check_recipient_access %s, "
                                    "reject_non_fqdn_recipient, "
                                    "permit_mynetworks, "
                                    "reject_unauth_destination, "
                                    "reject_unlisted_recipient"
                                    % P("rcpt_access"),
})
check = inst.moat("check", check=False)
t.ok("restrictions" not in check.stdout + check.stderr,
     "moat check finds nothing wrong with the lists and tables",
     check.stdout + check.stderr)
inst.start()
RCPT = "moatt_rs@rs.example"


def envelope(source, helo="client.example", sender="a@example.org",
             rcpt=RCPT):
    """(MAIL's reply, RCPT's reply) of one transaction from source."""
    c = Smtp(inst.port, source=source)
    c.reply()
    c.cmd("EHLO " + helo)
    mail = c.cmd("MAIL FROM:<%s>" % sender)
    reply = c.cmd("RCPT TO:<%s>" % rcpt)
    c.cmd("QUIT")
    c.close()
    return mail, reply


# --- client: CIDR table, then LMDB map ---------------------------------------
mail, r = envelope("127.0.0.3")
t.like(mail, r"^250 ", "a refused client still gets 250 for MAIL (the "
       "lists are applied at RCPT TO)")
t.is_eq(r, "554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: "
        "cidr says no", "CIDR table: REJECT with text")
t.ok(inst.wait_log(
    r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.3\]: 554 5\.7\.1 "
    r"<unknown\[127\.0\.0\.3\]>: Client host rejected: cidr says no; "
    r"from=<a@example\.org> to=<moatt_rs@rs\.example> proto=ESMTP "
    r"helo=<client\.example>"), "logged in Postfix's shape, whole envelope")
t.is_eq(envelope("127.0.0.4")[1],
        "550 5.7.0 <unknown[127.0.0.4]>: Client host rejected: go away",
        "CIDR table: a code, its enhanced code and a continued line")
t.is_eq(envelope("127.0.0.5")[1],
        "554 5.7.1 <unknown[127.0.0.5]>: Client host rejected: "
        "lmdb says no", "LMDB map after a CIDR DUNNO: REJECT")
t.is_eq(envelope("127.0.0.6")[1],
        "450 4.7.1 <unknown[127.0.0.6]>: Client host rejected: "
        "Access denied", "DEFER: 450")

# --- HELO ----------------------------------------------------------------------
t.is_eq(envelope("127.0.0.2", helo="bad!name")[1],
        "501 5.5.2 <bad!name>: Helo command rejected: Invalid name",
        "reject_invalid_helo_hostname")
t.is_eq(envelope("127.0.0.2", helo="nodot")[1],
        "504 5.5.2 <nodot>: Helo command rejected: need fully-qualified "
        "hostname", "reject_non_fqdn_helo_hostname")
t.like(envelope("127.0.0.2", helo="[127.0.0.2]")[1], r"^250 ",
       "an address literal is a valid HELO")
t.is_eq(envelope("127.0.0.2", helo="mx.bad.example")[1],
        "554 5.7.1 <mx.bad.example>: Helo command rejected: no such helo",
        "check_helo_access matches a parent domain")

# --- sender ----------------------------------------------------------------------
t.is_eq(envelope("127.0.0.2", sender="Spammer@Example.org")[1],
        "554 5.7.1 <Spammer@example.org>: Sender address rejected: "
        "Access denied", "check_sender_access: the whole address, any case "
        "(the domain is written in lower case)")
t.is_eq(envelope("127.0.0.2", sender="x@mail.junk.example")[1],
        "550 5.7.0 <x@mail.junk.example>: Sender address rejected: junk "
        "domain", "a parent domain of the sender")
t.like(envelope("127.0.0.2", sender="friend@other.example")[1], r"^250 ",
       "localpart@: OK")
t.like(envelope("127.0.0.2", sender="friend@mail.junk.example")[1],
       r"^550 5\.7\.0 ", "localpart@ comes after the domains")
t.like(envelope("127.0.0.2", sender="friend@other.example",
                rcpt="x@far-away.example")[1],
       r"^554 5\.7\.1 <x@far-away\.example>: Relay access denied",
       "a sender list's OK does not open the relay")
t.is_eq(envelope("127.0.0.2", rcpt="moatt_rs@localhost")[1],
        "504 5.5.2 <moatt_rs@localhost>: Recipient address rejected: need "
        "fully-qualified address", "reject_non_fqdn_recipient")
t.is_eq(envelope("127.0.0.2", sender="a@nodot")[1],
        "504 5.5.2 <a@nodot>: Sender address rejected: need "
        "fully-qualified address", "reject_non_fqdn_sender")

# --- recipient -------------------------------------------------------------
t.is_eq(envelope("127.0.0.2", rcpt="blocked@rs.example")[1],
        "554 5.7.1 <blocked@rs.example>: Recipient address rejected: not "
        "for you", "check_recipient_access")
t.is_eq(envelope("127.0.0.2", rcpt="x@odd.example")[1],
        "451 4.3.5 Server configuration error",
        "a value that is no action: 451 4.3.5")
t.ok(inst.wait_log(r"warning: check_recipient_access \S+rcpt_access: value "
                   r"\"bogus action\"|value .* is no access action"),
     "and the log names the table")
t.like(envelope("127.0.0.2", rcpt="nobody_here@rs.example")[1],
       r"^550 5\.1\.1 <nobody_here@rs\.example>: Recipient address rejected: "
       r"User unknown in local recipient table", "reject_unlisted_recipient")
t.like(envelope("127.0.0.1", rcpt="nobody_here@rs.example")[1],
       r"^550 5\.1\.1 ", "also for a trusted client, after its permit "
       "(smtpd_reject_unlisted_recipient)")
t.like(envelope("127.0.0.1", rcpt="x@far-away.example")[1], r"^250 ",
       "permit_mynetworks: a trusted client relays")
t.like(envelope("127.0.0.2", rcpt="Postmaster")[1], r"^250 ",
       "the bare postmaster is taken from anyone")

# --- a message through it all ----------------------------------------------------
c = Smtp(inst.port, source="127.0.0.2")
c.reply()
c.cmd("EHLO mail.client.example")
c.cmd("MAIL FROM:<someone@client.example>")
t.like(c.cmd("RCPT TO:<%s>" % RCPT), r"^250 ", "a clean envelope passes")
c.cmd("DATA")
c.send(b"Subject: restricted\r\n\r\nhello\r\n.\r\n")
t.like(c.reply(), r"^250 2\.0\.0 Ok: queued as", "and is queued")
c.cmd("QUIT")
c.close()
t.ok(wait_for(lambda: u.maildir_messages(), 20), "and delivered")

# --- configuration errors ----------------------------------------------------------
with open(CIDR, "a") as f:
    f.write("192.0.2.1/24 REJECT\n")
check = inst.moat("check", check=False)
t.like(check.stdout + check.stderr,
       r"smtpd_client_restrictions: %s:7: \"192\.0\.2\.1/24\" has bits set "
       r"beyond its prefix" % CIDR.replace(".", r"\."),
       "moat check names the CIDR table's file and line")
inst.set({"smtpd_helo_restrictions": "reject_bogus_helo"})
check = inst.moat("check", check=False)
t.like(check.stdout + check.stderr,
       r"smtpd_helo_restrictions: unknown restriction reject_bogus_helo",
       "moat check names the list of an unknown word")
inst.moat("reload")


def knock():
    """A client that waits for its answer makes the master start an smtpd
    (one that hangs up at once may never be handed over by the screen)."""
    try:
        c = Smtp(inst.port, source="127.0.0.2", timeout=5)
        c.reply()
        c.close()
    except OSError:
        pass
    return inst.wait_log(r"smtpd_client_restrictions: check_client_access "
                         r"cidr:\S+: \S+client\.cidr:7: ", 2)


wait_for(knock, 30, 0.5)
t.ok(inst.wait_log(r"smtpd_client_restrictions: check_client_access "
                   r"cidr:\S+: \S+client\.cidr:7: "), "smtpd refuses to start, "
     "naming the parameter, the file and the line")
inst.stop()
t.done()
