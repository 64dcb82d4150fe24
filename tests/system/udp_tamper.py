#!/usr/bin/env python3
"""A UDP relay on loopback that stands between vettimed and a real NTP
server and tampers with every response, as an attacker on the path would:
MODE "mac" (the default) flips one bit of the last byte (inside the MAC;
test_ntp_auth.sh), MODE "xmt" moves the transmit timestamp 1000 s ahead
and leaves everything else as it was (the forger of test_nts.sh).

usage: udp_tamper.py LISTEN_PORT TARGET_PORT LIFETIME_SECONDS [MODE]
"""
import select
import socket
import sys
import time

listen_port, target_port, lifetime = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "mac"
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
            try:
                data = bytearray(back.recv(2048))
            except ConnectionRefusedError:  # the server is restarting
                continue
            if mode == "xmt" and len(data) >= 48:
                secs = int.from_bytes(data[40:44], "big")
                data[40:44] = ((secs + 1000) & 0xffffffff).to_bytes(4, "big")
            else:
                data[-1] ^= 0x01
            front.sendto(bytes(data), client)
