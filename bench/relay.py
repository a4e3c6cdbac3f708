#!/usr/bin/env python3
"""bench/relay: how fast a real Moat instance relays mail to another SMTP
server.  Makes an instance (as the tests do) with relayhost pointing at a
sink on loopback, sends it N messages over C parallel SMTP connections,
and prints the end-to-end relay rate (from the first message in to the
last one logged as sent by remote) and the CPU time of the whole Moat
process tree per message (user + system, master and every daemon, the
ones that exited included).  The sink is Postfix's smtp-sink when `make
postfix-peer` unpacked it, else a small asyncio sink in this file (slower;
the figure then says so).  Nothing is asserted: figures, not a test.

bench/compare.py's S2 runs the same kind of load through a private
Postfix instance too (Debian's package unpacked, relayhost to the same
kind of sink) and prints both figures with their ratio.

    sudo bench/relay.py [-n 2000] [-c 8] [--size 2000]
"""
import asyncio
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "integration"))
from moattest import Instance, bench_args, bench_send, free_port, wait_for  # noqa: E402
from peers import SINK, SINK_LIBS, listening  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid, children=True):
    """utime + stime (+ reaped children's) of a process, in ticks."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ut, st, cut, cst = (int(fields[i]) for i in (11, 12, 13, 14))
    return ut + st + ((cut + cst) if children else 0)


def tree_cpu(inst):
    """CPU ticks of the instance: the master with its reaped children,
    and every live daemon with its own reaped children (local's)."""
    total = 0
    for name in ("master", "smtpd", "cleanup", "qmgr", "local", "remote",
                 "pickup", "anvil"):
        for pid in inst.pids_of(name):
            total += proc_cpu(pid)
    return total


def python_sink(port):
    """A minimal pipelining SMTP sink on 127.0.0.1:port, in a thread."""
    async def session(reader, writer):
        writer.write(b"220 sink ESMTP\r\n")
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go\r\n")
                while True:
                    data = await reader.readline()
                    if not data or data == b".\r\n":
                        break
                writer.write(b"250 2.0.0 Ok\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 Ok\r\n")
            await writer.drain()
        writer.close()

    def run():
        loop = asyncio.new_event_loop()
        srv = loop.run_until_complete(asyncio.start_server(session, "127.0.0.1", port))
        loop.run_until_complete(srv.serve_forever())
    threading.Thread(target=run, daemon=True).start()
    wait_for(lambda: listening("127.0.0.1", port), 10)
    return None


def start_sink(port):
    if os.access(SINK, os.X_OK):
        env = dict(os.environ, LD_LIBRARY_PATH=SINK_LIBS)
        p = subprocess.Popen([SINK, "-u", "nobody", "127.0.0.1:%d" % port, "256"],
                             env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        if wait_for(lambda: listening("127.0.0.1", port), 10):
            return p, "Postfix smtp-sink"
        p.kill()
    python_sink(port)
    return None, "the Python sink of bench/relay.py (slow: a floor, not a peer)"


def main():
    a = bench_args("a real instance")
    port = free_port()
    sink, sink_name = start_sink(port)
    inst = Instance("brelay", {"relayhost": "[127.0.0.1]:%d" % port,
                               "max_idle": "100s"})
    inst.start()
    body = a.body

    sent = re.compile(r"moat/remote\[\d+\]: \S+: to=<to@relay\.example>, .*status=sent")
    cpu0 = tree_cpu(inst)
    start = time.monotonic()
    accepted = bench_send(inst.port, a, "to@relay.example")
    wait_for(lambda: len(sent.findall(inst.log())) >= a.n, 900, 0.2)
    relayed = time.monotonic() - start
    cpu1 = tree_cpu(inst)
    log = inst.log()
    got = len(sent.findall(log))
    uses = [int(x) for x in re.findall(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, conn_use=(\d+)", log)]
    sessions = got - len(uses)
    cpu_ms = (cpu1 - cpu0) * 1000.0 / TICK
    print("messages: %d x %d bytes over %d connections, relayed to %s" %
          (a.n, len(body), a.c, sink_name))
    print("accepted: %.0f msg/s (%.2f s)" % (a.n / accepted, accepted))
    print("relayed:  %d, %.0f msg/s end to end (%.2f s)" % (got, got / relayed, relayed))
    print("cpu:      %.2f ms per message, Moat's whole process tree (%.0f ms in all)"
          % (cpu_ms / max(got, 1), cpu_ms))
    print("sessions: %d SMTP sessions to the sink for %d messages" % (sessions, got))
    print("target:   2x Postfix's relay rate at equal durability; bench/compare.py "
          "--only S2 measures both")
    inst.destroy()
    if sink is not None:
        sink.kill()
        sink.wait()


if __name__ == "__main__":
    main()
