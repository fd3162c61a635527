#!/usr/bin/env python3
"""Resident memory per idle client connection of a running proxy, HTTP/2 (h2c) or HTTP/1.1.

Usage: idle_connection_memory.py PORT PID [N] [--http1]

Opens 20 warm-up connections, reads the proxy's VmRSS, opens N more (default 1000), each making
one GET (h2c: preface, SETTINGS, HEADERS; --http1: a keep-alive HTTP/1.1 request) and reading the
response, then reads VmRSS again with all of them still open and idle: (after - before) / N.
Works for weir, HAProxy or any proxy; raise the file limit first (`ulimit -n 20000`). Standard
library only.
"""
import socket
import struct
import sys
import time


def frame(frame_type, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([frame_type, flags]) + struct.pack(
        ">I", stream_id) + payload


# GET / over http, :authority "x": three static-table indexes and one literal (RFC 7541).
REQUEST = frame(1, 0x5, 1, bytes([0x82, 0x84, 0x86, 0x01, 0x01]) + b"x")
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0) + frame(4, 1, 0)


def resident_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


HTTP1_REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def open_idle_connection(port, http1):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(HTTP1_REQUEST if http1 else PREFACE + REQUEST)
    received = b""
    # h2c: the server's SETTINGS, its ACK and the response (HEADERS, DATA), more than 100 bytes.
    # HTTP/1.1: a head and a short body.
    while (b"\r\n\r\n" not in received) if http1 else len(received) < 100:
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("the proxy closed a connection")
        received += data
    return sock


def main():
    http1 = "--http1" in sys.argv
    args = [arg for arg in sys.argv[1:] if arg != "--http1"]
    port, pid = int(args[0]), int(args[1])
    count = int(args[2]) if len(args) > 2 else 1000
    keep = [open_idle_connection(port, http1) for _ in range(20)]
    time.sleep(0.5)
    before = resident_kb(pid)
    keep += [open_idle_connection(port, http1) for _ in range(count)]
    time.sleep(1)
    after = resident_kb(pid)
    kind = "HTTP/1.1" if http1 else "h2c"
    print(f"{count} idle {kind} connections: RSS {before} -> {after} kB, "
          f"{(after - before) / count:.1f} kB per connection")


if __name__ == "__main__":
    main()
