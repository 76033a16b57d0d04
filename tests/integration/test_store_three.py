#!/usr/bin/env python3
"""A store of three nodes (a primary and two backups, `peers:` with two
entries) and a witness, as real processes: in_sync grows to all three; the
primary SIGKILLed after 100 acknowledged writes, an in-sync backup takes over
within the grace plus the arbiter, holds every one of them, the other backup
follows it, and the old primary rejoins: all three in in_sync again."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402
from test_store import FAILOVER_BOUND_S  # noqa: E402

NAMES = ("a", "b", "c")


class StoreThreeNodesTest(unittest.TestCase):
    binary = None

    def setUp(self):
        d = h.tempdir("failover-store3-")
        wit = "127.0.0.1:%d" % h.free_port()
        self.witness = h.Node(self.binary, "witness", {"witness": {"listen": wit, "data_dir": d + "/witness"}},
                              wait_addr=wit)
        self.listen = {n: "127.0.0.1:%d" % h.free_port() for n in NAMES}
        peer = {n: "127.0.0.1:%d" % h.free_port() for n in NAMES}
        self.nodes = {}
        for n in NAMES:
            cfg = {"store": {"node": n, "listen": self.listen[n], "peer_listen": peer[n], "data_dir": d + "/" + n,
                             "peers": {o: {"listen": self.listen[o], "peer_listen": peer[o]} for o in NAMES if o != n},
                             "arbiter": {"type": "witness", "address": wit}}}
            self.nodes[n] = h.Node(self.binary, "store", cfg, wait_addr=self.listen[n])

    def tearDown(self):
        for n in self.nodes.values():
            n.close()
        self.witness.close()

    def status(self, n):
        try:
            r = h.http_request(self.listen[n], "GET", "/status", timeout=1)
            return r.json() if r.status == 200 else None
        except OSError:
            return None

    def primary(self):
        for n in NAMES:
            s = self.nodes[n].alive() and self.status(n)
            if s and s["role"] == "primary" and s["serving"]:
                return n
        return None

    def in_sync(self):
        p = self.primary()
        s = p and self.status(p)
        return len(s["record"]["in_sync"]) if s and s.get("record") else 0

    def test_a_backup_takes_over_the_other_follows_and_nothing_is_lost(self):
        self.assertTrue(h.wait_for(lambda: self.in_sync() == 3, 15))
        p = self.primary()
        for i in range(100):
            r = h.http_request(self.listen[p], "PUT", "/kv/k%d" % i, body=b"v%d" % i)
            self.assertEqual(r.status, 200, r)
        t0 = time.monotonic()
        self.nodes[p].kill(signal.SIGKILL)
        self.assertTrue(h.wait_for(lambda: self.primary() not in (None, p), 5))
        took = time.monotonic() - t0
        q = self.primary()
        self.assertLess(took, FAILOVER_BOUND_S)
        for i in range(100):
            r = h.http_request(self.listen[q], "GET", "/kv/k%d" % i)
            self.assertEqual((r.status, r.body), (200, b"v%d" % i))
        other = [n for n in NAMES if n not in (p, q)][0]
        self.assertTrue(h.wait_for(lambda: (self.status(other) or {}).get("primary") == q, 5))
        self.nodes[p].start()
        self.assertTrue(h.wait_for(lambda: self.in_sync() == 3, 15))
        self.assertTrue(h.wait_for(lambda: all((self.status(n) or {}).get("in_sync") for n in NAMES), 5))
        log("three nodes: %s took over from %s in %.0f ms; all three in in_sync again" % (q, p, took * 1000))


if __name__ == "__main__":
    args, _ = h.parse_args()
    StoreThreeNodesTest.binary = os.path.abspath(args.binary)
    h.main()
