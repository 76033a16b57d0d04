#!/usr/bin/env python3
"""A backup that needs entries the primary has discarded comes back by a
RocksDB checkpoint, as a user sees it: the primary's log is kept short
(log.keep_entries), the backup is down (or its data_dir wiped) while many
writes go by; when it returns it fetches and installs the primary's
checkpoint, follows by entries from there, rejoins in_sync, and can then
take over with every acknowledged write."""
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from test_store import PairTestCase  # noqa: E402

KEEP = 200          # log.keep_entries: discards start past 2 x KEEP applied entries
KEYS = 120
WRITES_WHILE_DOWN = 1500


class CheckpointTest(PairTestCase):
    CLUSTER = {"extra": {"log": {"segment_bytes": "16KiB", "keep_entries": KEEP}}}

    def put(self, node, i, round_):
        value = ("%d-%d-" % (round_, i)).encode() * 10
        r = self.c.kv(node, "PUT", "key%d" % (i % KEYS), body=value)
        self.assertEqual(r.status, 200, r)
        self.latest["key%d" % (i % KEYS)] = value

    def come_back_by_checkpoint(self, wipe):
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        self.latest = {}
        for i in range(KEYS):
            self.put(p, i, 0)
        old_id = c.status(b)["storage_id"]
        b_last = c.status(b)["last_seq"]
        c.nodes[b].kill(signal.SIGKILL)
        for i in range(WRITES_WHILE_DOWN):
            self.put(p, i, 1)
        # The primary let go of entries the backup never had.
        self.assertTrue(h.wait_for(lambda: c.status(p)["log"]["first_seq"] > b_last + 1, 10),
                        "the primary never discarded its log\n%s\n%s" % (c.status(p), self.logs()))
        self.assertGreaterEqual(c.status(p)["log"]["discards"], 1)
        if wipe:
            shutil.rmtree(c.data_dir(b))
        c.nodes[b].start()

        def rejoined():
            s, mine = c.status(p), c.status(b)
            if not s or not mine:
                return False
            return {"node": b, "storage_id": mine["storage_id"]} in s["record"]["in_sync"]

        self.assertTrue(h.wait_for(rejoined, 20, poll=0.05),
                        "the backup never rejoined in_sync\n%s\n%s" % (c.status(p), self.logs()))
        mine = c.status(b)
        self.assertEqual(mine["checkpoints"]["installed"], 1, mine)
        self.assertGreaterEqual(c.status(p)["checkpoints"]["offered"], 1)
        self.assertEqual(mine["storage_id"] != old_id, wipe)
        self.assertFalse(os.path.exists(os.path.join(c.data_dir(b), "install.json")))
        self.assertFalse(os.path.exists(os.path.join(c.data_dir(b), "incoming")))
        # Entries flow again after the checkpoint, then the backup takes over.
        for i in range(50):
            self.put(p, i, 2)
        c.nodes[p].kill(signal.SIGKILL)
        self.assertEqual(c.wait_primary(5, other_than=p), b, self.logs())
        for key, value in sorted(self.latest.items()):
            r = c.kv(b, "GET", key)
            self.assertEqual((r.status, r.body), (200, value), key)
        # And the old primary, restarted, follows by entries (nothing discarded since).
        c.nodes[p].start()
        self.assertTrue(h.wait_for(lambda: len((c.status(b) or {}).get("record", {}).get("in_sync", [])) == 2, 15),
                        self.logs())

    def test_backup_behind_the_discarded_log_comes_back_by_checkpoint(self):
        self.come_back_by_checkpoint(wipe=False)

    def test_wiped_backup_comes_back_by_checkpoint(self):
        self.come_back_by_checkpoint(wipe=True)


if __name__ == "__main__":
    args, _ = h.parse_args()
    CheckpointTest.binary = os.path.abspath(args.binary)
    h.main()
