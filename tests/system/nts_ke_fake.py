#!/usr/bin/env python3
"""A TLS 1.3 server on loopback that plays a broken NTS-KE server, for the
failures chronyd cannot be made to show. Used by test_nts.sh.

MODE "alpn": offers only ALPN "http/1.1", so a client asking for
"ntske/1" gets no protocol it can use.
MODE "aead": accepts "ntske/1" and answers as chronyd does when it shares
no AEAD algorithm with the client: Next Protocol NTPv4, an empty AEAD
Algorithm record, End of Message.

usage: nts_ke_fake.py MODE PORT CERT KEY LIFETIME_SECONDS
"""
import socket
import ssl
import struct
import sys
import time

mode, port, cert, key, lifetime = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["http/1.1"] if mode == "alpn" else ["ntske/1"])


def record(rtype, body=b""):
    return struct.pack(">HH", 0x8000 | rtype, len(body)) + body


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(8)
srv.settimeout(0.5)
end = time.monotonic() + lifetime
while time.monotonic() < end:
    try:
        conn, _ = srv.accept()
    except OSError:
        continue
    conn.settimeout(2)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        request = tls.recv(1024)
        if mode == "aead" and request:
            tls.sendall(record(1, b"\x00\x00") + record(4) + record(0))
        tls.close()
    except (OSError, ssl.SSLError):
        conn.close()
