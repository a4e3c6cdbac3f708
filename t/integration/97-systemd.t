#!/usr/bin/env python3
"""The systemd unit in conf/ is sandboxed as far as a root master allows:
systemd's own analyzer accepts it (verify) and rates its exposure low, with
the file system read-only but the spool, the log and the mail spool, homes
read-only, a private /tmp, only UNIX and IP sockets, native system calls
only, no new privileges, no namespaces, and a capability set limited to
what the master needs.  Skipped where systemd-analyze is missing."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import TOP, Tap

analyze = shutil.which("systemd-analyze")
if analyze is None:
    print("1..0 # SKIP systemd-analyze is not installed")
    sys.exit(0)

t = Tap()
with open(os.path.join(TOP, "conf", "moat.service")) as f:
    text = f.read()
text = text.replace("@SBINDIR@", os.path.join(TOP, "build", "bin"))
text = text.replace("@SYSCONFDIR@", "/etc/moat")
tmp = tempfile.mkdtemp(prefix="moat-unit-")
unit = os.path.join(tmp, "moat.service")
with open(unit, "w") as f:
    f.write(text)

r = subprocess.run([analyze, "verify", "--man=no", unit], capture_output=True, text=True)
t.is_eq((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify accepts the unit")

r = subprocess.run([analyze, "security", "--offline=true", "--no-pager", unit],
                   capture_output=True, text=True)
m = re.search(r"Overall exposure level for moat\.service: ([0-9.]+)", r.stdout)
t.ok(m is not None, "systemd-analyze security rates the unit", r.stdout[-500:] + r.stderr)
score = float(m.group(1)) if m else 10.0
t.diag("exposure level %.1f (0 is best, 10 worst)" % score)
t.ok(score <= 4.0, "exposure level at most 4.0 (got %.1f)" % score)
for setting in ("ProtectSystem=", "PrivateTmp=", "SystemCallArchitectures=",
                "RestrictAddressFamilies=~AF_PACKET", "RestrictAddressFamilies=~AF_NETLINK",
                "RestrictNamespaces=~user", "RestrictSUIDSGID=", "MemoryDenyWriteExecute=",
                "CapabilityBoundingSet=~CAP_SYS_ADMIN", "CapabilityBoundingSet=~CAP_SYS_PTRACE",
                "ProtectKernelModules=", "ProtectKernelTunables=", "LockPersonality="):
    t.ok(re.search(r"(?m)^\u2713 %s" % re.escape(setting), r.stdout) is not None,
         "the analyzer passes %s" % setting)
t.like(text, r"(?m)^NoNewPrivileges=yes$", "NoNewPrivileges for the whole tree")
t.like(text, r"(?m)^ProtectHome=read-only$", "home directories read-only")
t.like(text, r"(?m)^ReadWritePaths=/var/spool/moat /var/log /var/mail$",
       "writable: the spool, the log directory, the mail spool")
caps = re.search(r"(?m)^CapabilityBoundingSet=(.*)$", text)
t.is_eq(sorted(caps.group(1).split()) if caps else None,
        sorted(["CAP_SETUID", "CAP_SETGID", "CAP_SYS_CHROOT", "CAP_NET_BIND_SERVICE",
                "CAP_KILL", "CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE", "CAP_SYSLOG"]),
        "the capability bounding set is what the master needs")
shutil.rmtree(tmp, ignore_errors=True)
t.done()
