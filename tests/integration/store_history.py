"""Several clients of a store pair, every operation recorded, and the checks
a user cares about run over the history afterwards:

- no acknowledged write lost: the value of each key at the end is the last
  acknowledged write's, or a write whose answer was lost that ran with or
  after it;
- no stale read: a read returns a value that was written, and that no
  acknowledged write had overwritten before the read began (a register per
  key); a 404 after an acknowledged write of the key had finished is a
  stale read too.

Values are unique ("c<client>-<n>"), so a value names its write. Every
loop is bounded in count and time.

`linearizable()` hands the history to the project's own checker,
`failover check-history` (the one `failover drill` runs): each key a
register, the final reads included, so a lost write is a stale final read."""
import json
import os
import random
import subprocess
import threading
import time


REQUEST_TIMEOUT_S = 1.0  # each attempt of a client on a node


class Op:
    __slots__ = ("kind", "key", "value", "start", "end", "status", "seq", "client")

    def __init__(self, kind, key, value, start, client=""):
        self.kind, self.key, self.value, self.start, self.client = kind, key, value, start, client
        self.end, self.status, self.seq = None, None, None

    def __repr__(self):
        return "%s %s=%s [%.3f, %.3f] %s seq=%s" % (self.kind, self.key, self.value, self.start,
                                                    self.end or -1, self.status, self.seq)


class Client(threading.Thread):
    """Writes then reads random keys through whichever node answers: follows
    a 307 to the primary it names, moves to the other node on an error or a
    503, and records each operation as one attempt per node tried."""

    def __init__(self, cluster, index, keys, seconds, max_ops, stop_flag, seed):
        super().__init__(daemon=True)
        self.c, self.index, self.keys = cluster, index, keys
        self.seconds, self.max_ops, self.stop_flag = seconds, max_ops, stop_flag
        self.random = random.Random(seed)
        self.ops = []
        self.nodes = ["a", "b"]

    def call(self, kind, key, value=None):
        """One operation: the attempts it takes, in order; the Op that
        holds its outcome (status 200/404, or None when no node took it)."""
        op = Op(kind, key, value, time.monotonic(), "c%d" % self.index)
        self.ops.append(op)
        for n in list(self.nodes):
            try:
                if kind == "put":
                    r = self.c.kv(n, "PUT", key, body=value.encode(), timeout=REQUEST_TIMEOUT_S)
                else:
                    r = self.c.kv(n, "GET", key, timeout=REQUEST_TIMEOUT_S)
            except OSError:
                continue
            if r.status == 307:
                target = r.header("x-primary")
                if target in self.nodes:
                    self.nodes = [target] + [x for x in self.nodes if x != target]
                continue
            if r.status in (200, 404):
                op.end, op.status = time.monotonic(), r.status
                if kind == "put":
                    op.seq = int(r.header("x-seq"))
                else:
                    op.value = r.body.decode() if r.status == 200 else None
                self.nodes = [n] + [x for x in self.nodes if x != n]
                return op
        op.end = time.monotonic()
        return op

    def run(self):
        t_end = time.monotonic() + self.seconds
        n = 0
        while not self.stop_flag.is_set() and time.monotonic() < t_end and n < self.max_ops:
            key = "k%d" % self.random.randrange(self.keys)
            op = self.call("put", key, "c%d-%d" % (self.index, n))
            self.call("get", "k%d" % self.random.randrange(self.keys))
            if op.status is None:
                time.sleep(0.005)
            n += 1


class Clients:
    """N clients on `keys` shared keys."""

    def __init__(self, cluster, count=3, keys=8, seconds=120.0, max_ops=200000, seed=1):
        self.stop_flag = threading.Event()
        self.clients = [Client(cluster, i, keys, seconds, max_ops, self.stop_flag, seed + i) for i in range(count)]

    def start(self):
        for t in self.clients:
            t.start()

    def stop(self):
        self.stop_flag.set()
        for t in self.clients:
            t.join(10)

    def ops(self):
        return [op for t in self.clients for op in list(t.ops)]

    def acked_writes(self):
        return [op for op in self.ops() if op.kind == "put" and op.status == 200]

    def last_ack_at(self):
        acked = self.acked_writes()
        return max((op.end for op in acked), default=None)

    def first_ack_after(self, t):
        return min((op.end for op in self.acked_writes() if op.start > t), default=None)


def history_lines(ops):
    """The history as `failover check-history` reads it: one JSON object a
    line. A write acknowledged is "ok"; any other may have been applied (a
    503 after its deadline, a dropped connection): "unknown". A read that no
    node answered with 200 or 404 is left out."""
    lines = []
    for op in ops:
        if op.end is None:
            continue
        if op.kind == "put":
            entry = {"op": "write", "value": op.value, "outcome": "ok" if op.status == 200 else "unknown"}
        elif op.status in (200, 404):
            entry = {"op": "read", "value": op.value if op.status == 200 else None, "outcome": "ok"}
        else:
            continue
        entry.update(client=op.client, key=op.key, start_ms=op.start * 1000, end_ms=op.end * 1000)
        lines.append(json.dumps(entry))
    return "\n".join(lines) + "\n"


def final_reads(keys, read):
    """One more read of each key (`read(key)`: (status, value)) after the
    load, timed like any other: the checker finds a lost write as a stale
    final read."""
    ops = []
    for key in sorted(keys):
        op = Op("get", key, None, time.monotonic())
        status, value = read(key)
        op.end, op.status = time.monotonic(), status
        op.value = value if status == 200 else None
        ops.append(op)
    return ops


def linearizable(binary, ops, directory):
    """Runs `failover check-history` on the history; (passed, its output)."""
    path = os.path.join(directory, "history.jsonl")
    with open(path, "w") as f:
        f.write(history_lines(ops))
    p = subprocess.run([binary, "check-history", path], capture_output=True, text=True, timeout=120)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


def check_final(ops, read_final):
    """Acknowledged writes lost: (key, why) for each key whose final value
    (`read_final(key)`: the value or None) is not the last acknowledged one
    or a later write whose answer was lost."""
    writes = {op.value: op for op in ops if op.kind == "put"}
    lost = []
    keys = sorted({op.key for op in ops if op.kind == "put" and op.status == 200})
    for key in keys:
        last = max((op for op in ops if op.kind == "put" and op.key == key and op.status == 200), key=lambda w: w.seq)
        got = read_final(key)
        w = writes.get(got)
        if got is None or w is None:
            lost.append((key, "acknowledged %r, read %r" % (last, got)))
        elif w.status == 200 and w.seq < last.seq:
            lost.append((key, "acknowledged %r, read the older %r" % (last, w)))
        elif w.status != 200 and w.end < last.start:
            lost.append((key, "acknowledged %r, read %r that ended before it began" % (last, w)))
    return lost


def percentile(values, p):
    s = sorted(values)
    if not s:
        return None
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class UniqueWriters:
    """`count` threads, each writing keys of its own (PREFIX<n>-<i>, never
    written twice) through `put(key, value)`, which makes one write as a
    careful client would and returns (acknowledged, tries, seconds); until
    stop() or `max_each` writes each. Keeps what was acknowledged, what
    failed, how many writes needed another try and the slowest."""

    def __init__(self, put, count=3, prefix="w", max_each=5000):
        self.put, self.prefix, self.max_each = put, prefix, max_each
        self.acked, self.failed, self.retried, self.slowest = {}, [], 0, 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(count)]

    def _run(self, n):
        i = 0
        while not self._stop.is_set() and i < self.max_each:
            key, value = "%s%d-%d" % (self.prefix, n, i), "v%d-%d" % (n, i)
            ok, tries, took = self.put(key, value)
            with self._lock:
                if ok:
                    self.acked[key] = value
                else:
                    self.failed.append(key)
                self.retried += tries > 1
                self.slowest = max(self.slowest, took)
            i += 1

    def start(self):
        for t in self._threads:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(30)
