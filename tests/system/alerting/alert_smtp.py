"""aiosmtpd handlers for tests/system/test_alerting.sh, loaded by the real
server: /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c alert_smtp.Record DIR
(PYTHONPATH=tests/system).

Record DIR   stores every accepted message as DIR/NNNN.eml, with the envelope
             in X-Envelope-From / X-Envelope-To headers on top.
Reject DIR   answers the end of DATA with 554 (a permanent refusal) and
             counts each refusal as a line in DIR/rejected.
"""
import os


class Record:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(self.dir) if f.endswith(".eml")])
        tmp = os.path.join(self.dir, "%04d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n"
                     % (envelope.mail_from, ", ".join(envelope.rcpt_tos))).encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.dir, "%04d.eml" % n))
        return "250 2.0.0 stored"


class Reject:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        with open(os.path.join(self.dir, "rejected"), "a") as f:
            f.write("%s\n" % envelope.mail_from)
        return "554 5.7.1 rejected by policy (test)"
