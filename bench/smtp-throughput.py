#!/usr/bin/env python3
"""bench/smtp-throughput: how fast a real Moat instance takes and delivers
mail.  Makes an instance (as the tests do), sends N messages over C parallel
SMTP connections to one local Maildir user, and prints the figures: accepted
per second (client side, 250 after fsync), delivered per second (until the
last file is in Maildir/new), and the 50th/99th percentile of the time from
DATA's end to 250.  Nothing is asserted: figures, not a test.

    sudo bench/smtp-throughput.py [-n 2000] [-c 8] [--size 2000]
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "t", "integration"))
from moattest import Instance, Smtp, wait_for  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000, help="messages")
    ap.add_argument("-c", type=int, default=8, help="parallel connections")
    ap.add_argument("--size", type=int, default=2000, help="body bytes")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (it makes a real instance and a user)")
    inst = Instance("bench", {"home_mailbox": "Maildir/",
                              "local_destination_concurrency_limit": "4"})
    u = inst.user("moatt_bench")
    inst.start()
    body = (b"Subject: bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * max(1, a.size // 78))
    lat, lock = [], threading.Lock()
    per = [a.n // a.c + (1 if i < a.n % a.c else 0) for i in range(a.c)]

    def worker(count):
        c = Smtp(inst.port)
        c.reply()
        c.cmd("EHLO bench.example")
        for _ in range(count):
            c.send(b"MAIL FROM:<b@example.org>\r\nRCPT TO:<moatt_bench@localhost>\r\nDATA\r\n")
            for _ in range(3):
                c.reply()
            t0 = time.monotonic()
            c.send(body + b".\r\n")
            r = c.reply()
            with lock:
                lat.append(time.monotonic() - t0)
            if not r.startswith("250"):
                print("refused:", r, file=sys.stderr)
        c.cmd("QUIT")
        c.close()

    start = time.monotonic()
    ths = [threading.Thread(target=worker, args=(k,)) for k in per]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    accepted = time.monotonic() - start
    newdir = os.path.join(u.home, "Maildir", "new")
    wait_for(lambda: os.path.isdir(newdir) and len(os.listdir(newdir)) >= a.n, 600, 0.1)
    delivered = time.monotonic() - start
    got = len(os.listdir(newdir)) if os.path.isdir(newdir) else 0
    lat.sort()
    print("messages: %d x %d bytes over %d connections" % (a.n, len(body), a.c))
    print("accepted: %.0f msg/s (%.2f s)" % (a.n / accepted, accepted))
    print("delivered: %d, %.0f msg/s (%.2f s)" % (got, got / delivered, delivered))
    if lat:
        print("250 after DATA: p50 %.1f ms, p99 %.1f ms" %
              (lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99) - 1] * 1000))
    inst.destroy()


if __name__ == "__main__":
    main()
