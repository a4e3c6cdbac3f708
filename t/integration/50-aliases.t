#!/usr/bin/env python3
"""Aliases, .forward and the allowed-commands rule: an alias reaches its
people; .forward forwards; a |command runs only when its program is in the
allowed-commands directory, as the .forward's owner with no shell; anything
else bounces to the sender with an RFC 3464 report, and a bounce is never
bounced."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, queued_id, require_root, send_message, wait_for

require_root()
t = Tap()
inst = Instance("alias", {"home_mailbox": "Maildir/"})
ann = inst.user("moatt_ann")
ben = inst.user("moatt_ben")
cid = inst.user("moatt_cid")
snd = inst.user("moatt_snd")

with open(inst.path("conf", "aliases")) as f:
    default_aliases = f.read()
entries = [l for l in default_aliases.splitlines() if l.strip() and not l.lstrip().startswith("#")]
t.ok(entries and not any("decode" in l or "|" in l for l in entries),
     "the default aliases file has no program aliases such as decode", entries)

outdir = os.path.join(os.path.dirname(inst.dir), "out")
os.makedirs(outdir)
os.chmod(outdir, 0o1777)
recorder = inst.path("conf", "commands", "recorder")
with open(recorder, "w") as f:
    f.write("#!/usr/bin/python3\n"
            "import os, sys\n"
            "data = sys.stdin.buffer.read()\n"
            "out = sys.argv[1]\n"
            "with open(out, 'wb') as fh:\n"
            "    fh.write(('%d %d %d\\n' % os.getresuid()).encode())\n"
            "    fh.write(('env=%s\\n' % sorted(os.environ)).encode())\n"
            "    fh.write(data)\n")
os.chmod(recorder, 0o755)

inst.write_aliases("\n".join(l for l in default_aliases.splitlines()
                             if not l.startswith("postmaster:")) + "\n" +
                   "team: moatt_ann, moatt_ben\n"
                   "annalias: moatt_ann\n"
                   "postmaster: moatt_ann\n")
with open(os.path.join(cid.home, ".forward"), "w") as f:
    f.write("moatt_ben\n|%s %s/cid.out\n" % (recorder, outdir))
os.chown(os.path.join(cid.home, ".forward"), cid.uid, cid.gid)
os.chmod(os.path.join(cid.home, ".forward"), 0o644)
inst.start()


def has(user, text):
    return wait_for(lambda: any(text in m for m in user.maildir_messages()), 20)


send_message(inst.port, "x@example.org", ["team@localhost"], b"Subject: to-team\r\n\r\nteam\r\n")
t.ok(has(ann, b"to-team") and has(ben, b"to-team"), "an alias with two users reaches both")
send_message(inst.port, "x@example.org", ["postmaster@localhost"], b"Subject: to-pm\r\n\r\npm\r\n")
t.ok(has(ann, b"to-pm"), "postmaster reaches the person it is aliased to")
send_message(inst.port, "x@example.org", ["ANNALIAS@localhost"], b"Subject: upper\r\n\r\nu\r\n")
t.ok(has(ann, b"Subject: upper"), "alias lookup ignores case")

send_message(inst.port, "x@example.org", ["moatt_cid@localhost"], b"Subject: to-cid\r\n\r\ncid body\r\n")
t.ok(has(ben, b"to-cid"), ".forward forwards to another local user")
out = wait_for(lambda: os.path.exists(os.path.join(outdir, "cid.out")) and
               open(os.path.join(outdir, "cid.out"), "rb").read(), 20)
t.ok(out, "an allowed command in .forward ran")
if out:
    ids = out.split(b"\n", 1)[0].decode()
    t.is_eq(ids, "%d %d %d" % (cid.uid, cid.uid, cid.uid), "the command ran as the .forward's owner (real, effective, saved)")
    t.ok(b"cid body" in out, "the command got the message on stdin")
    t.ok(b"'LD_PRELOAD'" not in out and b"'MOAT" not in out, "the command's environment is clean", out[:300])
t.ok(not cid.maildir_messages(), "a forwarded user's own mailbox is not written")

# A command outside the allowed directory is refused and bounced.
with open(os.path.join(cid.home, ".forward"), "w") as f:
    f.write("|/bin/cat\n")
r = send_message(inst.port, "moatt_snd@localhost", ["moatt_cid@localhost"],
                 b"Subject: disallowed\r\nMessage-ID: <dis@x>\r\n\r\nno shell\r\n")
qid = queued_id(r)
t.ok(inst.wait_log(r"%s: to=<moatt_cid@localhost>.*status=bounced \(.*not allowed" % qid),
     "a command outside allowed_commands_directory bounces")
bounce = has(snd, b"multipart/report")
t.ok(bounce, "the sender gets a delivery status notification")
msgs = [m for m in snd.maildir_messages() if b"multipart/report" in m]
if msgs:
    b = msgs[0].decode("latin-1")
    t.like(b, r"(?m)^Return-Path: <>$", "the DSN has the null sender")
    t.like(b, r"report-type=delivery-status", "the DSN is an RFC 3464 report")
    t.like(b, r"(?m)^Final-Recipient: rfc822; ?moatt_cid@localhost", "the DSN names the failed recipient")
    t.like(b, r"(?m)^Action: failed", "Action: failed")
    t.like(b, r"(?m)^Status: 5\.\d\.\d", "a 5.x.y status")
    t.ok("no shell" not in b, "the DSN does not return the body")

# A bounce is never bounced: a failing message with the null sender is dropped.
r = send_message(inst.port, "", ["moatt_cid@localhost"], b"Subject: nullsender\r\n\r\nx\r\n")
qid = queued_id(r)
t.ok(inst.wait_log(r"%s: to=<moatt_cid@localhost>.*status=bounced" % qid), "null-sender message fails")
t.ok(inst.wait_log(r"%s: removed" % qid), "and is removed without a bounce")
import re
import time
time.sleep(3)
nulls = re.findall(r"(?m)^.*: from=<>, size=", inst.log())
t.is_eq(len(nulls), 2, "only two null-sender messages ever queued: the DSN above and this one, no bounce of it")
inst.destroy()
t.done()
