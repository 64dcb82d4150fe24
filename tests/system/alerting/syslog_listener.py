"""A syslog collector for tests/system/test_alerting.sh: receives syslog
messages and appends each, one per line, to OUT.

  syslog_listener.py udp HOST:PORT OUT     RFC 5426 datagrams
  syslog_listener.py tcp HOST:PORT OUT     RFC 6587 octet-counting frames ("LEN MSG")
  syslog_listener.py unix PATH OUT         datagrams on a Unix socket

A TCP frame that is not octet-counted is written with the prefix BAD-FRAME.
"""
import os
import socket
import sys
import threading


def serve_tcp_client(conn, out):
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while b" " in buf:
            head, _, rest = buf.partition(b" ")
            if not head.isdigit():
                out(b"BAD-FRAME " + buf)
                buf = b""
                break
            n = int(head)
            if len(rest) < n:
                break
            out(rest[:n])
            buf = rest[n:]


def main():
    kind, addr, path = sys.argv[1:4]
    f = open(path, "a", buffering=1)
    lock = threading.Lock()

    def out(msg):
        with lock:
            f.write(msg.decode("utf-8", "replace").replace("\n", " ") + "\n")

    if kind == "unix":
        try:
            os.unlink(addr)
        except OSError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(addr)
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
    if kind == "tcp":
        s.listen(8)
        while True:
            conn, _ = s.accept()
            threading.Thread(target=serve_tcp_client, args=(conn, out), daemon=True).start()
    while True:
        out(s.recv(65536))


if __name__ == "__main__":
    main()
