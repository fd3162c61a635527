#!/usr/bin/python3
"""Crafted HTTP/2 (h2c prior knowledge) abuse against a proxy, frame by frame.

  h2_abuse.py PORT CASE [COUNT [PATH]]

CASE is one of rapid_reset, continuation_flood, settings_flood, ping_flood, empty_data_flood,
window_update_flood, priority_flood, header_bomb, stream_limit, sequential and burst (not abuse:
COUNT requests one after another, as a keep-alive client sends them, or all in one write), and
the HTTP/2 to HTTP/1.1
smuggling attempts smuggle_cl, smuggle_te, smuggle_crlf, smuggle_path_space, uppercase_name
(one request each, which must never reach an HTTP/1.1 upstream as sent). The script writes raw frames (no HTTP/2 library,
so nothing "helps"), stops when the peer closes, then reads what the peer sent until EOF or a
10 s limit, and prints one JSON line:

  {"case": ..., "sent": frames sent, "closed": peer closed the connection,
   "goaway": GOAWAY error code or null, "goaway_debug": its debug data, "goaway_last_stream":
   its last stream ID (the last GOAWAY's; absent without one), "goaways": GOAWAY frames (a
   shutdown notice and the final one make 2), "rst_streams": count,
   "responses": HEADERS frames received}

Used by tests/integration/http2_proxy_test.cc; runnable by hand against any h2c server.
"""

import json
import select
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0, 1, 2, 3, 4, 6, 7, 8, 9)
END_STREAM, ACK, END_HEADERS, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x20


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream & 0x7FFFFFFF) + payload


def literal(name, value):
    """HPACK literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    def string(s):
        assert len(s) < 127
        return bytes([len(s)]) + s
    return b"\x00" + string(name) + string(value)


REQUEST_PATH = b"/"  # what every crafted request asks for (argument PATH)


def request_block(method=b"GET", path=None):
    path = path if path is not None else REQUEST_PATH
    return (literal(b":method", method) + literal(b":scheme", b"http") +
            literal(b":authority", b"abuse.test") + literal(b":path", path))


class Peer:
    def __init__(self, port, small_receive_buffer=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if small_receive_buffer:
            # Do not read and keep the window tiny, so what the server sends piles up on its side.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.sent = 0
        self.closed_early = False
        self.received = b""  # everything read before drain(), which summarises it too
        self.parsed = 0
        self.goaway_seen = False

    def send(self, data, frames=1):
        """Sends unless the peer already closed; returns False once it has."""
        if self.closed_early:
            return False
        try:
            self.sock.settimeout(10)
            self.sock.sendall(data)
            self.sent += frames
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.closed_early = True
            return False

    def peer_closed(self):
        """True once the peer closed (EOF or reset), without consuming what it sent."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        if not readable:
            return False
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except ConnectionResetError:
            return True

    def await_stream_end(self, stream, limit=5.0):
        """Reads until `stream` ends (END_STREAM or RST_STREAM); False on close or timeout."""
        deadline = time.time() + limit
        self.sock.settimeout(0.2)
        while time.time() < deadline:
            while len(self.received) - self.parsed >= 9:
                start = self.parsed
                length = struct.unpack(">I", b"\x00" + self.received[start:start + 3])[0]
                if len(self.received) - start < 9 + length:
                    break
                kind, flags = self.received[start + 3], self.received[start + 4]
                stream_id = struct.unpack(">I", self.received[start + 5:start + 9])[0] & 0x7FFFFFFF
                self.parsed = start + 9 + length
                self.goaway_seen |= kind == GOAWAY
                if stream_id == stream and (kind == RST_STREAM or
                                            (kind in (HEADERS, DATA) and flags & END_STREAM)):
                    return True
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return False
            if not chunk:
                return False
            self.received += chunk
        return False

    def drain(self, limit=10.0):
        """Reads frames until EOF (or `limit` seconds) and summarises them."""
        result = {"closed": False, "goaway": None, "goaway_debug": "", "goaways": 0,
                  "rst_streams": 0, "responses": 0}
        buffer = self.received
        deadline = time.time() + limit
        self.sock.settimeout(0.2)
        while time.time() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                result["closed"] = True
                break
            if not chunk:
                result["closed"] = True
                break
            buffer += chunk
        while len(buffer) >= 9:
            length = struct.unpack(">I", b"\x00" + buffer[:3])[0]
            kind = buffer[3]
            if len(buffer) < 9 + length:
                break
            payload = buffer[9:9 + length]
            if kind == GOAWAY and length >= 8:
                result["goaways"] += 1
                result["goaway_last_stream"] = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
                result["goaway"] = struct.unpack(">I", payload[4:8])[0]
                result["goaway_debug"] = payload[8:].decode("latin-1")
            elif kind == RST_STREAM:
                result["rst_streams"] += 1
            elif kind == HEADERS:
                result["responses"] += 1
            buffer = buffer[9 + length:]
        return result


def run(port, case, count):
    small = case in ("settings_flood", "ping_flood")
    peer = Peer(port, small_receive_buffer=small)
    peer.send(PREFACE + frame(SETTINGS, 0, 0), frames=1)
    stream = 1
    if case == "rapid_reset":
        # CVE-2023-44487: open a stream and cancel it at once, again and again.
        for _ in range(count):
            if not peer.send(frame(HEADERS, END_HEADERS | END_STREAM, stream, request_block()) +
                             frame(RST_STREAM, 0, stream, struct.pack(">I", 8)), frames=2):
                break
            stream += 2
            if stream % 200 == 1 and peer.peer_closed():
                break
    elif case == "continuation_flood":
        # CVE-2024-28182 / VU#421644: a header block that never ends.
        peer.send(frame(HEADERS, 0, 1, request_block()))
        for i in range(count):
            if not peer.send(frame(CONTINUATION, 0, 1, literal(b"x-flood", b"%08d" % i))):
                break
            if i % 100 == 0 and peer.peer_closed():
                break
    elif case in ("settings_flood", "ping_flood"):
        # CVE-2019-9515 / 9512: frames that each solicit an ACK, and the ACKs are never read.
        one = frame(SETTINGS, 0, 0) if case == "settings_flood" else frame(PING, 0, 0, b"12345678")
        batch = 100
        for _ in range(count // batch):
            if not peer.send(one * batch, frames=batch):
                break
            if peer.peer_closed():
                break
    elif case == "empty_data_flood":
        # CVE-2019-9518: a request body of empty DATA frames that never ends.
        peer.send(frame(HEADERS, END_HEADERS, 1, request_block(b"POST")))
        for _ in range(count):
            if not peer.send(frame(DATA, 0, 1)):
                break
    elif case == "window_update_flood":
        for _ in range(count):
            if not peer.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1))):
                break
    elif case == "priority_flood":
        # CVE-2019-9513: PRIORITY frames reshuffling the tree.
        for i in range(count):
            dependency = struct.pack(">I", (i * 2 + 3) & 0x7FFFFFFF) + b"\x10"
            if not peer.send(frame(PRIORITY, 0, i * 2 + 1, dependency)):
                break
    elif case == "header_bomb":
        # Many tiny cookie crumbs on one request: more fields than the header count limit.
        block = request_block() + b"".join(literal(b"cookie", b"c=%d" % i) for i in range(count))
        peer.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block[:16000]) if len(block) <= 16000
                  else frame(HEADERS, END_STREAM, 1, block[:16000]) +
                  b"".join(frame(CONTINUATION, END_HEADERS if i + 16000 >= len(block) else 0, 1,
                                 block[i:i + 16000]) for i in range(16000, len(block), 16000)))
        # Nothing else: the server answers the stream (431) and keeps the connection open.
    elif case.startswith("smuggle_") or case == "uppercase_name":
        smuggled = b"GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n"
        if case == "smuggle_cl":
            # H2.CL: content-length 0, then a body holding a second HTTP/1.1 request.
            block = request_block(b"POST") + literal(b"content-length", b"0")
            peer.send(frame(HEADERS, END_HEADERS, 1, block) + frame(DATA, END_STREAM, 1, smuggled))
        elif case == "smuggle_te":
            # H2.TE: transfer-encoding is connection-specific, forbidden in HTTP/2.
            block = request_block(b"POST") + literal(b"transfer-encoding", b"chunked")
            peer.send(frame(HEADERS, END_HEADERS, 1, block) +
                      frame(DATA, END_STREAM, 1, b"0\r\n\r\n" + smuggled))
        elif case == "smuggle_crlf":
            block = request_block() + literal(b"x-a", b"b\r\nx-smuggled: 1")
            peer.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
        elif case == "smuggle_path_space":
            block = (literal(b":method", b"GET") + literal(b":scheme", b"http") +
                     literal(b":authority", b"abuse.test") +
                     literal(b":path", REQUEST_PATH + b" HTTP/1.1\r\nx: y"))
            peer.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
        else:
            block = request_block() + literal(b"X-Upper", b"1")
            peer.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
    elif case == "stream_limit":
        # COUNT requests left open (no END_STREAM): those beyond the server's
        # SETTINGS_MAX_CONCURRENT_STREAMS are refused, the connection stays.
        for _ in range(count):
            peer.send(frame(HEADERS, END_HEADERS, stream, request_block(b"POST")))
            stream += 2
    elif case == "burst":
        # COUNT requests in one write, as a client with that many ready sends them.
        peer.send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, stream + 2 * i, request_block())
                           for i in range(count)), frames=count)
    elif case == "sequential":
        # Each request after the previous response ended; none after a GOAWAY.
        for _ in range(count):
            if not peer.send(frame(HEADERS, END_HEADERS | END_STREAM, stream, request_block())):
                break
            if not peer.await_stream_end(stream) or peer.goaway_seen:
                break
            stream += 2
    else:
        print("unknown case " + case, file=sys.stderr)
        return 2
    quick = case in ("header_bomb", "stream_limit", "uppercase_name") or case.startswith("smuggle_")
    result = peer.drain(limit=1.5 if quick else 3.0 if case in ("sequential", "burst") else 10.0)
    result["case"] = case
    result["sent"] = peer.sent
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if len(sys.argv) > 4:
        REQUEST_PATH = sys.argv[4].encode()
    sys.exit(run(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10000))
