#!/usr/bin/env python3
"""A small HTTP/1.1 backend for the failover integration tests, the demo and
the benchmarks. It runs as its own process so that a test can SIGKILL or
SIGSTOP it like a real server.

    python3 backend.py --port P --name N [--mode MODE] [--host 127.0.0.1]

Every mode answers GET /health with 200 and GET /stats with this process's
counters (JSON), so a mode that misbehaves on / still passes the LB's active
checks and the misbehaviour is seen by the proxy path alone.

Paths (mode normal):
  GET  /            200 "served by NAME\\n", header X-Served-By: NAME
  POST any          200 "received N bytes\\n", X-Body-Length: N, X-Body-Md5: hex
  GET  /chunked     chunked body, ?n=chunks&delay_ms=pause between chunks
  GET  /big         1 MiB (or ?size=bytes) of a fixed pattern, X-Body-Md5
  GET  /slow        sleeps ?ms= (default 2000) then answers like /
  GET  /code        answers with status ?c= (default 503)
  GET  /interim     an interim response ?c= (default 103, with a Link field) first
Every answer carries X-Served-By, X-Conn-Id (one id per TCP connection) and
echoes the request's X-Forwarded-For / X-Forwarded-Proto / Host as
X-Echo-Forwarded-For / X-Echo-Forwarded-Proto / X-Echo-Host.

Modes change what the proxy path (anything but /health and /stats) gets:
  garbage     bytes that are not HTTP, then close
  truncated   a status line and half a header, then close
  truncbody   complete headers promising 1000 bytes, 10 bytes, then close
  switch101   "101 Switching Protocols" to requests that asked for no upgrade
  slow        every request sleeps --delay-ms first
  status503   503 "unavailable" for everything (POST counted first)
  ws          an Upgrade request gets 101 and then every byte is echoed
"""
import argparse
import hashlib
import itertools
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BIG_PATTERN = bytes(range(256)) * 4096  # 1 MiB


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {"requests": 0, "posts": 0, "health": 0, "connections": 0,
                       "upgrades": 0}

    def inc(self, key):
        with self.lock:
            self.values[key] = self.values.get(key, 0) + 1

    def snapshot(self):
        with self.lock:
            return dict(self.values)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_handler(name, mode, delay_ms, counters):
    conn_ids = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "backend/" + name
        # Headers and body go out in separate writes; with Nagle on, the body
        # would wait for the peer's delayed ACK (40 ms a response).
        disable_nagle_algorithm = True

        def setup(self):
            super().setup()
            self.conn_id = "%s-%d" % (name, next(conn_ids))
            counters.inc("connections")

        def log_message(self, fmt, *args):  # quiet: tests print their own story
            pass

        # --- helpers -------------------------------------------------------
        def query(self):
            return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

        def send(self, status, body, extra=None, content_type="text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.common_headers()
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def common_headers(self):
            self.send_header("X-Served-By", name)
            self.send_header("X-Conn-Id", self.conn_id)
            for h in ("X-Forwarded-For", "X-Forwarded-Proto", "Host"):
                v = self.headers.get(h)
                if v is not None:
                    self.send_header("X-Echo-" + h.removeprefix("X-"), v)

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = bytearray()
                while True:
                    line = self.rfile.readline(1024)
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(out)
                    out += self.rfile.read(size)
                    self.rfile.readline(8)
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def misbehave(self):
            """Answers the proxy path the way the mode says; True if it did."""
            if mode == "garbage":
                self.wfile.write(b"THIS IS NOT HTTP AT ALL\r\n\x00\x01\x02\r\n\r\n")
            elif mode == "truncated":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Le")
            elif mode == "truncbody":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                                 b"X-Served-By: " + name.encode() + b"\r\n\r\n0123456789")
            elif mode == "switch101":
                self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\n\r\n")
                time.sleep(0.5)  # a proxy that relays this waits for bytes that never come
            else:
                return False
            self.wfile.flush()
            self.close_connection = True
            return True

        # --- methods -------------------------------------------------------
        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/health":
                counters.inc("health")
                return self.send(200, b"ok\n")
            if path == "/stats":
                return self.send(200, json.dumps(counters.snapshot()).encode(),
                                 content_type="application/json")
            counters.inc("requests")
            if mode == "ws" and self.headers.get("Upgrade"):
                return self.upgrade()
            if self.misbehave():
                return
            if mode == "slow":
                time.sleep(delay_ms / 1000.0)
            if mode == "status503":
                return self.send(503, b"unavailable\n")
            q = self.query()
            if path == "/chunked":
                return self.chunked(int(q.get("n", "8")), int(q.get("delay_ms", "20")))
            if path == "/big":
                body = (BIG_PATTERN * (int(q.get("size", len(BIG_PATTERN))) // len(BIG_PATTERN) + 1)
                        )[: int(q.get("size", len(BIG_PATTERN)))]
                return self.send(200, body, {"X-Body-Md5": hashlib.md5(body).hexdigest()},
                                 content_type="application/octet-stream")
            if path == "/slow":
                time.sleep(int(q.get("ms", "2000")) / 1000.0)
            if path == "/interim":
                c = int(q.get("c", "103"))
                self.wfile.write(b"HTTP/1.1 %d Interim\r\nLink: </style.css>; rel=preload\r\n\r\n" % c)
                self.wfile.flush()
            if path == "/code":
                return self.send(int(q.get("c", "503")), b"status %s\n" % q.get("c", "503").encode())
            self.send(200, ("served by %s\n" % name).encode())

        do_HEAD = do_GET

        def do_POST(self):
            counters.inc("requests")
            counters.inc("posts")
            body = self.read_body()
            if self.misbehave():
                return
            if mode == "slow":
                time.sleep(delay_ms / 1000.0)
            if mode == "status503":
                return self.send(503, b"unavailable\n")
            self.send(200, ("received %d bytes\n" % len(body)).encode(),
                      {"X-Body-Length": str(len(body)),
                       "X-Body-Md5": hashlib.md5(body).hexdigest()})

        do_PUT = do_POST

        def chunked(self, n, delay_ms):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.common_headers()
            self.end_headers()
            for i in range(n):
                data = ("chunk %d of %d from %s\n" % (i, n, name)).encode() * (i + 1)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                if delay_ms and i + 1 < n:
                    time.sleep(delay_ms / 1000.0)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def upgrade(self):
            counters.inc("upgrades")
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", self.headers.get("Upgrade"))
            self.send_header("Connection", "Upgrade")
            self.send_header("X-Served-By", name)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            # Bytes the client sent right behind the request may already sit in
            # rfile's buffer, so read through it rather than the raw socket.
            while True:
                data = self.rfile.read1(65536)
                if not data:
                    return
                self.wfile.write(data)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--name", required=True)
    ap.add_argument("--mode", default="normal",
                    choices=["normal", "garbage", "truncated", "truncbody", "switch101", "slow",
                             "status503", "ws"])
    ap.add_argument("--delay-ms", type=int, default=2000, help="mode slow: sleep per request")
    args = ap.parse_args()
    counters = Counters()
    srv = Server((args.host, args.port), make_handler(args.name, args.mode, args.delay_ms, counters))
    sys.stdout.write("listening %s:%d\n" % (args.host, args.port))
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
