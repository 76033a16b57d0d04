#!/usr/bin/env python3
"""`failover kv` against two fake store nodes (threads of this process): what
a user sees when one node is a backup that redirects, when one node is down,
and for each answer of the API (404, 412, a page of a list). The replicated
store itself is tested elsewhere; this holds the CLI and the client library
to the HTTP contract of docs/store.md."""
import json
import os
import subprocess
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


class FakeNode:
    """A node whose every answer comes from `self.answer(method, path, headers,
    body) -> (status, headers, body)`; it records what it was sent."""

    def __init__(self):
        self.seen = []
        self.answer = lambda m, p, hd, b: (503, {"Retry-After": "1", "X-Reason": "no primary"}, b"{}")
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *a):
                pass

            def handle_any(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n) if n else b""
                node.seen.append((self.command, self.path, dict(self.headers), body))
                status, headers, out = node.answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_PUT = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def written(version):
    return 200, {"ETag": '"%d"' % version, "X-Epoch": "3", "X-Seq": str(version)}, b"{}"


def kv(*args, stdin=b""):
    p = subprocess.run([h.BINARY, "kv"] + [str(a) for a in args], input=stdin, capture_output=True, timeout=30)
    return p.returncode, p.stdout, p.stderr.decode()


class KvCli(unittest.TestCase):
    def setUp(self):
        self.primary, self.backup = FakeNode(), FakeNode()

    def tearDown(self):
        self.primary.close()
        self.backup.close()

    def both(self):
        return "%s,%s" % (self.backup.url, self.primary.url)

    def test_a_write_to_the_backup_follows_its_redirect_to_the_primary(self):
        self.backup.answer = lambda m, p, hd, b: (307, {"Location": self.primary.url + p, "X-Primary": "a"}, b"{}")
        self.primary.answer = lambda m, p, hd, b: written(12)
        rc, out, err = kv("put", "user/1", "alice", "--if-none-match", "--store", self.both())
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"key": "user/1", "version": 12, "epoch": 3, "seq": 12})
        method, path, headers, body = self.primary.seen[0]
        self.assertEqual((method, path, body), ("PUT", "/kv/user%2F1", b"alice"))
        self.assertEqual(headers["If-None-Match"], "*")
        self.assertEqual(headers["Idempotency-Key"], self.backup.seen[0][2]["Idempotency-Key"])

    def test_a_dead_node_is_skipped(self):
        dead = "http://127.0.0.1:%d" % h.free_port()
        self.primary.answer = lambda m, p, hd, b: (200, {"ETag": '"7"'}, b"\x00raw bytes")
        rc, out, err = kv("get", "k", "--store", dead + "," + self.primary.url)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"\x00raw bytes")
        self.assertIn("version 7", err)

    def test_every_node_unavailable_ends_at_the_timeout(self):
        rc, out, err = kv("get", "k", "--store", self.both(), "--timeout", "1500ms")
        self.assertEqual(rc, 1)
        self.assertIn("timeout", err)
        self.assertIn("no primary", err)

    def test_api_errors_exit_1_with_the_reason(self):
        self.backup.answer = lambda m, p, hd, b: (404, {}, b'{"error":"no key k"}')
        rc, _, err = kv("delete", "k", "--store", self.backup.url)
        self.assertEqual(rc, 1)
        self.assertIn("not_found", err)
        self.backup.answer = lambda m, p, hd, b: (412, {"ETag": '"9"'}, b'{"error":"the key is at version 9"}')
        rc, _, err = kv("put", "k", "--stdin", "--if-match", "8", "--store", self.backup.url, stdin=b"v")
        self.assertEqual(rc, 1)
        self.assertIn("conflict", err)
        self.assertEqual(self.backup.seen[-1][2]["If-Match"], '"8"')
        self.assertEqual(self.backup.seen[-1][3], b"v")

    def test_list_prints_the_page_as_json(self):
        page = {"items": [{"key": "p/1", "version": 1, "value": "a"}, {"key": "p/2", "version": 2, "value_base64": "/wA="}],
                "more": True, "next": "p/2"}
        self.primary.answer = lambda m, p, hd, b: (200, {"Content-Type": "application/json"}, json.dumps(page).encode())
        rc, out, err = kv("list", "--prefix", "p/", "--limit", "2", "--store", self.primary.url)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), page)  # non-UTF-8 values stay base64
        self.assertEqual(self.primary.seen[0][1], "/kv/?prefix=p%2F&after=&limit=2")

    def test_bad_arguments_exit_2(self):
        for args in [("get", "k"), ("get", "--store", self.primary.url), ("put", "k", "v", "--store", "ftp://x"),
                     ("put", "k", "v", "--if-match", "seven", "--store", self.primary.url),
                     ("list", "--limit", "0", "--store", self.primary.url),
                     ("get", "k", "--timeout", "soon", "--store", self.primary.url), ("frobnicate",)]:
            rc, _, err = kv(*args)
            self.assertEqual(rc, 2, (args, err))
            self.assertTrue(err.strip(), args)
        self.assertEqual(self.primary.seen, [])


if __name__ == "__main__":
    h.main()
