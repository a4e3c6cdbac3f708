#!/usr/bin/env python3
"""bench/multiuser: delivery to several local users at once.

    sudo bench/multiuser.py [--users 8] [-n 150]

A private Moat instance (t/integration/moattest.py) with USERS Maildir
users; one client session per user (bench/smtpload) sends N 2 KB
messages to it, all at the same time. Prints the rate at which the
messages were accepted, the rate at which they were all in the Maildirs
(end to end), and their ratio: 1.0 when delivery keeps up with
acceptance. Loopback only, bounded by the counts and a 120 s wait;
figures, not a test.
"""
import argparse
import os
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "t", "integration"))
from moattest import Instance  # noqa: E402

LOAD = os.path.join(TOP, "build", "bench", "smtpload")


def load(port, rcpt, n, sessions=1):
    subprocess.run([LOAD, "-p", str(port), "-r", rcpt, "-n", str(n), "-c",
                    str(sessions), "-s", "2000", "-t", "300"],
                   capture_output=True, check=False)


def count(user):
    try:
        return len(os.listdir(os.path.join(user.home, "Maildir", "new")))
    except OSError:
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("-n", type=int, default=150, help="messages per user")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("multiuser: run as root (it makes users and an instance)")
    inst = Instance("multiuser", {"home_mailbox": "Maildir/",
                                  "mynetworks": "127.0.0.0/8"})
    users = [inst.user("moatt_mu%d" % i) for i in range(a.users)]
    inst.start()
    try:
        load(inst.port, users[0].name + "@localhost", 20, 2)  # warm up
        time.sleep(2)
        base = {u.name: count(u) for u in users}
        total = a.n * len(users)
        t0 = time.monotonic()
        threads = [threading.Thread(target=load, args=(
            inst.port, u.name + "@localhost", a.n)) for u in users]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        accepted = time.monotonic() - t0

        def delivered():
            return sum(count(u) - base[u.name] for u in users)
        while delivered() < total and time.monotonic() - t0 < 120:
            time.sleep(0.05)
        e2e = time.monotonic() - t0
        got = delivered()
        print("%d users x %d messages, one session each: accepted %.0f "
              "msg/s, end to end %.0f msg/s (%d of %d delivered), "
              "end to end / accepted %.2f"
              % (len(users), a.n, total / accepted, got / e2e, got, total,
                 (got / e2e) / (total / accepted)))
    finally:
        inst.destroy()


if __name__ == "__main__":
    main()
