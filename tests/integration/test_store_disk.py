#!/usr/bin/env python3
"""The store's disk going bad under a node, as a user sees it: a byte flipped
in the middle of a backup's log while it was down. On its next start the
node finds the damage by checksum, keeps the good prefix, takes a new
storage_id (so the arbiter never promotes it on a log it no longer has),
repairs from the primary and rejoins in_sync; then it can take over, with
every acknowledged write."""
import glob
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402
from test_store import Cluster  # noqa: E402

KEYS = 300


class DiskTest(unittest.TestCase):
    binary = None

    def setUp(self):
        self.c = Cluster(self.binary)
        self.assertIsNotNone(self.c.wait_primary(10), "no primary elected\n" + self.logs())
        self.assertIsNotNone(self.c.wait_in_sync(2), "in_sync never grew to both\n" + self.logs())

    def tearDown(self):
        self.c.close()

    def logs(self):
        return "\n".join("--- %s\n%s" % (n, node.log()[-3000:]) for n, node in self.c.nodes.items())

    def value(self, i):
        return ("value-%d-" % i).encode() * 40

    def test_flipped_byte_mid_log_is_found_and_repaired_from_the_peer(self):
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        for i in range(KEYS):
            r = c.kv(p, "PUT", "key%d" % i, body=self.value(i))
            self.assertEqual(r.status, 200, r)
        old_id = c.status(b)["storage_id"]
        c.nodes[b].kill(signal.SIGKILL)

        segments = sorted(glob.glob(os.path.join(c.data_dir(b), "log", "*.log")))
        self.assertTrue(segments, "no log segment in " + c.data_dir(b))
        segment = segments[-1]
        size = os.path.getsize(segment)
        self.assertGreater(size, KEYS * 400)
        with open(segment, "r+b") as f:
            f.seek(size // 2)
            byte = f.read(1)
            f.seek(size // 2)
            f.write(bytes([byte[0] ^ 0x5A]))
        log("flipped the byte at %d of %d in %s" % (size // 2, size, segment))

        c.nodes[b].start()
        self.assertTrue(h.wait_for(lambda: (c.status(b) or {}).get("storage_id") not in (None, old_id), 5),
                        "the damaged node kept its storage_id\n" + self.logs())
        self.assertIn("damaged", c.nodes[b].log())
        new_id = c.status(b)["storage_id"]

        def rejoined():
            s = c.status(p)
            members = (s or {}).get("record", {}).get("in_sync", [])
            return {"node": b, "storage_id": new_id} in members

        self.assertTrue(h.wait_for(rejoined, 15, poll=0.02),
                        "the repaired node never rejoined in_sync with its new storage_id\n" + self.logs())
        self.assertEqual(c.primary(), p)

        # The repaired node takes over and holds every acknowledged write.
        c.nodes[p].kill(signal.SIGKILL)
        self.assertEqual(c.wait_primary(5, other_than=p), b, self.logs())
        for i in range(KEYS):
            r = c.kv(b, "GET", "key%d" % i)
            self.assertEqual((r.status, r.body), (200, self.value(i)), "key%d" % i)


if __name__ == "__main__":
    args, _ = h.parse_args()
    DiskTest.binary = os.path.abspath(args.binary)
    h.main()
