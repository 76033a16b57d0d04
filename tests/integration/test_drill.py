"""`failover drill` as a user (or a CI job) runs it: a short drill over a
cluster like examples/cluster.yaml kills or hangs one component of every
layer under load and must lose nothing: no failed request, no lost
acknowledged write, no stale read, every fault noticed and taken back
within the bounds the cluster's config implies; it writes JSON and an HTML
report. The exit status guards a CI: a cluster with one LB fails when that
LB dies. A bad --faults exits 2."""
import json
import os
import subprocess
import time
import unittest

import harness as h
from cluster import Up, cluster_file


def drill(dir_, path, *args, timeout=150):
    out = os.path.join(dir_, "drill.json")
    report = os.path.join(dir_, "report.html")
    t0 = time.monotonic()
    r = subprocess.run([h.BINARY, "drill", "--config", path, "--json", out, "--report", report] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - t0
    result = None
    if os.path.exists(out):
        with open(out) as f:
            result = json.load(f)
    return r, result, report, took


class DrillTest(unittest.TestCase):
    def test_every_layer_fails_over_and_back_with_nothing_lost(self):
        d = h.tempdir("failover-drill-")
        path, _ = cluster_file(d)
        r, res, report, took = drill(d, path)
        h.log("drill took %.1f s; its table:\n%s" % (took, r.stdout))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr[-5000:])
        self.assertLess(took, 90)
        q = res["requests"]
        self.assertGreater(q["reads"], 500)
        self.assertGreater(q["writes"], 200)
        self.assertEqual((q["reads_failed"], q["writes_failed"]), (0, 0))
        self.assertEqual(res["history"]["lost_writes"], 0)
        self.assertEqual(res["history"]["violations"], [])
        self.assertEqual([f["fault"] for f in res["faults"]][:3], ["kill lb-a", "kill web-1", "kill registry-1"])
        # Then the links the cluster file put proxies on: the store pair's
        # replication link cut, an instance's link slowed.
        self.assertEqual([f["fault"] for f in res["faults"]][8:],
                         [res["faults"][8]["fault"], "delay 500ms web-2"])
        self.assertTrue(res["faults"][8]["fault"].startswith("blackhole store-"), res["faults"][8])
        self.assertEqual(res["faults"][8]["link"], "blackhole")
        self.assertEqual(len(res["faults"]), 10)
        for f in res["faults"]:
            self.assertTrue(f["within_bounds"], f)
            self.assertIsNotNone(f["failed_back_ms"], f)
            if f["detect_bound_ms"] is not None:
                self.assertIsNotNone(f["detected_ms"], f)
                self.assertLessEqual(f["detected_ms"], f["detect_bound_ms"], f)
        store = [f for f in res["faults"] if f["kind"] == "store" and f["action"] != "link"]
        self.assertEqual(len(store), 2)
        for f in store:  # a new primary serves after the grace and the arbiter's round trip
            self.assertGreaterEqual(f["failed_over_ms"], 200, f)
        # A cut replication link is noticed by the primary once its lease
        # from the backup's acknowledgements runs out.
        cut = res["faults"][8]
        self.assertIsNotNone(cut["detected_ms"], cut)
        self.assertGreaterEqual(cut["detected_ms"], 100, cut)
        self.assertEqual(res["sla"]["availability"], 1.0)
        self.assertTrue(res["passed"])
        self.assertIn("RESULT: PASS", r.stdout)
        with open(report) as f:
            html = f.read()
        self.assertIn("<svg", html)
        self.assertIn("kill store-", html)
        self.assertGreater(len(res["timeline"]), 10)
        self.assertTrue(any("SIGKILL" in e["event"] for e in res["events"]))
        # Nothing the drill started is left.
        left = subprocess.run(["pgrep", "-f", d], capture_output=True, text=True).stdout.split()
        self.assertEqual(left, [])

    def test_the_exit_status_fails_a_run_where_requests_failed(self):
        d = h.tempdir("failover-drill-")
        path, _ = cluster_file(d, lbs=1)
        # Clients give up after 300 ms; the only LB is down longer than that.
        r, res, _, _ = drill(d, path, "--faults", "kill:lb-a", "--deadline", "300ms")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr[-3000:])
        self.assertGreater(res["requests"]["reads_failed"] + res["requests"]["writes_failed"], 0)
        self.assertFalse(res["passed"])
        self.assertIn("RESULT: FAIL", r.stdout)
        f = res["faults"][0]
        self.assertGreater(f["outage_ms"], 0)
        self.assertLess(res["sla"]["availability"], 1.0)

    def test_attach_drills_a_running_up_and_leaves_it_running(self):
        d = h.tempdir("failover-drill-")
        path, addr = cluster_file(d)
        up = Up(h.BINARY, path, addr["dashboard"])
        try:
            up.wait_serving()
            # up's API, as the drill uses it.
            api = lambda name, verb: h.http_request(addr["dashboard"], "POST",  # noqa: E731
                                                    "/components/%s/%s" % (name, verb))
            self.assertEqual(api("nobody", "kill").status, 404)
            self.assertEqual(api("web-3", "explode").status, 404)
            self.assertEqual(h.http_request(addr["dashboard"], path="/components/web-3/kill").status, 405)
            self.assertEqual(api("web-3", "restart").status, 409)  # it runs
            self.assertEqual(api("web-3", "kill").status, 200)
            self.assertTrue(h.wait_for(lambda: not up.component("web-3")["running"], 5.0))
            self.assertEqual(api("web-3", "kill").status, 409)  # not running
            r = api("web-3", "restart")  # answers once it is ready
            self.assertEqual(r.status, 200, r.body)
            self.assertTrue(r.json()["running"])
            self.assertEqual(up.component("web-3")["starts"], 2)

            r, res, _, _ = drill(d, path, "--attach", "--faults", "kill:web-1,stop:primary,blackhole:primary")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr[-3000:])
            self.assertEqual(len(res["faults"]), 3)
            for f in res["faults"]:
                self.assertIsNotNone(f["detected_ms"], f)
                self.assertIsNotNone(f["failed_back_ms"], f)
                self.assertTrue(f["within_bounds"], f)
            self.assertTrue(any("SIGKILL through the API" in e["event"] for e in res["events"]))
            # The stack runs on, whole, with no fault left on a link.
            self.assertIsNone(up.proc.poll())
            st = up.status()
            for c in st["components"]:
                self.assertTrue(c["running"] and not c["hung"], c)
            for name, p in st["proxies"].items():
                self.assertEqual(p["fault"], "none", name)
            self.assertEqual(up.component("web-1")["starts"], 2)
        finally:
            self.assertEqual(up.stop(), 0, up.stderr()[-3000:])
        # Attaching to nothing fails fast and clearly.
        r = subprocess.run([h.BINARY, "drill", "--attach", "--config", path, "--faults", "kill:web-1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("failover up does not answer", r.stderr)

    def test_bad_faults_exit_2(self):
        d = h.tempdir("failover-drill-")
        path, _ = cluster_file(d)
        r = subprocess.run([h.BINARY, "drill", "--config", path, "--faults", "kill:nobody"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("nobody is no component", r.stderr)
        r = subprocess.run([h.BINARY, "drill", "--config", path, "--faults", "blackhole:web-1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("web-1 has no proxy", r.stderr)


if __name__ == "__main__":
    h.main()
