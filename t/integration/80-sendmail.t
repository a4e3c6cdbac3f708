#!/usr/bin/env python3
"""Local submission: sendmail and postdrop run as a real, unprivileged user.
sendmail -t from a script delivers to the user's Maildir with Bcc removed
and a From: added; the Received header names the submitting uid and user;
the "." rule and -i; sendmail -bs speaks SMTP and delivers; a message
submitted while Moat is stopped waits in maildrop/ and arrives after the
start; postdrop refuses oversized messages, bad addresses and a
configuration the user controls, and writes exactly one file owned by the
user; moat init makes postdrop setgid moat-drop; mailutils' mail works
through it when installed."""
import grp
import os
import random
import re
import shutil
import socket
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import TOP, Instance, Tap, require_root, wait_for

require_root()
SENDMAIL = os.path.join(TOP, "build", "bin", "sendmail")
POSTDROP = os.path.join(TOP, "build", "libexec", "postdrop")
if not all(os.access(p, os.X_OK) for p in
           (SENDMAIL, POSTDROP, os.path.join(TOP, "build", "libexec", "pickup"))):
    print("1..0 # SKIP sendmail, postdrop or pickup is not built")
    sys.exit(0)
t = Tap()


def my_port():
    """A free port of this test's own range, 26500-26599."""
    ports = list(range(26500, 26600))
    random.shuffle(ports)
    for p in ports:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in 26500-26599")


port = my_port()
inst = Instance("sendmail", {"home_mailbox": "Maildir/",
                             "message_size_limit": "100000"},
                listen=["127.0.0.1:%d" % port])
inst.port = port
u = inst.user("moatt_smu")
bcc = inst.user("moatt_smb")

st = os.stat(POSTDROP)
t.ok(st.st_uid == 0 and st.st_gid == grp.getgrnam("moat-drop").gr_gid and
     stat.S_IMODE(st.st_mode) == 0o2755,
     "moat init made postdrop root:moat-drop mode 2755",
     (st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode))))
r = inst.moat("check", check=False)
t.ok("postdrop" not in r.stderr, "moat check has nothing to say about postdrop", r.stderr)


def as_user(args, data=b"", env=None):
    """Run a command as the test user; (exit code, stdout, stderr)."""
    cmd = ["setpriv", "--reuid=%d" % u.uid, "--regid=%d" % u.gid,
           "--init-groups"] + args
    e = {"PATH": "/usr/bin:/bin", "HOME": u.home}
    e.update(env or {})
    p = subprocess.run(cmd, input=data, capture_output=True, env=e,
                       cwd="/", timeout=60)
    return p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


def sendmail(args, data):
    return as_user([SENDMAIL, "-C", inst.conf] + args, data)


def messages_with(text):
    return [m for m in u.maildir_messages() if text in m]


def wait_messages(text, n=1):
    return wait_for(lambda: len(messages_with(text)) >= n and messages_with(text), 20) or []


def maildrop():
    return inst.queue_files("maildrop")


inst.start()

# --- sendmail -t from a script -------------------------------------------
msg = (b"To: Test User <moatt_smu@localhost>\n"
       b"Bcc: moatt_smb\n"
       b"Subject: script-t\n"
       b"\n"
       b"first line\n"
       b".a line with a leading dot\n"
       b"..\n"
       b"last line\n")
rc, out, err = sendmail(["-t", "-i", "-F", "Script Runner"], msg)
t.is_eq(rc, 0, "sendmail -t -i exits 0")
got = wait_messages(b"Subject: script-t")
hidden = wait_for(lambda: [m for m in bcc.maildir_messages() if b"script-t" in m], 20) or []
t.is_eq((len(got), len(hidden)), (1, 1), "delivered to the To: address and to the Bcc: address")
if got and hidden:
    got = got + hidden
    head, _, body = got[0].partition(b"\n\n")
    h = head.decode("latin-1")
    t.ok(all(b"\nBcc:" not in m and not m.startswith(b"Bcc:") for m in got),
         "no copy carries the Bcc: header")
    t.like(h, r"(?m)^From: Script Runner <moatt_smu@[^>]+>$",
           "a From: with the -F name and the user's address is added")
    t.like(h, r"(?m)^Received: by \S+ with local id [0-9A-F]+ \(uid %d, user moatt_smu\)" % u.uid,
           "Received names the submitting uid and user name")
    t.like(h, r"(?m)^Return-Path: <moatt_smu@", "the envelope sender is the user")
    t.is_eq(body, b"first line\n.a line with a leading dot\n..\nlast line\n",
            "with -i, dot lines pass unchanged, byte for byte")
    t.like(h, r"(?m)^To: Test User <moatt_smu@localhost>$", "To: kept as written")
t.ok(inst.wait_log(r"moat/pickup\[\d+\]: [0-9A-F]+: uid=%d from=<moatt_smu@" % u.uid),
     "pickup logs the submitter's uid")

# --- the "." rule and CR LF input -------------------------------------------
rc, out, err = sendmail(["moatt_smu@localhost"],
                        b"Subject: dot-end\r\n\r\nbefore\r\n.\r\nafter the dot\r\n")
t.is_eq(rc, 0, "sendmail with a recipient argument exits 0")
got = wait_messages(b"Subject: dot-end")
if got:
    t.ok(got[0].endswith(b"\n\nbefore\n"), "without -i a lone '.' ends the input; CR LF stored as LF", got[0][-60:])
    t.like(got[0].decode("latin-1"), r"(?m)^From: moatt_smu@\S+$", "a From: is added (no GECOS name)")
else:
    t.ok(False, "the dot-end message arrived")

rc, out, err = sendmail(["-v", "-f", "robot@example.org", "moatt_smu@localhost"],
                        b"Subject: verbose\n\nx\n")
t.is_eq(rc, 0, "sendmail -v -f exits 0")
t.like(err, r"postdrop: queued as maildrop/[0-9A-F]+", "-v says which file postdrop wrote")
got = wait_messages(b"Subject: verbose")
t.ok(got and got[0].startswith(b"Return-Path: <robot@example.org>\n"),
     "-f sets the envelope sender", got[0][:80] if got else None)

# --- errors ----------------------------------------------------------------------
rc, out, err = sendmail([], b"Subject: nobody\n\nx\n")
t.is_eq(rc, 64, "no recipients: EX_USAGE")
t.like(err, r"sendmail: no recipients", "and says so")
rc, out, err = sendmail(["-t"], b"To: Doe, John <a b@example.org>\n\nx\n")
t.is_eq(rc, 65, "a bad header address with -t: EX_DATAERR")
t.like(err, r"sendmail: To: header: bad address", "naming the header")
rc, out, err = sendmail(["-f", "bad sender", "moatt_smu"], b"x\n")
t.is_eq(rc, 65, "a bad -f address: EX_DATAERR")
rc, out, err = sendmail(["-Z", "moatt_smu"], b"x\n")
t.is_eq(rc, 64, "an unknown option: EX_USAGE")
rc, out, err = sendmail(["-oem", "-odb", "-i", "moatt_smu@localhost"], b"Subject: odd-options\n\nx\n")
t.ok(rc == 0 and "option -oem ignored" in err, "-oem and -odb are accepted with a warning", (rc, err))
big = b"Subject: too big\n\n" + (b"y" * 999 + b"\n") * 120
rc, out, err = sendmail(["-i", "moatt_smu@localhost"], big)
t.is_eq(rc, 65, "a message over message_size_limit: EX_DATAERR")
t.like(err, r"postdrop: message too big", "postdrop says message too big")
t.is_eq(maildrop(), [], "nothing is left in maildrop/ by refused submissions")

# --- postdrop's own checks -----------------------------------------------------
evil = os.path.join(u.home, "conf")
os.makedirs(evil)
shutil.copy(inst.path("conf", "main.conf"), evil)
with open(os.path.join(evil, "main.conf"), "a") as f:
    f.write("queue_directory = %s\n" % u.home)
subprocess.run(["chown", "-R", "%d:%d" % (u.uid, u.gid), evil], check=True)
rc, out, err = as_user([POSTDROP, "-c", evil, "-f", "", "--", "root"], b"x\n")
t.is_eq(rc, 78, "postdrop refuses a configuration the user can change")
t.like(err, r"not a configuration to trust", "and says why")
rc, out, err = as_user([POSTDROP, "-c", inst.conf, "-f", "a\nb", "--", "root"], b"x\n")
t.is_eq(rc, 65, "postdrop refuses a control character in the sender")
rc, out, err = as_user([POSTDROP, "-c", inst.conf, "-f", "a"], b"x\n")
t.is_eq(rc, 64, "postdrop without recipients: usage")

# --- submitted while Moat is stopped ----------------------------------------
inst.stop()
t.ok(wait_for(lambda: not inst.pids_of("master"), 20), "the mail system is stopped")
rc, out, err = sendmail(["-t"], b"To: moatt_smu@localhost\nSubject: while-stopped\n\nqueued offline\n")
t.is_eq(rc, 0, "sendmail works while the system is stopped")
files = maildrop()
t.is_eq(len(files), 1, "the message waits in maildrop/")
if files:
    st = os.stat(inst.path("spool", "maildrop", files[0]))
    t.is_eq((st.st_uid, stat.S_IMODE(st.st_mode)), (u.uid, 0o744),
            "the maildrop file is owned by the submitter, mode 0744 (complete)")
t.is_eq(messages_with(b"while-stopped"), [], "not delivered yet")
inst.start()
t.ok(wait_messages(b"Subject: while-stopped"), "delivered after the start")
t.ok(wait_for(lambda: maildrop() == [], 20), "maildrop/ is empty again")

# --- sendmail -bs -------------------------------------------------------------
session = (b"EHLO client\r\n"
           b"MAIL FROM:<>\r\n"
           b"RCPT TO:<moatt_smu@localhost>\r\n"
           b"DATA\r\n"
           b"Subject: over-bs\r\n\r\n..stuffed\r\nbody\r\n.\r\n"
           b"MAIL FROM:<moatt_smu>\r\n"
           b"RCPT TO:<moatt_smu@localhost>\r\n"
           b"DATA\r\n"
           b"Subject: bare-lf\r\n\r\nbare\nlf\r\n.\r\n"
           b"VRFY root\r\n"
           b"EXPN root\r\n"
           b"DEBUG\r\n"
           b"QUIT\r\n")
rc, out, err = sendmail(["-bs"], session)
codes = [l[:3] for l in out.splitlines() if len(l) >= 4 and l[3] == " "]
t.is_eq(codes, ["220", "250", "250", "250", "354", "250", "250", "250", "354",
                "550", "252", "502", "500", "221"],
        "the SMTP dialogue on stdin/stdout")
t.like(out, r"250 2\.0\.0 Ok: queued\r\n", "250 2.0.0 Ok: queued after postdrop wrote it")
t.like(out, r"550 5\.6\.0 Error: bare <LF>", "a bare LF in DATA is refused by the shared reader")
got = wait_messages(b"Subject: over-bs")
if got:
    t.ok(got[0].startswith(b"Return-Path: <>\n"), "MAIL FROM:<> gives the null sender")
    t.ok(got[0].endswith(b"\n\n.stuffed\nbody\n"), "dot-unstuffed, LF line ends", got[0][-40:])
    t.like(got[0].decode("latin-1"), r"\(uid %d, user moatt_smu\)" % u.uid, "-bs mail also names its submitter")
else:
    t.ok(False, "the -bs message arrived")
t.is_eq(messages_with(b"bare-lf"), [], "the refused message was not queued")

# --- mail(1) from GNU mailutils, through Moat's sendmail ------------------------
mail = shutil.which("mail")
if mail and b"Mailutils" in subprocess.run([mail, "--version"], capture_output=True).stdout:
    rc, out, err = as_user([mail, "-E", "set sendmail=sendmail://" + SENDMAIL,
                            "-s", "via-mailutils", "moatt_smu@localhost"],
                           b"hello from mail(1)\n", {"MOAT_CONFIG": inst.conf})
    t.is_eq(rc, 0, "mailutils' mail exits 0")
    got = wait_messages(b"Subject: via-mailutils")
    t.ok(got and got[0].endswith(b"\n\nhello from mail(1)\n"), "and its message arrives")
else:
    t.diag("mailutils' mail is not installed: skipped")

inst.destroy()
t.done()
