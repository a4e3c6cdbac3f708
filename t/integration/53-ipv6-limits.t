#!/usr/bin/env python3
"""IPv6 clients are counted per /64 (smtpd_client_ipv6_prefix_length), in a
network namespace of our own where addresses of two /64 networks are put
on lo: three connections from three addresses of one /64 are three
connections of one client for anvil, so a fourth address of it gets 421
4.7.0, while an address of another /64 is let in; with a prefix length of
128 every address is a client of its own; the screen counts its own
connections per /64 too.  The instance listens on IPv4 and IPv6, so two
screens share one cache."""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, free_port, require_root, wait_for  # noqa: E402
from peers import enter_netns  # noqa: E402

require_root()
enter_netns()
t = Tap()
NET_A = "2001:db8:1:2::"
NET_B = "2001:db8:1:3::"
for addr in ("a", "b", "c", "d", "e"):
    subprocess.run(["ip", "-6", "addr", "add", NET_A + addr + "/128", "dev",
                    "lo", "nodad"], check=True)
subprocess.run(["ip", "-6", "addr", "add", NET_B + "a/128", "dev", "lo",
                "nodad"], check=True)


class Smtp6:
    """A client from one IPv6 source address to [::1]."""

    def __init__(self, port, source):
        self.s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.s.settimeout(20)
        self.s.bind((source, 0))
        self.s.connect(("::1", port))
        self.buf = b""

    def reply(self):
        """One whole reply (lines joined by newlines), or what came
        before the connection closed."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.s.recv(4096)
                if not chunk:
                    return "\n".join(lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            lines.append(line.rstrip(b"\r").decode(errors="replace"))
            if lines[-1][3:4] != "-":
                return "\n".join(lines)

    def close(self):
        self.s.close()


def instance(tag, settings):
    port = free_port()
    inst = Instance(tag, settings, listen=["127.0.0.1:%d" % port,
                                           "[::]:%d" % port])
    inst.port = port
    inst.start()
    return inst


base = {"mynetworks": "127.0.0.1/32", "postscreen_greet_wait": "1s",
        "smtpd_client_connection_count_limit": "3",
        "postscreen_client_connection_count_limit": "0"}
inst = instance("v6limit", base)
held = []
for a in ("a", "b", "c"):
    c = Smtp6(inst.port, NET_A + a)
    held.append(c)
    g = c.reply()
    t.like(g, r"(?m)^220 ", "%s%s: greeted" % (NET_A, a))
c = Smtp6(inst.port, NET_A + "d")
t.like(c.reply(), r"(?m)^421 4\.7\.0 \S+ Error: too many connections from "
       r"2001:db8:1:2::d$",
       "a fourth address of the same /64: 421 4.7.0 (one client, four "
       "connections)")
c.close()
t.ok(inst.wait_log(r"warning: Connection concurrency limit exceeded: 4 from "
                   r"unknown\[2001:db8:1:2::d\] for service smtpd"),
     "logged with the address it came from")
c = Smtp6(inst.port, NET_B + "a")
t.like(c.reply(), r"(?m)^220 ", "an address of another /64 is another client")
c.close()
t.ok(inst.wait_log(r"screen\[\d+\]: PASS NEW \[2001:db8:1:2::a\]:\d+"),
     "the screen passed the IPv6 clients (PASS NEW)")
t.is_eq(len(inst.pids_of("screen")), 2, "two screens: one per listening address")
for c in held:
    c.close()
wait_for(lambda: inst.log().count("disconnect from unknown[2001:db8:1:2::") >= 4, 10)
c = Smtp6(inst.port, NET_A + "e")
t.like(c.reply(), r"(?m)^220 ", "once they closed, the /64 is let in again")
c.close()
inst.destroy()

inst = instance("v6exact", dict(base, smtpd_client_ipv6_prefix_length="128"))
held = [Smtp6(inst.port, NET_A + a) for a in ("a", "b", "c", "d")]
greets = [c.reply() for c in held]
t.ok(all("\n220 " in "\n" + g for g in greets),
     "prefix length 128: four addresses of one /64 are four clients", greets)
for c in held:
    c.close()
inst.destroy()

inst = instance("v6screen", dict(base, postscreen_client_connection_count_limit="2"))
held = [Smtp6(inst.port, NET_A + a) for a in ("a", "b")]
time.sleep(0.2)
c = Smtp6(inst.port, NET_A + "c")
t.like(c.reply(), r"^421 4\.7\.0 Error: too many connections$",
       "the screen counts per /64 too: a third address in the pause gets 421")
c.close()
for c in held:
    c.close()
inst.destroy()
t.done()
