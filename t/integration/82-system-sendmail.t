#!/usr/bin/env python3
"""Moat as the system's sendmail, for programs that know nothing of it: in a
private mount namespace (the machine's own /usr/sbin and /etc are never
touched) /usr/sbin/sendmail and /usr/bin/mailq become Moat's and /etc/moat
the test instance's configuration, then an unchanged script piping to
`/usr/sbin/sendmail -t` and mailutils' mail(1), run as an ordinary user with
no Moat setting in their environment, deliver; mailq and sendmail -q
answer that user that the queue is not theirs to see or run."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import TOP, Instance, Tap, require_root, wait_for

require_root()
SENDMAIL = os.path.join(TOP, "build", "bin", "sendmail")
if shutil.which("unshare") is None or not os.access(SENDMAIL, os.X_OK):
    print("1..0 # SKIP needs unshare(1) and build/bin/sendmail")
    sys.exit(0)
t = Tap()
inst = Instance("syssend", {"home_mailbox": "Maildir/"})
u = inst.user("moatt_sys")
inst.start()

# The replacement directories, bound over the real ones in the namespace.
fake = tempfile.mkdtemp(prefix="moat-sys-", dir="/tmp")
os.chmod(fake, 0o755)
sbin, ubin = os.path.join(fake, "sbin"), os.path.join(fake, "bin")
for d in (sbin, ubin):
    os.mkdir(d)
    os.chmod(d, 0o755)
os.symlink(SENDMAIL, os.path.join(sbin, "sendmail"))
os.symlink(SENDMAIL, os.path.join(ubin, "mailq"))
mail = shutil.which("mail")
if mail:
    os.symlink(os.path.realpath(mail), os.path.join(ubin, "mail"))
script = os.path.join(fake, "report.sh")
with open(script, "w") as f:
    f.write("#!/bin/sh\n"
            "# an old cron job: it knows only /usr/sbin/sendmail\n"
            "printf 'To: moatt_sys@localhost\\nSubject: nightly report\\n\\nall well\\n' |"
            " /usr/sbin/sendmail -t\n")
os.chmod(script, 0o755)


def in_namespace(argv, data=b""):
    """Run argv as the test user with Moat bound in as the system MTA."""
    setup = ("mount --bind %s /usr/sbin && mount --bind %s /usr/local/bin && "
             "mount --bind %s /etc/moat 2>/dev/null || "
             "{ mkdir -p /etc/moat && mount --bind %s /etc/moat; } && exec \"$@\"")
    setup = setup % (sbin, ubin, inst.conf, inst.conf)
    cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup, "sh",
           "setpriv", "--reuid=%d" % u.uid, "--regid=%d" % u.gid, "--init-groups"] + argv
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin", "HOME": u.home, "USER": u.name,
           "LOGNAME": u.name}
    p = subprocess.run(cmd, input=data, capture_output=True, env=env, cwd="/", timeout=60)
    return p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


def arrived(text):
    return wait_for(lambda: [m for m in u.maildir_messages() if text in m], 20)


created_etc_moat = not os.path.exists("/etc/moat")
try:
    rc, out, err = in_namespace([script])
    t.is_eq((rc, err), (0, ""), "a script piping to /usr/sbin/sendmail -t exits 0 quietly")
    got = arrived(b"Subject: nightly report")
    t.ok(got, "and its message arrives in the user's Maildir")
    if got:
        t.like(got[0].decode("latin-1"), r"\(uid %d, user moatt_sys\)" % u.uid,
               "the Received header names the submitting user")
        t.like(got[0].decode("latin-1"), r"(?m)^From: .*moatt_sys@", "a From: is added for the user")
    if mail:
        rc, out, err = in_namespace(["mail", "-s", "from mailutils", "moatt_sys@localhost"],
                                    b"sent with mail(1)\n")
        t.is_eq(rc, 0, "mailutils' mail through /usr/sbin/sendmail exits 0")
        got = arrived(b"Subject: from mailutils")
        t.ok(got and got[0].endswith(b"\n\nsent with mail(1)\n"), "and its message arrives")
    else:
        t.diag("mailutils is not installed: mail(1) not tried")
    rc, out, err = in_namespace(["mailq"])
    t.ok(rc != 0 and "not permitted to see the queue" in out + err,
         "mailq refuses an ordinary user", (rc, out, err))
    rc, out, err = in_namespace(["/usr/sbin/sendmail", "-q"])
    t.ok(rc != 0 and "not permitted to run the queue" in out + err,
         "sendmail -q refuses an ordinary user", (rc, out, err))
finally:
    shutil.rmtree(fake, ignore_errors=True)
    if created_etc_moat and os.path.isdir("/etc/moat") and not os.listdir("/etc/moat"):
        os.rmdir("/etc/moat")
inst.destroy()
t.done()
