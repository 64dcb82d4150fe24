#!/usr/bin/env python3
"""Serial receivers on pseudo-terminals, for the system tests.

Opens a pty per receiver (os.openpty), links its slave side to the given
path, and plays what the receiver would send for the present time at its
real cadence:

  --nmea LINK      a GNSS receiver: $xxRMC, $xxGGA, $xxZDA each second,
                   correct checksums, talker --talker (default GA: Galileo)
  --meinberg LINK  a Meinberg DCF77 receiver: the standard time string
                   <STX>D:dd.mm.yy;T:w;U:hh.mm.ss;uvxy<ETX> each second, in
                   German legal time (CET/CEST by the EU rule)
  --dcf-raw LINK   a Conrad-style raw DCF77 receiver at 50 baud: one byte a
                   second (0xF0 for a 100 ms drop, 0x00 for 200 ms), none in
                   second 59

A pty has no baud rate: bytes arrive the moment they are written. The line
is emulated by writing each burst when its last byte would have arrived on
the real line: the second, plus the burst's length in character times
(10 bits at 9600 baud for NMEA, 11 at 9600 for Meinberg 7E2, 11 at 50 baud
for raw DCF77). The daemon places the first byte that many character
times earlier, so the times it measures are those of the real line.

--inject FILE: whenever FILE appears, write a burst of garbage (binary
bytes, a sentence with a wrong checksum, one with a lower-case checksum, a
truncated Meinberg string) on every pty, then delete FILE.
--jump FILE: whenever FILE appears, the receivers' time jumps for the rest
of the run: the Meinberg string one hour ahead (a wrong DST switch), the
NMEA date one day behind, both still sent on the real second; then FILE is
deleted. Only the content jumps: the cadence stays that of the real clock.
--ready FILE: written once every link exists. Stops after --duration s or
on SIGTERM. Uses only the standard library.
"""
import argparse
import datetime as dt
import os
import select
import signal
import sys
import time
import tty

NMEA_BYTE = 10 / 9600
MEINBERG_BYTE = 11 / 9600
RAW_BYTE = 11 / 50


def checksum(body):
    x = 0
    for c in body.encode():
        x ^= c
    return "%02X" % x


def sentence(body):
    return "$%s*%s\r\n" % (body, checksum(body))


def nmea_burst(t, talker):
    u = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    hms = u.strftime("%H%M%S") + ".00"
    return "".join([
        sentence("%sRMC,%s,A,5000.0000,N,00800.0000,E,0.0,0.0,%s,,,A" % (talker, hms, u.strftime("%d%m%y"))),
        sentence("%sGGA,%s,5000.0000,N,00800.0000,E,1,09,0.8,100.0,M,47.0,M,," % (talker, hms)),
        sentence("%sZDA,%s,%02d,%02d,%04d,00,00" % (talker, hms, u.day, u.month, u.year)),
    ]).encode()


def last_sunday_0100(year, month):
    d = dt.datetime(year, month + 1, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(days=1)
    while d.isoweekday() != 7:
        d -= dt.timedelta(days=1)
    return d.timestamp()


def legal_time(t):
    """German legal time: (datetime, is_cest)."""
    y = dt.datetime.fromtimestamp(t, dt.timezone.utc).year
    cest = last_sunday_0100(y, 3) <= t < last_sunday_0100(y, 10)
    return dt.datetime.fromtimestamp(t + (7200 if cest else 3600), dt.timezone.utc), cest


def meinberg_string(t):
    l, cest = legal_time(t)
    body = "D:%s;T:%d;U:%s;  %s " % (l.strftime("%d.%m.%y"), l.isoweekday(), l.strftime("%H.%M.%S"),
                                     "S" if cest else " ")
    return b"\x02" + body.encode() + b"\x03"


def dcf_bits(t_minute):
    """The 59 bits sent during the minute before t_minute (which they name)."""
    l, cest = legal_time(t_minute)
    b = [0] * 59
    b[17], b[18], b[20] = int(cest), int(not cest), 1

    def bcd(first, n, v):
        for i in range(n):
            b[first + i] = ((v % 10) >> i) & 1 if i < 4 else ((v // 10) >> (i - 4)) & 1

    bcd(21, 7, l.minute); bcd(29, 6, l.hour); bcd(36, 6, l.day)
    bcd(42, 3, l.isoweekday()); bcd(45, 5, l.month); bcd(50, 8, l.year % 100)
    for lo, hi in ((21, 28), (29, 35), (36, 58)):
        b[hi] = sum(b[lo:hi]) & 1
    return b


def lower_case_checksum():
    """A sentence whose checksum has a letter, sent in lower case."""
    for sec in range(60):
        body = "GAZDA,1200%02d.00,15,03,2024,00,00" % sec
        cs = checksum(body)
        if any(c in "ABCDEF" for c in cs):
            return ("$%s*%s\r\n" % (body, cs.lower())).encode()
    raise SystemExit("no checksum with a letter")


GARBAGE = (bytes(range(256)) + b"\r\n"
           + b"$GARMC,120000.00,A,5000.0,N,00800.0,E,0.0,0.0,150324,,,A*00\r\n"  # wrong checksum
           + lower_case_checksum()
           + b"\x02D:99.99\x03")  # a truncated Meinberg string


class Pty:
    def __init__(self, link):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.ttyname(self.slave), link)
        self.link = link

    def write(self, data):
        try:
            os.write(self.master, data)
        except (BlockingIOError, OSError):
            pass  # nobody reads: the receiver talks to no one, as a real one would

    def drain(self):
        try:
            while os.read(self.master, 4096):
                pass
        except (BlockingIOError, OSError):
            pass


def sleep_until(t):
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(left - 0.002 if left > 0.003 else 0)


JUMPS = {"nmea": -86400, "meinberg": 3600}


def events_for_second(sec, args, ptys, shift):
    ev = []
    if "nmea" in ptys:
        burst = nmea_burst(sec + shift.get("nmea", 0), args.talker)
        ev.append((sec + len(burst) * NMEA_BYTE, ptys["nmea"], burst))
    if "meinberg" in ptys:
        s = meinberg_string(sec + shift.get("meinberg", 0))
        ev.append((sec + len(s) * MEINBERG_BYTE, ptys["meinberg"], s))
    if "raw" in ptys:
        minute = sec - sec % 60
        s = int(sec % 60)
        if s != 59:
            bit = dcf_bits(minute + 60)[s]
            ev.append((sec + RAW_BYTE, ptys["raw"], b"\x00" if bit else b"\xf0"))
    return sorted(ev, key=lambda e: e[0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nmea")
    p.add_argument("--talker", default="GA")
    p.add_argument("--meinberg")
    p.add_argument("--dcf-raw")
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--ready")
    p.add_argument("--inject")
    p.add_argument("--jump")
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ptys = {}
    for key, link in (("nmea", a.nmea), ("meinberg", a.meinberg), ("raw", a.dcf_raw)):
        if link:
            ptys[key] = Pty(link)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("\n".join("%s %s" % (k, v.link) for k, v in ptys.items()) + "\n")
        os.rename(a.ready + ".tmp", a.ready)
    end = time.time() + a.duration
    sec = int(time.time()) + 1
    shift = {}
    while time.time() < end:
        for when, pty, data in events_for_second(sec, a, ptys, shift):
            sleep_until(when)
            pty.write(data)
        for pty in ptys.values():
            pty.drain()
        if a.inject and os.path.exists(a.inject):
            for pty in ptys.values():
                pty.write(GARBAGE)
            os.unlink(a.inject)
        if a.jump and os.path.exists(a.jump):
            shift = dict(JUMPS)
            os.unlink(a.jump)
        sec += 1


if __name__ == "__main__":
    main()
