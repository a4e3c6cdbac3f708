#!/usr/bin/env python3
"""SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA.  Every sequence that a
lax server takes for the end of data ("\\n.\\n", "\\n.\\r\\n", "\\r\\n.\\n",
"\\r.\\r", "\\r\\n.\\r") ends nothing here, the commands after it are never
run, and a message with a bare LF or CR is refused as a whole."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moattest import Instance, Smtp, Tap, require_root, wait_for
import time

require_root()
t = Tap()
inst = Instance("smug", {"home_mailbox": "Maildir/"})
gina = inst.user("moatt_gina")
inst.start()

SMUGGLE = (b"MAIL FROM:<admin@localhost>\r\nRCPT TO:<moatt_gina@localhost>\r\n"
           b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n")
for name, seq in (("LF.LF", b"\n.\n"), ("LF.CRLF", b"\n.\r\n"),
                  ("CRLF.LF", b"\r\n.\n"), ("CR.CR", b"\r.\r"),
                  ("CRLF.CR", b"\r\n.\r")):
    c = Smtp(inst.port)
    c.reply()
    c.cmd("EHLO attacker.example")
    c.cmd("MAIL FROM:<outer@example.org>")
    c.cmd("RCPT TO:<moatt_gina@localhost>")
    c.cmd("DATA")
    c.send(b"Subject: outer " + name.encode() + b"\r\n\r\nouter body" + seq + SMUGGLE + b".\r\n")
    first = c.reply()
    t.like(first, r"^5\d\d 5\.\d\.\d ", "%s: the message with a bare line end is refused once" % name)
    second = c.cmd("QUIT")
    t.like(second, r"^221 ", "%s: the next reply is QUIT's: the smuggled commands never ran" % name)
    c.close()

time.sleep(2)
msgs = gina.maildir_messages()
t.ok(not any(b"smuggled" in m for m in msgs), "no smuggled message delivered", len(msgs))
t.ok(not any(b"outer" in m for m in msgs), "no message with a bare line end delivered", len(msgs))

# A clean message after all that is still delivered.
c = Smtp(inst.port)
c.reply()
c.cmd("EHLO ok.example")
c.cmd("MAIL FROM:<ok@example.org>")
c.cmd("RCPT TO:<moatt_gina@localhost>")
c.cmd("DATA")
c.send(b"Subject: clean\r\n\r\nclean body\r\n.\r\n")
t.like(c.reply(), r"^250 ", "a clean message is accepted")
c.cmd("QUIT")
c.close()
t.ok(wait_for(lambda: any(b"clean body" in m for m in gina.maildir_messages()), 20),
     "and delivered")
inst.destroy()
t.done()
