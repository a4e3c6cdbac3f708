#!/usr/bin/env python3
"""DSN (RFC 3461, 3464) end to end, in a private network namespace, each
report read from the sender's Maildir with Python's email module:
NOTIFY=SUCCESS to a local user gives a success report (Action delivered)
with ENVID as Original-Envelope-Id and ORCPT as Original-Recipient;
NOTIFY=NEVER gives no bounce while the same failure without it does;
RET=HDRS returns only the headers, RET=FULL the whole message; relayed to
a server with DSN, NOTIFY, ORCPT, RET and ENVID are passed on and no
notice comes from here; relayed to one without DSN, a "relayed" notice;
a delay warning after a short delay_warning_time, once, and none for a
recipient whose NOTIFY leaves out DELAY; sendmail -N, -R and -V ask the
same for local submissions."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import TOP, Instance, Tap, queued_id, require_root, smtp_session, wait_for  # noqa: E402
from peers import ScriptedPeer, enter_netns, listening  # noqa: E402
from dsnreport import report, returned  # noqa: E402

require_root()
enter_netns()
t = Tap()

DSN_IP, NODSN_IP = "127.0.0.31", "127.0.0.32"
a = Instance("dsn", {"home_mailbox": "Maildir/",
                     "transport_maps": "$config_directory/transport",
                     "delay_warning_time": "3s"})
with open(a.path("conf", "transport"), "w") as f:
    f.write("dsn.example smtp:[%s]:25\nnodsn.example smtp:[%s]:25\n" % (DSN_IP, NODSN_IP))
a.moat("map", "build", a.path("conf", "transport"))
snd = a.user("moatt_dsns")
rcv = a.user("moatt_dsnr")
a.start()
withdsn = ScriptedPeer(DSN_IP, name="mx.dsn.example")
withdsn.rcpt_replies = {
    "bad@dsn.example": "550 5.1.1 <bad@dsn.example>: Recipient address rejected: User unknown",
    "slow@dsn.example": "451 4.3.2 Please try again later",
    "slow2@dsn.example": "451 4.3.2 Please try again later",
}
withdsn.start()
nodsn = ScriptedPeer(NODSN_IP, name="mx.nodsn.example")
nodsn.extensions = ["8BITMIME", "ENHANCEDSTATUSCODES"]
nodsn.start()
wait_for(lambda: listening(DSN_IP, 25) and listening(NODSN_IP, 25), 10)

SENDER = "moatt_dsns@localhost"


def send(rcpts, subject, mail_params="", body=b"the secret body\r\n"):
    """rcpts: [(address, RCPT parameters)]; the queue ID."""
    c, _ = smtp_session(a.port)
    r = c.cmd("MAIL FROM:<%s>%s" % (SENDER, mail_params))
    assert r.startswith("250"), r
    for addr, params in rcpts:
        r = c.cmd("RCPT TO:<%s>%s" % (addr, params))
        assert r.startswith("250"), r
    c.cmd("DATA")
    c.send(("From: %s\r\nSubject: %s\r\n\r\n" % (SENDER, subject)).encode()
           + body + b".\r\n")
    r = c.reply()
    c.cmd("QUIT")
    c.close()
    return queued_id(r)


def notices(subject_part):
    """The sender's reports whose returned headers hold subject_part."""
    out = []
    for raw in snd.maildir_messages():
        msg, per_msg, per_rcpt = report(raw)
        if per_msg is None:
            continue
        ct, ret = returned(msg)
        if subject_part.encode() in ret:
            out.append((msg, per_msg, per_rcpt, ct, ret))
    return out


def one_notice(subject_part, timeout=30):
    got = wait_for(lambda: notices(subject_part), timeout) or []
    return got[0] if got else (None, {}, [], None, b"")


# --- NOTIFY=SUCCESS to a local user ------------------------------------------
c, ehlo = smtp_session(a.port)
t.like(ehlo, r"(?m)^250-DSN$", "EHLO offers DSN")
c.close()
q1 = send([("moatt_dsnr@localhost", " NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Orig+2Bone@example.org")],
          "success local", " RET=HDRS ENVID=QQ+2B314159")
msg, per_msg, per_rcpt, ct, ret = one_notice("success local")
t.ok(msg is not None, "a success report reached the sender")
if msg is not None:
    t.is_eq(msg["Subject"], "Mail delivery report: delivered", "its subject")
    t.is_eq(msg.get_content_type(), "multipart/report", "multipart/report")
    t.is_eq(msg.get_param("report-type"), "delivery-status", "report-type=delivery-status")
    t.is_eq(per_msg.get("Original-Envelope-Id"), "QQ+314159", "ENVID as Original-Envelope-Id, decoded")
    t.like(per_msg.get("Reporting-MTA"), r"^dns; ", "Reporting-MTA")
    r0 = per_rcpt[0] if per_rcpt else {}
    t.is_eq(r0.get("Original-Recipient"), "rfc822; Orig+one@example.org",
            "ORCPT as Original-Recipient, decoded")
    t.is_eq(r0.get("Final-Recipient"), "rfc822; moatt_dsnr@localhost", "Final-Recipient")
    t.is_eq(r0.get("Action"), "delivered", "Action: delivered")
    t.like(r0.get("Status"), r"^2\.0\.0$", "Status 2.0.0")
    t.is_eq(ct, "text/rfc822-headers", "the headers come back")
    t.ok(b"secret body" not in ret, "not the body")
t.ok(a.wait_log(r"%s: sender delivery status notification: [0-9A-F]+" % q1, 10),
     "the success notice is logged")
t.is_eq(len(rcv.maildir_messages()), 1, "and the message itself was delivered")

# --- NOTIFY=NEVER: no bounce; RET=HDRS and RET=FULL --------------------------
q2 = send([("bad@dsn.example", " NOTIFY=NEVER")], "never tell")
t.ok(a.wait_log(r"%s: to=<bad@dsn\.example>: NOTIFY asks for no non-delivery notification" % q2, 30),
     "NOTIFY=NEVER: the failure is logged without a notification")
q3 = send([("bad@dsn.example", " ORCPT=rfc822;bad@dsn.example")], "headers only",
          " RET=HDRS ENVID=hdrs-1")
q4 = send([("bad@dsn.example", "")], "return it all", " RET=FULL")
msg, per_msg, per_rcpt, ct, ret = one_notice("headers only")
t.ok(msg is not None, "the same failure without NOTIFY=NEVER bounces")
if msg is not None:
    t.is_eq(msg["Subject"], "Undelivered Mail Returned to Sender", "a non-delivery report")
    t.is_eq(ct, "text/rfc822-headers", "RET=HDRS: text/rfc822-headers")
    t.ok(b"Subject: headers only" in ret and b"secret body" not in ret,
         "RET=HDRS: the headers only", ret)
    t.is_eq(per_msg.get("Original-Envelope-Id"), "hdrs-1", "ENVID in the bounce")
    r0 = per_rcpt[0] if per_rcpt else {}
    t.is_eq((r0.get("Original-Recipient"), r0.get("Action"), r0.get("Status")),
            ("rfc822; bad@dsn.example", "failed", "5.1.1"), "ORCPT, Action failed, Status 5.1.1")
    t.like(r0.get("Diagnostic-Code"), r"^smtp; 550 5\.1\.1", "the server's reply")
msg, per_msg, per_rcpt, ct, ret = one_notice("return it all")
t.ok(msg is not None, "RET=FULL bounces too")
if msg is not None:
    t.is_eq(ct, "message/rfc822", "RET=FULL: message/rfc822")
    t.ok(b"secret body" in ret, "RET=FULL: the body comes back", ret)
t.is_eq(notices("never tell"), [], "and nothing came for NOTIFY=NEVER")

# --- relayed to a server with DSN: passed on, no notice from here -------------
q5 = send([("ok@dsn.example", " NOTIFY=SUCCESS ORCPT=rfc822;ok+40dsn.example")],
          "passed on", " RET=HDRS ENVID=pass-1")
t.ok(a.wait_log(r"%s: to=<ok@dsn\.example>, relay=%s.*status=sent" % (q5, DSN_IP), 30),
     "relayed to the DSN server")
cmds = withdsn.commands
t.ok(any(c.startswith("MAIL FROM:<%s>" % SENDER) and " RET=HDRS" in c and " ENVID=pass-1" in c
         for c in cmds), "MAIL carries RET and ENVID", [c for c in cmds if c.startswith("MAIL")])
t.ok("RCPT TO:<ok@dsn.example> NOTIFY=SUCCESS ORCPT=rfc822;ok@dsn.example" in cmds,
     "RCPT carries NOTIFY and ORCPT", [c for c in cmds if c.startswith("RCPT")])
time.sleep(2)
t.ok(not a.wait_log(r"%s: sender delivery status notification" % q5, 1),
     "no success notice from here: the server answers for NOTIFY")

# --- relayed to a server without DSN: "relayed" -------------------------------
q6 = send([("ok@nodsn.example", " NOTIFY=SUCCESS")], "relayed on")
msg, per_msg, per_rcpt, ct, ret = one_notice("relayed on")
r0 = per_rcpt[0] if per_rcpt else {}
t.is_eq((r0.get("Final-Recipient"), r0.get("Action")),
        ("rfc822; ok@nodsn.example", "relayed"), "a server without DSN: Action relayed")
t.like(r0.get("Remote-MTA"), r"^dns; ", "with Remote-MTA")
t.ok(not any("NOTIFY=" in c for c in nodsn.commands), "no NOTIFY to that server",
     [c for c in nodsn.commands if c.startswith("RCPT")])

# --- sendmail -N -R -V -------------------------------------------------------
SENDMAIL = os.path.join(TOP, "build", "bin", "sendmail")
p = subprocess.run(["setpriv", "--reuid=%d" % snd.uid, "--regid=%d" % snd.gid,
                    "--init-groups", SENDMAIL, "-C", a.conf, "-N", "success,failure",
                    "-R", "hdrs", "-V", "local-1", "moatt_dsnr@localhost"],
                   input=b"Subject: from sendmail\n\nlocal body\n", capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": snd.home}, cwd="/", timeout=60)
t.is_eq((p.returncode, p.stderr), (0, b""), "sendmail -N -R -V takes them")
msg, per_msg, per_rcpt, ct, ret = one_notice("from sendmail")
r0 = per_rcpt[0] if per_rcpt else {}
t.is_eq((per_msg.get("Original-Envelope-Id"), r0.get("Action")), ("local-1", "delivered"),
        "a local submission's NOTIFY=SUCCESS and ENVID are honoured")
p = subprocess.run([SENDMAIL, "-C", a.conf, "-N", "always", "x@localhost"], input=b"",
                   capture_output=True, timeout=60)
t.ok(p.returncode == 64 and b"-Nalways: expected never" in p.stderr,
     "sendmail -N with a bad value is a usage error", p.stderr)

# --- a delay warning -----------------------------------------------------------
q7 = send([("slow@dsn.example", "")], "slow one", " ENVID=slow-1")
q8 = send([("slow2@dsn.example", " NOTIFY=FAILURE")], "slow without delay")
msg, per_msg, per_rcpt, ct, ret = one_notice("slow one", 40)
t.ok(msg is not None, "a delay warning after delay_warning_time")
if msg is not None:
    t.is_eq(msg["Subject"], "Mail delivery delayed: still trying", "its subject")
    r0 = per_rcpt[0] if per_rcpt else {}
    t.is_eq((r0.get("Final-Recipient"), r0.get("Action")),
            ("rfc822; slow@dsn.example", "delayed"), "Action: delayed")
    t.like(r0.get("Status"), r"^4\.3\.2$", "Status 4.3.2, the server's")
    t.is_eq(per_msg.get("Original-Envelope-Id"), "slow-1", "ENVID in the warning")
t.ok(a.wait_log(r"%s: sender delay notification: [0-9A-F]+" % q7, 10), "the warning is logged")
retries = len([ln for ln in a.log().splitlines() if "%s: to=<slow@dsn.example>" % q7 in ln])
t.ok(wait_for(lambda: len([ln for ln in a.log().splitlines()
                           if "%s: to=<slow@dsn.example>" % q7 in ln]) > retries, 20),
     "the message is retried after the warning")
t.is_eq(len(notices("slow one")), 1, "and warned about once only")
t.is_eq(notices("slow without delay"), [], "no warning for NOTIFY=FAILURE")
show = a.moat("queue", "show", q7).stdout
t.ok("envid: slow-1\n" in show and "delay_warning: sent\n" in show,
     "moat queue show: ENVID, and the warning recorded in the queue file", show[:600])
show = a.moat("queue", "show", q8).stdout
t.ok("notify: FAILURE\n" in show, "moat queue show: a recipient's NOTIFY", show[:600])

withdsn.stop()
nodsn.stop()
t.done()
