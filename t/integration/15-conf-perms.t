#!/usr/bin/env python3
"""Configuration that anyone but root can change is refused: the master will
not start with a main.conf or master.conf that is group- or world-writable,
owned by another user, or a symbolic link, nor from a configuration
directory others may write; `moat check` reports each such file, the
aliases source included, and exits non-zero."""
import os
import pwd
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, require_root

require_root()
t = Tap()
inst = Instance("perms")
nobody = pwd.getpwnam("nobody").pw_uid


def refused(what, pattern):
    r = inst.moat("start", check=False)
    t.ok(r.returncode != 0, "start refused: %s" % what, r.stdout + r.stderr)
    t.like(r.stdout + r.stderr, pattern, "and the reason is named (%s)" % what)
    t.ok(not inst.accepting(), "nothing listens after the refusal (%s)" % what)


main = inst.path("conf", "main.conf")
master = inst.path("conf", "master.conf")
os.chmod(main, 0o664)
refused("group-writable main.conf", r"main\.conf: is writable by group or others")
os.chmod(main, 0o644)
os.chown(master, nobody, 0)
refused("master.conf owned by nobody", r"master\.conf: is owned by uid %d" % nobody)
os.chown(master, 0, 0)
os.rename(master, master + ".real")
os.symlink(master + ".real", master)
refused("master.conf a symbolic link", r"master\.conf: is a symbolic link")
os.unlink(master)
os.rename(master + ".real", master)
os.chmod(inst.conf, 0o777)
refused("a world-writable configuration directory", r"conf: must be a directory owned by root")
os.chmod(inst.conf, 0o755)

with open(inst.path("conf", "aliases")) as f:
    inst.write_aliases(f.read() + "root: moatt_person\n")
r = inst.moat("check", check=False)
t.is_eq((r.returncode, r.stdout + r.stderr), (0, ""), "moat check: silent on a clean instance")
os.chmod(inst.path("conf", "aliases"), 0o666)
r = inst.moat("check", check=False)
t.ok(r.returncode != 0 and "aliases" in r.stdout + r.stderr,
     "moat check reports a world-writable aliases file", r.stdout + r.stderr)
os.chmod(inst.path("conf", "aliases"), 0o644)

inst.start()
t.ok(inst.accepting(), "with the modes fixed, the instance starts")
inst.destroy()
t.done()
