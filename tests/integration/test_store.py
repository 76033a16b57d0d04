#!/usr/bin/env python3
"""`failover store` and `failover witness` as a user sees them: a pair of
nodes and a witness on loopback, the HTTP API, and faults with real
processes — SIGKILL of the primary 20 times under writes and reads from
three clients (every operation recorded and checked), SIGSTOP of
the primary, the witness killed (alone, and with the primary), an old
primary that comes back with a tail nobody acknowledged, a backup whose
data_dir was wiped, both nodes restarted at once. Every test asserts what a client saw: writes that
failed, acknowledged writes lost (must be none), stale reads (none), and the
time to fail over against the bound the config implies."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import store_history  # noqa: E402
from harness import log  # noqa: E402

INTERVAL_MS, TIMEOUT_MS, LEASE_MS = 50, 250, 200
# From the kill to the first write the new primary acknowledges: the grace,
# at most one beat before it, the arbiter's compare-and-set and the fsync of
# the entry that opens the epoch; the rest is this machine's scheduling.
FAILOVER_BOUND_S = (TIMEOUT_MS + INTERVAL_MS + 400) / 1000.0
KILLS = 20


class Cluster:
    """A witness and two store nodes, a and b, each a tracked process."""

    def __init__(self, binary, strict=False, extra=None, extra_for=None, etcd_key=None, proxied=False,
                 etcd_endpoints=None):
        """With `etcd_key`, the record is that key of the shared test etcd
        (etcd_harness) and there is no witness. With `proxied`, each node
        reaches the other's replication port through a `failover proxy`, so
        that cut_link() can cut the link between them while both still reach
        the arbiter."""
        self.binary = binary
        self.dir = h.tempdir("failover-store-")
        p = {n: h.free_port() for n in ("wit", "a", "ra", "b", "rb")}
        self.witness_addr = "127.0.0.1:%d" % p["wit"]
        self.listen = {"a": "127.0.0.1:%d" % p["a"], "b": "127.0.0.1:%d" % p["b"]}
        self.peer = {"a": "127.0.0.1:%d" % p["ra"], "b": "127.0.0.1:%d" % p["rb"]}
        self.witness = None
        arbiter = {"type": "witness", "address": self.witness_addr}
        if etcd_key:
            import etcd_harness
            arbiter = {"type": "etcd", "endpoints": etcd_endpoints or [etcd_harness.start()], "key": etcd_key}
        else:
            self.witness = h.Node(binary, "witness", {"witness": {"listen": self.witness_addr,
                                                                  "data_dir": os.path.join(self.dir, "witness")}},
                                  wait_addr=self.witness_addr)
        self.proxies = {}  # node -> (the proxy in front of its replication port, its admin address)
        reach = dict(self.peer)
        if proxied:
            for n in ("a", "b"):
                listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
                proc = h.spawn([binary, "proxy", "--name", "link", "--listen", listen, "--upstream", self.peer[n],
                                "--admin", admin])
                for addr in (listen, admin):
                    host, port = h.split_addr(addr)
                    h.wait_port(port, host, 10, proc)
                self.proxies[n] = (proc, admin)
                reach[n] = listen
        self.nodes = {}
        for n in ("a", "b"):
            other = "b" if n == "a" else "a"
            cfg = {"store": {"node": n, "listen": self.listen[n], "peer_listen": self.peer[n],
                             "data_dir": self.data_dir(n),
                             "peers": {other: {"listen": self.listen[other], "peer_listen": reach[other]}},
                             "arbiter": arbiter,
                             "heartbeat": {"interval": "%dms" % INTERVAL_MS, "timeout": "%dms" % TIMEOUT_MS},
                             "lease": "%dms" % LEASE_MS, "strict": strict}}
            cfg["store"].update(extra or {})
            cfg["store"].update((extra_for or {}).get(n, {}))
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

    def wait_applied(self, n, seq, timeout=5.0, poll=0.005):
        """Seconds until node n's /status shows applied_seq >= seq, or None."""
        return h.wait_for(lambda: (self.status(n) or {}).get("applied_seq", 0) >= seq, timeout, poll=poll)

    def kv(self, n, method, key, body=None, headers=None, query="", timeout=2.0):
        path = "/kv/" + urllib.parse.quote(key, safe="") + query
        return h.http_request(self.listen[n], method, path, body=body, headers=headers or {}, timeout=timeout)

    def cut_link(self, fault="drop 1"):
        """Puts `fault` on the link between the nodes, both ways ("none" lifts it)."""
        for proc, admin in self.proxies.values():
            r = h.http_request(admin, "PUT", "/faults/link", body=fault.encode())
            if r.status != 200:
                raise RuntimeError("the proxy refused %r: %r" % (fault, r))

    def close(self):
        for node in self.nodes.values():
            node.close()
        if self.witness:
            self.witness.close()
        for proc, _ in self.proxies.values():
            h.reap(proc)


class PairTestCase(unittest.TestCase):
    """A test on a fresh pair, Cluster(binary, **CLUSTER), with a primary and
    both nodes in in_sync before it starts."""
    binary = None
    CLUSTER = {}

    def cluster(self):
        return Cluster(self.binary, **self.CLUSTER)

    def setUp(self):
        self.c = self.cluster()
        self.assertIsNotNone(self.c.wait_primary(10), "no primary elected\n" + self.logs())
        self.assertTrue(self.c.wait_in_sync(2), "in_sync never grew to both\n" + self.logs())

    def tearDown(self):
        self.c.close()

    def logs(self):
        return "\n".join("--- %s\n%s" % (n, node.log()[-3000:]) for n, node in self.c.nodes.items())

    def progress(self, clients, more=20, timeout=10):
        """Whether `clients` get `more` writes acknowledged within `timeout`."""
        acked = len(clients.acked_writes())
        return h.wait_for(lambda: len(clients.acked_writes()) >= acked + more, timeout)


def metric_samples(text):
    """Prometheus text -> {'name{labels}': value}, comments skipped."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


PHASES = ("detect", "cas", "reconcile", "first_write", "total")


def assert_history(test, cluster, clients):
    """The clients' history, with one final read of every key from the
    primary, is linearizable by `failover check-history` (no stale read, no
    acknowledged write lost), and the last acknowledged write of each key is
    what the final read found."""
    p = cluster.wait_primary(10)
    test.assertIsNotNone(p)
    ops = clients.ops()

    def read(key):
        r = cluster.kv(p, "GET", key)
        test.assertIn(r.status, (200, 404), (key, r))
        return r.status, r.body.decode()
    finals = store_history.final_reads({op.key for op in ops}, read)
    passed, said = store_history.linearizable(cluster.binary, ops + finals, cluster.dir)
    test.assertTrue(passed, said)
    # The checker sees this history: a read of an overwritten value, added
    # at the end, must fail it.
    acked = sorted((op for op in ops if op.kind == "put" and op.status == 200), key=lambda w: w.end)
    if len(acked) >= 2 and acked[0].end < acked[-1].start:
        now = time.monotonic()
        stale = store_history.Op("get", acked[0].key, None, now, "planted")
        stale.end, stale.status = now, 200
        stale.value = acked[0].value
        later = [w for w in acked if w.key == stale.key and w.start > acked[0].end]
        if later:
            passed, planted = store_history.linearizable(cluster.binary, ops + finals + [stale], cluster.dir)
            test.assertFalse(passed, "the checker missed a planted stale read: " + planted)
    values = {op.key: op.value for op in finals}
    test.assertEqual(store_history.check_final(ops, values.get), [])
    log("history: %s; %d writes acknowledged" % (said, len(clients.acked_writes())))


class StoreTest(PairTestCase):
    ARBITER = "witness"  # --arbiter etcd: the same suite with the record in the test etcd

    clusters = 0

    def cluster(self, **kw):
        if self.ARBITER == "etcd":  # a key of its own: a new cluster's record
            StoreTest.clusters += 1
            kw["etcd_key"] = "/failover-test-suite-%d-%d" % (os.getpid(), StoreTest.clusters)
        return Cluster(self.binary, **kw)

    def needs_witness(self):
        if self.ARBITER != "witness":
            self.skipTest("kills or restarts the witness: not in the run on etcd")

    def check_history(self, clients):
        assert_history(self, self.c, clients)

    def test_kill_primary_under_load_repeatedly(self):
        c = self.c
        clients = store_history.Clients(c, count=3, seconds=240)
        clients.start()
        times = []
        try:
            for round_ in range(KILLS):
                acked = len(clients.acked_writes())
                self.assertTrue(h.wait_for(lambda: len(clients.acked_writes()) > acked + 30, 10),
                                "no progress\n" + self.logs())
                p = c.primary()
                self.assertIsNotNone(p)
                killed_at = time.monotonic()
                c.nodes[p].kill(signal.SIGKILL)
                new = c.wait_primary(5, other_than=p)
                self.assertIsNotNone(new, "no new primary\n" + self.logs())
                self.assertTrue(h.wait_for(lambda: clients.first_ack_after(killed_at) is not None, 5))
                took = clients.first_ack_after(killed_at) - killed_at
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
            clients.stop()
        ms = sorted(int(t * 1000) for t in times)
        log("%d kills: kill to first acknowledged write p50 %d ms, p99 %d ms, max %d ms (bound %d ms); all: %s"
            % (len(ms), store_history.percentile(ms, 50), store_history.percentile(ms, 99), ms[-1],
               FAILOVER_BOUND_S * 1000, ms))
        self.check_history(clients)

    def test_stopped_primary_never_serves_when_it_wakes(self):
        c = self.c
        clients = store_history.Clients(c, count=3, seconds=30)
        clients.start()
        try:
            self.assertTrue(h.wait_for(lambda: len(clients.acked_writes()) > 20, 10))
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
            clients.stop()
        self.check_history(clients)

    def careful_put(self, key, value, deadline=3.0):
        """A write as the client library makes it: one Idempotency-Key, any
        node, 307 and 503 retried until the deadline. (acknowledged, tries, seconds)"""
        t0, tries = time.monotonic(), 0
        while time.monotonic() - t0 < deadline:
            for n in ("a", "b"):
                tries += 1
                try:
                    r = self.c.kv(n, "PUT", key, body=value.encode(), headers={"Idempotency-Key": "i-" + key},
                                  timeout=1.0)
                except OSError:
                    continue
                if r.status == 200:
                    return True, tries, time.monotonic() - t0
            time.sleep(0.005)
        return False, tries, time.monotonic() - t0

    def switchover(self, to):
        r = subprocess.run([self.binary, "store", "switchover", "--config", self.c.nodes["a"].config_path,
                            "--to", to], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.logs())
        return json.loads(r.stdout)

    def test_switchover_under_load_fails_and_loses_nothing(self):
        c = self.c
        writers = store_history.UniqueWriters(self.careful_put, prefix="sw")
        writers.start()
        try:
            time.sleep(0.5)
            first = c.primary()
            other = "b" if first == "a" else "a"
            epoch = c.status(first)["epoch"]
            done = self.switchover(other)
            self.assertEqual((done["from"], done["to"], done["epoch"]), (first, other, epoch + 1))
            self.assertEqual(c.wait_primary(2), other)
            self.assertEqual(c.status(first)["role"], "backup")
            self.assertIsNotNone(c.wait_in_sync(2), self.logs())
            time.sleep(0.3)
            back = self.switchover(first)  # and back
            self.assertEqual((back["to"], back["epoch"]), (first, epoch + 2))
            self.assertIsNotNone(c.wait_in_sync(2), self.logs())
            time.sleep(0.3)
        finally:
            writers.stop()
        log("switchovers took %d and %d ms (as the old primary saw them); %d writes, %d failed, slowest %.0f ms"
            % (done["took_ms"], back["took_ms"], len(writers.acked), len(writers.failed), writers.slowest * 1000))
        self.assertEqual(writers.failed, [])
        self.assertGreater(len(writers.acked), 100)
        self.assertLess(writers.slowest, 1.0)
        p = c.wait_primary(2)
        for key, value in writers.acked.items():
            r = c.kv(p, "GET", key)
            self.assertEqual((r.status, r.body.decode()), (200, value), key)
        # Asked of a backup alone, or for a node out of the pair: a clear no.
        r = h.http_request(c.listen[other], "POST", "/admin/switchover?to=" + first)
        self.assertEqual(r.status, 409, r)
        r = subprocess.run([self.binary, "store", "switchover", "--config", c.nodes["a"].config_path, "--to", "zed"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_the_preferred_node_takes_its_role_back_after_the_hold_down(self):
        self.c.close()
        hold_down = 1.0
        c = self.c = self.cluster(extra_for={"a": {"preempt": True, "preempt_hold_down": "%dms" % (hold_down * 1000)}})
        self.assertIsNotNone(c.wait_primary(10))
        self.assertIsNotNone(c.wait_in_sync(2))
        # Whoever won the first election, a is primary within a hold-down.
        self.assertEqual(c.wait_primary(hold_down + 3, other_than="b"), "a", self.logs())
        self.assertIsNotNone(c.wait_in_sync(2))
        epoch = c.status("a")["epoch"]
        c.nodes["a"].kill(signal.SIGKILL)
        self.assertEqual(c.wait_primary(5, other_than="a"), "b")
        c.nodes["a"].start()
        self.assertIsNotNone(c.wait_in_sync(2), self.logs())
        back_in_sync = time.monotonic()
        # Not before the hold-down, and by a switchover: one epoch, no failover.
        self.assertEqual(c.wait_primary(hold_down + 3, other_than="b"), "a", self.logs())
        took = time.monotonic() - back_in_sync
        self.assertGreaterEqual(took, hold_down * 0.8)
        self.assertEqual(c.status("a")["epoch"], epoch + 2)  # b's failover, then a's switchover
        log("a took its role back %.2f s after it was in sync again (hold-down %.1f s)" % (took, hold_down))
        self.assertIn("preempt", c.nodes["a"].log())

    def test_notify_scripts_run_on_role_changes_and_never_hold_one_up(self):
        self.c.close()
        d = h.tempdir("failover-notify-")
        script = os.path.join(d, "notify.sh")
        with open(script, "w") as f:
            # Slow on becoming primary, failing always: neither may delay a failover.
            f.write('#!/bin/sh\necho "$@" >> "%s/$NODE.log"\n[ "$2" = primary ] && sleep 5\nexit 3\n' % d)
        os.chmod(script, 0o755)
        def said(n):
            path = os.path.join(d, n + ".log")
            if not os.path.exists(path):
                return ""
            with open(path) as f:
                return f.read()
        notify = lambda n: {"notify": {"primary": "NODE=%s %s" % (n, script), "backup": "NODE=%s %s" % (n, script)}}  # noqa: E731
        c = self.c = self.cluster(extra_for={"a": notify("a"), "b": notify("b")})
        p = c.wait_primary(10)
        self.assertIsNotNone(p)
        self.assertIsNotNone(c.wait_in_sync(2))
        b = "b" if p == "a" else "a"
        self.assertTrue(h.wait_for(lambda: " primary " in said(p), 5))
        epoch = c.status(p)["epoch"]
        t0 = time.monotonic()
        c.nodes[p].kill(signal.SIGKILL)
        self.assertEqual(c.wait_primary(5, other_than=p), b)
        took = time.monotonic() - t0
        self.assertLess(took, FAILOVER_BOUND_S + 0.2)  # the 5-s script did not hold it up
        self.assertTrue(h.wait_for(lambda: "candidate primary %d" % (epoch + 1) in said(b), 5), said(b))
        # The old primary comes back as a backup: its script says so, exits 3, and that is logged.
        c.nodes[p].start()
        self.assertIsNotNone(c.wait_in_sync(2), self.logs())
        self.assertTrue(h.wait_for(lambda: " backup " in said(p), 5), said(p))
        self.assertTrue(h.wait_for(lambda: "exited with status 3" in c.nodes[p].log(), 5), c.nodes[p].log()[-2000:])
        log("failover with a 5-s notify script: %.0f ms" % (took * 1000))

    def test_an_idempotency_key_answers_its_retry_and_refuses_another_request(self):
        c = self.c
        p = c.primary()
        key = {"Idempotency-Key": "idem-test-1"}
        first = c.kv(p, "PUT", "idem", b"one", headers=key)
        self.assertEqual(first.status, 200, first)
        again = c.kv(p, "PUT", "idem", b"one", headers=key)  # a retry: the same answer
        self.assertEqual((again.status, again.json()), (200, first.json()))
        # The key reused for another value, key or method: 422, nothing written.
        for method, k, body in (("PUT", "idem", b"two"), ("PUT", "idem-other", b"one"), ("DELETE", "idem", None)):
            r = c.kv(p, method, k, body, headers=key)
            self.assertEqual(r.status, 422, (method, k, r))
            self.assertIn("used for another request", r.json()["error"])
        self.assertEqual(c.kv(p, "GET", "idem").body, b"one")
        self.assertEqual(c.kv(p, "GET", "idem-other").status, 404)
        # The same on the backup once it takes over: the record was replicated.
        self.assertIsNotNone(c.wait_in_sync(2), self.logs())
        c.nodes[p].kill(signal.SIGKILL)
        q = c.wait_primary(10, other_than=p)
        self.assertIsNotNone(q, self.logs())
        again = c.kv(q, "PUT", "idem", b"one", headers=key, timeout=5)
        self.assertEqual((again.status, again.json()), (200, first.json()))
        self.assertEqual(c.kv(q, "PUT", "idem", b"two", headers=key).status, 422)

    def test_a_backup_applies_what_is_committed_within_a_beat_and_a_tick(self):
        # A backup applies committed entries in batches (128, or whatever
        # is waiting at its next tick, a quarter of the heartbeat interval):
        # its stale reads lag by that much and no more, even when the writes
        # stop short of a batch.
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        self.assertIsNotNone(c.wait_in_sync(2), self.logs())
        for i in range(100):
            self.assertEqual(c.kv(p, "PUT", "lag%d" % i, b"v%d" % i).status, 200)
        committed = c.status(p)["commit_seq"]
        # The commit point reaches the backup with the next beacon (one
        # interval), its tick applies it (a quarter of one); the rest is this
        # machine's scheduling.
        bound_s = (INTERVAL_MS + INTERVAL_MS / 4 + 200) / 1000.0
        waited = c.wait_applied(b, committed)
        self.assertIsNotNone(waited, self.logs())
        self.assertLessEqual(waited, bound_s, "the backup applied %.3f s after the writes" % waited)
        r = c.kv(b, "GET", "lag99", query="?stale=1")
        self.assertEqual((r.status, r.body), (200, b"v99"))

    def test_a_backup_applies_on_a_thread_at_idle_cpu_priority(self):
        # No write waits for a backup's apply, so it runs where it takes only
        # CPU time nothing else wants: the backup's "store-apply" thread, at
        # SCHED_IDLE, is the one whose CPU time grows as the backup applies.
        SCHED_IDLE = 5
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        self.assertIsNotNone(c.wait_in_sync(2), self.logs())
        pid = c.nodes[b].pid

        def applier():
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    if f.read().strip() == "store-apply":
                        return tid
            return None

        def on_cpu_ns(tid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                return int(f.read().split()[0])

        tid = applier()
        self.assertIsNotNone(tid, "no store-apply thread in the backup")
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        self.assertEqual(int(fields[41 - 3]), SCHED_IDLE, "policy (proc(5) field 41) of store-apply")
        before = on_cpu_ns(tid)
        for i in range(300):
            self.assertEqual(c.kv(p, "PUT", "idle%d" % i, b"v").status, 200)
        committed = c.status(p)["commit_seq"]
        self.assertIsNotNone(c.wait_applied(b, committed), self.logs())
        self.assertGreater(on_cpu_ns(tid), before, "the backup applied, but not on store-apply")

    def test_witness_down_changes_nothing_while_both_live(self):
        self.needs_witness()
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
        # Its disk is wiped again and the primary dies before it is back (a
        # returning node catches up within milliseconds, and would then
        # rightly be a member again): the primary's replacement would be the
        # empty node: never.
        c.nodes[b].kill(signal.SIGKILL)
        shutil.rmtree(c.data_dir(b))
        c.nodes[p].kill(signal.SIGKILL)
        c.nodes[b].start()
        time.sleep((TIMEOUT_MS + 500) / 1000.0)
        self.assertIsNone(c.primary(), self.logs())
        c.nodes[p].start()
        self.assertIsNotNone(c.wait_primary(5), self.logs())
        self.assertEqual(c.kv(c.primary(), "GET", "k99").status, 200)

    def test_witness_and_primary_down_nobody_serves_until_the_witness_returns(self):
        self.needs_witness()
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        for i in range(50):
            self.assertEqual(c.kv(p, "PUT", "k%d" % i, b"v%d" % i).status, 200)
        c.witness.kill(signal.SIGKILL)
        c.nodes[p].kill(signal.SIGKILL)
        time.sleep((TIMEOUT_MS + 300) / 1000.0)
        # Unavailable, and said so: no primary to follow, so 503, not a 307.
        self.assertIsNone(c.primary())
        r = c.kv(b, "PUT", "during", b"x")
        self.assertEqual(r.status, 503, r)
        self.assertTrue(r.header("retry-after"), r.headers)
        self.assertEqual(c.status(b)["role"], "candidate", c.status(b))
        # The witness returns: the backup, in in_sync, takes over with every write.
        t = time.monotonic()
        c.witness.start()
        self.assertEqual(c.wait_primary(5), b, self.logs())
        log("witness back: %s serving after %.0f ms" % (b, 1000 * (time.monotonic() - t)))
        for i in range(50):
            self.assertEqual(c.kv(b, "GET", "k%d" % i).body, b"v%d" % i)
        self.assertEqual(c.kv(b, "PUT", "after", b"x").status, 200)

    def test_old_primary_quarantines_its_unacknowledged_tail_and_rejoins(self):
        self.needs_witness()
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        self.assertEqual(c.kv(p, "PUT", "acked", b"1").status, 200)
        # With the witness down the primary cannot drop its backup, and with
        # the backup dead it cannot commit: what it takes now (within its
        # lease) reaches its own log only, and no client is told it was
        # written. (A stopped backup would not do: the entries would wait in
        # its socket buffer and be committed by it as the next primary.)
        c.witness.kill(signal.SIGKILL)
        c.nodes[b].kill(signal.SIGKILL)
        answers = {}

        def put(i):
            try:
                answers[i] = c.kv(p, "PUT", "tail%d" % i, b"never-acked-%d" % i, timeout=1.0).status
            except OSError as e:
                answers[i] = repr(e)
        threads = [threading.Thread(target=put, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        self.assertFalse([a for a in answers.values() if a == 200], answers)
        tail_in_log = c.status(p)["last_seq"] - c.status(p)["commit_seq"]
        self.assertGreater(tail_in_log, 0, "the primary's log has no unacknowledged tail: %s" % c.status(p))
        c.nodes[p].kill(signal.SIGKILL)
        c.witness.start()
        c.nodes[b].start()  # in in_sync, and the record's primary is dead: it takes over
        self.assertEqual(c.wait_primary(5), b, self.logs())
        self.assertEqual(c.kv(b, "PUT", "new", b"2").status, 200)
        # The old primary comes back: its tail is cut into quarantine/, never
        # silently, and it is a backup in in_sync again.
        c.nodes[p].start()
        self.assertTrue(c.wait_in_sync(2), self.logs())
        qdir = os.path.join(c.data_dir(p), "quarantine")
        quarantined = {}
        for name in os.listdir(qdir):
            with open(os.path.join(qdir, name)) as f:
                for line in f:
                    e = json.loads(line)
                    quarantined[e["key"]] = e
        self.assertEqual(len(quarantined), tail_in_log, quarantined)
        for key, e in quarantined.items():
            self.assertTrue(key.startswith("tail"), e)
            self.assertEqual(e["value"], "never-acked-" + key[4:])
            self.assertEqual(c.kv(b, "GET", key).status, 404)
        self.assertEqual(c.status(p)["role"], "backup")
        self.assertTrue(h.wait_for(lambda: c.kv(p, "GET", "new", query="?stale=1").status == 200, 5))
        self.assertEqual(c.kv(b, "GET", "acked").body, b"1")

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
    if "--arbiter" in sys.argv:  # --arbiter etcd
        i = sys.argv.index("--arbiter")
        StoreTest.ARBITER = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    args, _ = h.parse_args()
    StoreTest.binary = ConfigTest.binary = os.path.abspath(args.binary)
    h.main()
