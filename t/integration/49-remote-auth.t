#!/usr/bin/env python3
"""relayhost with AUTH (RFC 4954) against scripted submission servers in a
network namespace: with smtp_sasl_password_maps (root's, mode 600), mail
goes to relayhost = [127.0.0.51]:587 over STARTTLS, authenticated with
AUTH PLAIN (the server checks user and password); a server offering only
LOGIN gets LOGIN; a relay that does not offer STARTTLS never sees the
password (deferred, 4.7.4), not even when it offers AUTH in clear text; a
535 defers with the server's text; a 5xx to a recipient after AUTH
bounces it; a rebuilt password map restarts remote, and a map others can
read stops it from starting."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, queued_id, require_root, send_message, wait_for  # noqa: E402
from peers import ScriptedPeer, TestCA, enter_netns  # noqa: E402

require_root()
enter_netns()
t = Tap()

ca = TestCA()
RELAY = "127.0.0.51"    # the relayhost: STARTTLS, AUTH PLAIN LOGIN
LOGIN = "127.0.0.52"    # AUTH LOGIN only
CLEAR = "127.0.0.53"    # no STARTTLS, AUTH offered in clear text
WRONG = "127.0.0.54"    # refuses the credentials
USER, PASSWORD = "moat@example.net", "s3cret:with colon"

peers = {}
for addr in (RELAY, LOGIN, CLEAR, WRONG):
    p = ScriptedPeer(addr, port=587, name="smtp-%s.example.net" % addr[-2:])
    p.auth = (USER, PASSWORD)
    if addr != CLEAR:
        p.tls = ca.issue(["smtp-%s.example.net" % addr[-2:]])
    peers[addr] = p
peers[LOGIN].auth_mechs = ["LOGIN"]
peers[CLEAR].auth_in_clear = True
peers[WRONG].auth_reply = "535 5.7.8 Error: authentication failed: bad password"
peers[RELAY].rcpt_replies = {"gone@example.org": "550 5.1.1 <gone@example.org>: no such user"}
for p in peers.values():
    p.start()

inst = Instance("auth", {
    "relayhost": "[%s]:587" % RELAY,
    "smtp_sasl_password_maps": "$config_directory/sasl_passwd",
    "smtp_tls_cafile": ca.cert,
    "transport_maps": "$config_directory/transport",
    "smtp_connect_timeout": "2s",
    "smtp_connection_reuse_count_limit": "1",
})
snd = inst.user("moatt_asnd")
conf = inst.path("conf")
with open(os.path.join(conf, "transport"), "w") as f:
    f.write("login.example smtp:[%s]:587\nclear.example smtp:[%s]:587\n"
            "wrong.example smtp:[%s]:587\n" % (LOGIN, CLEAR, WRONG))
inst.moat("map", "build", os.path.join(conf, "transport"))
sasl = os.path.join(conf, "sasl_passwd")
fd = os.open(sasl, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    for addr in (RELAY, LOGIN, CLEAR, WRONG):
        f.write("[%s]:587 %s:%s\n" % (addr, USER, PASSWORD))
inst.moat("map", "build", sasl)
st = os.stat(sasl + ".lmdb")
t.ok(st.st_uid == 0 and st.st_mode & 0o777 == 0o600,
     "a source of mode 600 gives a map of mode 600",
     oct(st.st_mode & 0o777))
inst.start()

SENDER = "moatt_asnd@localhost"


def send(rcpts):
    r = send_message(inst.port, SENDER, rcpts,
                     b"Subject: via the relay\r\n\r\nhello\r\n")
    return queued_id(r)


def got(peer, rcpt, timeout=20):
    return peer.got(rcpt, timeout)


# --- the relayhost: STARTTLS, then AUTH PLAIN -------------------------------
qid = send(["bob@example.org", "gone@example.org"])
m = got(peers[RELAY], "bob@example.org")
t.ok(m and m[0]["tls"] and m[0]["auth"],
     "relayhost: delivered over TLS after AUTH", inst.log()[-2000:])
a = peers[RELAY].auths
t.ok(a and a[0]["mech"] == "PLAIN" and a[0]["user"] == USER and
     a[0]["password"] == PASSWORD and a[0]["tls"],
     "AUTH PLAIN with the map's user and password, over TLS", a)
cmds = peers[RELAY].commands
t.ok(cmds.index("STARTTLS") < min(i for i, c in enumerate(cmds)
                                  if c.startswith("AUTH")),
     "STARTTLS came before AUTH", cmds[:6])
t.ok(inst.wait_log(r"%s: to=<bob@example\.org>, relay=127\.0\.0\.51"
                   r"\[127\.0\.0\.51\]:587, .*status=sent" % qid),
     "the log names the relayhost", inst.log()[-1500:])
t.ok(inst.wait_log(r"%s: to=<gone@example\.org>, .*dsn=5\.1\.1, "
                   r"status=bounced \(host .* said: 550 5\.1\.1" % qid),
     "a 5xx to a recipient after AUTH bounces it")
t.ok(PASSWORD not in inst.log(), "the password is in no log line")

# --- AUTH LOGIN --------------------------------------------------------------
qid = send(["carol@login.example"])
m = got(peers[LOGIN], "carol@login.example")
a = peers[LOGIN].auths
t.ok(m and m[0]["auth"] and a and a[0]["mech"] == "LOGIN" and
     a[0]["password"] == PASSWORD,
     "a server with LOGIN only: AUTH LOGIN", (a, inst.log()[-1500:]))

# --- no STARTTLS: never the password in clear text -----------------------------
qid = send(["dave@clear.example"])
t.ok(inst.wait_log(r"%s: to=<dave@clear\.example>, .*dsn=4\.7\.4, "
                   r"status=deferred \(TLS is required for SASL "
                   r"authentication, but was not offered by host" % qid),
     "a relay without STARTTLS: deferred (4.7.4)", inst.log()[-1500:])
t.ok(not peers[CLEAR].auths and
     not any(c.upper().startswith("AUTH") for c in peers[CLEAR].commands),
     "and it never saw AUTH, though it offered it in clear text",
     peers[CLEAR].commands)
t.ok(not peers[CLEAR].messages, "nor the message")

# --- 535: deferred with the server's text -------------------------------------
qid = send(["erin@wrong.example"])
t.ok(inst.wait_log(r"%s: to=<erin@wrong\.example>, .*dsn=4\.7\.8, "
                   r"status=deferred \(SASL authentication failed; server "
                   r"127\.0\.0\.54\[127\.0\.0\.54\] said: 535 5\.7\.8 Error: "
                   r"authentication failed: bad password\)" % qid),
     "535 defers (4.7.8) with the server's reply", inst.log()[-1500:])
t.ok(not peers[WRONG].messages, "and nothing is sent")
lst = wait_for(lambda: (lambda o: o if "bad password" in o else None)(
    inst.moat("queue", "list").stdout), 10)
t.like(lst, r"535 5\.7\.8 Error: authentication failed: bad password",
       "moat queue list shows the refusal")

# --- the map: rebuilt, then readable by others ---------------------------------
with open(sasl, "a") as f:
    f.write("[192.0.2.1]:587 other:pw\n")
inst.moat("map", "build", sasl)
qid = send(["frank@example.org"])
t.ok(got(peers[RELAY], "frank@example.org"), "delivered after a rebuild")
t.ok(inst.wait_log(r"smtp_sasl_password_maps was rebuilt: restarting"),
     "remote restarts for a rebuilt map")
os.chmod(sasl, 0o644)
inst.moat("map", "build", sasl)
t.is_eq(os.stat(sasl + ".lmdb").st_mode & 0o777, 0o644,
        "a readable source gives a readable map")
qid = send(["grace@example.org"])
t.ok(inst.wait_log(r"smtp_sasl_password_maps: .*sasl_passwd\.lmdb holds "
                   r"passwords but is not a file only root can read", 30),
     "remote refuses to start with a password map others can read",
     inst.log()[-1500:])

for p in peers.values():
    p.stop()
inst.destroy()
t.done()
