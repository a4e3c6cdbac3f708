#!/usr/bin/env python3
"""bench/tls: what TLS and AUTH cost on a real Moat instance.  Makes an
instance (as the tests do) and prints, for N sessions each: the time from
STARTTLS to an established TLS 1.3 session with the ECDSA and with the RSA
certificate (every signature is made by tlssign, a round trip away from
smtpd), the same resumed with a ticket, handshakes per second over C
parallel clients, and the time of an AUTH PLAIN that auth checks against
a yescrypt hash.  Nothing is asserted: figures, not a test.

    sudo bench/tls.py [-n 200] [-c 8]
"""
import os
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "t", "integration"))
from moattest import MOAT, Instance, bench_args, free_port  # noqa: E402
from tlstest import TlsSmtp, add_service, any_context  # noqa: E402


def starttls_ms(port, ctx, session=None):
    c = TlsSmtp(port)
    c.reply()
    c.cmd("EHLO bench.example")
    c.send("STARTTLS\r\n")
    c.reply()
    t0 = time.monotonic()
    c.s = ctx.wrap_socket(c.s, session=session)
    took = time.monotonic() - t0
    got = c.s.session
    c.close()
    return took * 1000, got


def figures(name, ms):
    ms.sort()
    print("%-28s p50 %6.2f ms  p99 %6.2f ms" %
          (name, ms[len(ms) // 2], ms[int(len(ms) * 0.99) - 1]))


def main():
    a = bench_args("a real instance")
    inst = Instance("benchtls", {"smtpd_error_sleep_time": "0",
                                 "mynetworks": "127.0.0.1/32"})
    sub = free_port()
    add_service(inst, "127.0.0.1:%d inet moat-smtpd y 4 smtpd -o "
                "smtpd_sasl_auth_enable=yes" % sub)
    subprocess.run([MOAT, "-c", inst.conf, "passwd", "bench"], input="bench-pw\n",
                   capture_output=True, text=True, check=True)
    inst.start()
    ecdsa = any_context()
    rsa = any_context()
    rsa.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")
    rsa.maximum_version = ssl.TLSVersion.TLSv1_2
    n = max(10, a.n // 10)
    figures("STARTTLS, TLS 1.3 ECDSA", [starttls_ms(inst.port, ecdsa)[0] for _ in range(n)])
    figures("STARTTLS, TLS 1.2 RSA 2048", [starttls_ms(inst.port, rsa)[0] for _ in range(n)])
    ctx12 = any_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    _, sess = starttls_ms(inst.port, ctx12)
    figures("STARTTLS, resumed (ticket)", [starttls_ms(inst.port, ctx12, sess)[0] for _ in range(n)])
    count = [0]
    lock = threading.Lock()

    def worker(k):
        for _ in range(k):
            starttls_ms(inst.port, ecdsa)
            with lock:
                count[0] += 1

    start = time.monotonic()
    ths = [threading.Thread(target=worker, args=(a.n // a.c,)) for _ in range(a.c)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    took = time.monotonic() - start
    print("%-28s %6.0f sessions/s (%d over %d clients)" %
          ("full sessions with STARTTLS", count[0] / took, count[0], a.c))
    auth = []
    for _ in range(max(5, n // 4)):
        c = TlsSmtp(sub)
        c.reply()
        c.cmd("EHLO bench.example")
        c.starttls(ecdsa)
        c.cmd("EHLO bench.example")
        t0 = time.monotonic()
        c.cmd("AUTH PLAIN AGJlbmNoAGJlbmNoLXB3")
        auth.append((time.monotonic() - t0) * 1000)
        c.close()
    figures("AUTH PLAIN (yescrypt)", auth)
    inst.destroy()


if __name__ == "__main__":
    main()
