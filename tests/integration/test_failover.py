#!/usr/bin/env python3
"""Failover as a client sees it: a backend crashes, hangs, comes back; all of
them die; a backup takes over. Detection and recovery times are measured from
the fault and held to the bounds that the check config implies.

    python3 tests/integration/test_failover.py --binary build/failover
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

INTERVAL, RISE, FALL, TIMEOUT = 200, 2, 3, 200          # ms, as in the config below
SLACK = 0.3                                              # s: jitter + polling + scheduling
DETECT_BOUND = (FALL * INTERVAL + TIMEOUT) / 1000.0 + SLACK
RECOVER_BOUND = (RISE * INTERVAL + INTERVAL) / 1000.0 + SLACK


def web(servers, panic=True):
    return h.upstream(
        "web", servers,
        check={"interval": INTERVAL, "rise": RISE, "fall": FALL, "timeout": TIMEOUT,
               "type": "http", "uri": "/health"},
        passive={"max_fails": 1, "fail_timeout": "1s"},
        retry={"tries": 3, "timeout": "5s", "try_timeout": "500ms"},
        panic=panic)


class Failover(h.LbTestCase):
    def start_lb(self, servers, panic=True):
        listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
        return self.lb(h.lb_config(listen, admin, [web(servers, panic)], threads=2))  # two workers and the control thread meet

    def wait_all_up(self, lb, addresses, timeout=5.0):
        for a in addresses:
            took = lb.wait_state(a, "up", timeout)
            self.assertIsNotNone(took, "%s not up within %.1fs: %s" % (a, timeout, lb.server(a)))

    def test_crashed_backend_is_detected_and_returns_without_failed_requests(self):
        a, b, c = self.backends("a", "b", "c")
        lb = self.start_lb([a.address, b.address, c.address])
        self.wait_all_up(lb, [a.address, b.address, c.address])
        load = h.LoadClient(lb.listen, threads=4, duration=30, max_requests=50000).start()
        try:
            time.sleep(1.0)
            self.assertEqual(set(load.snapshot().by_backend()), {"a", "b", "c"},
                             "round robin should reach every backend")
            t_kill = time.monotonic()
            b.kill()
            detect = lb.wait_state(b.address, "down", DETECT_BOUND + 2.0, poll=0.02, since=t_kill)
            time.sleep(max(0.0, t_kill + 2.0 - time.monotonic()))  # past passive fail_timeout
            b.start()
            t_back = time.monotonic()
            load_t_back = load.now()
            recover = lb.wait_state(b.address, "up", RECOVER_BOUND + 3.0, poll=0.02, since=t_back)
            deadline = time.monotonic() + RECOVER_BOUND + 3.0
            served = None
            while time.monotonic() < deadline:
                served = load.snapshot().served_by_after(load_t_back, "b")
                if served is not None:
                    break
                time.sleep(0.02)
            time.sleep(0.5)
        finally:
            res = load.stop()
        log(res.summary())
        self.assert_alive(lb)
        log("detected down after %s ms (bound %d ms = fall*interval+timeout+%d slack)"
            % (None if detect is None else int(detect * 1000), DETECT_BOUND * 1000, SLACK * 1000))
        log("status up after %s ms, served again after %s ms (bound %d ms = rise*interval+interval+%d)"
            % (None if recover is None else int(recover * 1000),
               None if served is None else int((served - load_t_back) * 1000),
               RECOVER_BOUND * 1000, SLACK * 1000))
        self.assertEqual(len(res.failures), 0, "client saw failures: " + res.failure_summary())
        self.assertIsNotNone(detect, "killed backend never shown down")
        self.assertLessEqual(detect, DETECT_BOUND)
        self.assertIsNotNone(recover, "restarted backend never shown up")
        self.assertLessEqual(recover, RECOVER_BOUND)
        self.assertIsNotNone(served, "restarted backend never served again")
        self.assertLessEqual(served - load_t_back, RECOVER_BOUND + 0.1)

    def test_hung_backend_is_detected_and_requests_move_elsewhere(self):
        a, b, c = self.backends("a", "b", "c")
        lb = self.start_lb([a.address, b.address, c.address])
        self.wait_all_up(lb, [a.address, b.address, c.address])
        load = h.LoadClient(lb.listen, threads=4, duration=30, max_requests=50000).start()
        try:
            time.sleep(0.8)
            t_stop = time.monotonic()
            b.stop()
            detect = lb.wait_state(b.address, "down", DETECT_BOUND + 2.0, poll=0.02, since=t_stop)
            time.sleep(max(0.0, t_stop + 3.0 - time.monotonic()))
            b.cont()
            recover = lb.wait_state(b.address, "up", RECOVER_BOUND + 3.0, poll=0.02)
            time.sleep(0.3)
        finally:
            b.cont()
            res = load.stop()
        log(res.summary())
        self.assert_alive(lb)
        log("hung backend detected down after %s ms (bound %d ms); up %s ms after SIGCONT"
            % (None if detect is None else int(detect * 1000), DETECT_BOUND * 1000,
               None if recover is None else int(recover * 1000)))
        self.assertEqual(len(res.failures), 0, "client saw failures: " + res.failure_summary())
        self.assertIsNotNone(detect, "hung backend never shown down")
        self.assertLessEqual(detect, DETECT_BOUND)
        self.assertLessEqual(max(res.latencies()), 0.5 + 1.5,
                             "a request waited far beyond try_timeout (500ms)")
        self.assertIsNotNone(recover, "backend never up again after SIGCONT")

    def test_all_servers_down_without_panic_answers_clear_503(self):
        a, b = self.backends("a", "b")
        lb = self.start_lb([a.address, b.address], panic=False)
        self.wait_all_up(lb, [a.address, b.address])
        self.assertEqual(h.http_request(lb.listen).status, 200)
        a.kill()
        b.kill()
        for x in (a, b):
            self.assertIsNotNone(lb.wait_state(x.address, "down", DETECT_BOUND + 1.0))
        r = h.http_request(lb.listen, timeout=10)
        log("all down: %s %r" % (r.status, r.body[:200]))
        self.assertEqual(r.status, 503)
        text = r.body.decode("utf-8", "replace").lower()
        self.assertTrue(text.strip(), "503 without a body")
        self.assertTrue(any(w in text for w in ("web", "no healthy", "unavailable", "down")),
                        "503 body does not say why: %r" % text)
        st = lb.status()
        u = [u for u in st["upstreams"] if u["name"] == "web"][0]
        self.assertFalse(u.get("panic"), "panic mode on although panic: false")
        a.start()
        self.assertIsNotNone(lb.wait_state(a.address, "up", RECOVER_BOUND + 1.0))
        r = h.http_request(lb.listen)
        self.assertEqual((r.status, r.header("X-Served-By")), (200, "a"))

    def test_backup_serves_only_while_every_primary_is_down(self):
        a, b, bk = self.backends("a", "b", "backup")
        lb = self.start_lb([a.address, b.address, {"address": bk.address, "backup": True}])
        self.wait_all_up(lb, [a.address, b.address, bk.address])
        load = h.LoadClient(lb.listen, threads=4, duration=30, max_requests=50000).start()
        try:
            time.sleep(1.0)
            before = load.snapshot().by_backend()
            a.kill()
            b.kill()
            for x in (a, b):
                self.assertIsNotNone(lb.wait_state(x.address, "down", DETECT_BOUND + 1.0))
            t_down = load.now()
            time.sleep(1.5)
            during = load.snapshot()
            a.start()
            b.start()
            for x in (a, b):
                self.assertIsNotNone(lb.wait_state(x.address, "up", RECOVER_BOUND + 2.0))
            t_up = load.now()
            time.sleep(1.5)
        finally:
            res = load.stop()
        log(res.summary())
        self.assert_alive(lb)
        self.assertEqual(before.get("backup", 0), 0,
                         "backup got traffic while primaries were up: %s" % before)
        down_window = [r for r in during.records if r[0] > t_down + 0.2]
        self.assertTrue(down_window)
        self.assertTrue(all(r[4] == "backup" for r in down_window if r[1]),
                        "with primaries down, traffic went elsewhere than backup")
        after = [r for r in res.records if r[0] > t_up + 0.3]
        self.assertTrue(after)
        self.assertEqual([r for r in after if r[4] == "backup"], [],
                         "backup still served after primaries came back")
        self.assertEqual(len(res.failures), 0, "client saw failures: " + res.failure_summary())


if __name__ == "__main__":
    h.main()
