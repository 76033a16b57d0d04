#!/usr/bin/env python3
"""`failover witness` as the store's nodes and an operator see it: the record
created on first start, compare-and-set (ok, conflict, refused, malformed),
the record still there after SIGKILL, a bad config, and `witness recover`
from nodes' /status (two tiny stand-in nodes) and `witness init`."""
import http.server
import json
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def record(version, epoch, primary, members, cluster_id):
    return {"cluster_id": cluster_id, "version": version, "epoch": epoch, "primary": primary,
            "in_sync": [{"node": n, "storage_id": "disk-" + n} for n in members]}


class FakeNode:
    """A store node's GET /status, from a thread of this process."""

    def __init__(self, status):
        body = json.dumps(status).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                code = 200 if self.path == "/status" else 404
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WitnessTest(h.LbTestCase):
    def start_witness(self, data_dir=None):
        listen = "127.0.0.1:%d" % h.free_port()
        data_dir = data_dir or os.path.join(h.tempdir(), "witness")
        node = self.node("witness", {"witness": {"listen": listen, "data_dir": data_dir}}, wait_addr=listen)
        node.listen, node.data_dir = listen, data_dir
        return node

    def get_record(self, w):
        r = h.http_request(w.listen, "GET", "/record")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def cas(self, w, expected, rec):
        body = json.dumps({"expected_version": expected, "record": rec}).encode()
        return h.http_request(w.listen, "POST", "/record", body=body,
                              headers={"Content-Type": "application/json"})

    def run_cli(self, *args):
        return subprocess.run([h.BINARY, "witness"] + list(args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)

    def test_first_start_creates_a_record_and_serves_the_role_endpoints(self):
        w = self.start_witness()
        rec = self.get_record(w)
        self.assertRegex(rec["cluster_id"], r"^[0-9a-f]{32}$")
        self.assertEqual((rec["version"], rec["epoch"], rec["primary"], rec["in_sync"]), (1, 0, "", []))
        with open(os.path.join(w.data_dir, "record.json")) as f:
            self.assertEqual(json.load(f), rec)
        h.check_role_endpoints(self, w.listen, "witness")
        st = h.http_request(w.listen, "GET", "/status").json()
        self.assertEqual(st["record"], rec)

    def test_compare_and_set_and_sigkill_keeps_the_record(self):
        w = self.start_witness()
        cid = self.get_record(w)["cluster_id"]
        first = record(2, 1, "a", ["a", "b"], cid)
        r = self.cas(w, 1, first)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), first)

        # A second node raced on version 1: conflict, with the record that won.
        other = record(2, 1, "b", ["b"], cid)
        r = self.cas(w, 1, other)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["current"], first)

        # A rule refused: a node that was never in in_sync cannot be promoted.
        r = self.cas(w, 2, record(3, 2, "c", ["c"], cid))
        self.assertEqual(r.status, 400, r)
        self.assertIn("not in in_sync", r.json()["error"])
        r = self.cas(w, 2, record(3, 1, "a", ["a"], "f" * 32))
        self.assertEqual(r.status, 400, r)
        self.assertIn("cluster_id", r.json()["error"])

        # Malformed bodies, and one declared over the bound (refused at once).
        for body in (b"", b"{", b"[1]", b'{"expected_version":2}', b'{"expected_version":2,"record":[]}'):
            r = h.http_request(w.listen, "POST", "/record", body=body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertIn("error", r.json())
        raw, _, _ = h.raw_exchange(w.listen, b"POST /record HTTP/1.1\r\nHost: w\r\nContent-Length: 100000\r\n\r\n",
                                   read_until_close=False)
        self.assertEqual(h.status_line_code(raw), 413, raw[:200])
        self.assertEqual(self.get_record(w), first)

        shrunk = record(3, 1, "a", ["a"], cid)
        self.assertEqual(self.cas(w, 2, shrunk).status, 200)
        w.kill()  # SIGKILL: the answer came after the fsyncs, so a crash keeps it
        w.start()
        self.assertEqual(self.get_record(w), shrunk)
        self.assertTrue(w.alive())

    def test_bad_config_exits_2_with_file_and_line(self):
        path = os.path.join(h.tempdir(), "bad.yaml")
        with open(path, "w") as f:
            f.write("witness:\n  listen: 127.0.0.1:7200\n  data_dri: /tmp/x\n")
        p = self.run_cli("--config", path)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertRegex(p.stderr, re.escape(path) + r":3: .*unknown key data_dri")
        p = self.run_cli("--config", path, "--check-config")
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_recover_takes_the_newest_record_from_the_nodes(self):
        cid = "ab" * 16
        newer = record(7, 3, "b", ["b"], cid)
        older = record(5, 2, "a", ["a", "b"], cid)
        a = FakeNode({"node": "a", "role": "fenced", "highest_epoch": 2, "record": older})
        b = FakeNode({"node": "b", "role": "primary", "highest_epoch": 3, "record": newer})
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        dead = "http://127.0.0.1:%d" % h.free_port()
        data_dir = os.path.join(h.tempdir(), "witness")
        cfg = os.path.join(h.tempdir(), "w.yaml")
        with open(cfg, "w") as f:
            f.write(h.to_yaml({"witness": {"listen": "127.0.0.1:%d" % h.free_port(), "data_dir": data_dir}}) + "\n")

        p = self.run_cli("recover", "--config", cfg, "--from", dead)
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        self.assertIn("no node answered", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(data_dir, "record.json")))

        p = self.run_cli("recover", "--config", cfg, "--from", ",".join([a.url, b.url, dead]))
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertIn("warning: " + dead, p.stderr)
        w = self.start_witness(data_dir)
        want = dict(newer, version=8)
        self.assertEqual(self.get_record(w), want)
        # The nodes' own CAS goes on from there.
        self.assertEqual(self.cas(w, 8, dict(want, version=9, in_sync=want["in_sync"] + [
            {"node": "a", "storage_id": "disk-a"}])).status, 200)

    def test_init_refuses_an_existing_record_unless_forced(self):
        w = self.start_witness()
        cid = self.get_record(w)["cluster_id"]
        w.kill()
        cfg = w.config_path
        p = self.run_cli("init", "--config", cfg)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("exists", p.stderr)
        p = self.run_cli("init", "--config", cfg, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        w.start()
        self.assertNotEqual(self.get_record(w)["cluster_id"], cid)


if __name__ == "__main__":
    h.main()
