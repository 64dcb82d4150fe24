#!/usr/bin/env python3
"""An NTS client of the wrong kinds, for test_nts_server.sh: what vettimed's
NTS server does with requests chronyd never sends. Prints one JSON line.

  nts_probe.py ke PORT CAFILE [ALPN] [RECORDS]
      one NTS-KE exchange (TLS 1.3); RECORDS: "good" (Next Protocol NTPv4,
      AEAD 15, End), "critical" (an unknown critical record first), "bad"
      (a record cut short), "noaead" (AEAD 30 only). Prints the records the
      server sent back, or the TLS error.
  nts_probe.py ntp PORT KIND [COOKIE_HEX]
      one NTP request with NTS fields; KIND: "badauth" (the cookie, an
      Authenticator that cannot verify), "unknown" (a cookie of a key the
      server never had), "twocookies" (malformed). Prints what came back:
      nothing, or the kiss code, the unique identifier's echo and the fields.
"""
import json
import os
import socket
import ssl
import struct
import sys


def records(data):
    out, pos = [], 0
    while pos + 4 <= len(data):
        t, n = struct.unpack("!HH", data[pos:pos + 4])
        out.append({"type": t & 0x7fff, "critical": bool(t & 0x8000),
                    "body": data[pos + 4:pos + 4 + n].hex()})
        pos += 4 + n
        if t & 0x7fff == 0:
            break
    return out


def rec(t, body=b"", critical=True):
    return struct.pack("!HH", t | (0x8000 if critical else 0), len(body)) + body


def ke(port, cafile, alpn="ntske/1", kind="good"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cafile)
    ctx.set_alpn_protocols([alpn])
    msg = {"good": rec(1, b"\0\0") + rec(4, b"\0\x0f") + rec(0),
           "critical": rec(0x4321, b"xx") + rec(1, b"\0\0") + rec(4, b"\0\x0f") + rec(0),
           "bad": rec(1, b"\0") + rec(4, b"\0\x0f") + rec(0),
           "noaead": rec(1, b"\0\0") + rec(4, b"\0\x1e") + rec(0)}[kind]
    try:
        with socket.create_connection(("127.0.0.1", port), 3) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(msg)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                    r = records(data)
                    if r and r[-1]["type"] == 0:
                        break
                return {"alpn": s.selected_alpn_protocol(), "version": s.version(),
                        "records": records(data)}
    except (ssl.SSLError, OSError) as e:
        return {"error": str(e)}


def field(t, body):
    body += b"\0" * (-len(body) % 4)
    n = 4 + len(body)
    if n < 16:
        body += b"\0" * (16 - n)
        n = 16
    return struct.pack("!HH", t, n) + body


def ntp(port, kind, cookie_hex=""):
    uid = os.urandom(32)
    cookie = bytes.fromhex(cookie_hex) if cookie_hex else os.urandom(104)
    if kind == "unknown":
        cookie = os.urandom(104)
    hdr = bytes([0x23]) + bytes(39) + os.urandom(8)
    pkt = hdr + field(0x0104, uid) + field(0x0204, cookie)
    if kind == "twocookies":
        pkt += field(0x0204, cookie)
    auth = struct.pack("!HH", 16, 16) + os.urandom(16) + os.urandom(16)
    pkt += field(0x0404, auth)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(pkt, ("127.0.0.1", port))
    try:
        r = s.recv(2048)
    except OSError:
        return {"answer": False, "sent": len(pkt)}
    fields, pos = [], 48
    while pos + 4 <= len(r):
        t, n = struct.unpack("!HH", r[pos:pos + 4])
        fields.append({"type": t, "len": n, "body": r[pos + 4:pos + n].hex()})
        if n < 4:
            break
        pos += n
    return {"answer": True, "sent": len(pkt), "len": len(r), "stratum": r[1],
            "kiss": r[12:16].decode("ascii", "replace"), "fields": fields,
            "uid_echo": any(f["type"] == 0x0104 and f["body"] == uid.hex() for f in fields),
            "has_auth": any(f["type"] == 0x0404 for f in fields)}


if __name__ == "__main__":
    if sys.argv[1] == "ke":
        print(json.dumps(ke(int(sys.argv[2]), sys.argv[3], *sys.argv[4:6])))
    else:
        print(json.dumps(ntp(int(sys.argv[2]), sys.argv[3], *sys.argv[4:5])))
