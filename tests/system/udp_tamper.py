#!/usr/bin/env python3
"""A UDP relay on loopback that stands between vettimed and a real NTP
server and flips one bit of every response's last byte (inside the MAC),
as an attacker on the path would. Used by test_ntp_auth.sh.

usage: udp_tamper.py LISTEN_PORT TARGET_PORT LIFETIME_SECONDS
"""
import select
import socket
import sys
import time

listen_port, target_port, lifetime = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", listen_port))
back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
back.connect(("127.0.0.1", target_port))
client = None
end = time.monotonic() + lifetime
while time.monotonic() < end:
    ready, _, _ = select.select([front, back], [], [], 0.5)
    for sock in ready:
        if sock is front:
            data, client = front.recvfrom(2048)
            back.send(data)
        elif client is not None:
            data = bytearray(back.recv(2048))
            data[-1] ^= 0x01
            front.sendto(bytes(data), client)
