#!/usr/bin/env python3
"""Bad input at a store node, from clients and from its replication port:
keys with `.` or `..` segments, control characters or over 1 KiB, a value
over the limit, bad conditional headers, garbage and truncated frames on the
peer port, and a peer speaking an old epoch. Each gets a clear error (a 4xx
with a JSON reason, or the connection closed and counted), the node keeps
serving, and nothing is written."""
import os
import signal
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from test_store import Cluster  # noqa: E402


def append_frame(epoch, sender, prev_seq, commit_seq):
    """An Append with no entries (a beacon), as src/store/messages.cc
    encodes it: [u32 length][u8 type 1][u64 epoch][str from][u64 prev_seq]
    [u64 commit_seq][u64 beacon][u8 in_sync][u8 rank][u32 entry count]."""
    name = sender.encode()
    body = (struct.pack("<BQI", 1, epoch, len(name)) + name +
            struct.pack("<QQQBBI", prev_seq, commit_seq, 12345, 1, 0, 0))
    return struct.pack("<I", len(body)) + body


class StoreBadInputTest(unittest.TestCase):
    binary = None

    @classmethod
    def setUpClass(cls):
        cls.c = Cluster(cls.binary)
        assert cls.c.wait_primary(10), "no primary"
        assert cls.c.wait_in_sync(2), "in_sync never grew"

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def setUp(self):
        self.p = self.c.primary()
        self.b = "b" if self.p == "a" else "a"

    def raw_path(self, method, path, body=None, headers=None):
        return h.http_request(self.c.listen[self.p], method, path, body=body, headers=headers or {})

    def assert_error(self, r, status):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.json()["error"], r)

    def test_bad_keys_are_refused_with_a_reason(self):
        writes = self.c.status(self.p)["requests"]["writes"]
        for path in ("/kv/..", "/kv/.", "/kv/a/../b", "/kv/a/./b", "/kv/x%01y", "/kv/x%7Fy", "/kv/x%0Ay",
                     "/kv/" + "k" * 1025, "/kv/bad%zzencoding", "/kv/"):
            for method in ("PUT", "GET", "DELETE"):
                r = self.raw_path(method, path, body=b"v" if method == "PUT" else None)
                if path == "/kv/" and method == "GET":
                    continue  # the list
                self.assert_error(r, 400) if path != "/kv/" else self.assertIn(r.status, (400, 405), r)
        # 1024 bytes is the limit, not over it.
        self.assertEqual(self.raw_path("PUT", "/kv/" + "k" * 1024, body=b"v").status, 200)
        self.assertEqual(self.c.status(self.p)["requests"]["writes"], writes + 1)

    def test_a_value_over_the_limit_is_413(self):
        # The answer comes from the head alone, and the connection closes
        # (as nginx's client_max_body_size): a client still sending the
        # body may see a reset instead, so this one sends only the head.
        raw, _, _ = h.raw_exchange(self.c.listen[self.p], b"PUT /kv/big HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Length: %d\r\n\r\nxxxx" % (64 * 1024 * 1024 + 1))
        self.assertEqual(h.status_line_code(raw), 413, raw)
        self.assertIn(b"error", raw)
        self.assertEqual(self.raw_path("GET", "/kv/big").status, 404)
        # The limit itself is fine: test_store_large.py.

    def test_bad_conditions_and_idempotency_keys_are_400(self):
        for headers in ({"If-Match": "not-a-version"}, {"If-None-Match": "3"},
                        {"Idempotency-Key": "k" * 1000}):
            self.assert_error(self.raw_path("PUT", "/kv/cond", body=b"v", headers=headers), 400)
        self.assertEqual(self.raw_path("GET", "/kv/cond").status, 404)

    def test_garbage_on_the_peer_port_closes_that_connection_only(self):
        before = self.c.status(self.b)["bad_frames"]
        for junk in (b"GET / HTTP/1.1\r\n\r\n", b"\xff" * 64, struct.pack("<I", 5) + b"\x09abcd",
                     struct.pack("<I", 0xFFFFFFF0) + b"\x01"):
            s = socket.create_connection(h.split_addr(self.c.peer[self.b]), timeout=2)
            s.sendall(junk)
            try:
                self.assertEqual(s.recv(10), b"", "the node answered garbage instead of closing")
            except ConnectionResetError:
                pass
            s.close()
        self.assertTrue(h.wait_for(lambda: self.c.status(self.b)["bad_frames"] >= before + 3, 5),
                        self.c.status(self.b))
        # A truncated frame is not garbage yet: the node waits for the rest, then the close ends it.
        s = socket.create_connection(h.split_addr(self.c.peer[self.b]), timeout=2)
        s.sendall(append_frame(1, self.p, 0, 0)[:9])
        s.close()
        self.assertEqual(self.c.kv(self.p, "PUT", "still", b"ok").status, 200)
        self.assertEqual(self.c.status(self.b)["role"], "backup")
        self.assertTrue(self.c.nodes[self.b].alive())

    def test_a_peer_speaking_an_old_epoch_is_refused_at_the_door(self):
        c = self.c
        # A failover makes epoch 1 old.
        old_epoch = c.status(self.p)["epoch"]
        c.nodes[self.p].kill(signal.SIGKILL)
        new = c.wait_primary(5, other_than=self.p)
        self.assertIsNotNone(new)
        c.nodes[self.p].start()
        self.assertTrue(c.wait_in_sync(2))
        backup = self.p
        self.assertEqual(c.kv(new, "PUT", "fenced", b"1").status, 200)
        before = c.status(backup)
        self.assertGreater(before["epoch"], old_epoch)
        # The old primary's beacon, claiming a commit point far ahead: refused.
        s = socket.create_connection(h.split_addr(c.peer[backup]), timeout=2)
        s.sendall(append_frame(old_epoch, new, before["last_seq"], before["last_seq"] + 1000))
        s.close()
        self.assertTrue(h.wait_for(lambda: c.status(backup)["stale_epoch_messages"] == before["stale_epoch_messages"] + 1,
                                   5), "the old epoch's beacon was not refused at the door")
        after = c.status(backup)
        self.assertEqual(after["bad_frames"], before["bad_frames"], "the frame was not even read")
        self.assertEqual(after["epoch"], before["epoch"])
        self.assertEqual(after["role"], "backup")
        self.assertLessEqual(after["commit_seq"], c.status(new)["commit_seq"])
        self.assertEqual(c.primary(), new)
        self.assertEqual(c.kv(new, "PUT", "fenced", b"2").status, 200)


if __name__ == "__main__":
    args, _ = h.parse_args()
    StoreBadInputTest.binary = Cluster.binary = os.path.abspath(args.binary)
    h.main()
