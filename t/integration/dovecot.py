"""dovecot: a real Dovecot authentication service for the tests of auth's
dovecot backend, never the host's.

Debian's dovecot-core is unpacked into build/dovecot by `make dovecot`
(apt-get download and dpkg -x: nothing is installed, no service of the
host is touched).  Dovecot runs here in the foreground with a private
configuration, base and state directories under a temporary directory,
its own users file (SHA512-CRYPT hashes made by the openssl program) and
one client socket, put inside the instance's spool where auth(8), which
runs chrooted there, can reach it: private/dovecot-auth, owned by
moat-auth, mode 0600, as a Postfix site would configure it.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from moattest import TOP, wait_for

ROOT = os.path.join(TOP, "build", "dovecot")
LIBS = os.path.join(ROOT, "usr", "lib", "dovecot")
# The services whose programs dovecot-core has (absolute: the binaries
# name /usr/lib/dovecot, where nothing is installed).
SERVICES = {
    "aggregator": "aggregator", "anvil": "anvil", "auth-worker": "auth -w", "config": "config", "dict": "dict",
    "dict-async": "dict", "director": "director", "dns-client": "dns-client",
    "doveadm": "doveadm-server", "indexer": "indexer",
    "indexer-worker": "indexer-worker", "ipc": "ipc", "log": "log",
    "old-stats": "old-stats", "replicator": "replicator", "stats": "stats",
    "tcpwrap": "tcpwrap",
}


def available():
    return os.access(os.path.join(ROOT, "usr", "sbin", "dovecot"), os.X_OK)


def crypt_sha512(password):
    r = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password,
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


class Dovecot:
    """Dovecot's auth service for inst, with users {name: password}."""

    def __init__(self, inst, users, socket_name="private/dovecot-auth"):
        self.dir = tempfile.mkdtemp(prefix="moat-dovecot-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.socket = inst.path("spool", socket_name)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.log = os.path.join(self.dir, "dovecot.log")
        users_file = os.path.join(self.dir, "users")
        with open(users_file, "w") as f:
            for name, password in users.items():
                f.write("%s:{SHA512-CRYPT}%s\n" % (name, crypt_sha512(password)))
        os.chmod(users_file, 0o644)
        for d in ("run", "state"):
            os.makedirs(os.path.join(self.dir, d))
        with open(self.conf, "w") as f:
            f.write(self.config(users_file, os.path.basename(self.dir)))
        self.proc = None

    def config(self, users_file, name):
        text = """protocols =
base_dir = %(dir)s/run
state_dir = %(dir)s/state
instance_name = %(name)s
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
log_path = %(dir)s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
import_environment = TZ LD_LIBRARY_PATH
passdb {
  driver = passwd-file
  args = %(users)s
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  executable = %(libs)s/auth
  unix_listener %(socket)s {
    user = moat-auth
    mode = 0600
  }
}
service health-check {
  executable = %(libs)s/script -p %(libs)s/health-check.sh
}
""" % {"dir": self.dir, "name": name, "users": users_file,
            "socket": self.socket, "libs": LIBS}
        for service, program in SERVICES.items():
            text += "service %s {\n  executable = %s/%s\n}\n" % (
                service, LIBS, program)
        return text

    def env(self):
        return {"PATH": "/usr/bin:/bin",
                "LD_LIBRARY_PATH": "%s:%s/modules/old-stats" % (LIBS, LIBS)}

    def start(self):
        self.proc = subprocess.Popen(
            [os.path.join(ROOT, "usr", "bin", "doveconf"), "-c", self.conf,
             "-e", os.path.join(ROOT, "usr", "sbin", "dovecot"), "-F", "-c",
             self.conf], env=self.env(), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        if not wait_for(lambda: os.path.exists(self.socket), 20):
            raise RuntimeError("dovecot did not start:\n" + self.read_log())

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        wait_for(lambda: not os.path.exists(self.socket), 5)

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
