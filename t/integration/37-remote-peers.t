#!/usr/bin/env python3
"""remote against scripted SMTP peers on 127.0.0.x:25 of a private network
namespace: a server that is down and one that hangs after its greeting
make remote try the next address (smtp_fallback_relay); a 5xx to one
recipient bounces it to the sender with the server's reply as
Diagnostic-Code while the other recipient is delivered; a 4xx defers with
the server's text in `moat queue list`; a server without PIPELINING, one
that refuses EHLO (HELO fallback), one with a small SIZE (bounced before
MAIL FROM); several messages to one destination share one TCP session;
the per-destination concurrency limit holds."""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, queued_id, require_root, send_message, wait_for  # noqa: E402
from peers import ScriptedPeer, enter_netns  # noqa: E402

require_root()
enter_netns()
t = Tap()

ROUTES = {
    "down.example": "127.0.0.10",     # nothing listens
    "hang.example": "127.0.0.12",     # greets, then silence
    "five.example": "127.0.0.13",     # 550 to one recipient
    "four.example": "127.0.0.14",     # 451 to MAIL FROM
    "plain.example": "127.0.0.15",    # no PIPELINING
    "small.example": "127.0.0.16",    # SIZE 2000
    "reuse.example": "127.0.0.17",    # counts sessions
    "slow.example": "127.0.0.18",     # slow to answer the dot
    "old.example": "127.0.0.20",      # 502 to EHLO
}
a = Instance("peers", {
    "home_mailbox": "Maildir/",
    "transport_maps": "$config_directory/transport",
    "smtp_fallback_relay": "[127.0.0.11]:25",
    "smtp_helo_timeout": "2s",
    "smtp_destination_concurrency_limit": "2",
})
with open(a.path("conf", "transport"), "w") as f:
    for dom, ip in ROUTES.items():
        f.write("%s smtp:[%s]:25\n" % (dom, ip))
a.moat("map", "build", a.path("conf", "transport"))
snd = a.user("moatt_psnd")
a.start()

peers = {}
for dom, ip in list(ROUTES.items()) + [("fallback", "127.0.0.11")]:
    if dom == "down.example":
        continue
    peers[dom] = ScriptedPeer(ip, name="mx.%s" % dom)
peers["hang.example"].hang_after_greeting = 30
peers["five.example"].rcpt_replies = {
    "bad@five.example": "550 5.1.1 <bad@five.example>: Recipient address rejected: User unknown"}
peers["four.example"].mail_reply = "451 4.7.1 Greylisted, try again later"
peers["plain.example"].pipelining = False
peers["small.example"].size = 2000
peers["slow.example"].dot_delay = 1.0
peers["old.example"].ehlo = "502 5.5.1 Error: command not implemented"
for p in peers.values():
    p.start()

SENDER = "moatt_psnd@localhost"


def send(rcpts, body=b"Subject: hello\r\n\r\nhello\r\n"):
    r = send_message(a.port, SENDER, rcpts, body)
    return queued_id(r)


# --- next address after a refused connection and after a hang ---------
q1 = send(["x@down.example"])
t.ok(a.wait_log(r"%s: to=<x@down\.example>, relay=127\.0\.0\.11\[127\.0\.0\.11\]:25, .*status=sent" % q1, 30),
     "refused connection: delivered through the next address (fallback relay)", a.log()[-1500:])
q2 = send(["x@hang.example"])
t.ok(a.wait_log(r"%s: to=<x@hang\.example>, relay=127\.0\.0\.11\[127\.0\.0\.11\]:25, .*status=sent" % q2, 30),
     "server silent after its greeting: smtp_helo_timeout, then the next address")
t.is_eq(peers["hang.example"].sessions, 1, "the silent server was tried once")

# --- 5xx to one recipient: bounce with the remote text, other delivered --
q3 = send(["good@five.example", "bad@five.example"])
t.ok(a.wait_log(r"%s: to=<good@five\.example>, relay=127\.0\.0\.13\[127\.0\.0\.13\]:25, .*dsn=2\.0\.0, status=sent" % q3),
     "the accepted recipient is delivered")
t.ok(a.wait_log(r"%s: to=<bad@five\.example>, relay=127\.0\.0\.13.*dsn=5\.1\.1, status=bounced "
                r"\(host 127\.0\.0\.13\[127\.0\.0\.13\] said: 550 5\.1\.1 <bad@five\.example>: "
                r"Recipient address rejected: User unknown \(in reply to RCPT TO command\)\)" % q3),
     "the refused recipient is bounced with the server's reply in the log")
msgs = peers["five.example"].messages
t.ok(len(msgs) == 1 and msgs[0]["rcpt"] == ["good@five.example"],
     "the server got the message for the good recipient only",
     [m["rcpt"] for m in msgs])
dsn = wait_for(lambda: [m for m in snd.maildir_messages() if b"Undelivered Mail" in m], 20)
t.ok(dsn, "a delivery status notification reached the sender")
if dsn:
    text = dsn[0].decode("utf-8", "replace")
    t.like(text, r"Final-Recipient: rfc822; bad@five\.example\nAction: failed\nStatus: 5\.1\.1\n"
                 r"Remote-MTA: dns; 127\.0\.0\.13\nDiagnostic-Code: smtp; 550 5\.1\.1\s+<bad@five\.example>:",
           "the DSN carries Remote-MTA and the server's reply as Diagnostic-Code")
    t.ok("good@five.example" not in text.split("Content-Type: text/rfc822-headers")[0],
         "the delivered recipient is not in the DSN")

# --- 4xx: deferred, the server's text in moat queue list ---------------
q4 = send(["x@four.example"])
t.ok(a.wait_log(r"%s: to=<x@four\.example>, .*dsn=4\.7\.1, status=deferred \(host 127\.0\.0\.14\[127\.0\.0\.14\] "
                r"said: 451 4\.7\.1 Greylisted, try again later \(in reply to MAIL FROM command\)\)" % q4),
     "a 4xx to MAIL FROM defers the recipient")
lst = wait_for(lambda: (lambda o: o if "Greylisted" in o else None)(a.moat("queue", "list").stdout), 10)
t.like(lst, r"%s .*451 4\.7\.1 Greylisted" % q4, "moat queue list shows the server's reply")
peers["four.example"].mail_reply = "250 2.1.0 Ok"
a.moat("queue", "flush")
t.ok(a.wait_log(r"%s: to=<x@four\.example>, .*status=sent" % q4, 30),
     "moat queue flush retries it, and it goes once the server takes it")

# --- no PIPELINING, HELO fallback, 8BITMIME ------------------------------
q5 = send(["x@plain.example"], b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n")
t.ok(a.wait_log(r"%s: to=<x@plain\.example>, .*status=sent" % q5), "delivered without PIPELINING")
cmds = peers["plain.example"].commands
mail = [c for c in cmds if c.startswith("MAIL")]
t.ok(mail and mail[0].endswith("BODY=8BITMIME") and " SIZE=" not in mail[0],
     "8-bit content is sent with BODY=8BITMIME; no SIZE= to a server without SIZE", mail)
q6 = send(["x@old.example"])
t.ok(a.wait_log(r"%s: to=<x@old\.example>, .*status=sent" % q6), "a server that refuses EHLO gets HELO")
t.ok(any(c.startswith("HELO ") for c in peers["old.example"].commands),
     "HELO was sent after 502 to EHLO", peers["old.example"].commands)

# --- SIZE ------------------------------------------------------------------
big = b"Subject: big\r\n\r\n" + (b"y" * 75 + b"\r\n") * 100
q7 = send(["x@small.example"], big)
t.ok(q7 and a.wait_log(r"%s: to=<x@small\.example>, .*dsn=5\.3\.4, status=bounced \(message size \d+ "
                       r"exceeds size limit 2000 of server 127\.0\.0\.16\[127\.0\.0\.16\]\)" % q7),
     "a message over the server's SIZE is bounced (5.3.4)")
t.ok(not any(c.startswith("MAIL") for c in peers["small.example"].commands),
     "without a MAIL FROM sent", peers["small.example"].commands)
q8 = send(["y@small.example"])
t.ok(a.wait_log(r"%s: to=<y@small\.example>, .*status=sent" % q8), "a small one is sent to it")
mail = [c for c in peers["small.example"].commands if c.startswith("MAIL")]
t.like(mail[0] if mail else "", r" SIZE=\d+$", "with SIZE= in MAIL FROM")

# --- connection reuse -------------------------------------------------------
ids = []
for i in range(5):
    q = send(["r%d@reuse.example" % i])
    ids.append(q)
    a.wait_log(r"%s: to=<r%d@reuse\.example>, .*status=sent" % (q, i))
t.is_eq(len(peers["reuse.example"].messages), 5, "five messages delivered one after another")
t.is_eq(peers["reuse.example"].sessions, 1, "over one TCP session")
t.ok(a.wait_log(r"%s: to=<r4@reuse\.example>, relay=127\.0\.0\.17\[127\.0\.0\.17\]:25, conn_use=5, " % ids[4]),
     "the log counts the uses of the session (conn_use=5)")
t.is_eq(sum(1 for c in peers["reuse.example"].commands if c == "RSET"), 4,
        "RSET between messages")

# --- per-destination concurrency --------------------------------------------
ths = [threading.Thread(target=send, args=(["c%d@slow.example" % i],)) for i in range(6)]
for th in ths:
    th.start()
for th in ths:
    th.join()
t.ok(wait_for(lambda: len(peers["slow.example"].messages) >= 6, 40), "six slow deliveries done")
t.is_eq(peers["slow.example"].max_active, 2,
        "at most smtp_destination_concurrency_limit (2) sessions at once, and both used")

t.ok(wait_for(lambda: not a.queue_files("active") and not a.queue_files("deferred"), 30),
     "the queue is empty at the end", (a.queue_files("active"), a.queue_files("deferred")))
for p in peers.values():
    p.stop()
t.ok(not re.search(r"(qmgr|remote) pid \d+ killed by signal (?!9\b)", a.log()),
     "no daemon crashed", re.findall(r".*killed by signal.*", a.log()))
a.destroy()
t.done()
