#!/usr/bin/env python3
"""`failover proxy` as the drill uses it: a TCP link with a fault set at run
time through its admin API. What a client sees under each fault: a delay
that is applied both ways, a blackhole that looks like a hang (no error,
no answer) and resumes when lifted, a half-open link that looks open until
the client writes and then resets, a cut link (drop 1) that resets. Bad
faults and options get a clear error."""
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


class Echo(socketserver.ThreadingTCPServer):
    """The upstream: answers every chunk with '<' + chunk."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                while True:
                    try:
                        data = self.request.recv(4096)
                    except OSError:
                        return
                    if not data:
                        return
                    self.request.sendall(b"<" + data)
        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server_address[1]


class FaultProxyTest(h.LbTestCase):
    def setUp(self):
        super().setUp()
        self.echo = Echo()
        self.listen = "127.0.0.1:%d" % h.free_port()
        self.admin = "127.0.0.1:%d" % h.free_port()
        self.argv = [h.BINARY, "proxy", "--name", "db", "--listen", self.listen, "--upstream",
                     self.echo.address, "--admin", self.admin]
        self.stderr = open(os.path.join(h.tempdir(), "proxy.stderr"), "w+b")
        self.proc = h.spawn(self.argv, stderr=self.stderr)
        for addr in (self.listen, self.admin):
            host, port = h.split_addr(addr)
            self.assertTrue(h.wait_port(port, host, 10, self.proc), "the proxy did not listen on " + addr)

    def tearDown(self):
        h.reap(self.proc)
        if self._failed():
            self.stderr.seek(0)
            sys.stderr.write("\n----- failover proxy stderr -----\n%s\n" % self.stderr.read().decode()[-20000:])
        self.stderr.close()
        self.echo.shutdown()
        self.echo.server_close()
        super().tearDown()

    def connect(self, timeout=2.0):
        return socket.create_connection(h.split_addr(self.listen), timeout=timeout)

    def fault(self, text):
        r = h.http_request(self.admin, "PUT", "/faults/db", body=text.encode())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["fault"], text)
        return r.json()

    def assert_new_connection_is_reset(self):
        """The proxy accepts and resets at once: the client sees the reset at
        its first read, or already at connect on a busy machine."""
        with self.assertRaises(ConnectionResetError):
            with self.connect() as fresh:
                fresh.recv(10)

    def exchange(self, s, data):
        s.sendall(data)
        want = b"<" + data
        got = b""
        while len(got) < len(want):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        return got

    def test_no_fault_passes_bytes_both_ways(self):
        with self.connect() as s:
            self.assertEqual(self.exchange(s, b"hello"), b"<hello")
        faults = h.http_request(self.admin, "GET", "/faults").json()
        self.assertEqual(faults["db"]["fault"], "none")
        self.assertEqual(faults["db"]["upstream"], self.echo.address)
        self.assertGreaterEqual(faults["db"]["connections"]["accepted"], 1)

    def test_delay_is_applied_each_way(self):
        self.fault("delay 150ms")
        with self.connect() as s:
            t = time.monotonic()
            self.assertEqual(self.exchange(s, b"ping"), b"<ping")
            took = time.monotonic() - t
        self.assertGreaterEqual(took, 0.300, "150 ms each way")
        self.assertLess(took, 2.0)
        self.fault("none")
        with self.connect() as s:
            t = time.monotonic()
            self.assertEqual(self.exchange(s, b"ping"), b"<ping")
            self.assertLess(time.monotonic() - t, 0.150)

    def test_blackhole_looks_like_a_hang_and_resumes(self):
        old = self.connect()
        self.assertEqual(self.exchange(old, b"a"), b"<a")
        self.fault("blackhole")
        fresh = self.connect(timeout=0.5)  # the kernel accepts it: a connect never fails
        for s in (old, fresh):
            s.settimeout(0.5)
            s.sendall(b"b")
            with self.assertRaises(socket.timeout):  # no answer, no error, no end
                s.recv(10)
        self.fault("none")
        for s in (old, fresh):
            s.settimeout(2)
            self.assertEqual(s.recv(10), b"<b")
            s.close()

    def test_half_open_looks_open_until_the_client_writes_then_resets(self):
        s = self.connect()
        self.assertEqual(self.exchange(s, b"a"), b"<a")
        self.fault("half-open")
        s.settimeout(0.5)
        with self.assertRaises(socket.timeout):  # waiting for an answer: nothing, not even a FIN
            s.recv(10)
        s.settimeout(2)
        s.sendall(b"b")
        with self.assertRaises(ConnectionResetError):
            s.recv(10)
        s.close()
        self.assert_new_connection_is_reset()

    def test_drop_one_cuts_the_link(self):
        s = self.connect()
        self.assertEqual(self.exchange(s, b"a"), b"<a")
        entry = self.fault("drop 1")
        with self.assertRaises(ConnectionResetError):
            s.recv(10)
        s.close()
        self.assert_new_connection_is_reset()
        self.assertGreaterEqual(h.http_request(self.admin, "GET", "/faults/db").json()["connections"]["reset"], 2)
        self.assertEqual(entry["fault"], "drop 1")

    def test_bad_faults_and_names_get_a_clear_error(self):
        for body in (b"delay", b"drop 2", b"cut", b""):
            r = h.http_request(self.admin, "PUT", "/faults/db", body=body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertTrue(r.json()["error"])
        self.assertEqual(h.http_request(self.admin, "PUT", "/faults/nobody", body=b"none").status, 404)
        self.assertEqual(h.http_request(self.admin, "DELETE", "/faults/db").status, 405)
        # The fault in place is untouched.
        self.assertEqual(h.http_request(self.admin, "GET", "/faults/db").json()["fault"], "none")

    def test_role_endpoints(self):
        h.check_role_endpoints(self, self.admin, "proxy")
        self.assertIn(b'failover_proxy_fault{proxy="db",fault="none"} 1',
                      h.http_request(self.admin, "GET", "/metrics").body)

    def test_bad_options_exit_2(self):
        for extra in (["--fault", "delay fast"], ["--listen", "nowhere"]):
            argv = self.argv + extra
            p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, (extra, p.stderr))
            self.assertTrue(p.stderr.strip())


if __name__ == "__main__":
    h.main()
