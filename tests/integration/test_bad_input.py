#!/usr/bin/env python3
"""Bad clients and bad upstreams: each gets a clear HTTP error, a broken
upstream is charged with the failure, and thousands of abusive connections
leave no file descriptors behind.

    python3 tests/integration/test_bad_input.py --binary build/failover
"""
import os
import socket
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

HEADER_TIMEOUT = 1.0  # s, limits.header_timeout below
MAX_BODY = 64 * 1024


class BadInput(h.LbTestCase):
    def start_lb(self, servers, max_fails=1, check=True, **limits):
        listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
        up = h.upstream(
            "web", servers,
            check={"interval": 200, "rise": 1, "fall": 3, "timeout": 300, "type": "http",
                   "uri": "/health"} if check else None,
            passive={"max_fails": max_fails, "fail_timeout": "10s"},
            retry={"tries": 3, "timeout": "5s", "try_timeout": "1s"})
        lb = self.lb(h.lb_config(listen, admin, [up], threads=1,
                                 limits={"max_body_size": "64k", "header_timeout": "1s",
                                         "keepalive_timeout": "60s",
                                         "client_connections": 10000, **limits}))
        for s in servers:
            if check:
                self.assertIsNotNone(lb.wait_state(s, "up", 5.0), lb.server(s))
        return lb

    def expect_status(self, lb, raw, want, what):
        data, first, closed = h.raw_exchange(lb.listen, raw, timeout=5.0, read_until_close=False)
        code = h.status_line_code(data)
        log("%s -> %s" % (what, data.split(b"\r\n", 1)[0][:80]))
        self.assertEqual(code, want, "%s: got %r" % (what, data[:300]))
        return data

    def assert_still_serving(self, lb):
        self.assertTrue(lb.alive(), "failover lb died")
        r = h.http_request(lb.listen, "GET", "/")
        self.assertEqual(r.status, 200)

    def test_malformed_requests_get_400(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        cases = {
            "not HTTP": b"GARBAGE\r\n\r\n",
            "header without colon": b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
            "bad Content-Length": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            "two Content-Lengths": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                   b"Content-Length: 7\r\n\r\nhello12",
            "bad chunk size": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"zz\r\nhello\r\n0\r\n\r\n",
        }
        for what, raw in cases.items():
            self.expect_status(lb, raw, 400, what)
        self.assert_still_serving(lb)

    def test_host_rules_of_rfc9112(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        cases = {
            "HTTP/1.1 without Host": b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
            "two Host fields": b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            "the same Host twice": b"GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n",
            "Host that is no authority": b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        }
        for what, raw in cases.items():
            self.expect_status(lb, raw, 400, what)
        # Connection naming Host must not strip it on the way to the server.
        data = self.expect_status(
            lb, b"GET / HTTP/1.1\r\nHost: named.example\r\nConnection: Host, close\r\n\r\n",
            200, "Connection: Host")
        self.assertIn(b"X-Echo-Host: named.example\r\n", data)
        # HTTP/1.0 may leave Host out; the server (spoken to in 1.1) gets an empty one.
        data = self.expect_status(lb, b"GET / HTTP/1.0\r\n\r\n", 200, "HTTP/1.0 without Host")
        self.assertIn(b"X-Echo-Host: \r\n", data)
        self.assert_still_serving(lb)

    def test_unknown_transfer_codings_get_501_and_higher_minor_versions_pass(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        body = b"5\r\nhello\r\n0\r\n\r\n"
        for coding in (b"gzip, chunked", b"identity, chunked", b"x-custom, chunked"):
            self.expect_status(lb, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding
                               + b"\r\n\r\n" + body, 501, coding.decode())
        self.assertEqual(a.stats()["posts"], 0, "a request with a coding we cannot keep reached the server")
        # RFC 9110 2.5: HTTP/1.2 is read as 1.1, as nginx and HAProxy do.
        self.expect_status(lb, b"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 200, "HTTP/1.2")
        self.expect_status(lb, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0 in a request line")
        self.assert_still_serving(lb)

    def test_interim_responses_reach_the_client(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        for code in (103, 100, 102):
            data, _, _ = h.raw_exchange(
                lb.listen, b"GET /interim?c=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % code)
            log("interim %d -> %r" % (code, data[:120]))
            self.assertTrue(data.startswith(b"HTTP/1.1 %d " % code), data[:200])
            self.assertIn(b"Link: </style.css>; rel=preload\r\n", data)
            final = data.split(b"\r\n\r\n", 1)[1]
            self.assertEqual(h.status_line_code(final), 200, data[:300])
        # An HTTP/1.0 client must never get a 1xx (RFC 9110 15.2).
        data, _, _ = h.raw_exchange(lb.listen, b"GET /interim HTTP/1.0\r\n\r\n")
        self.assertEqual(h.status_line_code(data), 200, data[:200])

    def test_unasked_101_is_502_and_charged_to_server(self):
        seen, s, lb = self.check_broken_upstream("switch101")
        self.assertEqual(seen[0], 502)
        self.assertGreaterEqual(s["requests"]["failures"], 1, s)

    def test_declared_chunk_over_max_body_gets_413_at_once(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        t0 = time.monotonic()
        # The client announces 1 MiB and sends only a little of it.
        data, first, _ = h.raw_exchange(lb.listen, head + b"100000\r\n" + b"x" * 1000, timeout=5.0,
                                        read_until_close=False)
        log("1 MiB chunk declared -> %r after %.3f s" % (data[:40], time.monotonic() - t0))
        self.assertEqual(h.status_line_code(data), 413, data[:200])
        self.assertLess(first, 1.0)
        self.assert_still_serving(lb)

    def test_declared_chunk_over_max_body_gets_413_while_streaming(self):
        a = self.backend("a")
        lb = self.start_lb([a.address], max_body_size="1m")
        head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        piece = b"x" * 16384
        streamed = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(6))  # 96 KiB: streamed
        data, first, _ = h.raw_exchange(lb.listen, head + streamed + b"200000\r\n" + b"y" * 100,
                                        timeout=5.0, read_until_close=False)
        log("2 MiB chunk declared after 96 KiB streamed -> %r after %s s" % (data[:40], first))
        self.assertEqual(h.status_line_code(data), 413, data[:200])
        self.assertLess(first, 1.0)
        self.assert_still_serving(lb)

    def test_max_headers_is_a_setting(self):
        a = self.backend("a")
        lb = self.start_lb([a.address], max_headers=10)
        fields = b"Host: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(9))
        self.expect_status(lb, b"GET / HTTP/1.1\r\n" + fields + b"\r\n", 200, "10 fields")
        self.expect_status(lb, b"GET / HTTP/1.1\r\n" + fields + b"X-Last: v\r\n\r\n", 431,
                           "11 fields with max_headers 10")

    def test_oversized_headers_get_431(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 * 1024) + b"\r\n\r\n"
        self.expect_status(lb, raw, 431, "20 KiB header")
        many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(200)) + b"\r\n"
        self.expect_status(lb, many, 431, "200 headers of 100 bytes")
        # just under the limit still works
        ok = http.client.HTTPConnection(*h.split_addr(lb.listen), timeout=5)
        ok.request("GET", "/", headers={"X-Big": "a" * (12 * 1024)})
        self.assertEqual(ok.getresponse().status, 200)
        ok.close()
        self.assert_still_serving(lb)

    def test_oversized_body_gets_413(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        declared = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1)
        self.expect_status(lb, declared, 413, "Content-Length over max_body_size")
        body = b"x" * (MAX_BODY + 4096)
        chunked = (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        self.expect_status(lb, chunked, 413, "chunked body over max_body_size")
        r = h.http_request(lb.listen, "POST", "/", body=b"y" * (MAX_BODY - 10))
        self.assertEqual((r.status, r.header("X-Body-Length")), (200, str(MAX_BODY - 10)))
        self.assert_still_serving(lb)

    def test_client_that_stalls_mid_headers_gets_408_and_close(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        t0 = time.monotonic()
        data, first, closed = h.raw_exchange(lb.listen, b"GET / HTTP/1.1\r\nHost: x\r\n",
                                             timeout=HEADER_TIMEOUT + 4.0)
        log("half a request -> %r, first byte after %s s, closed=%s after %.2f s"
            % (data[:40], first, closed, time.monotonic() - t0))
        self.assertEqual(h.status_line_code(data), 408, repr(data[:200]))
        self.assertGreaterEqual(first, HEADER_TIMEOUT - 0.1)
        self.assertLessEqual(first, HEADER_TIMEOUT + 0.7)
        self.assertTrue(closed, "connection not closed after 408")
        self.assert_still_serving(lb)

    def check_broken_upstream(self, mode):
        bad = self.backend("bad-" + mode, mode=mode)
        lb = self.start_lb([bad.address], max_fails=100)
        try:
            r = h.http_request(lb.listen, "GET", "/", timeout=10)
            seen = (r.status, len(r.body))
        except http.client.IncompleteRead as e:
            seen = ("incomplete", len(e.partial))
        except (OSError, http.client.HTTPException) as e:
            seen = (type(e).__name__, 0)
        log("upstream mode %s -> client sees %s" % (mode, seen))
        s = lb.server(bad.address)
        log("  /status: requests=%s passive=%s" % (s.get("requests"), s.get("passive")))
        return seen, s, lb

    def test_garbage_or_truncated_upstream_response_is_502_and_charged_to_server(self):
        for mode in ("garbage", "truncated"):
            seen, s, lb = self.check_broken_upstream(mode)
            self.assertEqual(seen[0], 502, "mode %s" % mode)
            self.assertGreaterEqual(s["requests"]["failures"], 1, "mode %s: %s" % (mode, s))
            self.assertGreaterEqual(len(s["passive"]["recent"]) + s["passive"]["recent_failures"],
                                    1, "mode %s: passive failure not recorded: %s" % (mode, s))
            self.assert_still_serving_lb_status(lb)

    def test_upstream_body_cut_short_never_reaches_client_as_complete(self):
        seen, s, lb = self.check_broken_upstream("truncbody")
        self.assertIn(seen[0], (502, "incomplete", "RemoteDisconnected"),
                      "a cut-short body was delivered as if complete: %s" % (seen,))
        self.assertGreaterEqual(s["requests"]["failures"], 1, s)

    def assert_still_serving_lb_status(self, lb):
        self.assertTrue(lb.alive())
        lb.status()

    def test_thousands_of_bad_connections_leave_no_fds_behind(self):
        a = self.backend("a")
        lb = self.start_lb([a.address])
        for _ in range(3):
            self.assertEqual(h.http_request(lb.listen).status, 200)
        time.sleep(0.3)
        baseline = lb.fd_count()
        kinds = [
            b"",                                                       # connect, close
            b"GARBAGE\r\n\r\n",                                        # 400
            b"GET / HTTP/1.1\r\nHost: x\r\n",                          # half, then close
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20480 + b"\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",  # body cut
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",                      # leave before the answer
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello
        ]
        total, workers, deadline = 3000, 6, time.monotonic() + 90
        counter = {"n": 0, "errors": 0}
        lock = threading.Lock()

        def work():
            while time.monotonic() < deadline:
                with lock:
                    if counter["n"] >= total:
                        return
                    i = counter["n"]
                    counter["n"] += 1
                try:
                    s = socket.create_connection(h.split_addr(lb.listen), timeout=2)
                    if kinds[i % len(kinds)]:
                        s.sendall(kinds[i % len(kinds)])
                    if i % 2:  # half read what comes back, half hang up at once
                        s.settimeout(0.2)
                        try:
                            s.recv(4096)
                        except OSError:
                            pass
                    s.close()
                except OSError:
                    with lock:
                        counter["errors"] += 1

        threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic() + 1))
        log("%d bad connections in %.1fs (%d connect errors); fds: baseline %d, right after %d"
            % (counter["n"], time.monotonic() - t0, counter["errors"], baseline, lb.fd_count()))
        self.assertTrue(lb.alive(), "failover lb died under bad connections")
        self.assertGreaterEqual(counter["n"], 1000, "could not drive enough bad connections")
        # Half-open requests are cut by header_timeout; give it that plus slack.
        settle = time.monotonic() + HEADER_TIMEOUT + 4.0
        fds = lb.fd_count()
        while fds > baseline + 8 and time.monotonic() < settle:
            time.sleep(0.2)
            fds = lb.fd_count()
        log("fds after settling: %d (baseline %d)" % (fds, baseline))
        self.assertLessEqual(fds, baseline + 8, "fd leak: %d open, baseline %d" % (fds, baseline))
        self.assert_still_serving(lb)
        res = h.LoadClient(lb.listen, threads=2, duration=1.0, max_requests=500).start().wait()
        self.assertEqual(len(res.failures), 0, res.failure_summary())


if __name__ == "__main__":
    h.main()
