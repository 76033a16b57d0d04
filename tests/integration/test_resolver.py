#!/usr/bin/env python3
"""`failover resolve` and `failover get` against fake HTTPDNS servers, real
backends on 127.0.0.11 and 127.0.0.12, and a real unbound as the system
resolver. What a user sees: a request gets through when a backend is
SIGKILLed, the client moves to the next HTTPDNS server when one is killed,
an HTTPDNS outage is ridden out on the persisted answers, and only then is
the system resolver asked.

The fake HTTPDNS server is this file run with --fake-httpdns, in a process
of its own so that a test can SIGKILL it; it appends every request's target
to a log file."""
import argparse
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

NAME = "www.example.com"
IP_A, IP_B = "127.0.0.11", "127.0.0.12"
RUN_TIMEOUT = 30.0  # one failover invocation, at most


# ------------------------------------------------------------ fake HTTPDNS

def serve_fake_httpdns(argv):
    """--fake-httpdns --port P --answers JSON --log FILE [--secret S]"""
    ap = argparse.ArgumentParser()
    ap.add_argument("--fake-httpdns", action="store_true")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--answers", required=True, help='{"host": {"ips": [...], "ttl": N}}')
    ap.add_argument("--log", required=True)
    ap.add_argument("--secret", default="")
    args = ap.parse_args(argv)
    answers = json.loads(args.answers)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def reply(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with lock, open(args.log, "a") as f:
                f.write(self.path + "\n")
            u = urlsplit(self.path)
            q = {k: v[-1] for k, v in parse_qs(u.query).items()}
            if u.path != "/d" or "host" not in q:
                return self.reply(400, {"error": "expected /d?host=NAME"})
            if args.secret:
                t, s = q.get("t", ""), q.get("s", "")
                want = hmac.new(args.secret.encode(), (q["host"] + t).encode(), hashlib.sha256).hexdigest()
                if not t.isdigit() or int(t) < time.time() or not hmac.compare_digest(s, want):
                    return self.reply(403, {"error": "bad or expired signature"})
            hosts = q["host"].split(",")
            if len(hosts) == 1 and hosts[0] not in answers:
                return self.reply(404, {"error": "unknown host " + hosts[0]})
            self.reply(200, {n: answers.get(n, {"error": "unknown host"}) for n in hosts})

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever(poll_interval=0.2)


class FakeHttpdns:
    def __init__(self, answers, secret=""):
        self.port = h.free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.log_path = os.path.join(h.tempdir(), "requests.log")
        argv = [sys.executable, os.path.abspath(__file__), "--fake-httpdns", "--port", str(self.port),
                "--answers", json.dumps(answers), "--log", self.log_path]
        if secret:
            argv += ["--secret", secret]
        self.proc = h.spawn(argv)
        if not h.wait_port(self.port, timeout=5.0, proc=self.proc):
            raise AssertionError("fake HTTPDNS did not listen on %s" % self.address)

    def requests(self):
        try:
            with open(self.log_path) as f:
                return [l.strip() for l in f if l.strip()]
        except OSError:
            return []

    def kill(self):
        h.reap(self.proc)  # SIGKILL, by PID

    close = kill


def answer(ips, ttl=60):
    return {"ips": list(ips), "ttl": ttl}


# ------------------------------------------------------------ backends

class HostBackend(h.Backend):
    """backend.py on a loopback address of its own (127.0.0.11, ...)."""

    def __init__(self, name, host, port):
        super().__init__(name, port=port)
        self.host = host
        self.address = "%s:%d" % (host, port)

    def start(self, timeout=5.0):
        self.proc = h.spawn([sys.executable, h.BACKEND_PY, "--port", str(self.port), "--name", self.name,
                             "--host", self.host])
        if not h.wait_port(self.port, host=self.host, timeout=timeout, proc=self.proc):
            raise AssertionError("backend %s did not listen on %s" % (self.name, self.address))
        return self


class ClosingServer:
    """Accepts on host:port and resets every connection before a byte of a
    response: a server that dies between accept and answer."""

    def __init__(self, host, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            try:
                c.recv(4096)
            except OSError:
                pass
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

    def close(self):
        self._stop.set()
        self._thread.join(2.0)
        self.sock.close()


# ------------------------------------------------------------ unbound

class Unbound:
    """A real unbound in the foreground, answering `records` from a local
    zone on 127.0.0.1:PORT only, with no remote control and no recursion
    to anywhere that matters (the zone is static)."""

    def __init__(self, records):
        binary = shutil.which("unbound") or "/usr/sbin/unbound"
        if not os.access(binary, os.X_OK):
            raise unittest.SkipTest("unbound is not installed (scripts/install-deps installs it)")
        self.port = h.free_port()
        self.address = "127.0.0.1:%d" % self.port
        d = h.tempdir("failover-unbound-")
        conf = os.path.join(d, "unbound.conf")
        lines = ["server:",
                 "  do-daemonize: no", '  username: ""', '  chroot: ""', '  pidfile: ""',
                 '  directory: "%s"' % d, "  use-syslog: no", '  logfile: ""', "  verbosity: 1",
                 "  num-threads: 1", "  interface: 127.0.0.1@%d" % self.port, "  port: %d" % self.port,
                 "  do-ip6: no", "  access-control: 0.0.0.0/0 refuse", "  access-control: 127.0.0.0/8 allow",
                 '  module-config: "iterator"', '  local-zone: "test." static']
        lines += ['  local-data: "%s"' % r for r in records]
        lines += ["remote-control:", "  control-enable: no"]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.stderr_path = os.path.join(d, "unbound.stderr")
        self._err = open(self.stderr_path, "wb")
        self.proc = h.spawn([binary, "-d", "-c", conf], stderr=self._err)
        if not h.wait_port(self.port, timeout=10.0, proc=self.proc):  # TCP listens too
            raise AssertionError("unbound did not start: %s" % open(self.stderr_path).read())

    def close(self):
        h.reap(self.proc)
        self._err.close()


# ------------------------------------------------------------ running failover

class Run:
    def __init__(self, argv, p, seconds):
        self.argv, self.rc, self.seconds = argv, p.returncode, seconds
        self.out, self.err = p.stdout, p.stderr.decode("utf-8", "replace")

    def __repr__(self):
        return "<failover %s: exit %s in %.2fs\nstdout: %r\nstderr:\n%s>" % (
            " ".join(self.argv[1:]), self.rc, self.seconds, self.out[:300], self.err)


def failover(*args):
    argv = [h.BINARY] + [str(a) for a in args]
    t0 = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT)
    return Run(argv, p, time.monotonic() - t0)


class Resolver(h.LbTestCase):
    def setUp(self):
        super().setUp()
        self.port = h.free_port()  # the backends' port, on both addresses
        self.url = "http://%s:%d/" % (NAME, self.port)
        self.closers = []

    def tearDown(self):
        for c in self.closers:
            c.close()
        super().tearDown()

    def two_backends(self):
        a = HostBackend("a", IP_A, self.port).start()
        b = HostBackend("b", IP_B, self.port).start()
        self._backends += [a, b]
        return a, b

    def httpdns(self, answers, secret=""):
        f = FakeHttpdns(answers, secret)
        self.closers.append(f)
        return f

    def unbound(self, records):
        u = Unbound(records)
        self.closers.append(u)
        return u

    def dead(self):
        return "127.0.0.1:%d" % h.free_port()

    # --------------------------------------------------------------- tests

    def test_get_gets_through_when_one_backend_is_killed(self):
        a, b = self.two_backends()
        dns = self.httpdns({NAME: answer([IP_A, IP_B])})
        r = failover("get", self.url, "--httpdns", dns.address)
        self.assertEqual(r.rc, 0, r)
        self.assertIn(r.out, (b"served by a\n", b"served by b\n"))
        a.kill()
        tried_dead = 0
        for _ in range(12):  # the first pick is random: the dead IP comes first about half the time
            r = failover("get", self.url, "--httpdns", dns.address, "--timeout", "500ms")
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(r.out, b"served by b\n", r)
            self.assertIn("served by %s:%d" % (IP_B, self.port), r.err, r)
            if "tried %s:%d" % (IP_A, self.port) in r.err:
                tried_dead += 1
        log("12 GETs with %s SIGKILLed: all served by %s; %d tried the dead IP first" % (IP_A, IP_B, tried_dead))
        self.assertGreater(tried_dead, 0, "never tried the dead IP: the pick is not random")

    def test_every_ip_dead_is_exit_7_and_names_each_ip(self):
        dns = self.httpdns({NAME: answer([IP_A, IP_B])})
        r = failover("get", self.url, "--httpdns", dns.address)
        self.assertEqual(r.rc, 7, r)
        for ip in (IP_A, IP_B):
            self.assertIn("tried %s:%d" % (ip, self.port), r.err, r)

    def test_max_retries_bounds_the_ips_tried(self):
        dns = self.httpdns({NAME: answer([IP_A, IP_B, "127.0.0.13"])})
        r = failover("get", self.url, "--httpdns", dns.address, "--max-retries", "1")
        self.assertEqual(r.rc, 7, r)
        self.assertEqual(r.err.count("* tried "), 2, r)

    def test_get_retries_another_ip_when_closed_before_any_response_byte(self):
        closer = ClosingServer(IP_A, self.port)
        self.closers.append(closer)
        b = HostBackend("b", IP_B, self.port).start()
        self._backends.append(b)
        dns = self.httpdns({NAME: answer([IP_A, IP_B])})
        for _ in range(8):
            r = failover("get", self.url, "--httpdns", dns.address)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(r.out, b"served by b\n", r)
        self.assertGreater(closer.accepted, 0, "never connected to the closing server")

    def test_moves_to_the_second_httpdns_server_when_the_first_is_killed(self):
        a, b = self.two_backends()
        first = self.httpdns({NAME: answer([IP_A, IP_B])})
        second = self.httpdns({NAME: answer([IP_B])})
        servers = "%s,%s" % (first.address, second.address)
        r = failover("resolve", NAME, "--httpdns", servers)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(json.loads(r.out), {NAME: {"ips": [IP_A, IP_B], "ttl": 60}})
        self.assertIn("via httpdns %s" % first.address, r.err)
        first.kill()
        r = failover("resolve", NAME, "--httpdns", servers)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(json.loads(r.out), {NAME: {"ips": [IP_B], "ttl": 60}})
        self.assertIn("httpdns failed: %s" % first.address, r.err)
        self.assertIn("via httpdns %s" % second.address, r.err)
        r = failover("get", self.url, "--httpdns", servers)
        self.assertEqual((r.rc, r.out), (0, b"served by b\n"), r)

    def test_empty_answer_counts_as_a_failure(self):
        a, b = self.two_backends()
        empty = self.httpdns({NAME: answer([])})
        good = self.httpdns({NAME: answer([IP_B])})
        r = failover("get", self.url, "--httpdns", "%s,%s" % (empty.address, good.address))
        self.assertEqual((r.rc, r.out), (0, b"served by b\n"), r)
        self.assertIn("httpdns failed: %s" % empty.address, r.err)
        self.assertIn("empty answer", r.err)
        # Alone, the empty answer is no answer: on to the system resolver, here one that knows nothing.
        r = failover("resolve", NAME, "--httpdns", empty.address, "--dns-server", self.dead(),
                     "--dns-timeout", "500ms")
        self.assertEqual(r.rc, 6, r)

    def test_uses_the_persisted_answer_when_every_httpdns_server_is_down(self):
        a, b = self.two_backends()
        cache = os.path.join(h.tempdir(), "resolver-cache.json")
        dns = self.httpdns({NAME: answer([IP_A, IP_B], ttl=2)})
        r = failover("get", self.url, "--httpdns", dns.address, "--cache", cache)
        self.assertEqual(r.rc, 0, r)
        with open(cache) as f:
            saved = json.load(f)
        self.assertEqual(saved["hosts"][NAME]["ips"], [IP_A, IP_B])
        dns.kill()
        # Within the TTL: used as fresh, no HTTPDNS request at all.
        r = failover("get", self.url, "--httpdns", dns.address, "--cache", cache,
                     "--dns-server", self.dead())
        self.assertEqual(r.rc, 0, r)
        self.assertIn("via persisted", r.err, r)
        self.assertNotIn("httpdns failed", r.err, r)
        # Past the TTL but within max_stale: used stale while the refresh fails.
        time.sleep(2.2)
        a.kill()
        r = failover("get", self.url, "--httpdns", dns.address, "--cache", cache,
                     "--dns-server", self.dead(), "--max-stale", "1m")
        self.assertEqual((r.rc, r.out), (0, b"served by b\n"), r)
        self.assertIn("via stale persisted", r.err, r)
        # Past max_stale: the file is not trusted any more, and the system
        # resolver (here one that answers nothing) is the last resort.
        r = failover("resolve", NAME, "--httpdns", dns.address, "--cache", cache,
                     "--dns-server", self.dead(), "--dns-timeout", "500ms", "--max-stale", "100ms")
        self.assertEqual(r.rc, 6, r)
        self.assertIn("system resolver", r.err, r)

    def test_falls_back_to_the_system_resolver_only_when_httpdns_and_cache_fail(self):
        a, b = self.two_backends()
        name = "fallback.test"
        ub = self.unbound(["%s. 60 IN A %s" % (name, IP_B)])
        cache = os.path.join(h.tempdir(), "resolver-cache.json")
        url = "http://%s:%d/" % (name, self.port)
        r = failover("get", url, "--httpdns", "%s,%s" % (self.dead(), self.dead()),
                     "--dns-server", ub.address, "--cache", cache)
        self.assertEqual((r.rc, r.out), (0, b"served by b\n"), r)
        self.assertIn("via system", r.err, r)
        self.assertEqual(r.err.count("httpdns failed"), 2, r)
        r = failover("resolve", name, "--httpdns", self.dead(), "--dns-server", ub.address)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(json.loads(r.out)[name]["ips"], [IP_B])
        # A system answer is never made the last-known-good one.
        self.assertFalse(os.path.exists(cache) and name in open(cache).read(), "system answer persisted")
        # While an HTTPDNS server answers, unbound's answer is not used.
        dns = self.httpdns({name: answer([IP_A])})
        r = failover("resolve", name, "--httpdns", dns.address, "--dns-server", ub.address)
        self.assertEqual(json.loads(r.out)[name]["ips"], [IP_A], r)

    def test_signed_requests(self):
        a, b = self.two_backends()
        dns = self.httpdns({NAME: answer([IP_B])}, secret="s3cret")
        r = failover("resolve", NAME, "--httpdns", dns.address, "--secret", "s3cret")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("&s=", dns.requests()[-1])
        r = failover("resolve", NAME, "--httpdns", dns.address, "--secret", "wrong",
                     "--dns-server", self.dead(), "--dns-timeout", "500ms")
        self.assertEqual(r.rc, 6, r)
        self.assertIn("403", r.err, r)

    def test_bad_arguments_exit_2_with_a_message(self):
        cases = [
            ("resolve",),
            ("resolve", NAME),
            ("resolve", NAME, "--httpdns", "nonsense"),
            ("resolve", NAME, "--httpdns", "127.0.0.1:1", "--max-stale", "soon"),
            ("resolve", NAME, "--httpdns", "127.0.0.1:1", "--dns-server", "not-an-ip"),
            ("resolve", NAME, "--httpdns", "127.0.0.1:1", "--bogus"),
            ("get", "ftp://x/", "--httpdns", "127.0.0.1:1"),
            ("get", "https://x/", "--httpdns", "127.0.0.1:1"),
            ("get", self.url, "--httpdns", "127.0.0.1:1", "--max-retries", "-1"),
            ("get", self.url, "--httpdns", "127.0.0.1:1", "--timeout", "0"),
        ]
        for args in cases:
            r = failover(*args)
            self.assertEqual(r.rc, 2, r)
            self.assertTrue(r.err.strip(), r)
        r = failover("resolve", "bad_host!", "--httpdns", "127.0.0.1:1")
        self.assertEqual(r.rc, 6, r)


if __name__ == "__main__":
    if "--fake-httpdns" in sys.argv:
        serve_fake_httpdns(sys.argv[1:])
    else:
        h.main()
