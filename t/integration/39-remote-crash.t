#!/usr/bin/env python3
"""kill -9 of remote in the middle of DATA loses nothing: the peer has the
whole content and is slow to answer the dot when remote dies; qmgr defers
the recipient ("delivery agent failed"), the master restarts remote, and
the retry delivers.  The peer then holds the message twice: that is the
at-least-once window (the server may have taken the first copy, and
nobody recorded its answer).  kill -9 of qmgr before the content is sent
makes remote drop the session without the final dot, so the retry is the
only copy."""
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Tap, kill_all, queued_id, require_root, send_message, wait_for  # noqa: E402
from peers import ScriptedPeer, enter_netns  # noqa: E402

require_root()
enter_netns()
t = Tap()

peer = ScriptedPeer("127.0.0.2", name="mx.crash.example").start()
peer.dot_delay = 5.0
a = Instance("rcrash", {"relayhost": "[127.0.0.2]:25"})
a.start()

r = send_message(a.port, "s@client.example", ["x@crash.example"],
                 b"Subject: crash\r\n\r\nbody\r\n")
qid = queued_id(r)
t.ok(qid, "message queued", r)
t.ok(wait_for(lambda: peer.dots >= 1, 20), "the peer has the content and waits to answer the dot")
pids = a.pids_of("remote")
t.ok(pids, "remote is running (%d process(es))" % len(pids))
peer.dot_delay = 0.0
kill_all(pids, signal.SIGKILL)
t.ok(a.wait_log(r"%s: to=<x@crash\.example>, relay=smtp, .*dsn=4\.3\.0, status=deferred "
                r"\(delivery agent failed\)" % qid),
     "qmgr defers the recipient when remote dies", a.log()[-2000:])
t.ok(a.wait_log(r"process \S*/remote pid %d killed by signal 9" % pids[0]),
     "the master logged how remote died")
t.ok(a.wait_log(r"%s: to=<x@crash\.example>, relay=127\.0\.0\.2\[127\.0\.0\.2\]:25, .*status=sent" % qid, 40),
     "the retry delivers it")
t.ok(wait_for(lambda: not a.queue_files("active") and not a.queue_files("deferred"), 20),
     "nothing is left in the queue")
t.ok(wait_for(lambda: len(peer.messages) == 2, 10),
     "the peer got it twice: the accepted at-least-once duplicate", len(peer.messages))

# --- qmgr dies while remote waits for 354: no dot, no duplicate ---------------
peer.messages = []
peer.data_delay = 3.0
r = send_message(a.port, "s@client.example", ["y@crash.example"],
                 b"Subject: crash 2\r\n\r\nbody\r\n")
qid2 = queued_id(r)
t.ok(wait_for(lambda: peer.datas >= 3, 20), "remote sent DATA; the peer waits to answer")
qpids = a.pids_of("qmgr")
kill_all(qpids, signal.SIGKILL)
peer.data_delay = 0.0
t.ok(a.wait_log(r"%s: to=<y@crash\.example>, .*status=deferred \(qmgr went away; the message was not "
                r"sent\)" % qid2, 30),
     "remote saw qmgr gone and did not send the final dot", a.log()[-1500:])
t.ok(a.wait_log(r"%s: to=<y@crash\.example>, relay=127\.0\.0\.2\[127\.0\.0\.2\]:25, .*status=sent" % qid2, 40),
     "the new qmgr delivers it")
t.ok(wait_for(lambda: len(peer.messages) == 1, 10) and not peer.messages[1:],
     "exactly one copy at the peer", len(peer.messages))
peer.stop()
t.ok(not re.search(r"(qmgr|remote) pid \d+ killed by signal (?!9\b)", a.log()),
     "no daemon crashed", re.findall(r".*killed by signal.*", a.log()))
a.destroy()
t.done()
