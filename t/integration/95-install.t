#!/usr/bin/env python3
"""make install into a DESTDIR makes the tree INSTALL describes: the
programs in libexec/moat (postdrop setgid moat-drop), moat in sbin, the
sendmail, mailq and newaliases links to Moat's sendmail, a manual page for
every program and file, the configuration (never overwritten by a second
install), the spool with the owners and modes of common/spool.c (listed here
a second time, independently), and the systemd unit; make uninstall removes
what it added and keeps the configuration and the spool.  make
install-sendmail saves what was at /usr/sbin/sendmail and /usr/bin/mailq
and points them at Moat; make uninstall-sendmail puts them back byte for
byte; both may be run twice.  Everything goes into temporary DESTDIRs."""
import grp
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Tap

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

if os.geteuid() != 0:
    print("1..0 # SKIP needs root: install sets owners and the setgid postdrop")
    sys.exit(0)

t = Tap()
work = tempfile.mkdtemp(prefix="moat-install-")
os.chmod(work, 0o755)

PROGRAMS = ["master", "smtpd", "cleanup", "qmgr", "local", "pickup",
            "anvil", "rcptmap", "postdrop", "sendmail", "logd"]
MANPAGES = {
    "man1": ["sendmail", "mailq", "newaliases", "moat"],
    "man5": ["moat.conf", "master.conf", "aliases"],
    "man8": ["master", "smtpd", "cleanup", "qmgr", "local", "pickup",
             "anvil", "rcptmap", "postdrop", "logd"],
}
# The spool of INSTALL and common/spool.c: name, owner, group, mode.
SPOOL = [
    (".", "root", "root", 0o755),
    ("incoming", "moat-queue", "moat-queue", 0o700),
    ("active", "moat-queue", "moat-queue", 0o700),
    ("deferred", "moat-queue", "moat-queue", 0o700),
    ("hold", "moat-queue", "moat-queue", 0o700),
    ("corrupt", "moat-queue", "moat-pickup", 0o730),
    ("maildrop", "moat-pickup", "moat-drop", 0o1730),
    ("private", "root", "root", 0o711),
    ("public", "root", "moat-admin", 0o710),
    ("pid", "root", "root", 0o755),
    ("state", "root", "root", 0o700),
    ("maps", "moat-rcptmap", "moat-smtpd", 0o2750),
]


def cleanup():
    shutil.rmtree(work, ignore_errors=True)


def ensure_users():
    """The users a DESTDIR install gives files to (it creates none)."""
    for g in ("moat-drop", "moat-admin"):
        try:
            grp.getgrnam(g)
        except KeyError:
            subprocess.run(["groupadd", "--system", g], check=True)
    for u in ("moat-queue", "moat-smtpd", "moat-pickup", "moat-rcptmap"):
        try:
            pwd.getpwnam(u)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home",
                            "--shell", "/usr/sbin/nologin", "--user-group",
                            u], check=True)


def make(target, destdir, prefix, fails=False):
    """make's exit status; its output is shown when that is a surprise."""
    r = subprocess.run(["make", "-s", "-C", TOP, target, "DESTDIR=" + destdir,
                        "PREFIX=" + prefix], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if (r.returncode != 0) != fails:
        t.diag(r.stdout)
    return r.returncode


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def owner_of(path):
    st = os.lstat(path)
    return (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_programs(d):
    libexec = os.path.join(d, "usr/libexec/moat")
    for p in PROGRAMS:
        path = os.path.join(libexec, p)
        ok = os.path.isfile(path) and not os.path.islink(path)
        t.ok(ok, "libexec/moat/%s is a regular file" % p)
        if not ok:
            continue
        want = 0o2755 if p == "postdrop" else 0o755
        t.is_eq(oct(mode_of(path)), oct(want), "libexec/moat/%s mode" % p)
    path = os.path.join(libexec, "postdrop")
    if os.path.exists(path):
        t.is_eq(owner_of(path), ("root", "moat-drop"), "postdrop root:moat-drop")
    moat = os.path.join(d, "usr/sbin/moat")
    t.ok(os.path.isfile(moat) and mode_of(moat) == 0o755,
         "sbin/moat is installed mode 0755")


def check_links(d):
    sendmail = os.path.realpath(os.path.join(d, "usr/libexec/moat/sendmail"))
    for name in ("usr/sbin/sendmail", "usr/bin/mailq", "usr/bin/newaliases"):
        path = os.path.join(d, name)
        t.ok(os.path.islink(path) and not os.readlink(path).startswith("/"),
             "%s is a relative symbolic link" % name)
        t.is_eq(os.path.realpath(path), sendmail,
                "%s resolves to Moat's sendmail" % name)


def check_man(d):
    for sect, pages in MANPAGES.items():
        for page in pages:
            path = os.path.join(d, "usr/share/man", sect,
                                "%s.%s" % (page, sect[3:]))
            t.ok(os.path.isfile(path), "manual page %s" % path[len(d):])


def check_conf(d):
    conf = os.path.join(d, "etc/moat")
    for f in ("main.conf", "master.conf", "aliases", "aliases.lmdb"):
        t.ok(os.path.isfile(os.path.join(conf, f)), "etc/moat/%s" % f)
    t.ok(os.path.isdir(os.path.join(conf, "commands")), "etc/moat/commands/")
    main = read(os.path.join(conf, "main.conf")).decode()
    t.ok("\ndaemon_directory = /usr/libexec/moat\n" in main,
         "main.conf sets daemon_directory to PREFIX/libexec/moat")


def check_spool(d):
    top = os.path.join(d, "var/spool/moat")
    for name, owner, group, mode in SPOOL:
        path = os.path.normpath(os.path.join(top, name))
        if not t.ok(os.path.isdir(path) and not os.path.islink(path),
                    "spool %s is a directory" % name):
            continue
        t.is_eq(oct(mode_of(path)), oct(mode), "spool %s mode" % name)
        t.is_eq(owner_of(path), (owner, group), "spool %s owner" % name)


def check_unit(d):
    path = os.path.join(d, "lib/systemd/system/moat.service")
    if not t.ok(os.path.isfile(path), "systemd unit installed"):
        return
    text = read(path).decode()
    t.ok("\nExecStart=/usr/sbin/moat -c /etc/moat start\n" in text,
         "the unit starts the installed moat", text)
    t.ok("\nExecReload=/usr/sbin/moat -c /etc/moat reload\n" in text,
         "the unit reloads with moat reload")
    t.ok(re.search(r"@[A-Z]+@", text) is None, "no placeholder left in the unit")


def test_install():
    d = os.path.join(work, "root")
    os.mkdir(d)
    real_before = os.path.exists("/usr/libexec/moat")
    t.is_eq(make("install", d, "/usr"), 0, "make install DESTDIR PREFIX=/usr")
    check_programs(d)
    check_links(d)
    check_man(d)
    check_conf(d)
    check_spool(d)
    check_unit(d)
    t.is_eq(os.path.exists("/usr/libexec/moat"), real_before,
            "nothing installed outside DESTDIR")

    main = os.path.join(d, "etc/moat/main.conf")
    aliases = os.path.join(d, "etc/moat/aliases")
    with open(main, "a") as f:
        f.write("myhostname = mail.example.org\n")
    with open(aliases, "a") as f:
        f.write("root: someone\n")
    before = (read(main), read(aliases))
    t.is_eq(make("install", d, "/usr"), 0, "a second make install")
    t.ok((read(main), read(aliases)) == before,
         "the second install kept the changed main.conf and aliases")

    t.is_eq(make("uninstall", d, "/usr"), 0, "make uninstall")
    gone = [p for p in ["usr/sbin/moat", "usr/sbin/sendmail", "usr/bin/mailq",
                        "usr/bin/newaliases", "usr/libexec/moat",
                        "usr/share/man/man8/master.8",
                        "lib/systemd/system/moat.service"]
            if os.path.lexists(os.path.join(d, p))]
    t.is_eq(gone, [], "uninstall removed programs, links, pages and unit")
    t.ok(read(main) == before[0] and
         os.path.isdir(os.path.join(d, "var/spool/moat/maildrop")),
         "uninstall kept the configuration and the spool")


def snapshot(d, name):
    path = os.path.join(d, name)
    if not os.path.lexists(path):
        return None
    if os.path.islink(path):
        return ("link", os.readlink(path))
    st = os.lstat(path)
    return ("file", read(path), stat.S_IMODE(st.st_mode), st.st_uid)


def test_sendmail():
    d = os.path.join(work, "host")
    os.makedirs(os.path.join(d, "usr/sbin"))
    os.makedirs(os.path.join(d, "usr/bin"))
    old = os.path.join(d, "usr/sbin/sendmail")
    with open(old, "wb") as f:
        f.write(b"#!/bin/sh\necho the old MTA's sendmail\n\x00\xff")
    os.chmod(old, 0o4711)
    os.symlink("../sbin/sendmail", os.path.join(d, "usr/bin/mailq"))
    names = ["usr/sbin/sendmail", "usr/bin/mailq", "usr/bin/newaliases"]
    before = {n: snapshot(d, n) for n in names}

    t.ok(make("install-sendmail", d, "/usr/local", fails=True) != 0,
         "install-sendmail refuses before Moat is installed")
    t.is_eq({n: snapshot(d, n) for n in names}, before,
            "... and changes nothing")
    t.is_eq(make("install", d, "/usr/local"), 0, "make install PREFIX=/usr/local")
    t.is_eq({n: snapshot(d, n) for n in names}, before,
            "make install leaves the system's sendmail alone")
    for i in (1, 2):
        t.is_eq(make("install-sendmail", d, "/usr/local"), 0,
                "make install-sendmail (run %d)" % i)
        moat = os.path.realpath(os.path.join(d, "usr/local/libexec/moat/sendmail"))
        for n in names:
            t.is_eq(os.path.realpath(os.path.join(d, n)), moat,
                    "%s points at Moat's sendmail (run %d)" % (n, i))
        t.is_eq(snapshot(d, "usr/sbin/sendmail.pre-moat"),
                before["usr/sbin/sendmail"],
                "the old sendmail is saved as sendmail.pre-moat (run %d)" % i)
        t.is_eq(snapshot(d, "usr/bin/mailq.pre-moat"), before["usr/bin/mailq"],
                "the old mailq link is saved (run %d)" % i)
        t.ok(not os.path.lexists(os.path.join(d, "usr/bin/newaliases.pre-moat")),
             "no backup where nothing was (run %d)" % i)
    for i in (1, 2):
        t.is_eq(make("uninstall-sendmail", d, "/usr/local"), 0,
                "make uninstall-sendmail (run %d)" % i)
        t.is_eq({n: snapshot(d, n) for n in names}, before,
                "sendmail, mailq and newaliases are as before (run %d)" % i)
        left = [n for n in os.listdir(os.path.join(d, "usr/sbin")) +
                os.listdir(os.path.join(d, "usr/bin")) if "pre-moat" in n]
        t.is_eq(left, [], "no backup left (run %d)" % i)

    # A foreign sendmail with a backup already there: neither is touched.
    t.is_eq(make("install-sendmail", d, "/usr/local"), 0, "install-sendmail again")
    os.unlink(old)
    with open(old, "wb") as f:
        f.write(b"a package upgrade put this back\n")
    state = {n: snapshot(d, n) for n in names + ["usr/sbin/sendmail.pre-moat"]}
    t.ok(make("install-sendmail", d, "/usr/local", fails=True) != 0,
         "install-sendmail refuses to overwrite sendmail.pre-moat")
    t.is_eq({n: snapshot(d, n) for n in state}, state,
            "... and changes nothing")


try:
    ensure_users()
    test_install()
    test_sendmail()
finally:
    cleanup()
t.done()
