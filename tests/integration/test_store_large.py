#!/usr/bin/env python3
"""Large values in the store, as a user sees them: 64 KiB, 4 MiB and 64 MiB
(the limit) written with Content-Length and 8 MiB with chunked encoding, read
back whole from the primary and from the backup, kept in RocksDB's blob
files, and still whole on the new primary after the old one is killed
(replicated and checksummed like any entry). An upload cut short by its
client leaves nothing behind, and uploads past max_upload_bytes get 503
before their body is sent. The pair runs at the default timing (50 ms
beacons, 250 ms grace): a large value is copied and applied off the io
thread and crosses the wire on the data lane, behind no beacon, so writing
64 MiB must cause no failover and no change of in_sync. Under a sanitizer
(a build-san-* binary, several times slower) the pair runs at 200/2000 ms
and a write retries a 307 or a 503 instead."""
import base64
import glob
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402
from test_store import PairTestCase  # noqa: E402

MIB = 1 << 20
SIZES = {"v64k": 64 << 10, "v4m": 4 * MIB, "v64m": 64 * MIB}


def value_of(name, size):
    """A value that is not one repeated byte (so a misplaced block shows)."""
    block = hashlib.sha256(name.encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def sanitized(binary):
    return "build-san-" in binary


def head_of_answer(s):
    """The status and the head of the next answer on raw socket s."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = s.recv(4096)
        if not more:
            return 0, data
        data += more
    return int(data.split(b" ", 2)[1]), data


class LargeValuesTest(PairTestCase):
    UPLOADS = "64MiB"  # max_upload_bytes: one largest value at a time
    CLUSTER = {"extra": {"write_timeout": "20s", "max_upload_bytes": UPLOADS}}

    @classmethod
    def setUpClass(cls):
        if sanitized(cls.binary):
            cls.CLUSTER = {"extra": {"write_timeout": "20s", "max_upload_bytes": cls.UPLOADS,
                                     "heartbeat": {"interval": "200ms", "timeout": "2000ms"}, "lease": "1500ms"}}
        super().setUpClass()

    first_try_failures = []

    def setUp(self):
        super().setUp()
        self.first_try_failures = []

    def put(self, key, body, headers=None):
        """Through whichever node is primary, a 307 or 503 retried."""
        statuses = []

        def attempt():
            p = self.c.wait_primary(5)
            if p is None:
                statuses.append(None)
                return False
            data = body() if callable(body) else body  # a fresh iterator each try
            statuses.append(self.c.kv(p, "PUT", key, data, headers=headers, timeout=60).status)
            return statuses[-1] == 200
        h.wait_for(attempt, 120, poll=0.2)
        if statuses[0] != 200:
            self.first_try_failures.append((key, statuses))
        self.assertEqual(statuses[-1], 200, statuses)
        self.assertFalse([s for s in statuses if s not in (200, 307, 503, None)], statuses)

    def wait_applied(self, p, b):
        """Until backup b has applied what primary p committed (it learns the
        commit point from the next beat)."""
        applied = lambda: self.c.status(b)["applied_seq"] >= self.c.status(p)["commit_seq"]  # noqa: E731
        self.assertTrue(h.wait_for(applied, 10), self.logs())

    def assert_value(self, n, key, want, query=""):
        r = self.c.kv(n, "GET", key, query=query, timeout=60)
        self.assertEqual(r.status, 200, (n, key, r.status))
        self.assertEqual(len(r.body), len(want), (n, key))
        self.assertTrue(r.body == want, "%s on %s: the value came back different" % (key, n))

    def roles_and_record(self):
        return {n: (len(self.c.status(n)["role_changes"]), self.c.status(n)["record"]) for n in ("a", "b")}

    def test_large_values_are_whole_everywhere_and_survive_a_failover(self):
        c = self.c
        before = self.roles_and_record()
        for key, size in SIZES.items():
            t0 = time.monotonic()
            self.put(key, value_of(key, size))
            log("PUT %s (%d bytes): %.0f ms" % (key, size, (time.monotonic() - t0) * 1000))
        chunked = value_of("chunked", 8 * MIB)
        # An iterable body without a length: http.client sends it chunked.
        self.put("chunked", lambda: iter([chunked[i:i + MIB] for i in range(0, len(chunked), MIB)]))
        if not sanitized(self.binary):
            # No role changed and in_sync never shrank (a record change would
            # show in its version): the beacons kept time throughout.
            self.assertEqual(self.roles_and_record(), before, self.logs())
            self.assertEqual(self.first_try_failures, [], self.logs())
        p = c.wait_primary(5)
        b = "b" if p == "a" else "a"
        self.assertTrue(c.wait_in_sync(2, 30), self.logs())
        self.wait_applied(p, b)
        for key, size in SIZES.items():
            self.assert_value(p, key, value_of(key, size))
            self.assert_value(b, key, value_of(key, size), query="?stale=1")
        self.assert_value(p, "chunked", chunked)
        # A list leaves the large values out (their size only: GET each).
        r = c.kv(p, "GET", "", query="?prefix=v", timeout=30)
        self.assertEqual(r.status, 200, r.body[:200])
        items = {i["key"]: i for i in json.loads(r.body)["items"]}
        self.assertEqual(sorted(items), ["v4m", "v64k", "v64m"])
        self.assertEqual(base64.b64decode(items["v64k"]["value_base64"]), value_of("v64k", SIZES["v64k"]))
        for key in ("v4m", "v64m"):
            self.assertEqual(items[key].get("value_bytes"), SIZES[key], items[key].keys())
            self.assertNotIn("value", items[key])
        blobs = lambda: glob.glob(os.path.join(c.data_dir(p), "kv", "*.blob"))  # noqa: E731
        self.assertTrue(h.wait_for(blobs, 10), "no RocksDB blob file after 76 MiB of large values")

        c.nodes[p].kill(signal.SIGKILL)
        self.assertEqual(c.wait_primary(10, other_than=p), b, self.logs())
        for key, size in SIZES.items():
            self.assert_value(b, key, value_of(key, size))
        self.assert_value(b, "chunked", chunked)

        # Restarted, the old primary knows its large keys (v4m, v64m,
        # chunked) from its state before any GET, and reads them off its io
        # thread from the first one.
        c.nodes[p].start()
        large = lambda: (c.status(p) or {}).get("large_keys") == 3  # noqa: E731
        self.assertTrue(h.wait_for(large, 20), "%s\n%s" % (c.status(p), self.logs()))

    def test_a_group_larger_than_one_frame_reaches_the_backup_whole(self):
        """Eight 4 MiB writes at once share a group (32 MiB): the primary
        sends it to the backup as frames of about 16 MiB."""
        c = self.c
        values = {"g%d" % i: value_of("g%d" % i, 4 * MIB) for i in range(8)}
        threads = [threading.Thread(target=self.put, args=(k, v)) for k, v in values.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        p = c.wait_primary(5)
        b = "b" if p == "a" else "a"
        self.assertTrue(c.wait_in_sync(2, 30), self.logs())
        self.wait_applied(p, b)
        for k, v in values.items():
            self.assert_value(b, k, v, query="?stale=1")

    def test_a_backup_back_from_a_stop_catches_up_large_values_from_the_log(self):
        """128 MiB written while the backup was down: more than the primary
        keeps in memory, so it reads them back from its log, off its io
        thread (64 MiB read there would stop its beacons)."""
        c = self.c
        p = c.primary()
        b = "b" if p == "a" else "a"
        c.nodes[b].kill(signal.SIGKILL)
        values = {"back%d" % i: value_of("back%d" % i, 32 * MIB) for i in range(4)}
        for k, v in values.items():
            self.put(k, v)
        epoch = c.status(p)["epoch"]
        c.nodes[b].start()
        self.assertTrue(c.wait_in_sync(2, 60), self.logs())
        self.wait_applied(p, b)
        self.assertEqual(c.primary(), p)
        self.assertEqual(c.status(p)["epoch"], epoch, "the primary changed while the backup caught up")
        if not sanitized(self.binary):
            gap = c.status(b)["worst_beacon_gap_ms"]
            self.assertLess(gap, 250, "a beacon gap of %d ms while the primary read its log" % gap)
        for k, v in values.items():
            self.assert_value(b, k, v, query="?stale=1")

    def test_an_upload_cut_short_leaves_nothing(self):
        c = self.c
        p = c.primary()
        writes = c.status(p)["requests"]["writes"]
        s = socket.create_connection(h.split_addr(c.listen[p]), timeout=5)
        s.sendall(b"PUT /kv/cut HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (32 * MIB))
        s.sendall(b"x" * (4 * MIB))
        s.close()
        # A body cut short never reaches the node's handler, whenever its
        # connection is read: the key stays absent, and the node serves on.
        self.assertEqual(c.kv(p, "PUT", "after", b"v").status, 200, "the node serves on")
        self.assertEqual(c.kv(p, "GET", "cut").status, 404)
        self.assertEqual(c.status(p)["requests"]["writes"], writes + 1, "only the later write was applied")

    def test_uploads_past_max_upload_bytes_get_503_before_their_body(self):
        c = self.c
        p = c.primary()
        put_head = "PUT /kv/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n"
        first = socket.create_connection(h.split_addr(c.listen[p]), timeout=30)
        first.sendall((put_head % ("first", 48 * MIB, "")).encode() + b"f" * MIB)  # 48 MiB held from here

        # 32 MiB more does not fit in 64 MiB: refused from its head, as curl
        # sends it (Expect: 100-continue), so the client never sends the body.
        answers = []

        def refused():
            s = socket.create_connection(h.split_addr(c.listen[p]), timeout=5)
            s.sendall((put_head % ("second", 32 * MIB, "Expect: 100-continue\r\n")).encode())
            answers.append(head_of_answer(s))
            s.close()
            return answers[-1][0] == 503  # 100 only until the node has read first's head
        self.assertTrue(h.wait_for(refused, 5, poll=0.05), "a 32 MiB upload next to 48 MiB held: %s" % answers)
        self.assertIn(b"Retry-After: 1", answers[-1][1])
        self.assertEqual(c.kv(p, "PUT", "small", b"fits").status, 200, "what fits still goes")

        first.sendall(b"f" * (47 * MIB))
        self.assertEqual(head_of_answer(first)[0], 200)
        first.close()
        self.put("second", value_of("second", 32 * MIB))  # the room came back
        self.assert_value(p, "first", b"f" * (48 * MIB))


if __name__ == "__main__":
    args, _ = h.parse_args()
    LargeValuesTest.binary = os.path.abspath(args.binary)
    h.main()
