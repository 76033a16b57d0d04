#!/usr/bin/env python3
"""What passes through the proxy arrives intact: forwarded headers, request
bodies, chunked and large responses, keep-alive on both sides, upgraded
connections; and retries happen exactly when they are safe.

    python3 tests/integration/test_proxy.py --binary build/failover
"""
import hashlib
import http.client
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

CHECK = {"interval": 200, "rise": 1, "fall": 2, "timeout": 300, "type": "http", "uri": "/health"}


class Proxy(h.LbTestCase):
    def start(self, servers, check=CHECK, max_fails=1, try_timeout="1s", tries=3, limits=None):
        listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
        up = h.upstream("web", servers, check=check,
                        passive={"max_fails": max_fails, "fail_timeout": "5s"},
                        retry={"tries": tries, "timeout": "8s", "try_timeout": try_timeout})
        lb = self.lb(h.lb_config(listen, admin, [up], threads=1, limits=limits))
        if check:
            for s in servers:
                addr = s if isinstance(s, str) else s["address"]
                self.assertIsNotNone(lb.wait_state(addr, "up", 5.0), lb.server(addr))
        return lb

    def upgrade(self, lb):
        """A WebSocket handshake through the LB: the socket, and any bytes
        that came after the 101 head."""
        s = socket.create_connection(h.split_addr(lb.listen), timeout=5)
        s.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        self.assertEqual(h.status_line_code(head), 101, head[:300])
        return s, head.split(b"\r\n\r\n", 1)[1]

    def post_chunked(self, lb, parts):
        c = self.conn(lb)
        c.request("POST", "/upload", body=iter(parts), encode_chunked=True,
                  headers={"Transfer-Encoding": "chunked"})
        r = c.getresponse()
        r.read()
        c.close()
        return r

    def conn(self, lb, timeout=10):
        return http.client.HTTPConnection(*h.split_addr(lb.listen), timeout=timeout)

    def test_forwarded_headers_are_added(self):
        a = self.backend("a")
        lb = self.start([a.address])
        r = h.http_request(lb.listen)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Echo-Forwarded-For"), "127.0.0.1")
        self.assertEqual(r.header("X-Echo-Forwarded-Proto"), "http")
        r = h.http_request(lb.listen, headers={"X-Forwarded-For": "10.1.2.3"})
        self.assertEqual(r.header("X-Echo-Forwarded-For"), "10.1.2.3, 127.0.0.1")

    def test_request_bodies_arrive_intact(self):
        a = self.backend("a")
        lb = self.start([a.address])
        body = os.urandom(300 * 1024)
        r = h.http_request(lb.listen, "POST", "/upload", body=body)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Body-Length"), str(len(body)))
        self.assertEqual(r.header("X-Body-Md5"), hashlib.md5(body).hexdigest())
        # Under 64 KiB of chunks: de-chunked and kept (retryable). Over it:
        # streamed to the server with its framing.
        for parts in ([os.urandom(10000) for _ in range(5)], [os.urandom(50000) for _ in range(10)]):
            r = self.post_chunked(lb, parts)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("X-Body-Length"), str(sum(map(len, parts))))
            self.assertEqual(r.getheader("X-Body-Md5"), hashlib.md5(b"".join(parts)).hexdigest())

    def test_chunked_response_is_streamed_intact(self):
        a = self.backend("a")
        lb = self.start([a.address])
        direct = h.http_request(a.address, "GET", "/chunked?n=12&delay_ms=5").body
        via = h.http_request(lb.listen, "GET", "/chunked?n=12&delay_ms=5").body
        self.assertEqual(via, direct)
        # five chunks 300 ms apart: the first must arrive long before the last is sent
        c = self.conn(lb)
        t0 = time.monotonic()
        c.request("GET", "/chunked?n=5&delay_ms=300")
        r = c.getresponse()
        first = r.read(10)
        t_first = time.monotonic() - t0
        rest = r.read()
        t_all = time.monotonic() - t0
        c.close()
        log("chunked: first bytes after %.0f ms, all after %.0f ms" % (t_first * 1e3, t_all * 1e3))
        self.assertEqual(first + rest, h.http_request(a.address, "GET", "/chunked?n=5&delay_ms=0").body)
        self.assertGreaterEqual(t_all, 1.1)
        self.assertLess(t_first, 0.6, "response buffered instead of streamed")

    def test_http10_client_gets_chunked_reply_dechunked(self):
        # The LB talks HTTP/1.1 to the server, which may answer chunked; an
        # HTTP/1.0 client cannot read that framing: it gets the bare data,
        # ended by the connection closing.
        a = self.backend("a")
        lb = self.start([a.address])
        want = h.http_request(a.address, "GET", "/chunked?n=6&delay_ms=0").body
        with socket.create_connection(h.split_addr(lb.listen), timeout=10) as s:
            s.sendall(b"GET /chunked?n=6&delay_ms=0 HTTP/1.0\r\nHost: x\r\n\r\n")
            raw = b""
            while True:
                part = s.recv(65536)
                if not part:
                    break
                raw += part
        head, _, body = raw.partition(b"\r\n\r\n")
        log("HTTP/1.0 reply head: %r" % head)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertNotIn(b"transfer-encoding", head.lower())
        self.assertEqual(body, want)

    def test_one_mebibyte_response_is_intact(self):
        a = self.backend("a")
        lb = self.start([a.address])
        c = self.conn(lb)
        for _ in range(3):
            c.request("GET", "/big")
            r = c.getresponse()
            body = r.read()
            self.assertEqual(r.status, 200)
            self.assertEqual(len(body), 1 << 20)
            self.assertEqual(hashlib.md5(body).hexdigest(), r.getheader("X-Body-Md5"))
        c.close()

    def test_keepalive_is_reused_on_both_sides(self):
        a = self.backend("a")
        lb = self.start([a.address])
        c = self.conn(lb)
        ports, upstream_conns = set(), set()
        for _ in range(20):
            c.request("GET", "/")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            ports.add(c.sock.getsockname()[1])
            upstream_conns.add(r.getheader("X-Conn-Id"))
        c.close()
        log("20 requests: %d client connection(s), %d upstream connection(s)"
            % (len(ports), len(upstream_conns)))
        self.assertEqual(len(ports), 1, "LB closed the client connection between requests")
        self.assertLessEqual(len(upstream_conns), 2, "upstream connections not reused")

    def test_upgrade_is_tunnelled_both_ways(self):
        w = self.backend("w", mode="ws")
        lb = self.start([w.address])
        s, extra = self.upgrade(lb)
        try:
            payload = os.urandom(200 * 1024)
            for msg in (b"hello", payload):
                s.sendall(msg)
                got = extra
                extra = b""
                while len(got) < len(msg):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                self.assertEqual(got, msg, "tunnel lost or changed bytes")
        finally:
            s.close()

    def test_idle_tunnel_is_closed_after_tunnel_timeout(self):
        w = self.backend("w", mode="ws")
        lb = self.start([w.address], limits={"tunnel_timeout": "600ms"})
        s, _ = self.upgrade(lb)
        try:
            s.sendall(b"ping")  # traffic keeps it open past the timeout
            time.sleep(0.4)
            s.sendall(b"ping")
            time.sleep(0.4)
            t0 = time.monotonic()
            while s.recv(65536):  # echoes, then the close
                pass
            waited = time.monotonic() - t0
            log("idle tunnel closed %.0f ms after the last byte was read" % (waited * 1e3))
            self.assertLess(waited, 2.0, "idle tunnel not closed")
        finally:
            s.close()

    def test_post_is_retried_when_the_server_refused_the_connection(self):
        a = self.backend("a")
        dead = "127.0.0.1:%d" % h.free_port()
        # no checks and no passive ejection: the LB keeps picking the dead server
        lb = self.start([dead, a.address], check=None, max_fails=0)
        statuses = []
        for i in range(10):
            r = h.http_request(lb.listen, "POST", "/p", body=b"n=%d" % i)
            statuses.append((r.status, r.header("X-Served-By")))
        log("POSTs with one refusing server: %s" % statuses)
        self.assertEqual(statuses, [(200, "a")] * 10)
        self.assertEqual(a.stats()["posts"], 10)

    def test_large_streamed_post_is_retried_only_while_unsent(self):
        # Bodies over 64 KiB are streamed, not kept: a refused connection
        # (nothing sent) may still move to another server; the body arrives
        # intact there. Over max_body_size (1 MiB here) the client gets 413.
        a = self.backend("a")
        dead = "127.0.0.1:%d" % h.free_port()
        lb = self.start([dead, a.address], check=None, max_fails=0)
        body = os.urandom(700 * 1024)
        for _ in range(4):
            r = h.http_request(lb.listen, "POST", "/upload", body=body)
            self.assertEqual((r.status, r.header("X-Served-By")), (200, "a"))
            self.assertEqual(r.header("X-Body-Md5"), hashlib.md5(body).hexdigest())
        r = h.http_request(lb.listen, "POST", "/upload", body=os.urandom(1100 * 1024))
        self.assertEqual(r.status, 413)
        # A chunked body has no length up front: its head and first MiB have
        # gone to the server when it crosses the limit. The client still
        # gets a 413 (nothing of the response has reached it yet), and the
        # half-fed server connection is dropped, not reused.
        chunk = os.urandom(64 * 1024)
        raw = (b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 18 + b"0\r\n\r\n")
        got, _, closed = h.raw_exchange(lb.listen, raw, timeout=10)
        self.assertEqual(h.status_line_code(got), 413, got[:200])
        self.assertTrue(closed)
        r = h.http_request(lb.listen, "POST", "/upload", body=body)
        self.assertEqual((r.status, r.header("X-Body-Md5")), (200, hashlib.md5(body).hexdigest()))

    def test_post_answered_503_is_not_retried_but_get_is(self):
        bad = self.backend("bad", mode="status503")
        a = self.backend("a")
        lb = self.start([bad.address, a.address], check=None, max_fails=0)
        statuses = [h.http_request(lb.listen, "POST", "/p", body=b"x").status for _ in range(10)]
        posts_bad, posts_a = bad.stats()["posts"], a.stats()["posts"]
        log("POST statuses %s; bad got %d, a got %d" % (statuses, posts_bad, posts_a))
        self.assertEqual(posts_bad + posts_a, 10, "a POST reached two servers (retried)")
        self.assertGreaterEqual(posts_bad, 1, "round robin never picked the 503 server")
        self.assertEqual(statuses.count(503), posts_bad)
        self.assertEqual(statuses.count(200), posts_a)
        gets = [h.http_request(lb.listen).status for _ in range(10)]
        log("GET statuses %s" % gets)
        self.assertEqual(gets, [200] * 10, "idempotent GET not retried after 503")

    def test_slow_attempt_is_abandoned_after_try_timeout(self):
        slow = self.backend("slow", mode="slow", delay_ms=3000)
        a = self.backend("a")
        lb = self.start([slow.address, a.address], check=None, max_fails=0,
                        try_timeout="500ms")
        for _ in range(4):
            t0 = time.monotonic()
            r = h.http_request(lb.listen, timeout=10)
            took = time.monotonic() - t0
            self.assertEqual((r.status, r.header("X-Served-By")), (200, "a"))
            self.assertLess(took, 1.2, "try_timeout 500ms not applied (%.2fs)" % took)
        # A POST that reached the slow server must not be sent again elsewhere.
        codes = [h.http_request(lb.listen, "POST", "/p", body=b"x", timeout=10).status
                 for _ in range(4)]
        time.sleep(3.5)  # let the slow server finish what it received
        log("POST via slow server: %s; slow got %d, a got %d"
            % (codes, slow.stats()["posts"], a.stats()["posts"]))
        self.assertEqual(slow.stats()["posts"] + a.stats()["posts"], 4, "a POST was duplicated")


if __name__ == "__main__":
    h.main()
