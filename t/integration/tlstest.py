"""tlstest: TLS for the integration tests.

A test CA made at test time with the openssl program (ECDSA and RSA
server certificates it signs for a test name), certificates installed
into an instance the way an administrator would (root's, keys mode 600),
master.conf lines added for more services, and SMTP clients that speak
STARTTLS (RFC 3207) or implicit TLS (RFC 8314) with Python's ssl module.
"""

import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

from moattest import Smtp

OPENSSL = shutil.which("openssl")
SWAKS = shutil.which("swaks")
F2B = shutil.which("fail2ban-regex")
HOST = "mx.moat.test"


def openssl(*args):
    r = subprocess.run([OPENSSL] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


class TestCA:
    """A CA of its own, in a temporary directory removed at the end."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="moat-ca-", dir="/tmp")
        self.key = os.path.join(self.dir, "ca.key")
        self.cert = os.path.join(self.dir, "ca.crt")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key,
                "-out", self.cert, "-days", "2", "-subj", "/CN=Moat test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign")
        self.serial = 1

    def issue(self, name, kind="ec", host=HOST):
        """A key and a certificate for host, signed by the CA: paths."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        crt = os.path.join(self.dir, name + ".crt")
        ext = os.path.join(self.dir, name + ".ext")
        newkey = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"] \
            if kind == "ec" else ["rsa:2048"]
        openssl("req", "-newkey", *newkey, "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=" + host)
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n"
                    "basicConstraints=CA:FALSE\n" % host)
        self.serial += 1
        openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey",
                self.key, "-set_serial", str(self.serial), "-days", "2",
                "-extfile", ext, "-out", crt)
        return crt, key

    def context(self, **kw):
        """A client context that trusts this CA and checks the name."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.cert)
        for k, v in kw.items():
            setattr(ctx, k, v)
        return ctx

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def any_context(**kw):
    """A client context that takes any certificate (the demo one)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def install(inst, pairs, subdir="tls-test"):
    """Copy (cert, key) pairs into the instance's conf (root's; keys 600)
    and point smtpd_tls_cert_file and smtpd_tls_key_file at them.
    Returns the installed (cert, key) paths."""
    d = os.path.join(inst.conf, subdir)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    out = []
    for i, (crt, key) in enumerate(pairs):
        c, k = os.path.join(d, "%d.crt" % i), os.path.join(d, "%d.key" % i)
        replace_file(crt, c, 0o644)
        replace_file(key, k, 0o600)
        out.append((c, k))
    inst.set({"smtpd_tls_cert_file": ", ".join(c for c, _ in out),
              "smtpd_tls_key_file": ", ".join(k for _, k in out)})
    return out


def replace_file(src, dst, mode):
    """Put src's bytes at dst with mode, by a rename (as certbot does)."""
    tmp = dst + ".new"
    shutil.copyfile(src, tmp)
    os.chown(tmp, 0, 0)
    os.chmod(tmp, mode)
    os.rename(tmp, dst)


def add_service(inst, line):
    """Append a service line to the instance's master.conf."""
    with open(os.path.join(inst.conf, "master.conf"), "a") as f:
        f.write(line.rstrip("\n") + "\n")


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


class TlsSmtp(Smtp):
    """Smtp with STARTTLS, or TLS from the first byte (implicit=ctx)."""

    def __init__(self, port, implicit=None, server_hostname=None, **kw):
        Smtp.__init__(self, port, **kw)
        if implicit is not None:
            self.s = implicit.wrap_socket(self.s,
                                          server_hostname=server_hostname)

    def starttls(self, ctx, server_hostname=None):
        """STARTTLS, its 220, the handshake: the 220's text."""
        r = self.cmd("STARTTLS")
        if r is None or not r.startswith("220"):
            return r
        self.tls(ctx, server_hostname)
        return r

    def tls(self, ctx, server_hostname=None):
        if self.buf:
            raise RuntimeError("bytes after the 220: %r" % self.buf)
        self.s = ctx.wrap_socket(self.s, server_hostname=server_hostname)

    def peer_fingerprint(self):
        return fingerprint(self.s.getpeercert(binary_form=True))

    def quiet(self, seconds):
        """True when nothing at all arrives for this long."""
        self.s.settimeout(seconds)
        try:
            data = self.s.recv(1)
        except (socket.timeout, ssl.SSLWantReadError):
            return True
        finally:
            self.s.settimeout(20)
        return False


def fail2ban_sasl(log):
    """The addresses fail2ban's stock postfix-sasl filter
    (postfix[mode=auth], with Moat's daemon names) finds in log, one per
    matched line, or None without fail2ban-regex."""
    if not F2B:
        return None
    r = subprocess.run([F2B, "-o", "ip", log,
                        r"postfix[mode=auth,_daemon=moat/\w+]"],
                       capture_output=True, text=True)
    return r.stdout.split()


def swaks(*args, timeout=60):
    """Run swaks; (exit status, its transcript)."""
    r = subprocess.run([SWAKS] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr
