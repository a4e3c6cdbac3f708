"""dsnreport: read a delivery status notification (RFC 3464, RFC 6533) with
Python's email module, for the DSN tests: its per-message fields, one dict
of fields per recipient, and the part that returns the original message
(its headers, or the whole message for RET=FULL).

Only the Python 3 standard library is used.
"""

import email
import email.policy
from email.parser import BytesHeaderParser

REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
RETURN_TYPES = ("text/rfc822-headers", "message/global-headers",
                "message/rfc822", "message/global")


def _blocks(part):
    """The field blocks of a report part, each parsed as headers."""
    body = part.as_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
    parser = BytesHeaderParser(policy=email.policy.default)
    return [dict(parser.parsebytes(b + b"\n").items())
            for b in body.split(b"\n\n") if b.strip()]


def report(raw):
    """(message, per-message fields, [per-recipient fields]); the fields
    are None and [] when raw holds no delivery report."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() in REPORT_TYPES:
            blocks = _blocks(part)
            return msg, blocks[0] if blocks else None, blocks[1:]
    return msg, None, []


def returned(msg):
    """(content type, bytes) of the part that returns the original
    message, or (None, b"")."""
    for part in msg.get_payload() if msg.is_multipart() else []:
        ct = part.get_content_type()
        if ct in RETURN_TYPES:
            body = part.as_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)
            return ct, body[1] if len(body) > 1 else b""
    return None, b""
