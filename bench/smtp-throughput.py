#!/usr/bin/env python3
"""bench/smtp-throughput: how fast a real Moat instance takes and delivers
mail.  Makes an instance (as the tests do), sends N messages over C parallel
SMTP connections to one local Maildir user, and prints the figures: accepted
per second (client side, 250 after fsync), delivered per second (until the
last file is in Maildir/new), and the 50th/99th percentile of the time from
DATA's end to 250.  Nothing is asserted: figures, not a test.

    sudo bench/smtp-throughput.py [-n 2000] [-c 8] [--size 2000]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "t", "integration"))
from moattest import Instance, bench_args, bench_send, wait_for  # noqa: E402


def main():
    a = bench_args("a real instance and a user")
    inst = Instance("bench", {"home_mailbox": "Maildir/",
                              "local_destination_concurrency_limit": "4"})
    u = inst.user("moatt_bench")
    inst.start()
    body = a.body
    lat = []
    start = time.monotonic()
    accepted = bench_send(inst.port, a, "moatt_bench@localhost", lat)
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
