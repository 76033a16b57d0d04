#!/usr/bin/env python3
"""Services that heartbeat through `failover agent`, a `failover registry`
that evicts them, and a `failover lb` that follows the registry without a
reload. What a client sees when an agent and its service die, when a
service's own check fails, and when a registry peer is SIGKILLed."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402
from test_registry import Registry  # noqa: E402

TTL = 1000        # ms, each agent's registration
INTERVAL = 200    # ms, the agents' checks and the LB's
FALL = 2


class Discovery(h.LbTestCase):
    BACKEND = None      # a function giving a backend: block; None: embedded with peers
    LEAVE_SLACK = 1.0   # s past the ttl for a dead instance to leave the LB

    def setUp(self):
        super().setUp()
        # Every registry node of one test shares one backend (one etcd prefix).
        self.backend_block = self.BACKEND() if self.BACKEND else None

    def registry(self, peers=(), listen=None):
        listen = listen or "127.0.0.1:%d" % h.free_port()
        cfg = {"listen": listen}
        if self.backend_block:
            cfg["backend"] = self.backend_block  # nodes share etcd instead of being peers
        elif peers:
            cfg["peers"] = list(peers)
        return Registry(self.node("registry", {"registry": cfg}, wait_addr=listen), listen, token=None)

    def agent(self, registries, backend, ttl=TTL):
        svc = {"name": "web", "id": backend.name, "address": "127.0.0.1", "port": backend.port,
               "ttl": ttl,
               "check": {"interval": INTERVAL, "rise": 1, "fall": FALL, "timeout": 200,
                         "type": "http", "uri": "/health"}}
        admin = "127.0.0.1:%d" % h.free_port()
        return self.node("agent", {"agent": {"registry": ["http://" + r.listen for r in registries],
                                             "admin": admin, "services": [svc]}}, wait_addr=admin)

    def start_lb(self, registries):
        up = h.upstream("web", [],
                        check={"interval": INTERVAL, "rise": 1, "fall": 3, "timeout": 200,
                               "type": "http", "uri": "/health"},
                        passive={"max_fails": 1, "fail_timeout": "2s"},
                        retry={"tries": 3, "timeout": "5s", "try_timeout": "500ms"},
                        discovery={"registry": ["http://" + r.listen for r in registries],
                                   "service": "web"})
        del up["servers"]
        listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
        return self.lb(h.lb_config(listen, admin, [up], threads=2))

    def lb_servers(self, lb):
        return {s["address"]: s["state"] for s in lb.status()["upstreams"][0]["servers"]}

    def wait_for(self, predicate, timeout, poll=0.02):
        return h.wait_for(predicate, timeout, poll)

    def wait_lb_has(self, lb, addresses, timeout=8.0):
        took = self.wait_for(lambda: set(a for a, st in self.lb_servers(lb).items() if st == "up")
                             == set(addresses), timeout)
        self.assertIsNotNone(took, "LB servers %s, want %s" % (self.lb_servers(lb), sorted(addresses)))
        return took

    def test_lb_follows_agents_and_loses_no_request_when_one_dies(self):
        r = self.registry()
        backends = self.backends("a", "b", "c")
        agents = {b.name: self.agent([r], b) for b in backends}
        lb = self.start_lb([r])
        took = self.wait_lb_has(lb, [b.address for b in backends])
        log("LB has the 3 agents' services %.2f s after it started" % took)
        load = h.LoadClient(lb.listen, threads=4, duration=30, max_requests=50000).start()
        try:
            time.sleep(1.0)
            b = backends[1]
            t_kill = time.monotonic()
            agents["b"].kill()   # the host dies: its agent and its service together
            b.kill()
            gone = self.wait_for(lambda: b.address not in self.lb_servers(lb), TTL / 1000.0 + 4)
            self.assertIsNotNone(gone, "LB still lists %s: %s" % (b.address, self.lb_servers(lb)))
            log("dead instance left the LB %.2f s after SIGKILL (ttl %.1f s)" % (gone, TTL / 1000.0))
            self.assertLess(gone, TTL / 1000.0 + self.LEAVE_SLACK)
            t_gone = load.now()
            time.sleep(1.0)
        finally:
            res = load.stop()
        log("%d requests, %d failed, p99 %.1f ms" % (res.total, len(res.failures), res.p(99) * 1e3))
        self.assertEqual(res.failures, [], "client requests failed")
        after = [rec for rec in res.records if rec[0] > t_gone + 0.1]
        self.assertTrue(after)
        self.assertNotIn("b", set(rec[4] for rec in after), "LB still sent requests to the dead instance")
        self.assertEqual(set(rec[4] for rec in after), {"a", "c"})

    def test_failing_check_is_reported_at_once_not_after_the_ttl(self):
        r = self.registry()
        a = self.backend("a")
        self.agent([r], a, ttl=10_000)
        self.assertIsNotNone(self.wait_for(lambda: r.instances("web").get("a", {}).get("healthy"), 5))
        t0 = time.monotonic()
        a.kill()  # refused: the agent's check fails, fall=2
        took = self.wait_for(lambda: not r.instances("web")["a"]["healthy"], 5)
        self.assertIsNotNone(took)
        log("failed check reported %.0f ms after the service died (fall %d x interval %d ms; ttl 10 s)"
            % (took * 1e3, FALL, INTERVAL))
        self.assertLess(took, (FALL * INTERVAL + INTERVAL) / 1000.0 + 0.3)
        a.start()
        back = self.wait_for(lambda: r.instances("web")["a"]["healthy"], 5)
        self.assertIsNotNone(back)
        log("healthy again %.0f ms after the service restarted" % (back * 1e3))

    def test_agent_deregisters_on_sigterm(self):
        r = self.registry()
        a = self.backend("a")
        agent = self.agent([r], a, ttl=10_000)
        self.assertIsNotNone(self.wait_for(lambda: "a" in r.instances("web"), 5))
        self.assertEqual(agent.terminate(), 0)
        self.assertNotIn("a", r.instances("web"), "still registered after the agent's SIGTERM")

    def test_agent_serves_status_metrics_and_dashboard(self):
        r = self.registry()
        a = self.backend("a")
        agent = self.agent([r], a, ttl=10_000)
        admin = agent.config["agent"]["admin"]
        self.assertIsNotNone(self.wait_for(lambda: "a" in r.instances("web"), 5))
        h.check_role_endpoints(self, admin, "agent")
        m = h.http_request(admin, "GET", "/metrics").body.decode().splitlines()
        self.assertIn('failover_agent_service_healthy{service="web",id="a"} 1', m)
        self.assertIn('failover_agent_service_registered{service="web",id="a"} 1', m)
        h.check_role_endpoints(self, r.listen, "registry")

    def test_registry_peer_sigkill_loses_no_instance_and_no_request(self):
        la, lb_ = ["127.0.0.1:%d" % h.free_port() for _ in range(2)]
        ra = self.registry(peers=["http://" + lb_], listen=la)
        rb = self.registry(peers=["http://" + la], listen=lb_)
        backends = self.backends("a", "b", "c")
        for b in backends:
            self.agent([ra, rb], b)
        lb = self.start_lb([ra, rb])
        self.wait_lb_has(lb, [b.address for b in backends])
        load = h.LoadClient(lb.listen, threads=4, duration=30, max_requests=50000).start()
        try:
            time.sleep(0.5)
            ra.node.kill()
            t_kill = time.monotonic()
            # Agents and the LB move to rb; for 3 ttls every instance must stay.
            while time.monotonic() - t_kill < 3 * TTL / 1000.0:
                inst = rb.instances("web")
                self.assertEqual(sorted(i for i, v in inst.items() if v["healthy"]), ["a", "b", "c"],
                                 "rb lost an instance: %s" % inst)
                self.assertEqual(len(self.lb_servers(lb)), 3)
                time.sleep(0.1)
            # The LB still follows changes, now through rb.
            c = backends[2]
            c.kill()
            gone = self.wait_for(lambda: c.address not in self.lb_servers(lb) or
                                 self.lb_servers(lb)[c.address] == "down", 5)
            self.assertIsNotNone(gone)
            time.sleep(0.5)
        finally:
            res = load.stop()
        log("registry peer killed: %d requests, %d failed" % (res.total, len(res.failures)))
        self.assertEqual(res.failures, [])
        self.assertEqual(lb.status()["upstreams"][0]["discovery"]["registry"], "http://" + lb_)


if __name__ == "__main__":
    if "--backend" in sys.argv:
        i = sys.argv.index("--backend")
        if sys.argv[i + 1] == "etcd":
            import etcd_harness  # noqa: E402
            Discovery.BACKEND = staticmethod(etcd_harness.backend_config)
            Discovery.LEAVE_SLACK = 1.5  # etcd checks lease expiry every 500 ms
        del sys.argv[i:i + 2]
    h.main()
