#!/usr/bin/env python3
"""Slow clients against vettimed's HTTP server, measured.

Attackers: --nonreaders connections from --nonreaders-from that ask for
/metrics fifty times over without ever reading an answer; and from each
of --attack-from addresses (loopback aliases such as
127.0.0.2; Linux routes all of 127/8 to lo), --per-address connections
that send a request's header one byte a second and never finish it
(slowloris), for --seconds. Meanwhile a normal client from --normal-from
asks GET /api/v1/vote every 0.25 s, each on a new connection, and times
the answer (connect to the last byte).

Prints one JSON document: how many attacking connections were accepted
and held to the end (the server closes those past its per-address limit),
the normal requests' count, failures and latency (median, p95, max, in
ms). The daemon's round pace is read by the caller from the history (the
votes' time stamps), which this script does not touch.
"""
import argparse
import json
import selectors
import socket
import time

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--attack-from", default="127.0.0.2,127.0.0.3,127.0.0.4")
p.add_argument("--per-address", type=int, default=20)
p.add_argument("--normal-from", default="127.0.0.1")
p.add_argument("--seconds", type=float, default=12)
p.add_argument("--nonreaders-from", default="127.0.0.5")
p.add_argument("--nonreaders", type=int, default=8)
a = p.parse_args()

REQUEST = b"GET /api/v1/vote HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4096

attackers = []  # [socket, bytes sent, alive]
for src in a.attack_from.split(","):
    for _ in range(a.per_address):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.setblocking(False)
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        attackers.append([s, 0, True])


# Clients that ask for /metrics (the largest document) again and again on
# one connection and never read: the server's writes stop at their full
# receive buffers.
nonreaders = []
PIPELINED = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50
for _ in range(a.nonreaders):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.bind((a.nonreaders_from, 0))
    s.settimeout(2)
    try:
        s.connect((a.host, a.port))
        s.sendall(PIPELINED)
    except OSError:
        pass
    nonreaders.append(s)


def normal_request():
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.bind((a.normal_from, 0))
        s.connect((a.host, a.port))
        s.sendall(b"GET /api/v1/vote HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        ok = data.startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    finally:
        s.close()
    return ok, (time.monotonic() - t0) * 1000


def drip():
    """One more byte on every attacking connection still open."""
    for att in attackers:
        s, sent, alive = att
        if not alive:
            continue
        try:
            s.send(REQUEST[sent:sent + 1])
            att[1] = sent + 1
            # a server that closed the connection shows it as readable EOF
            sel = selectors.DefaultSelector()
            sel.register(s, selectors.EVENT_READ)
            if sel.select(0):
                if s.recv(4096) == b"":
                    att[2] = False
            sel.close()
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            att[2] = False


latencies, failures = [], 0
end = time.monotonic() + a.seconds
next_drip = time.monotonic()
time.sleep(0.3)  # let the connects complete
while time.monotonic() < end:
    if time.monotonic() >= next_drip:
        drip()
        next_drip += 1.0
    ok, ms = normal_request()
    if ok:
        latencies.append(ms)
    else:
        failures += 1
    time.sleep(0.25)
drip()
held = sum(1 for att in attackers if att[2])
for att in attackers:
    att[0].close()
for s in nonreaders:
    s.close()
latencies.sort()


def pct(q):
    return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else None


print(json.dumps({
    "attacking_connections": len(attackers),
    "attacking_held": held,
    "nonreading_connections": len(nonreaders),
    "normal_requests": len(latencies) + failures,
    "normal_failures": failures,
    "latency_ms_median": pct(0.5),
    "latency_ms_p95": pct(0.95),
    "latency_ms_max": round(latencies[-1], 2) if latencies else None,
}))
