#!/usr/bin/env python3
"""Recipient verification without the password file in smtpd: rcptmap, as
moat-rcptmap and unchrooted, keeps spool/maps/recipients.lmdb (moat-smtpd's
group, 0640); no smtpd process has /etc/passwd, the alias map or any file
outside the spool open or mapped, and none keeps a user list in its memory;
a user added with useradd is accepted within seconds by the same smtpd
process, even in a session that asked before; userdel makes RCPT say 550
again; an alias is accepted as soon as `moat map build` returns; only root
may ask rcptmap for a rebuild; a rebuild that fails (a missing alias map, a
full disk) keeps the old map and is retried;
without a map smtpd answers 451, never 550; VRFY answers 252 without a
lookup, as before."""
import grp
import os
import pwd
import re
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import (Instance, Smtp, Tap, as_user, ipc_read_frame, proc_ids,
                      require_root, unix_connect, wait_for)

require_root()
t = Tap()
inst = Instance("rcptmap", {"smtpd_error_sleep_time": "0s",
                            "smtpd_soft_error_limit": "100",
                            "smtpd_hard_error_limit": "200"})
amy = inst.user("moatt_amy")
inst.start()
spool = os.path.realpath(inst.path("spool"))
map_file = inst.recipients_map()
maillog = os.path.realpath(inst.path("log", "maillog"))
aliases_lmdb = os.path.realpath(inst.path("conf", "aliases.lmdb"))


class Session:
    """One SMTP session with a transaction open, for RCPT after RCPT."""

    def __init__(self):
        self.c = Smtp(inst.port)
        self.c.reply()
        self.c.cmd("EHLO rcptmap.example")
        self.c.cmd("MAIL FROM:<a@example.org>")

    def rcpt(self, local):
        return self.c.cmd("RCPT TO:<%s@localhost>" % local) or ""

    def close(self):
        self.c.cmd("QUIT")
        self.c.close()


def rcpt_once(local):
    s = Session()
    try:
        return s.rcpt(local)
    finally:
        s.close()


def map_entries():
    """The recipients map as {key: kind}, read with mdb_dump."""
    r = subprocess.run(["mdb_dump", "-n", "-p", map_file],
                       capture_output=True, text=True)
    lines = [l.strip() for l in r.stdout.split("HEADER=END\n", 1)[-1].splitlines()]
    lines = [l for l in lines if l != "DATA=END"]
    return dict(zip(lines[0::2], lines[1::2]))


def map_keys():
    return set(map_entries())


def rcptmap_rebuilds():
    return inst.log().count("moat/rcptmap[")


# --- rcptmap and its map ----------------------------------------------------------
uid = pwd.getpwnam("moat-rcptmap").pw_uid
smtpd_gid = grp.getgrnam("moat-smtpd").gr_gid
pids = wait_for(lambda: inst.pids_of("rcptmap"), 10)
t.is_eq(len(pids or []), 1, "one rcptmap process runs")
for pid in pids or []:
    t.is_eq(proc_ids(pid), (uid,) * 3, "rcptmap runs as moat-rcptmap")
    t.is_eq(os.readlink("/proc/%d/root" % pid), "/",
            "rcptmap is not chrooted (NSS may need files outside the spool)")
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    t.like(status, r"(?m)^NoNewPrivs:\s+1$", "rcptmap has no_new_privs")
    t.like(status, r"(?m)^CapEff:\s+0+$", "rcptmap has no capabilities")
st = os.stat(inst.path("spool", "maps"))
t.is_eq((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (uid, smtpd_gid, 0o2750),
        "spool/maps is moat-rcptmap:moat-smtpd 2750")
st = os.stat(map_file)
t.is_eq((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (uid, smtpd_gid, 0o640),
        "the map is moat-rcptmap:moat-smtpd 0640")
entries = map_entries()
t.is_eq((entries.get("moatt_amy"), entries.get("postmaster")), ("user", "alias"),
        "it holds the users and the alias keys, with their kind")
with open(inst.path("conf", "aliases")) as f:
    root_aliased = any(l.startswith("root:") for l in f)
t.is_eq("root" in entries, root_aliased, "root is in it exactly when it is aliased")
uid0 = [p.pw_name for p in pwd.getpwall() if p.pw_uid == 0]
t.is_eq([n for n in uid0 if entries.get(n) == "user"], [], "no uid 0 account is in it as a user")


def missing_accounts():
    """Accounts not in the map (other tests add users all the time)."""
    accounts = [p.pw_name for p in pwd.getpwall() if p.pw_uid != 0 and
                re.match(r"^[a-z0-9_][a-z0-9._-]*$", p.pw_name)]
    keys = map_keys()
    return [n for n in accounts if n not in keys]


t.is_eq(wait_for(lambda: not missing_accounts(), 5) and [] or missing_accounts(), [],
        "every other account is")
t.like(inst.log(), r"moat/rcptmap\[\d+\]: maps/recipients\.lmdb rebuilt: reason=start "
       r"users=\d+ aliases=\d+ keys=\d+", "the first build is logged")

# --- what smtpd holds ---------------------------------------------------------
held = Session()
t.like(held.rcpt("moatt_amy"), r"^250 ", "a known user: 250")
t.like(held.rcpt("moatt_nosuch"), r"^550 5\.1\.1 ", "a user unknown to the map: 550 5.1.1")
t.like(held.c.cmd("VRFY moatt_amy"), r"^252 ", "VRFY of a user: 252, no lookup")
t.like(held.c.cmd("VRFY moatt_nosuch"), r"^252 ", "VRFY of no user: the same 252")
smtpd_pids = inst.pids_of("smtpd")
t.ok(smtpd_pids, "smtpd processes run", smtpd_pids)


def open_files(pid):
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("/"):
            out.append((int(fd), target))
    return out


def mapped_files(pid):
    with open("/proc/%d/maps" % pid) as f:
        parts = [l.split(None, 5) for l in f]
    return set(p[5].strip() for p in parts if len(p) == 6 and p[5].startswith("/"))


def anonymous_memory(pid):
    """The bytes of the regions no file backs: heap, stack, anonymous."""
    regions = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            p = line.split(None, 5)
            name = p[5].strip() if len(p) == 6 else ""
            if "r" not in p[1] or name.startswith("/") or name in ("[vvar]", "[vvar_vclock]", "[vsyscall]"):
                continue
            a, b = (int(x, 16) for x in p[0].split("-"))
            regions.append((a, b))
    data = []
    with open("/proc/%d/mem" % pid, "rb") as m:
        for a, b in regions:
            try:
                m.seek(a)
                data.append(m.read(b - a))
            except OSError:
                pass
    return b"".join(data)


def allowed_fd(fd, path):
    # fd 2 is the log file the master opened: issue 7 point 2 replaces it.
    return path.startswith(spool + "/") or path == "/dev/null" or \
        (fd == 2 and path == maillog)


exe_dir = os.path.dirname(os.path.realpath("/proc/%d/exe" % smtpd_pids[0]))
for pid in smtpd_pids:
    files = open_files(pid)
    t.is_eq([f for f in files if not allowed_fd(*f)], [],
            "smtpd pid %d: no open file outside the spool (but /dev/null and the log)" % pid)
    t.ok(not any(p in ("/etc/passwd", "/etc/group", "/etc/shadow", aliases_lmdb) for _, p in files),
         "smtpd pid %d: neither /etc/passwd nor the alias map is open" % pid, files)
    maps = mapped_files(pid)
    odd = [m for m in maps if not (m.startswith(spool + "/maps/recipients.lmdb") or
                                   ".so" in os.path.basename(m) or
                                   os.path.dirname(m) == exe_dir)]
    t.is_eq(odd, [], "smtpd pid %d maps no file but its program, libraries and the recipients map" % pid)
serving = [p for p in smtpd_pids if any(path == map_file for _, path in open_files(p))]
t.is_eq(len(serving), 1, "the smtpd that answered holds the recipients map open, read-only")
pid = serving[0] if serving else smtpd_pids[0]
t.ok(map_file in mapped_files(pid), "and mapped: lookups read the file, not a copy")

# --- a user added mid-run: the same process, the same session -----------------
t.like(held.rcpt("moatt_zed"), r"^550 ", "before useradd: 550")
before = rcptmap_rebuilds()
zed = inst.user("moatt_zed")
added = time.time()
if not t.ok(wait_for(lambda: "moatt_zed" in map_keys(), 10, 0.05),
            "rcptmap writes the new user into the map within seconds, without a reload"):
    t.diag(subprocess.run(["ls", "-la", inst.path("spool", "maps")],
                          capture_output=True, text=True).stdout)
    t.diag("\n".join(inst.log().splitlines()[-30:]))
t.diag("in the map %.2f s after useradd" % (time.time() - added))
t.ok(inst.wait_log(r"rebuilt: reason=passwd", 10), "the rebuild names its reason")
t.like(held.rcpt("moatt_amy"), r"^250 ", "the session goes on (the map is reopened in place)")
t.like(held.rcpt("moatt_zed"), r"^250 ",
       "the session that got 550 asks again after the rebuild: 250")
t.diag("accepted %.2f s after useradd" % (time.time() - added))
t.ok(pid in inst.pids_of("smtpd"), "the same smtpd process, not restarted")

# A name smtpd was never sent: in the map it reads, not in its memory.
yan = inst.user("moatt_yan")
t.ok(wait_for(lambda: "moatt_yan" in map_keys(), 10, 0.05), "another user is in the map")
t.like(held.rcpt("moatt_amy"), r"^250 ", "smtpd has reopened the map")
heap = anonymous_memory(pid)
t.ok(len(heap) > 0 and b"moatt_yan" not in heap,
     "smtpd's heap and stack do not hold the new name: it keeps no user list")
t.ok(b"root:x:0:0" not in heap and b"/usr/sbin/nologin" not in heap,
     "nor any line of the password file")
t.like(held.rcpt("moatt_yan"), r"^250 ", "asked for it: 250")
t.ok(b"moatt_yan" in anonymous_memory(pid),
     "(the memory read works: the name the client sent is there now)")

# --- userdel: 550 again, in the same session ----------------------------------
zed.remove()
inst.users.remove(zed)
t.ok(wait_for(lambda: "moatt_zed" not in map_keys(), 10, 0.05),
     "after userdel the name leaves the map within seconds")
t.like(held.rcpt("moatt_zed"), r"^550 5\.1\.1 ", "and the same session gets 550")
t.like(rcpt_once("moatt_zed"), r"^550 5\.1\.1 ", "so does a new one")

# --- an alias: accepted as soon as moat map build returns ---------------------
with open(inst.path("conf", "aliases")) as f:
    aliases_text = f.read()
inst.write_aliases(aliases_text + "zalias: moatt_amy\n")
t.like(held.rcpt("zalias"), r"^250 ", "an alias added with moat map build: 250 when it returns")
t.like(held.rcpt("ZALIAS"), r"^250 ", "in any case")

# --- who may ask for a rebuild --------------------------------------------------
sock_path = inst.path("spool", "private", "rcptmap")
s = unix_connect(sock_path)
reply = dict(ipc_read_frame(s) or [])
s.close()
t.is_eq(reply.get("status"), "ok", "root asks for a rebuild: status=ok once it is done")
t.like(inst.log(), r"rebuilt: reason=request", "logged as a request")


def ask_as_smtpd():
    s = unix_connect(sock_path)
    try:
        return "frame" if ipc_read_frame(s) else "closed"
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    finally:
        s.close()


t.is_eq(as_user("moat-smtpd", ask_as_smtpd), "closed",
        "moat-smtpd may not ask: the connection is closed unanswered")
t.ok(inst.wait_log(r"rcptmap\[\d+\]: warning: service=private/rcptmap: refused "
                   r"connection from uid=%d" % pwd.getpwnam("moat-smtpd").pw_uid, 10),
     "and the refusal is logged")

# --- a failed rebuild keeps the old map ---------------------------------------
ino = os.stat(map_file).st_ino
os.rename(aliases_lmdb, aliases_lmdb + ".away")
t.ok(inst.wait_log(r"warning: maps/recipients\.lmdb not rebuilt: reason=\w+: "
                   r"alias map .*aliases\.lmdb: No such file or directory; smtpd "
                   r"keeps the old map", 10),
     "a missing alias map: the rebuild fails and says why")
t.is_eq(os.stat(map_file).st_ino, ino, "the old map stays in place")
t.like(held.rcpt("zalias"), r"^250 ", "and smtpd answers from it")
os.rename(aliases_lmdb + ".away", aliases_lmdb)
t.ok(wait_for(lambda: os.stat(map_file).st_ino != ino, 10),
     "the alias map back: rebuilt at once")

# --- a full disk: the rebuild fails, the map in place stays, a retry wins ------
maps_dir = inst.path("spool", "maps")
with open(map_file, "rb") as f:
    saved = f.read()
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=2750,uid=%d,gid=%d"
                % (uid, smtpd_gid), "moat-test-full", maps_dir], check=True)
try:
    with open(map_file, "wb") as f:
        f.write(saved)
    os.chown(map_file, uid, smtpd_gid)
    os.chmod(map_file, 0o640)
    t.like(held.rcpt("moatt_amy"), r"^250 ", "a map on a small file system: smtpd reads it")
    filler = os.path.join(maps_dir, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"x" * 4096) > 0:
            pass
    except OSError:
        pass
    os.close(fd)
    ino = os.stat(map_file).st_ino
    s = unix_connect(sock_path)
    reply = dict(ipc_read_frame(s) or [])
    s.close()
    t.is_eq(reply.get("status"), "error", "the disk is full: the rebuild fails")
    t.diag("rcptmap: %s" % reply.get("text"))
    t.like(reply.get("text"), r"No space left on device|Input/output error",
           "and the answer says why")
    t.ok(inst.wait_log(r"warning: maps/recipients\.lmdb not rebuilt: reason=request: "
                       r".*; smtpd keeps the old map; next try in \ds", 5),
         "it is logged, with the next try")
    r = inst.moat("map", "build", inst.path("conf", "aliases"), check=False)
    t.ok(r.returncode == 0 and "rcptmap could not rebuild the recipients map" in r.stderr,
         "moat map build of the aliases says the recipients map is not rebuilt", r.stderr)
    t.is_eq(os.stat(map_file).st_ino, ino, "the map in place is untouched")
    t.ok(not os.path.exists(map_file + ".tmp"), "no half-written file is left")
    t.like(held.rcpt("moatt_amy"), r"^250 ", "smtpd answers from it: a user, 250")
    t.like(held.rcpt("moatt_nosuch"), r"^550 ", "an unknown one, 550")
    os.unlink(filler)
    t.ok(wait_for(lambda: os.path.exists(map_file) and os.stat(map_file).st_ino != ino, 15),
         "room again: a retry rebuilds the map by itself")
    t.ok(inst.wait_log(r"rebuilt: reason=\w+ .*\(after failed attempts\)", 5),
         "and says it recovered")
finally:
    subprocess.run(["umount", "-l", maps_dir])
t.ok(wait_for(lambda: "moatt_amy" in map_keys(), 10), "the file system gone: the map is made again")
t.like(held.rcpt("moatt_amy"), r"^250 ", "and smtpd follows")
held.close()

# --- no map: 451, never 550 -----------------------------------------------------
master_conf = os.path.join(inst.conf, "master.conf")
with open(master_conf) as f:
    original = f.read()
with open(master_conf, "w") as f:
    f.write("".join(l for l in original.splitlines(True) if "rcptmap" not in l))
r = inst.moat("check", check=False)
t.like(r.stderr, r"master\.conf runs smtpd but no rcptmap: every local recipient gets 451",
       "moat check reports an smtpd without rcptmap")
inst.moat("reload")
t.ok(wait_for(lambda: not inst.pids_of("rcptmap"), 15), "rcptmap gone after the reload")
os.unlink(map_file)
wait_for(inst.accepting, 15)
s = Session()
t.like(s.rcpt("moatt_amy"), r"^451 4\.3\.0 ", "no map: a known user gets 451 4.3.0")
t.like(s.rcpt("moatt_nosuch"), r"^451 4\.3\.0 ", "and an unknown one too, never 550")
t.like(s.c.cmd("RCPT TO:<someone@example.org>"), r"^250 ",
       "a remote recipient from a trusted client needs no map: 250")
t.like(s.c.cmd("VRFY moatt_amy"), r"^252 ", "VRFY still 252")
s.close()
t.ok(inst.wait_log(r"smtpd\[\d+\]: warning: recipients map maps/recipients\.lmdb: "
                   r"No such file or directory; local recipients get 451", 5),
     "smtpd logs why")
with open(master_conf, "w") as f:
    f.write(original)
inst.moat("reload")
t.ok(wait_for(lambda: os.path.exists(map_file), 15), "rcptmap back: the map is made again")
wait_for(inst.accepting, 15)
t.like(rcpt_once("moatt_amy"), r"^250 ", "and smtpd answers from it: 250")
inst.destroy()
t.done()
