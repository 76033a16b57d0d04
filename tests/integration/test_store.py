#!/usr/bin/env python3
"""`failover store` and `failover witness` as a user sees them: a pair of
nodes and a witness on loopback, the HTTP API, and faults with real
processes — SIGKILL of the primary under write load (repeated), SIGSTOP of
the primary, the witness killed, a backup whose data_dir was wiped, both
nodes restarted at once. Every test asserts what a client saw: writes that
failed, acknowledged writes lost (must be none), stale reads (none), and the
time to fail over against the bound the config implies."""
import json
import os
import shutil
import signal
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

INTERVAL_MS, TIMEOUT_MS, LEASE_MS = 50, 250, 200
# From the kill to the first write the new primary acknowledges: the grace,
# at most one beat before it, the arbiter's compare-and-set and the fsync of
# the entry that opens the epoch; the rest is this machine's scheduling.
FAILOVER_BOUND_S = (TIMEOUT_MS + INTERVAL_MS + 400) / 1000.0


class Cluster:
    """A witness and two store nodes, a and b, each a tracked process."""

    def __init__(self, binary, strict=False, extra=None):
        self.binary = binary
        self.dir = h.tempdir("failover-store-")
        p = {n: h.free_port() for n in ("wit", "a", "ra", "b", "rb")}
        self.witness_addr = "127.0.0.1:%d" % p["wit"]
        self.listen = {"a": "127.0.0.1:%d" % p["a"], "b": "127.0.0.1:%d" % p["b"]}
        self.peer = {"a": "127.0.0.1:%d" % p["ra"], "b": "127.0.0.1:%d" % p["rb"]}
        self.witness = h.Node(binary, "witness", {"witness": {"listen": self.witness_addr,
                                                              "data_dir": os.path.join(self.dir, "witness")}},
                              wait_addr=self.witness_addr)
        self.nodes = {}
        for n in ("a", "b"):
            other = "b" if n == "a" else "a"
            cfg = {"store": {"node": n, "listen": self.listen[n], "peer_listen": self.peer[n],
                             "data_dir": self.data_dir(n),
                             "peers": {other: {"listen": self.listen[other], "peer_listen": self.peer[other]}},
                             "arbiter": {"type": "witness", "address": self.witness_addr},
                             "heartbeat": {"interval": "%dms" % INTERVAL_MS, "timeout": "%dms" % TIMEOUT_MS},
                             "lease": "%dms" % LEASE_MS, "strict": strict}}
            cfg["store"].update(extra or {})
            self.nodes[n] = h.Node(binary, "store", cfg, wait_addr=self.listen[n])

    def data_dir(self, n):
        return os.path.join(self.dir, "data-" + n)

    def status(self, n, timeout=1.0):
        try:
            r = h.http_request(self.listen[n], "GET", "/status", timeout=timeout)
            return r.json() if r.status == 200 else None
        except OSError:
            return None

    def primary(self):
        """The node that serves as primary now, or None."""
        for n in ("a", "b"):
            if not self.nodes[n].alive():
                continue
            s = self.status(n)
            if s and s["role"] == "primary" and s["serving"]:
                return n
        return None

    def wait_primary(self, timeout=10.0, other_than=None):
        found = {}

        def ok():
            p = self.primary()
            if p and p != other_than:
                found["p"] = p
                return True
            return False
        h.wait_for(ok, timeout, poll=0.005)
        return found.get("p")

    def wait_in_sync(self, count=2, timeout=15.0):
        def ok():
            p = self.primary()
            s = p and self.status(p)
            return bool(s and s.get("record") and len(s["record"]["in_sync"]) == count)
        return h.wait_for(ok, timeout, poll=0.02)

    def kv(self, n, method, key, body=None, headers=None, query="", timeout=2.0):
        path = "/kv/" + urllib.parse.quote(key, safe="") + query
        return h.http_request(self.listen[n], method, path, body=body, headers=headers or {}, timeout=timeout)

    def close(self):
        for node in self.nodes.values():
            node.close()
        self.witness.close()


def metric_samples(text):
    """Prometheus text -> {'name{labels}': value}, comments skipped."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


PHASES = ("detect", "cas", "reconcile", "first_write", "total")


class Writer(threading.Thread):
    """One client writing k0..k9 in turn through whichever node is primary
    (following 307s, retrying elsewhere), recording every acknowledged write,
    and reading each key back to catch stale reads. Bounded in count and time."""

    def __init__(self, cluster, seconds=60.0, max_writes=100000):
        super().__init__(daemon=True)
        self.c, self.seconds, self.max_writes = cluster, seconds, max_writes
        self.acked = {}           # key -> (value, seq) of its last acknowledged write
        self.attempted = {}       # key -> every value sent (acknowledged or not)
        self.failed = 0
        self.ok = 0
        self.stale = []
        self.last_ack_at = None
        self.stop_flag = threading.Event()
        self.ack_times = []

    def node_order(self):
        p = self.c.primary() if self.ok % 50 == 0 else None
        return [p] + [n for n in ("a", "b") if n != p] if p else ["a", "b"]

    def run(self):
        t_end = time.monotonic() + self.seconds
        i = 0
        nodes = ["a", "b"]
        while not self.stop_flag.is_set() and time.monotonic() < t_end and i < self.max_writes:
            key = "k%d" % (i % 10)
            value = "v%d" % i
            self.attempted.setdefault(key, set()).add(value)
            done = False
            for n in nodes:
                try:
                    r = self.c.kv(n, "PUT", key, body=value.encode(), timeout=1.0)
                except OSError:
                    continue
                if r.status == 307:
                    target = r.header("x-primary")
                    if target in nodes:
                        nodes = [target] + [x for x in nodes if x != target]
                    continue
                if r.status == 200:
                    self.acked[key] = (value, int(r.header("x-seq")))
                    self.ok += 1
                    now = time.monotonic()
                    self.ack_times.append(now)
                    self.last_ack_at = now
                    done = True
                    nodes = [n] + [x for x in nodes if x != n]
                    # Read it back: a read must never return an older value.
                    try:
                        g = self.c.kv(n, "GET", key, timeout=1.0)
                        if g.status == 200 and g.body.decode() != value:
                            self.stale.append((key, value, g.body.decode()))
                    except OSError:
                        pass
                    break
            if not done:
                self.failed += 1
                time.sleep(0.005)
            i += 1

    def stop(self):
        self.stop_flag.set()
        self.join(10)


class StoreTest(unittest.TestCase):
    binary = None

    def setUp(self):
        self.c = Cluster(self.binary)
        self.assertIsNotNone(self.c.wait_primary(10), "no primary elected\n" + self.logs())
        self.assertIsNotNone(self.c.wait_in_sync(2), "in_sync never grew to both\n" + self.logs())

    def tearDown(self):
        self.c.close()

    def logs(self):
        return "\n".join("--- %s\n%s" % (n, node.log()[-3000:]) for n, node in self.c.nodes.items())

    def check_no_acked_write_lost(self, writer):
        p = self.c.wait_primary(10)
        self.assertIsNotNone(p)
        for key, (value, seq) in writer.acked.items():
            r = self.c.kv(p, "GET", key)
            self.assertEqual(r.status, 200, (key, r))
            got = r.body.decode()
            # The last acknowledged value, or one written after it whose
            # answer was lost (never an older one).
            if got != value:
                self.assertIn(got, writer.attempted[key], key)
                self.assertGreater(int(got[1:]), int(value[1:]), "acknowledged %s=%s lost (seq %d); read %s"
                                   % (key, value, seq, got))

    def test_api(self):
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        r = c.kv(p, "PUT", "greeting", body=b"hello")
        self.assertEqual(r.status, 200, r)
        seq = int(r.header("x-seq"))
        self.assertGreaterEqual(int(r.header("x-epoch")), 1)
        self.assertEqual(r.header("etag"), '"%d"' % seq)
        g = c.kv(p, "GET", "greeting")
        self.assertEqual((g.status, g.body, g.header("etag")), (200, b"hello", '"%d"' % seq))
        # Conditional writes.
        self.assertEqual(c.kv(p, "PUT", "greeting", b"x", {"If-Match": str(seq + 100)}).status, 412)
        self.assertEqual(c.kv(p, "PUT", "greeting", b"x", {"If-None-Match": "*"}).status, 412)
        self.assertEqual(c.kv(p, "PUT", "greeting", b"hi", {"If-Match": '"%d"' % seq}).status, 200)
        self.assertEqual(c.kv(p, "PUT", "fresh", b"1", {"If-None-Match": "*"}).status, 200)
        # Idempotency: a retried write is applied once.
        r1 = c.kv(p, "PUT", "once", b"1", {"Idempotency-Key": "req-42"})
        r2 = c.kv(p, "PUT", "once", b"1", {"Idempotency-Key": "req-42"})
        self.assertEqual((r1.status, r2.status), (200, 200))
        self.assertEqual(r1.header("x-seq"), r2.header("x-seq"))
        # Delete.
        self.assertEqual(c.kv(p, "DELETE", "fresh").status, 200)
        self.assertEqual(c.kv(p, "GET", "fresh").status, 404)
        # Listing, paged.
        for i in range(5):
            self.assertEqual(c.kv(p, "PUT", "list/%d" % i, b"x").status, 200)
        r = h.http_request(c.listen[p], "GET", "/kv/?prefix=list/&limit=3")
        self.assertEqual(r.status, 200, r)
        page = r.json()
        self.assertEqual([i["key"] for i in page["items"]], ["list/0", "list/1", "list/2"])
        self.assertTrue(page["more"])
        # Too large a value: refused from its declared length, before the body.
        raw, _, _ = h.raw_exchange(c.listen[p], b"PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nxxxx"
                                   % ((1 << 20) + 1), timeout=3)
        self.assertEqual(h.status_line_code(bytes(raw)), 413, raw[:200])
        # The backup sends clients to the primary, and reads locally on ?stale=1.
        r = c.kv(b, "GET", "greeting")
        self.assertEqual(r.status, 307, r)
        self.assertEqual(r.header("x-primary"), p)
        self.assertEqual(r.header("location"), "http://%s/kv/greeting" % c.listen[p])
        self.assertTrue(h.wait_for(lambda: c.kv(b, "GET", "greeting", query="?stale=1").body == b"hi", 2))
        # Role checks for HTTP health checks.
        self.assertEqual(h.http_request(c.listen[p], "GET", "/primary").status, 200)
        self.assertEqual(h.http_request(c.listen[b], "GET", "/primary").status, 503)
        self.assertEqual(h.http_request(c.listen[b], "GET", "/replica").status, 200)
        self.assertEqual(h.http_request(c.listen[p], "GET", "/replica").status, 503)
        st = c.status(p)
        for field in ("epoch", "commit_seq", "applied_seq", "in_sync", "lease_left_ms", "record", "peers",
                      "failovers"):
            self.assertIn(field, st)
        m = h.http_request(c.listen[p], "GET", "/metrics").body.decode()
        self.assertIn('failover_store_role{role="primary"} 1', m)
        # The first primary of a new cluster replaced nobody: no failover yet.
        self.assertIn("# TYPE failover_store_failover_seconds histogram", m)
        self.assertIn('failover_store_failover_seconds_count{phase="total"} 0\n', m)
        self.assertGreaterEqual(metric_samples(m)["failover_store_write_seconds_count"], 5)

    def test_kill_primary_under_load_repeatedly(self):
        c = self.c
        w = Writer(c, seconds=120)
        w.start()
        times = []
        try:
            for round_ in range(6):
                self.assertTrue(h.wait_for(lambda: w.ok > 20 * (round_ + 1), 10), "no progress\n" + self.logs())
                p = c.primary()
                self.assertIsNotNone(p)
                killed_at = time.monotonic()
                c.nodes[p].kill(signal.SIGKILL)
                new = c.wait_primary(5, other_than=p)
                self.assertIsNotNone(new, "no new primary\n" + self.logs())
                self.assertTrue(h.wait_for(lambda: w.last_ack_at and w.last_ack_at > killed_at, 5))
                took = w.last_ack_at - killed_at
                times.append(took)
                log("round %d: %s killed, %s serving writes after %.0f ms" % (round_, p, new, took * 1000))
                self.assertLess(took, FAILOVER_BOUND_S, self.logs())
                # The new primary's /metrics: each node is promoted once after its
                # (re)start, so its histograms hold exactly this failover, once in
                # every phase however often they are scraped.
                m = {}

                def counted():
                    m.update(metric_samples(h.http_request(c.listen[new], "GET", "/metrics").body.decode()))
                    return m.get('failover_store_failover_seconds_count{phase="total"}') == 1
                self.assertTrue(h.wait_for(counted, 3), m)
                for phase in PHASES:
                    key = 'failover_store_failover_seconds_%%s{phase="%s"%%s}' % phase
                    self.assertEqual(m[key % ("count", "")], 1, phase)
                    self.assertEqual(m[key % ("bucket", ',le="+Inf"')], 1, phase)
                self.assertGreaterEqual(m['failover_store_failover_seconds_sum{phase="detect"}'], TIMEOUT_MS / 1000.0)
                self.assertLess(m['failover_store_failover_seconds_sum{phase="total"}'], FAILOVER_BOUND_S)
                self.assertEqual(m['failover_store_failover_seconds_bucket{phase="total",le="0.01"}'], 0)
                self.assertGreater(m["failover_store_write_seconds_count"], 0)
                c.nodes[p].start()
                self.assertIsNotNone(c.wait_in_sync(2), "the old primary never rejoined\n" + self.logs())
        finally:
            w.stop()
        log("writes acknowledged %d, failed %d; failover ms %s" % (w.ok, w.failed, [int(t * 1000) for t in times]))
        self.assertEqual(w.stale, [])
        self.check_no_acked_write_lost(w)

    def test_stopped_primary_never_serves_when_it_wakes(self):
        c = self.c
        w = Writer(c, seconds=30)
        w.start()
        try:
            self.assertTrue(h.wait_for(lambda: w.ok > 20, 10))
            p = c.primary()
            os.kill(c.nodes[p].pid, signal.SIGSTOP)
            new = c.wait_primary(5, other_than=p)
            self.assertIsNotNone(new, self.logs())
            time.sleep(0.3)
            os.kill(c.nodes[p].pid, signal.SIGCONT)
            # At once, the old primary refuses to serve (its lease is long gone).
            r = h.http_request(c.listen[p], "GET", "/primary", timeout=2)
            self.assertEqual(r.status, 503, r)
            r = c.kv(p, "GET", "k1")
            self.assertIn(r.status, (307, 503), r)
            self.assertIsNotNone(c.wait_in_sync(2), self.logs())
            self.assertEqual(c.status(p)["role"], "backup")
        finally:
            w.stop()
        self.assertEqual(w.stale, [])
        self.check_no_acked_write_lost(w)

    def test_witness_down_changes_nothing_while_both_live(self):
        c = self.c
        c.witness.kill(signal.SIGKILL)
        p = c.primary()
        for i in range(50):
            self.assertEqual(c.kv(p, "PUT", "w%d" % i, b"x").status, 200)
        self.assertEqual(c.primary(), p)
        self.assertTrue(h.wait_for(lambda: c.status(p)["arbiter"]["reachable"] is False, 5),
                        "the witness being down is not shown in /status")
        # The backup dies too: no failover is possible; the primary stops
        # acknowledging once its lease lapses and says why.
        b = "b" if p == "a" else "a"
        c.nodes[b].kill(signal.SIGKILL)
        time.sleep(LEASE_MS / 1000.0 + 0.1)
        r = c.kv(p, "PUT", "after", b"x", timeout=5)
        self.assertEqual(r.status, 503, r)
        self.assertTrue(r.header("x-reason"), r.headers)
        # The witness returns: the primary drops the backup from in_sync and goes on.
        c.witness.start()
        self.assertTrue(h.wait_for(lambda: c.kv(p, "PUT", "after", b"x").status == 200, 5), self.logs())

    def test_wiped_backup_is_never_promoted_and_rejoins(self):
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        for i in range(100):
            self.assertEqual(c.kv(p, "PUT", "k%d" % i, b"v").status, 200)
        old_id = c.status(b)["storage_id"]
        c.nodes[b].kill(signal.SIGKILL)
        shutil.rmtree(c.data_dir(b))
        c.nodes[b].start()
        self.assertTrue(h.wait_for(lambda: (c.status(b) or {}).get("storage_id") not in (None, old_id), 5))
        self.assertIsNotNone(c.wait_in_sync(2), self.logs())
        # It holds everything now.
        self.assertTrue(h.wait_for(lambda: c.kv(b, "GET", "k99", query="?stale=1").status == 200, 5))
        # Killed right after a wipe (before catching up), the primary's
        # replacement would be the empty node: never.
        c.nodes[b].kill(signal.SIGKILL)
        shutil.rmtree(c.data_dir(b))
        c.nodes[b].start()
        c.nodes[p].kill(signal.SIGKILL)
        time.sleep((TIMEOUT_MS + 500) / 1000.0)
        self.assertIsNone(c.primary(), self.logs())
        c.nodes[p].start()
        self.assertIsNotNone(c.wait_primary(5), self.logs())
        self.assertEqual(c.kv(c.primary(), "GET", "k99").status, 200)

    def test_both_restarted_at_once(self):
        c = self.c
        p = c.primary()
        self.assertEqual(c.kv(p, "PUT", "k", b"v").status, 200)
        for n in ("a", "b"):
            c.nodes[n].kill(signal.SIGKILL)
        for n in ("a", "b"):
            c.nodes[n].start()
        self.assertIsNotNone(c.wait_primary(5), self.logs())
        self.assertEqual(c.kv(c.primary(), "GET", "k").body, b"v")


class ConfigTest(unittest.TestCase):
    binary = None

    def test_bad_config_exits_2_with_file_and_line(self):
        d = h.tempdir()
        path = os.path.join(d, "s.yaml")
        with open(path, "w") as f:
            f.write("store:\n  node: a\n  data_dir: x\n  peers: {b: {listen: 127.0.0.1:1, peer_listen: 127.0.0.1:2}}\n"
                    "  arbiter: {address: 127.0.0.1:3}\n  heartbeat: {interval: 50ms, timeout: 250ms}\n"
                    "  lease: 240ms\n")
        p = h.spawn([self.binary, "store", "--config", path], stderr=open(os.path.join(d, "err"), "wb"))
        self.assertEqual(p.wait(10), 2)
        err = open(os.path.join(d, "err")).read()
        self.assertIn("s.yaml:7: store.lease: 240ms is not safely shorter than heartbeat.timeout", err)


if __name__ == "__main__":
    args, _ = h.parse_args()
    StoreTest.binary = ConfigTest.binary = os.path.abspath(args.binary)
    h.main()
