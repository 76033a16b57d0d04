#!/usr/bin/env python3
"""The store's disk going bad under a node, as a user sees it: a byte flipped
in the middle of a backup's log while it was down. On its next start the
node finds the damage by checksum, keeps the good prefix, takes a new
storage_id (so the arbiter never promotes it on a log it no longer has),
repairs from the primary and rejoins in_sync; then it can take over, with
every acknowledged write.

And a full disk (each node's data_dir on its own small tmpfs, filled by the
test): the primary hands its role to the in-sync backup and writes go on
there; alone, it answers 507; a full backup leaves in_sync and says why;
with room again, each comes back. No acknowledged write is lost, and the
clients' history stays linearizable."""
import glob
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402
import store_history  # noqa: E402
from test_store import PairTestCase, assert_history  # noqa: E402

KEYS = 300


class DiskTest(PairTestCase):

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
        with open(segment, "rb") as f:
            size = len(f.read().rstrip(b"\0"))  # the frames, without the zeros reserved ahead
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


TMPFS_MIB, MIN_FREE_MIB = 64, 16


class DiskFullTest(PairTestCase):

    def setUp(self):
        self.mounts = {}
        root = h.tempdir("failover-disk-full-")
        for n in ("a", "b"):
            path = os.path.join(root, n)
            os.makedirs(path)
            p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % TMPFS_MIB, "tmpfs", path],
                               capture_output=True, text=True)
            if p.returncode != 0:
                self.tearDown()
                self.skipTest("cannot mount a tmpfs here (%s): the full-disk tests need root" % p.stderr.strip())
            self.mounts[n] = path
        self.CLUSTER = {"extra": {"min_free_disk": "%dMiB" % MIN_FREE_MIB},
                        "extra_for": {n: {"data_dir": os.path.join(self.mounts[n], "data")} for n in ("a", "b")}}
        super().setUp()

    def tearDown(self):
        if getattr(self, "c", None):
            self.c.close()
        for path in self.mounts.values():
            subprocess.run(["umount", "-l", path], capture_output=True)

    def fill(self, n):
        """Leaves about half of min_free_disk free on n's tmpfs."""
        st = os.statvfs(self.mounts[n])
        room = st.f_bavail * st.f_frsize - MIN_FREE_MIB * (1 << 20) // 2
        with open(os.path.join(self.mounts[n], "filler"), "wb") as f:
            f.write(b"\0" * max(room, 0))

    def unfill(self, n):
        os.remove(os.path.join(self.mounts[n], "filler"))

    def test_full_primary_hands_over_and_full_backup_leaves_in_sync(self):
        c = self.c
        clients = store_history.Clients(c, count=3, seconds=120)
        clients.start()
        try:
            self.assertTrue(self.progress(clients), self.logs())
            p = c.primary()
            other = "b" if p == "a" else "a"
            filled_at = time.monotonic()
            self.fill(p)
            self.assertEqual(c.wait_primary(5, other_than=p), other, "the full primary kept its role\n" + self.logs())
            log("primary %s filled: %s primary after %.0f ms" % (p, other, (time.monotonic() - filled_at) * 1000))
            self.assertTrue(self.progress(clients), "no writes after the handover\n" + self.logs())
            # The full node, now a backup, takes no entries: out of in_sync.
            self.assertTrue(c.wait_in_sync(1, 5), self.logs())
            s = c.status(p)
            self.assertTrue(s["disk"]["full"], s)
            self.assertIn("disk full", s["disk"]["reason"])
            r = h.http_request(c.listen[p], "GET", "/replica")
            self.assertEqual(r.status, 503, r)
            self.assertIn("disk full", r.header("x-reason"))
            self.unfill(p)
            self.assertTrue(c.wait_in_sync(2, 15), "the node never came back after its disk had room\n" + self.logs())
            self.assertTrue(self.progress(clients))
        finally:
            clients.stop()
        assert_history(self, c, clients)

    def test_full_primary_alone_answers_insufficient_storage(self):
        c = self.c
        p = c.primary()
        other = "b" if p == "a" else "a"
        c.nodes[other].kill(signal.SIGKILL)
        self.assertTrue(c.wait_in_sync(1, 5), self.logs())  # alone after its lease
        self.assertEqual(c.kv(p, "PUT", "before", body=b"v").status, 200)
        self.fill(p)
        answers = []  # (key, reply) of each write tried once the disk is full

        def refused():
            key = "during-%d" % len(answers)
            answers.append((key, c.kv(p, "PUT", key, body=b"v")))
            return answers[-1][1].status == 507
        self.assertTrue(h.wait_for(refused, 3, poll=0.05), answers)
        self.assertIn("disk full", answers[-1][1].header("x-reason"))
        self.assertEqual(c.kv(p, "GET", "before").status, 200, "reads go on")
        self.unfill(p)
        self.assertTrue(h.wait_for(lambda: c.kv(p, "PUT", "after", body=b"v").status == 200, 3, poll=0.05))
        for key, reply in answers:
            if reply.status == 507:
                self.assertEqual(c.kv(p, "GET", key).status, 404, "%s answered 507 was applied" % key)

    def test_a_burst_of_large_writes_stops_at_min_free_and_never_hits_enospc(self):
        """Writes taken between two measurements of free space (100 ms apart)
        count against the last one: eight 4 MiB PUTs at once with 4 MiB of
        room above min_free_disk get 507 past that room, where taking them
        all would have run the disk out (ENOSPC stops the node)."""
        c = self.c
        p = c.primary()
        other = "b" if p == "a" else "a"
        c.nodes[other].kill(signal.SIGKILL)
        self.assertTrue(c.wait_in_sync(1, 5), self.logs())
        value = b"x" * (4 << 20)
        st = os.statvfs(self.mounts[p])
        room = st.f_bavail * st.f_frsize - (MIN_FREE_MIB + 4) * (1 << 20)
        with open(os.path.join(self.mounts[p], "filler"), "wb") as f:
            f.write(b"\0" * max(room, 0))
        # The node measures the free space every 100 ms: await it seeing the filler.
        def measured():
            free = ((c.status(p) or {}).get("disk") or {}).get("free_bytes")
            return free is not None and free < (MIN_FREE_MIB + 5) * (1 << 20)
        self.assertTrue(h.wait_for(measured, 5, poll=0.02), self.logs())
        replies = {}

        def put(i):
            replies[i] = c.kv(p, "PUT", "burst-%d" % i, body=value, timeout=10).status

        threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(replies.values())
        self.assertTrue(c.nodes[p].alive(), "the primary died (ENOSPC?)\n" + self.logs())
        self.assertIn(507, statuses, statuses)
        self.assertLessEqual(statuses.count(200), 1, statuses)
        for i, status in replies.items():
            got = c.kv(p, "GET", "burst-%d" % i, timeout=10)
            self.assertEqual(got.status, 200 if status == 200 else 404, "burst-%d answered %d" % (i, status))


if __name__ == "__main__":
    args, _ = h.parse_args()
    DiskTest.binary = DiskFullTest.binary = os.path.abspath(args.binary)
    h.main()
