#!/usr/bin/env python3
"""A store pair behind `failover lb` (examples/store-lb.yaml): clients that
know only the LB's address keep writing through a failover. The LB sends to
the node whose GET /primary passes; when the primary is SIGKILLed, the LB's
retry and its check move the writes to the new primary, and a client that
retries a 503 with the same Idempotency-Key within its deadline loses
nothing: every write is acknowledged and none is lost. With no primary at
all, the LB answers a clear 503."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import store_history  # noqa: E402
from harness import log  # noqa: E402
from test_store import FAILOVER_BOUND_S, Cluster  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "store-lb.yaml")
CHECK_INTERVAL_S = 0.1  # the example's
DEADLINE_S = 3.0  # a client's patience for one write, retries included


class StoreBehindLbTest(unittest.TestCase):
    binary = None

    def setUp(self):
        self.c = Cluster(self.binary)
        self.assertIsNotNone(self.c.wait_primary(10))
        self.assertTrue(self.c.wait_in_sync(2))
        # The shipped example, on this test's ports.
        self.lb = "127.0.0.1:%d" % h.free_port()
        with open(EXAMPLE) as f:
            text = f.read()
        for old, new in (("127.0.0.1:7000", self.lb), ("127.0.0.1:7090", "127.0.0.1:%d" % h.free_port()),
                         ("127.0.0.1:7001", self.c.listen["a"]), ("127.0.0.1:7002", self.c.listen["b"])):
            self.assertIn(old, text)
            text = text.replace(old, new)
        path = os.path.join(self.c.dir, "lb.yaml")
        with open(path, "w") as f:
            f.write(text)
        self.lb_err = open(os.path.join(self.c.dir, "lb.stderr"), "wb")
        self.lb_proc = h.spawn([self.binary, "lb", "--config", path], stderr=self.lb_err)
        host, port = h.split_addr(self.lb)
        self.assertTrue(h.wait_port(port, host, 10, self.lb_proc))

    def tearDown(self):
        h.reap(self.lb_proc)
        self.lb_err.close()
        self.c.close()

    def put(self, key, value):
        """One write through the LB as a careful client makes it: a 5xx or a
        broken connection is retried with the same key until the deadline.
        Returns (acknowledged, tries, seconds)."""
        t0, tries = time.monotonic(), 0
        while time.monotonic() - t0 < DEADLINE_S:
            tries += 1
            try:
                r = h.http_request(self.lb, "PUT", "/kv/" + key, body=value.encode(),
                                   headers={"Idempotency-Key": "idem-" + key}, timeout=DEADLINE_S)
                if r.status == 200:
                    return True, tries, time.monotonic() - t0
                self.assertIn(r.status, (502, 503, 504), r)
            except OSError:
                pass
            time.sleep(0.02)
        return False, tries, time.monotonic() - t0

    def test_writes_through_the_lb_survive_a_failover(self):
        self.assertTrue(h.wait_for(lambda: self.put("warm", "up")[0], 5))
        writers = store_history.UniqueWriters(self.put, prefix="c", max_each=2000)
        writers.start()
        time.sleep(1.0)
        p = self.c.primary()
        self.c.nodes[p].kill(signal.SIGKILL)
        self.assertIsNotNone(self.c.wait_primary(5, other_than=p))
        time.sleep(1.0)
        self.c.nodes[p].start()
        self.assertTrue(self.c.wait_in_sync(2), "the old primary never rejoined")
        time.sleep(0.5)
        writers.stop()
        log("%d writes acknowledged through the LB, %d failed, %d needed another try, slowest %.0f ms"
            % (len(writers.acked), len(writers.failed), writers.retried, writers.slowest * 1000))
        self.assertEqual(writers.failed, [])
        self.assertGreater(len(writers.acked), 100)
        # The slowest write waited out the failover and the LB's next check.
        self.assertLess(writers.slowest, FAILOVER_BOUND_S + CHECK_INTERVAL_S + 1.0)
        # Nothing acknowledged is lost, and every read goes through the LB too.
        for key, value in writers.acked.items():
            r = h.http_request(self.lb, "GET", "/kv/" + key, timeout=5)
            self.assertEqual((r.status, r.body.decode()), (200, value), key)

    def test_no_primary_is_a_clear_503(self):
        # The witness and the primary down: nobody may serve, and the LB says so.
        self.c.witness.kill(signal.SIGKILL)
        p = self.c.primary()
        self.c.nodes[p].kill(signal.SIGKILL)
        self.assertTrue(h.wait_for(
            lambda: h.http_request(self.lb, "PUT", "/kv/x", body=b"y", timeout=2).status == 503, 5))


if __name__ == "__main__":
    args, _ = h.parse_args()
    StoreBehindLbTest.binary = os.path.abspath(args.binary)
    h.main()
