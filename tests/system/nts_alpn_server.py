#!/usr/bin/env python3
"""A TLS 1.3 server on loopback that offers only another ALPN protocol
("http/1.1"), so that an NTS-KE client asking for "ntske/1" gets no
protocol it can use. Used by test_nts.sh.

usage: nts_alpn_server.py PORT CERT KEY LIFETIME_SECONDS
"""
import socket
import ssl
import sys
import time

port, cert, key, lifetime = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["http/1.1"])
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
        tls.recv(1024)  # the client gives up and closes; nothing to answer
        tls.close()
    except (OSError, ssl.SSLError):
        conn.close()
