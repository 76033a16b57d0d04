#!/usr/bin/env python3
"""`failover registry` as a user sees it: leases that expire and evict,
blocking queries that wake within 50 ms and only for their own service,
protection, auth, bad input, and peers that keep every instance when one of
them is SIGKILLed. With --backend etcd the same suite runs against a real
etcd started on loopback (see registry_backend below)."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

TOKEN = "s3cret"


class Registry:
    """A thin client of the registry API, for tests."""

    def __init__(self, node, listen, token=TOKEN):
        self.node, self.listen, self.token = node, listen, token

    def call(self, method, path, body=None, token=True, timeout=5.0):
        headers = {}
        if token and self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        return h.http_request(self.listen, method, path, body=data, headers=headers, timeout=timeout)

    def register(self, service, iid, port, ttl_ms=1000, address="127.0.0.1", meta=None):
        r = self.call("PUT", "/v1/services/%s/instances/%s" % (service, iid),
                      {"address": address, "port": port, "ttl_ms": ttl_ms, "meta": meta or {}})
        assert r.status in (200, 201), (r.status, r.body)
        return r

    def heartbeat(self, service, iid):
        return self.call("PUT", "/v1/services/%s/instances/%s/heartbeat" % (service, iid)).status

    def get(self, service, query="", timeout=5.0):
        return self.call("GET", "/v1/services/%s%s" % (service, "?" + query if query else ""),
                         token=False, timeout=timeout)

    def instances(self, service, all_=True):
        r = self.get(service, "all=1" if all_ else "")
        if r.status == 404:
            return {}
        return {i["id"]: i for i in r.json()["instances"]}


class RegistryTest(h.LbTestCase):
    BACKEND = None      # a function giving the backend: block; None: embedded
    TTL = 300           # ms, the short ttl the lease tests use
    EXPIRY_SLACK = 150  # ms past the ttl within which an instance must turn unhealthy

    def start_registry(self, listen=None, peers=None, **extra):
        listen = listen or "127.0.0.1:%d" % h.free_port()
        backend = self.BACKEND() if self.BACKEND else {"type": "embedded"}
        cfg = {"listen": listen, "token": TOKEN, "backend": backend}
        if peers:
            cfg["peers"] = peers
        cfg.update(extra)
        node = self.node("registry", {"registry": cfg}, wait_addr=listen)
        return Registry(node, listen)

    def wait_for(self, predicate, timeout, poll=0.01):
        return h.wait_for(predicate, timeout, poll)

    # ------------------------------------------------------------ leases

    def test_missed_heartbeats_turn_unhealthy_then_remove(self):
        r = self.start_registry()
        ttl = self.TTL
        r.register("web", "w1", 18081, ttl_ms=ttl)
        r.register("web", "w2", 18082, ttl_ms=ttl)
        # w2 keeps heartbeating; w1 stops right after registering.
        stop = threading.Event()

        def beat():
            while not stop.is_set():
                r.heartbeat("web", "w2")
                time.sleep(ttl / 3000.0)

        t = threading.Thread(target=beat, daemon=True)
        t.start()
        try:
            last_beat = time.monotonic()
            took = self.wait_for(lambda: not r.instances("web").get("w1", {}).get("healthy", True), 5)
            self.assertIsNotNone(took, "w1 never turned unhealthy")
            since = time.monotonic() - last_beat
            log("w1 unhealthy %.0f ms after its last heartbeat (ttl %d ms)" % (since * 1e3, ttl))
            self.assertGreaterEqual(since * 1e3, ttl * 0.95, "unhealthy before its ttl")
            self.assertLess(since * 1e3, ttl + self.EXPIRY_SLACK, "not unhealthy within ttl plus a tick")
            # The default query lists only healthy instances.
            self.assertEqual(sorted(r.instances("web", all_=False)), ["w2"])
            gone = self.wait_for(lambda: "w1" not in r.instances("web"), 10)
            since = time.monotonic() - last_beat
            log("w1 removed %.0f ms after its last heartbeat (deregister_after 3 x ttl)" % (since * 1e3))
            self.assertIsNotNone(gone)
            self.assertGreaterEqual(since * 1e3, 4 * ttl * 0.95)
            self.assertLess(since * 1e3, 4 * ttl + 2 * self.EXPIRY_SLACK)
            self.assertTrue(r.instances("web")["w2"]["healthy"])
        finally:
            stop.set()
            t.join(2)

    def test_heartbeat_of_unknown_instance_is_404_and_batch_reports_it(self):
        r = self.start_registry()
        self.assertEqual(r.heartbeat("web", "nobody"), 404)
        r.register("web", "w1", 18081, ttl_ms=5000)
        resp = r.call("POST", "/v1/heartbeats",
                      {"instances": [{"service": "web", "id": "w1"}, {"service": "web", "id": "zz"}]})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.json(), {"renewed": 1, "unknown": [{"service": "web", "id": "zz"}]})

    def test_deregister_removes_at_once(self):
        r = self.start_registry()
        r.register("web", "w1", 18081)
        self.assertEqual(r.call("DELETE", "/v1/services/web/instances/w1").status, 200)
        self.assertEqual(r.instances("web"), {})
        self.assertEqual(r.call("DELETE", "/v1/services/web/instances/w1").status, 404)

    # ------------------------------------------------------------ blocking queries

    def blocking_get(self, r, service, index, wait="10s"):
        out = {}

        def run():
            out["resp"] = r.get(service, "index=%d&wait=%s" % (index, wait), timeout=30)
            out["at"] = time.monotonic()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, out

    def test_blocking_query_wakes_within_50ms_and_only_for_its_service(self):
        r = self.start_registry()
        r.register("web", "w1", 18081, ttl_ms=60000)
        r.register("api", "a1", 19001, ttl_ms=60000)
        index = r.get("web").json()["index"]
        delays = []
        for i in range(5):
            t, out = self.blocking_get(r, "web", index)
            time.sleep(0.2)
            # A change elsewhere must not wake it.
            r.register("api", "a-%d" % i, 19100 + i, ttl_ms=60000)
            time.sleep(0.2)
            self.assertNotIn("resp", out, "woken by a change to another service")
            changed = time.monotonic()
            r.register("web", "w-%d" % i, 18100 + i, ttl_ms=60000)
            t.join(5)
            self.assertIn("resp", out)
            delay = out["at"] - changed
            delays.append(delay)
            body = out["resp"].json()
            self.assertGreater(body["index"], index)
            self.assertIn("w-%d" % i, [x["id"] for x in body["instances"]])
            index = body["index"]
        log("blocking query woken %s ms after the change"
            % ", ".join("%.1f" % (d * 1e3) for d in delays))
        self.assertLess(max(delays), 0.05)

    def test_blocking_query_never_misses_a_change_between_two_queries(self):
        r = self.start_registry()
        r.register("web", "w1", 18081, ttl_ms=60000)
        index = r.get("web").json()["index"]
        r.register("web", "w2", 18082, ttl_ms=60000)  # happens before the next query
        t0 = time.monotonic()
        resp = r.get("web", "index=%d&wait=5s" % index)
        self.assertLess(time.monotonic() - t0, 0.5, "a change already past the index must answer at once")
        self.assertIn("w2", [x["id"] for x in resp.json()["instances"]])

    def test_blocking_query_times_out_with_the_same_index(self):
        r = self.start_registry()
        r.register("web", "w1", 18081, ttl_ms=60000)
        index = r.get("web").json()["index"]
        t0 = time.monotonic()
        resp = r.get("web", "index=%d&wait=300ms" % index)
        took = time.monotonic() - t0
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json()["index"], index)
        self.assertGreaterEqual(took, 0.28)
        self.assertLess(took, 1.5)

    # ------------------------------------------------------------ protection

    def test_protection_lists_every_instance_with_its_true_health(self):
        r = self.start_registry(protect_threshold=0.6)
        for i in range(4):
            r.register("web", "w%d" % i, 18080 + i, ttl_ms=self.TTL if i < 2 else 60000)
        # w0 and w1 stop heartbeating: 2 of 4 healthy = 0.5 < 0.6
        self.assertIsNotNone(self.wait_for(
            lambda: sum(not i["healthy"] for i in r.instances("web").values()) == 2, 5))
        body = r.get("web").json()
        log("protected reply: %s" % json.dumps(body)[:300])
        self.assertTrue(body["protected"])
        self.assertAlmostEqual(body["healthy_ratio"], 0.5, places=3)
        self.assertEqual(len(body["instances"]), 4)
        health = {i["id"]: i["healthy"] for i in body["instances"]}
        self.assertEqual(health, {"w0": False, "w1": False, "w2": True, "w3": True})

    # ------------------------------------------------------------ auth and bad input

    def test_writes_need_the_token_reads_do_not(self):
        r = self.start_registry()
        body = {"address": "127.0.0.1", "port": 1, "ttl_ms": 1000}
        self.assertEqual(r.call("PUT", "/v1/services/web/instances/w1", body, token=False).status, 401)
        wrong = Registry(r.node, r.listen, token="wrong")
        self.assertEqual(wrong.call("PUT", "/v1/services/web/instances/w1", body).status, 401)
        self.assertEqual(r.call("PUT", "/v1/services/web/instances/w1", body).status, 201)
        self.assertEqual(r.get("web").status, 200)
        self.assertEqual(r.call("GET", "/v1/services", token=False).json()["services"],
                         [{"name": "web", "instances": 1}])

    def test_bad_input_gets_a_json_error(self):
        r = self.start_registry()
        cases = [
            ("GET", "/v1/services/nosuch", None, 404),
            ("PUT", "/v1/services/web/instances/w1", b"{not json", 400),
            ("PUT", "/v1/services/web/instances/w1", {"address": "x", "port": "80"}, 400),
            ("PUT", "/v1/services/web/instances/w1", {"address": "x", "port": 80, "ttl_ms": -1}, 400),
            ("PUT", "/v1/services/web/instances/w1", {"address": "x", "port": 80, "ttl_ms": 10 ** 15}, 400),
            ("PUT", "/v1/services/web/instances/a%2Fb", {"address": "x", "port": 80}, 400),
            ("PUT", "/v1/services/web/instances/a%01b", {"address": "x", "port": 80}, 400),
            ("PUT", "/v1/services/web/instances/a/b", {"address": "x", "port": 80}, 400),
            ("PUT", "/v1/services/bad%20name/instances/w1", {"address": "x", "port": 80}, 400),
            ("GET", "/v1/services/web?index=abc", None, 400),
            ("POST", "/v1/heartbeats", {"instances": "all"}, 400),
        ]
        for method, path, body, want in cases:
            resp = r.call(method, path, body)
            self.assertEqual(resp.status, want, "%s %s -> %s %r" % (method, path, resp.status, resp.body[:200]))
            self.assertIn("error", resp.json(), resp.body[:200])
        # A body over max_body_size (1 MiB): refused from its Content-Length.
        raw, _, _ = h.raw_exchange(r.listen, b"PUT /v1/services/web/instances/w1 HTTP/1.1\r\nHost: x\r\n"
                                   b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
                                   b"Content-Length: 3000000\r\n\r\n", timeout=5, read_until_close=False)
        self.assertEqual(h.status_line_code(raw), 413, raw[:200])
        self.assertTrue(r.node.alive())

    # ------------------------------------------------------------ peers

    def test_peers_replicate_and_survive_a_sigkill(self):
        if self.BACKEND:
            self.skipTest("peers are for the embedded backend")
        a_addr, b_addr = ["127.0.0.1:%d" % h.free_port() for _ in range(2)]
        a = self.start_registry(a_addr, peers=["http://" + b_addr])
        b = self.start_registry(b_addr, peers=["http://" + a_addr])
        for i in range(20):
            (a if i % 2 else b).register("web", "w%d" % i, 18000 + i, ttl_ms=2000)
        both = self.wait_for(lambda: len(a.instances("web")) == 20 and len(b.instances("web")) == 20, 3)
        self.assertIsNotNone(both, "not replicated: a has %d, b has %d"
                             % (len(a.instances("web")), len(b.instances("web"))))
        log("20 instances on both peers after %.0f ms" % (both * 1e3))
        a.node.kill()
        # Instances keep heartbeating through b (as agents moving over would).
        for _ in range(6):
            for i in range(20):
                self.assertEqual(b.heartbeat("web", "w%d" % i), 200)
            time.sleep(0.5)
        inst = b.instances("web")
        self.assertEqual(len(inst), 20)
        self.assertTrue(all(i["healthy"] for i in inst.values()))
        # a restarts empty and fills itself from b before it answers.
        a.node.start()
        self.assertEqual(len(a.instances("web")), 20, "restarted peer did not fill from the other")
        b.call("DELETE", "/v1/services/web/instances/w0")
        self.assertIsNotNone(self.wait_for(lambda: "w0" not in a.instances("web"), 3))


def registry_backend():
    """--backend etcd runs the suite on a real etcd (Debian's etcd-server)."""
    if "--backend" in sys.argv:
        i = sys.argv.index("--backend")
        kind = sys.argv[i + 1]
        del sys.argv[i:i + 2]
        return kind
    return "embedded"


if __name__ == "__main__":
    if registry_backend() == "etcd":
        import etcd_harness  # noqa: E402
        RegistryTest.BACKEND = staticmethod(etcd_harness.backend_config)
        # etcd counts leases in whole seconds (1 s at the least with the
        # short elections etcd_harness sets) and checks expiry every 500 ms.
        RegistryTest.TTL = 1000
        RegistryTest.EXPIRY_SLACK = 700
    h.main()
