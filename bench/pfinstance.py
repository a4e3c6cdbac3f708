"""pfinstance: a private Postfix instance for bench/compare.py.

Debian's postfix package, unpacked into build/postfix by `make
postfix-peer` (apt-get download + dpkg -x; never installed), runs here
with its own configuration and queue directories under a temporary
directory: Debian's default main.cf and master.cf, plus only what a
private instance needs (its directories, users of its own, loopback,
a Maildir home mailbox, a log file).  The host's /etc/postfix, its MTA
and its users are never touched: the mail owner and setgid group are
users this module creates (moatb-pf, moatb-pfdrop) and removes.

Its master runs with -c CONFIG_DIR -d, started through a caller-given
function (the benchmark puts it in a CPU-accounting cgroup), and is
stopped with SIGTERM, which stops every child.

Only the Python 3 standard library is used.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PF = os.path.join(TOP, "build", "postfix")
LIBS = os.path.join(PF, "usr", "lib", "postfix")
MASTER = os.path.join(LIBS, "sbin", "master")
OWNER, DROP = "moatb-pf", "moatb-pfdrop"
QUEUE_DIRS = ("active", "bounce", "corrupt", "defer", "deferred", "flush",
              "hold", "incoming", "private", "saved", "trace")
CHROOT_ETC = ("localtime", "hosts", "services", "host.conf",
              "nsswitch.conf")


def available():
    return os.access(MASTER, os.X_OK)


def env():
    return dict(os.environ, LD_LIBRARY_PATH=LIBS)


def _users():
    if subprocess.run(["getent", "group", DROP], capture_output=True).returncode:
        subprocess.run(["groupadd", "--system", DROP], check=True,
                       capture_output=True)
    if subprocess.run(["id", OWNER], capture_output=True).returncode:
        subprocess.run(["useradd", "--system", "-U", "-M", "-d", "/nonexistent",
                        "-s", "/usr/sbin/nologin", OWNER], check=True,
                       capture_output=True)


def _remove_users():
    subprocess.run(["userdel", OWNER], capture_output=True)
    subprocess.run(["groupdel", OWNER], capture_output=True)
    subprocess.run(["groupdel", DROP], capture_output=True)


TMP = "/tmp"  # where instances are made (compare.py may move it)


class Postfix:
    """One private instance: conf/, spool/, data/ and maillog under
    a fresh directory in /tmp."""

    def __init__(self, port, settings=None, postscreen=False):
        self.port = port
        self.postscreen = postscreen
        self.base = tempfile.mkdtemp(prefix="moat-bench-pf-", dir=TMP)
        os.chmod(self.base, 0o755)
        self.conf = os.path.join(self.base, "conf")
        self.spool = os.path.join(self.base, "spool")
        self.data = os.path.join(self.base, "data")
        self.maillog = os.path.join(self.base, "maillog")
        self.proc = None
        _users()
        os.makedirs(self.conf)
        self._main_cf(settings or {})
        self._master_cf()
        self._dirs()

    def _main_cf(self, settings):
        share = os.path.join(PF, "usr", "share", "postfix")
        with open(os.path.join(share, "main.cf.debian")) as f:
            text = f.read()
        # What Debian's postinst adds to a fresh main.cf, less TLS (no
        # certificate here; the load generator does not ask for it).
        conf = {
            "myhostname": "bench-postfix.localdomain",
            "mydestination": "$myhostname, localhost",
            "relayhost": "",
            "mynetworks": "127.0.0.0/8",
            "mailbox_size_limit": "0",
            "recipient_delimiter": "+",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "alias_maps": "",
            "alias_database": "",
            # The private instance.
            "queue_directory": self.spool,
            "data_directory": self.data,
            "daemon_directory": os.path.join(LIBS, "sbin"),
            "shlib_directory": LIBS,
            "command_directory": os.path.join(PF, "usr", "sbin"),
            "meta_directory": self.conf,
            "sendmail_path": os.path.join(PF, "usr", "sbin", "sendmail"),
            "newaliases_path": os.path.join(PF, "usr", "bin", "newaliases"),
            "mailq_path": os.path.join(PF, "usr", "bin", "mailq"),
            "mail_owner": OWNER,
            "setgid_group": DROP,
            "maillog_file": self.maillog,
            "maillog_file_prefixes": "/tmp",
            "import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ "
                                  "LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME "
                                  "LD_LIBRARY_PATH=" + LIBS,
            "home_mailbox": "Maildir/",
        }
        conf.update(settings)
        text += "\n# bench/pfinstance.py: a private instance\n"
        text += "".join("%s = %s\n" % kv for kv in conf.items())
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(text)
        for name in ("postfix-files", "dynamicmaps.cf"):
            for d in (os.path.join(PF, "etc", "postfix"), share):
                if os.path.exists(os.path.join(d, name)):
                    shutil.copy(os.path.join(d, name), self.conf)
                    break

    def _master_cf(self):
        src = os.path.join(PF, "usr", "share", "postfix", "master.cf.dist")
        out = []
        with open(src) as f:
            for line in f:
                if self.postscreen and line.startswith("smtp      inet"):
                    # As Postfix's postscreen(8) says to turn it on: the
                    # port goes to postscreen (also on ::1), smtpd becomes
                    # the pass service behind it.
                    line = "".join("%s inet  n       -       y       -       "
                                   "1       postscreen\n" % (addr % self.port)
                                   for addr in ("127.0.0.1:%d", "[::1]:%d"))
                elif self.postscreen and line.startswith("#smtpd     pass"):
                    line = line[1:]
                elif line.startswith("smtp      inet"):
                    line = line.replace("smtp      inet",
                                        "127.0.0.1:%d inet" % self.port, 1)
                out.append(line)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.writelines(out)

    def _dirs(self):
        os.makedirs(self.spool, 0o755)
        os.makedirs(self.data, 0o700)
        shutil.chown(self.data, OWNER, OWNER)
        for d in QUEUE_DIRS:
            p = os.path.join(self.spool, d)
            os.mkdir(p, 0o700)
            shutil.chown(p, OWNER, "root")
        for d, mode in (("maildrop", 0o1730), ("public", 0o710)):
            p = os.path.join(self.spool, d)
            os.mkdir(p)
            shutil.chown(p, OWNER, DROP)
            os.chmod(p, mode)
        os.mkdir(os.path.join(self.spool, "pid"), 0o755)
        # The chroot's /etc, as Debian's init script makes it; resolving
        # never leaves the machine (the bench uses addresses only).
        etc = os.path.join(self.spool, "etc")
        os.mkdir(etc, 0o755)
        for name in CHROOT_ETC:
            if os.path.exists("/etc/" + name):
                shutil.copy("/etc/" + name, etc)
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")

    def postconf(self, settings):
        with open(os.path.join(self.conf, "main.cf"), "a") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def start(self, popen=subprocess.Popen):
        self.proc = popen([MASTER, "-c", self.conf, "-d"], env=env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def master_pid(self):
        return self.proc.pid if self.proc else None

    def command(self, name, *args):
        """Run one of Postfix's commands (postqueue, postsuper) on it."""
        return subprocess.run([os.path.join(PF, "usr", "sbin", name), "-c",
                               self.conf] + list(args), env=env(),
                              capture_output=True, text=True)

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        time.sleep(0.5)  # children see the master go

    def destroy(self):
        self.stop()
        if os.environ.get("MOAT_KEEP") != "1":
            shutil.rmtree(self.base, ignore_errors=True)
        _remove_users()

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
