#!/usr/bin/env python3
"""Queue administration: `moat queue list` (text, --json, --mailq), show,
hold, release, requeue, delete and flush against a running qmgr; a local
user who is not in admin_group is refused each with sendmail's words and
exit 77, and is logged; a member of moat-admin may list and flush; with
restrict_mailq = no and restrict_qrun = no anyone may list and flush, but
never read or change messages; queue IDs that are not queue IDs are
refused by qmgr itself; a message being delivered is not deleted, and a
hold waits for its delivery attempt; local users cannot take the
connections cleanup needs; a stopped system is reported with exit 75."""
import grp
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import MOAT, Instance, Tap, require_root, send_message, queued_id, wait_for

require_root()
t = Tap()

DENY_SEE = "You are not permitted to see the queue"
DENY_RUN = "You are not permitted to run the queue"
DENY_CHANGE = "You are not permitted to change the queue"
# relayhost is [relay.example]: its AAAA records are asked first.
REMOTE = ("Host or domain name not found. Name service error for name=relay.example "
          "type=AAAA: Host not found, try again")
# Run as other users: an interpreter they can execute, not one under /root.
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

# Deferred mail waits an hour: files stay where the test puts them.
# relayhost needs DNS, which does not answer here (moattest points it at a
# closed port): every remote recipient waits with the same reason.
inst = Instance("queue", {"minimal_backoff_time": "3600s",
                          "maximal_backoff_time": "3600s",
                          "relayhost": "[relay.example]"})
t.ok(grp.getgrnam("moat-admin") is not None, "moat init made the group moat-admin")
adm = inst.user("moatt_q_adm")
subprocess.run(["usermod", "-aG", "moat-admin", adm.name], check=True)
usr = inst.user("moatt_q_usr")

# A command alias that blocks until the test opens a gate, then defers.
gate = os.path.join(os.path.dirname(inst.dir), "gate")
os.makedirs(gate)
os.chmod(gate, 0o1777)
slow = inst.path("conf", "commands", "slow")
with open(slow, "w") as f:
    f.write("#!/usr/bin/python3\n"
            "import os, sys, time\n"
            "sys.stdin.buffer.read()\n"
            "open(os.path.join(%r, 'started'), 'w').close()\n"
            "for _ in range(600):\n"
            "    if os.path.exists(os.path.join(%r, 'open')):\n"
            "        break\n"
            "    time.sleep(0.05)\n"
            "sys.exit(75)\n" % (gate, gate))
os.chmod(slow, 0o755)
with open(inst.path("conf", "aliases")) as f:
    aliases = f.read()
inst.write_aliases(aliases + '\nslowpoke: "|%s"\n' % slow)
inst.start()


def moat_as(user, *args):
    """moat run by a local user (None: root), with its groups."""
    cmd = [MOAT, "-c", inst.conf] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user.uid, "--regid=%d" % user.gid,
               "--init-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True)


def queue(*args):
    return moat_as(None, "queue", *args)


def where(qid):
    return [d for d in ("active", "deferred", "hold")
            if qid in inst.queue_files(d)]


def attempts(qid):
    return len(re.findall(r"%s: to=<[^>]*>, relay=none, .*status=deferred" % qid,
                          inst.log()))


# --- two messages for remote domains that cannot be reached: they wait -----
ids = []
for n in (1, 2):
    r = send_message(inst.port, "sender%d@example.org" % n,
                     ["rcpt%d@example.com" % n, "other%d@example.net" % n],
                     b"Subject: waiting %d\r\n\r\nbody of message %d\r\n" % (n, n))
    ids.append(queued_id(r))
t.ok(all(ids), "two messages for remote domains are accepted", ids)
a, b = ids
t.ok(wait_for(lambda: where(a) == ["deferred"] and where(b) == ["deferred"], 20),
     "both wait in deferred/ (the relayhost needs DNS)")

# --- root: the three listing shapes ---------------------------------------
r = queue("list")
t.is_eq(r.returncode, 0, "moat queue list exits 0")
line_a = [ln for ln in r.stdout.splitlines() if ln.startswith(a)]
t.ok(line_a and "deferred" in line_a[0] and "<sender1@example.org>" in line_a[0]
     and "<rcpt1@example.com>, <other1@example.net>" in line_a[0]
     and "(%s)" % REMOTE in line_a[0],
     "text listing: one line with queue, sender, recipients and reason", r.stdout)

r = queue("list", "--json")
try:
    entries = json.loads(r.stdout)
except ValueError:
    entries = None
t.ok(isinstance(entries, list) and len(entries) == 2, "--json is a JSON array of 2", r.stdout)
ea = [e for e in entries or [] if e.get("queue_id") == a]
if t.ok(ea, "--json has the first message"):
    e = ea[0]
    t.is_eq((e["queue"], e["sender"], e["recipients"], e["reason"]),
            ("deferred", "sender1@example.org",
             ["rcpt1@example.com", "other1@example.net"], REMOTE),
            "--json: queue, sender, recipients, reason")
    t.like(e["arrival"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", "--json: arrival in ISO 8601")
    t.ok(isinstance(e["size"], int) and e["size"] > 30, "--json: size in bytes", e["size"])

r = queue("list", "--mailq")
out = r.stdout.splitlines()
t.like(out[0] if out else "", r"^-Queue ID- +--Size-- ----Arrival Time---- -Sender/Recipient-------$",
       "--mailq: sendmail's header line")
t.like(r.stdout, r"(?m)^%s +\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d  sender1@example\.org$" % a,
       "--mailq: ID, size, arrival, sender")
t.like(r.stdout, r"(?m)^ {54}\(%s\)\n {54}rcpt1@example\.com\n {54}other1@example\.net\n\n" % REMOTE,
       "--mailq: reason, then the recipients under the sender")
t.like(out[-1] if out else "", r"^-- \d+ Kbytes in 2 Requests\.$", "--mailq: the summary line")

MAILQ = os.path.join(os.path.dirname(MOAT), "mailq")
if os.access(MAILQ, os.X_OK):
    m = subprocess.run([MAILQ, "-C", inst.conf], capture_output=True, text=True)
    t.is_eq((m.returncode, m.stdout), (0, r.stdout), "mailq prints the same listing")

# --- show ------------------------------------------------------------------
r = queue("show", a)
t.is_eq(r.returncode, 0, "moat queue show exits 0")
t.ok("sender: <sender1@example.org>" in r.stdout and
     "recipient: <rcpt1@example.com> (to do)" in r.stdout and
     "queue: deferred" in r.stdout, "show prints the envelope", r.stdout)
t.ok("Subject: waiting 1" in r.stdout and "body of message 1" in r.stdout,
     "show prints the content", r.stdout)
t.like_soon(inst.log, r"qmgr\[\d+\]: %s: shown to uid 0" % a, "showing a message is logged")
r = queue("show", "0" * 23)
t.is_eq((r.returncode, r.stderr.strip()), (1, "moat: %s: no such message" % ("0" * 23)),
        "show of an unknown ID: no such message, exit 1")
r = queue("show", "../../../etc/passwd")
t.is_eq(r.returncode, 2, "show of something that is not a queue ID: exit 2")

# --- hold, release, requeue --------------------------------------------------
r = queue("hold", a)
t.is_eq((r.returncode, r.stdout.strip()), (0, "moat: %s: placed on hold" % a), "hold: placed on hold")
t.is_eq(where(a), ["hold"], "the held message is in hold/")
t.like_soon(inst.log, r"%s: placed on hold \(by uid 0\)" % a, "hold is logged with the uid")
t.like(queue("list", "--mailq").stdout, r"(?m)^%s!" % a, "--mailq flags a held message with '!'")
t.ok(any(e["queue_id"] == a and e["queue"] == "hold"
         for e in json.loads(queue("list", "--json").stdout)), "--json says queue hold")
t.is_eq(queue("hold", a).stdout.strip(), "moat: %s: already on hold" % a, "holding twice is harmless")
queue("flush")
time.sleep(1.5)
t.is_eq(where(a), ["hold"], "a flush does not touch held mail")

before = attempts(a)
r = queue("release", a)
t.is_eq((r.returncode, r.stdout.strip()), (0, "moat: %s: released from hold" % a), "release")
t.ok(wait_for(lambda: attempts(a) > before, 20), "a released message is tried again at once")
t.ok(wait_for(lambda: where(a) == ["deferred"], 20), "and waits in deferred/ again")
r = queue("release", a)
t.is_eq(r.returncode, 1, "releasing a message that is not held fails")

before = attempts(b)
r = queue("requeue", b)
t.is_eq((r.returncode, r.stdout.strip()), (0, "moat: %s: requeued" % b), "requeue")
t.ok(wait_for(lambda: attempts(b) > before, 20), "a requeued message is tried at once")
queue("hold", b)
before = attempts(b)
r = queue("requeue", b)
t.ok(r.returncode == 0 and wait_for(lambda: attempts(b) > before, 20) and
     wait_for(lambda: where(b) == ["deferred"], 20),
     "requeue also takes a held message out of hold/ and tries it")

before = attempts(a), attempts(b)
r = queue("flush")
t.is_eq((r.returncode, r.stdout, r.stderr), (0, "", ""), "flush: exit 0, silent")
t.ok(wait_for(lambda: attempts(a) > before[0] and attempts(b) > before[1], 20),
     "flush tries every deferred message")
t.like_soon(inst.log, r"queue flush \(by uid 0\)", "flush is logged with the uid")

# --- refused: a local user who is not an administrator -------------------
wait_for(lambda: where(a) == ["deferred"] and where(b) == ["deferred"], 10)
for args, text, what in ((["list"], DENY_SEE, "list"),
                         (["list", "--mailq"], DENY_SEE, "list --mailq"),
                         (["show", a], DENY_SEE, "show"),
                         (["flush"], DENY_RUN, "flush"),
                         (["hold", a], DENY_CHANGE, "hold"),
                         (["release", a], DENY_CHANGE, "release"),
                         (["requeue", a], DENY_CHANGE, "requeue"),
                         (["delete", a], DENY_CHANGE, "delete")):
    r = moat_as(usr, "queue", *args)
    t.ok(r.returncode == 77 and text in r.stderr and r.stdout == "",
         "a user outside admin_group: %s is refused (%s, exit 77)" % (what, text),
         (r.returncode, r.stdout, r.stderr))
t.is_eq(where(a), ["deferred"], "the refused hold and delete changed nothing")
t.like_soon(inst.log, r"warning: op=delete uid=%d pid=\d+: denied" % usr.uid,
       "a refused request is logged with the uid")

# --- qmgr checks every request itself ---------------------------------------
SOCK = inst.path("spool", "private", "qmgr")


def frame(*pairs):
    payload = b"".join(b"%d:%s,%d:%s," % (len(k), k, len(v), v) for k, v in pairs)
    return struct.pack(">I", len(payload)) + payload


def ask(pairs, user=None):
    """Send one raw frame (as user) and return the reply frames' attributes."""
    code = ("import socket, struct, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "s.settimeout(10)\n"
            "s.connect(%r)\n"
            "s.sendall(%r)\n"
            "data = b''\n"
            "while True:\n"
            "    try:\n"
            "        c = s.recv(65536)\n"
            "    except OSError:\n"
            "        break\n"
            "    if not c:\n"
            "        break\n"
            "    data += c\n"
            "sys.stdout.buffer.write(data)\n" % (SOCK, frame(*pairs)))
    kw = {"user": user.uid, "group": user.gid, "extra_groups": []} if user else {}
    data = subprocess.run([PY, "-c", code], capture_output=True, **kw).stdout
    frames = []
    while len(data) >= 4:
        (n,) = struct.unpack(">I", data[:4])
        payload, data = data[4:4 + n], data[4 + n:]
        attrs, pos = {}, 0
        while pos < len(payload):
            items = []
            for _ in range(2):
                colon = payload.index(b":", pos)
                ln = int(payload[pos:colon])
                items.append(payload[colon + 1:colon + 1 + ln])
                pos = colon + 2 + ln
            attrs[items[0].decode()] = items[1].decode("utf-8", "replace")
        frames.append(attrs)
    return frames


for bad in (b"../deferred/" + a.encode(), a.encode() + b"/x", b"", b"0" * 40):
    rep = ask([(b"op", b"hold"), (b"queue_id", bad)])
    t.is_eq(rep, [{"status": "error", "text": "not a queue ID"}],
            "qmgr refuses queue_id %r before building a path" % bad)
rep = ask([(b"op", b"delete")])
t.is_eq(rep, [{"status": "error", "text": "not a queue ID"}], "a request without queue_id is refused")
t.is_eq(ask([(b"op", b"list")], usr), [{"status": "denied", "text": DENY_SEE}],
        "the raw list request of a plain user is denied")
t.is_eq(ask([(b"op", b"bogus")]), [], "an unknown request closes the connection")
t.is_eq(ask([(b"op", b"wake")], usr), [], "a wake-up from a plain user is refused")
t.like_soon(inst.log, r"request from uid %d pid \d+: wake-up not permitted; closed" % usr.uid,
       "and logged")
t.ok(inst.pids_of("qmgr"), "qmgr is still running")

# --- local users cannot take every connection ---------------------------------
hog = subprocess.Popen(
    [PY, "-c",
     "import socket, select, sys\n"
     "socks = []\n"
     "for i in range(9):\n"
     "    s = socket.socket(socket.AF_UNIX); s.connect(%r); socks.append(s)\n"
     "r, _, _ = select.select(socks, [], [], 3)\n"
     "print(len(r), socks.index(r[0]) if r else -1, flush=True)\n"
     "sys.stdin.readline()\n" % SOCK],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    user=usr.uid, group=usr.gid, extra_groups=[])
got = hog.stdout.readline().split()
t.is_eq(got, ["1", "8"], "a local user gets 8 connections at most; the 9th is closed at once")
r = queue("list")
t.is_eq(r.returncode, 0, "root still lists the queue while a user holds 8 connections")
r = send_message(inst.port, "s@example.org", ["rcpt9@example.com"], b"Subject: during\r\n\r\nx\r\n")
c = queued_id(r)
t.ok(c and wait_for(lambda: where(c) == ["deferred"], 20),
     "and new mail still reaches qmgr")
hog.stdin.write("\n")
hog.stdin.flush()
hog.wait()
t.like_soon(inst.log, r"refused connection from uid=%d pid=\d+: too many connections" % usr.uid,
       "the refused connection is logged")

# --- a message being delivered -------------------------------------------------
r = send_message(inst.port, "s@example.org", ["slowpoke@localhost"], b"Subject: slow\r\n\r\nslow\r\n")
s = queued_id(r)
t.ok(s and wait_for(lambda: os.path.exists(os.path.join(gate, "started")), 20),
     "a delivery to a slow command is under way")
t.like(queue("list", "--mailq").stdout, r"(?m)^%s\*" % s, "--mailq flags a message in delivery with '*'")
r = queue("delete", s)
t.ok(r.returncode == 1 and "busy, try again" in r.stderr,
     "delete of a message being delivered: busy, try again", (r.returncode, r.stderr))
r = queue("hold", s)
t.ok(r.returncode == 0 and "when this delivery attempt ends" in r.stdout,
     "hold of a message being delivered takes effect after the attempt", r.stdout)
open(os.path.join(gate, "open"), "w").close()
t.ok(wait_for(lambda: where(s) == ["hold"], 20), "after the attempt it is in hold/, not deferred/")
t.like_soon(inst.log, r"%s: placed on hold \(by uid 0\)" % s, "and that is logged")

# --- delete --------------------------------------------------------------------------
r = queue("delete", s)
t.is_eq((r.returncode, r.stdout.strip()), (0, "moat: %s: deleted" % s), "delete from hold/")
r = queue("delete", b)
t.is_eq((r.returncode, r.stdout.strip()), (0, "moat: %s: deleted" % b), "delete from deferred/")
t.ok(where(b) == [] and where(s) == [], "deleted files are gone")
t.like_soon(inst.log, r"%s: removed \(deleted by uid 0\)" % b, "delete is logged with the uid")
r = queue("delete", b)
t.is_eq((r.returncode, r.stderr.strip()), (1, "moat: %s: no such message" % b),
        "deleting twice: no such message, exit 1")
t.ok(b not in queue("list").stdout, "the listing no longer shows it")

# --- a member of moat-admin --------------------------------------------------------
r = moat_as(adm, "queue", "list")
t.ok(r.returncode == 0 and a in r.stdout, "a member of moat-admin lists the queue", r.stderr)
r = moat_as(adm, "queue", "flush")
t.is_eq(r.returncode, 0, "a member of moat-admin flushes the queue")
r = moat_as(adm, "queue", "hold", a)
t.is_eq(r.returncode, 0, "a member of moat-admin holds a message")
t.like_soon(inst.log, r"%s: placed on hold \(by uid %d\)" % (a, adm.uid), "logged with the member's uid")
t.is_eq(moat_as(adm, "queue", "release", a).returncode, 0, "and releases it")

# --- restrict_mailq = no, restrict_qrun = no ----------------------------------------
def reload_qmgr():
    old = set(inst.pids_of("qmgr"))
    inst.moat("reload")
    return wait_for(lambda: set(inst.pids_of("qmgr")) - old, 20)


inst.moat("config", "-e", "restrict_mailq=no")
t.ok(reload_qmgr(), "moat reload restarts qmgr")
r = moat_as(usr, "queue", "list", "--mailq")
t.ok(r.returncode == 0 and a in r.stdout, "restrict_mailq = no: a plain user lists the queue", r.stderr)
r = moat_as(usr, "queue", "show", a)
t.ok(r.returncode == 77 and DENY_SEE in r.stderr, "but may not read a message")
r = moat_as(usr, "queue", "flush")
t.ok(r.returncode == 77 and DENY_RUN in r.stderr, "nor flush while restrict_qrun = yes")
inst.moat("config", "-e", "restrict_qrun=no")
reload_qmgr()
t.is_eq(moat_as(usr, "queue", "flush").returncode, 0, "restrict_qrun = no: a plain user flushes")
r = moat_as(usr, "queue", "delete", a)
t.ok(r.returncode == 77 and DENY_CHANGE in r.stderr, "changing the queue stays refused")

# --- a long listing comes in chunks, complete ------------------------------------
src = inst.path("spool", "deferred", a)
wait_for(lambda: os.path.exists(src), 10)
st = os.stat(src)
with open(src, "rb") as f:
    qf = f.read()
many = ["%010X%05X%08X" % (0x100, n, 4242) for n in range(3000)]
for qid in many:
    p = inst.path("spool", "hold", qid)
    with open(p, "wb") as f:
        f.write(qf)
    os.chown(p, st.st_uid, st.st_gid)
    os.chmod(p, 0o600)
r = queue("list", "--json")
try:
    listed = [e["queue_id"] for e in json.loads(r.stdout)]
except ValueError:
    listed = []
t.ok(set(many) <= set(listed) and len(listed) == len(set(listed)),
     "a listing of 3000 more messages (about 1 MB) is complete", len(listed))
t.like(queue("list", "--mailq").stdout, r"-- \d+ Kbytes in %d Requests\.\n$" % len(listed),
       "--mailq counts them all")
for qid in many:
    os.unlink(inst.path("spool", "hold", qid))

# --- the system stopped ------------------------------------------------------------
inst.stop()
r = queue("list")
t.is_eq((r.returncode, r.stderr.strip()),
        (75, "moat: cannot reach qmgr: the mail system is not running?"),
        "with the system stopped: cannot reach qmgr, exit 75")
t.done()
