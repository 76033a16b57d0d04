#!/usr/bin/env python3
"""The store pair under a random run of faults, with a fixed seed: SIGKILL
of the primary (restarted), SIGSTOP of the primary past the grace (then
SIGCONT), a planned switchover, and a cut of the replication link between
the nodes (reset or blackholed, through a `failover proxy` on each side)
while both still reach the witness. Three clients write and read all along;
every operation is recorded, and the history, with a final read of every
key, must be linearizable per key by the project's own checker (`failover
check-history`, the one `failover drill` runs): no stale read, no
acknowledged write lost.

    FAILOVER_FAULT_SEED=7 python3 tests/integration/test_store_faults.py --binary build/failover
"""
import os
import random
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import store_history  # noqa: E402
from harness import log  # noqa: E402
from test_store import FAILOVER_BOUND_S, LEASE_MS, TIMEOUT_MS, PairTestCase, assert_history  # noqa: E402

FAULTS = 20
SEED = int(os.environ.get("FAILOVER_FAULT_SEED", "2026"))
KINDS = ("kill", "stop", "switchover", "cut")
# The primary drops a cut-off backup from in_sync once its lease lapses and
# the arbiter answers; a cut lasts until it has.
CUT_S = (TIMEOUT_MS + LEASE_MS + 300) / 1000.0


class RandomFaultsTest(PairTestCase):
    CLUSTER = {"proxied": True}

    def fault(self, kind, clients):
        """Puts one fault on the pair and lifts it; returns a line for the log."""
        c = self.c
        p = c.wait_primary(5)
        self.assertIsNotNone(p, self.logs())
        other = "b" if p == "a" else "a"
        at = time.monotonic()
        if kind == "kill":
            c.nodes[p].kill(signal.SIGKILL)
            self.assertEqual(c.wait_primary(5, other_than=p), other, self.logs())
            self.assertTrue(h.wait_for(lambda: clients.first_ack_after(at) is not None, 5), self.logs())
            took = clients.first_ack_after(at) - at
            self.assertLess(took, FAILOVER_BOUND_S, self.logs())
            c.nodes[p].start()
            return "kill %s: %s writing after %.0f ms" % (p, other, took * 1000)
        if kind == "stop":
            os.kill(c.nodes[p].pid, signal.SIGSTOP)
            try:
                self.assertEqual(c.wait_primary(5, other_than=p), other, self.logs())
                self.assertTrue(h.wait_for(lambda: clients.first_ack_after(at) is not None, 5), self.logs())
                took = clients.first_ack_after(at) - at
            finally:
                os.kill(c.nodes[p].pid, signal.SIGCONT)
            # A client's request to the stopped node hangs until its own
            # timeout (1 s): that, not the failover, is what it waits for.
            self.assertLess(took, store_history.REQUEST_TIMEOUT_S + FAILOVER_BOUND_S, self.logs())
            return "stop %s: %s writing after %.0f ms" % (p, other, took * 1000)
        if kind == "switchover":
            r = h.http_request(c.listen[p], "POST", "/admin/switchover?to=" + other, timeout=10)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(c.wait_primary(2), other, self.logs())
            return "switchover %s -> %s in %.0f ms" % (p, other, (time.monotonic() - at) * 1000)
        fault = random.Random(SEED + int(at)).choice(("drop 1", "blackhole"))
        c.cut_link(fault)
        try:
            # Cut off from its backup past its lease, the primary drops it from
            # in_sync (the backup, out of it, cannot be promoted) and goes on alone.
            self.assertTrue(c.wait_in_sync(1, CUT_S + 2), "the primary kept its cut-off backup\n" + self.logs())
            self.assertTrue(self.progress(clients, more=10, timeout=5), "no write during the cut\n" + self.logs())
        finally:
            c.cut_link("none")
        return "cut (%s) for %.0f ms: %s primary after" % (fault, (time.monotonic() - at) * 1000, c.wait_primary(5))

    def test_random_faults_keep_the_history_linearizable(self):
        rng = random.Random(SEED)
        kinds = [KINDS[i % len(KINDS)] for i in range(FAULTS)]
        rng.shuffle(kinds)
        log("seed %d: %s" % (SEED, " ".join(kinds)))
        clients = store_history.Clients(self.c, count=3, seconds=300, seed=SEED)
        clients.start()
        try:
            for i, kind in enumerate(kinds):
                self.assertTrue(self.progress(clients), "no progress before fault %d\n%s" % (i, self.logs()))
                log("fault %d: %s" % (i, self.fault(kind, clients)))
                self.assertTrue(self.c.wait_in_sync(2, 15), "in_sync never grew back to both\n" + self.logs())
            self.assertTrue(self.progress(clients))
        finally:
            clients.stop()
        assert_history(self, self.c, clients)


class CheckHistoryCliTest(unittest.TestCase):
    """`failover check-history` as a script sees it: exit 0 linearizable, 1
    not (each violation said), 2 a bad file (FILE:LINE: what is wrong)."""
    binary = None

    def run_on(self, text):
        path = os.path.join(h.tempdir("failover-history-"), "h.jsonl")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([self.binary, "check-history", path], capture_output=True, text=True, timeout=30)
        return p, path

    def test_exit_codes(self):
        w1 = '{"op":"write","key":"k","value":"a","start_ms":0,"end_ms":1,"outcome":"ok"}\n'
        w2 = '{"op":"write","key":"k","value":"b","start_ms":2,"end_ms":3,"outcome":"ok"}\n'
        fresh = '{"op":"read","key":"k","value":"b","start_ms":4,"end_ms":5,"outcome":"ok"}\n'
        stale = '{"op":"read","key":"k","value":"a","start_ms":4,"end_ms":5,"outcome":"ok"}\n'
        p, _ = self.run_on(w1 + w2 + fresh)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("linearizable: 3 operations", p.stdout)
        p, _ = self.run_on(w1 + w2 + stale)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("stale", p.stdout)
        p, path = self.run_on(w1 + '{"op":"read","key":"k"}\n')
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertTrue(p.stderr.startswith(path + ":2: "), p.stderr)


if __name__ == "__main__":
    args, _ = h.parse_args()
    RandomFaultsTest.binary = CheckHistoryCliTest.binary = os.path.abspath(args.binary)
    h.main()
