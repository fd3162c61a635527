#!/usr/bin/env python3
"""Resident memory per idle HTTP/2 (h2c) connection of a running proxy.

Usage: idle_h2_memory.py PORT PID [N]

Opens 20 warm-up connections, reads the proxy's VmRSS, opens N more (default 1000), each sending
the preface, SETTINGS and one GET and reading the response, then reads VmRSS again with all of
them still open and idle: (after - before) / N. Works for weir, HAProxy (`bind ... proto h2`) or
any h2c listener; raise the file limit first (`ulimit -n 20000`). Standard library only.
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


def open_idle_connection(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(PREFACE + REQUEST)
    received = b""
    # The server's SETTINGS, its ACK and the response (HEADERS, DATA): more than 100 bytes.
    while len(received) < 100:
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("the proxy closed a connection")
        received += data
    return sock


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    keep = [open_idle_connection(port) for _ in range(20)]
    time.sleep(0.5)
    before = resident_kb(pid)
    keep += [open_idle_connection(port) for _ in range(count)]
    time.sleep(1)
    after = resident_kb(pid)
    print(f"{count} idle h2c connections: RSS {before} -> {after} kB, "
          f"{(after - before) / count:.1f} kB per connection")


if __name__ == "__main__":
    main()
