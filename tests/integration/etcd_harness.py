"""A real etcd (Debian's etcd-server) on loopback for the registry's etcd
backend: started once per test process on free ports with its data in a
temporary directory, stopped by PID at exit like every other child.

Short elections (--heartbeat-interval 50 --election-timeout 500) let etcd
grant 1 s leases; with its defaults the shortest lease is 2 s."""
import os
import shutil
import signal
import time

import harness as h

_etcd = None
_prefixes = 0


def start():
    global _etcd
    if _etcd is not None:
        return _etcd
    binary = shutil.which("etcd")
    if not binary:
        raise SystemExit("etcd not found: install etcd-server (scripts/install-deps does)")
    client, peer = h.free_port(), h.free_port()
    data = os.path.join(h.tempdir("failover-etcd-"), "data")
    url = "http://127.0.0.1:%d" % client
    argv = [binary, "--name", "t", "--data-dir", data,
            "--listen-client-urls", url, "--advertise-client-urls", url,
            "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
            "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
            "--initial-cluster", "t=http://127.0.0.1:%d" % peer,
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--log-level", "error"]
    proc = h.spawn(argv)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            r = h.http_request("127.0.0.1:%d" % client, "POST", "/v3/kv/range",
                               body=b'{"key":"AA=="}', timeout=1)
            if r.status == 200:
                _etcd = url
                return url
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit("etcd exited with %s" % proc.poll())
        time.sleep(0.1)
    raise SystemExit("etcd did not answer on %s" % url)


def backend_config():
    """A registry backend block on the shared etcd, under a prefix of its
    own so that tests do not see each other's instances."""
    global _prefixes
    _prefixes += 1
    return {"type": "etcd", "endpoints": [start()], "prefix": "/failover-test-%d-%d" % (os.getpid(), _prefixes)}


class EtcdCluster:
    """`size` etcd members on loopback, one process each (by PID), their
    data under `dir_`: for the store's arbiter tests and its benchmark."""

    def __init__(self, dir_, size=3, heartbeat_ms=50, election_ms=250):
        os.makedirs(dir_, exist_ok=True)
        self.names = ["e%d" % i for i in range(size)]
        ports = {n: (h.free_port(), h.free_port()) for n in self.names}
        self.client = {n: "127.0.0.1:%d" % ports[n][0] for n in self.names}
        cluster = ",".join("%s=http://127.0.0.1:%d" % (n, ports[n][1]) for n in self.names)
        self.argv, self.procs, self.logs = {}, {}, {}
        for n in self.names:
            c, p = "http://" + self.client[n], "http://127.0.0.1:%d" % ports[n][1]
            self.argv[n] = ["etcd", "--name", n, "--data-dir", os.path.join(dir_, "etcd-" + n),
                            "--listen-client-urls", c, "--advertise-client-urls", c,
                            "--listen-peer-urls", p, "--initial-advertise-peer-urls", p,
                            "--initial-cluster", cluster, "--initial-cluster-state", "new",
                            "--initial-cluster-token", "failover",
                            "--heartbeat-interval", str(heartbeat_ms),
                            "--election-timeout", str(election_ms), "--log-level", "error"]
            self.logs[n] = open(os.path.join(dir_, "etcd-%s.log" % n), "ab")
            self.start(n)
        if not self.wait_healthy(30):
            self.close()
            raise RuntimeError("etcd never elected a leader with every member up")

    def start(self, n):
        self.procs[n] = h.spawn(self.argv[n], stdout=self.logs[n], stderr=self.logs[n])

    def member_status(self, n):
        try:
            r = h.http_request(self.client[n], "POST", "/v3/maintenance/status", body=b"{}", timeout=1)
            return r.json() if r.status == 200 else None
        except (OSError, ValueError):
            return None

    def revision(self, n):
        """The store's revision: one more for every put applied."""
        s = self.member_status(n)
        return int(s["header"]["revision"]) if s else None

    def leader(self):
        for n in self.names:
            s = self.procs[n].poll() is None and self.member_status(n)
            if s and s.get("leader") and s["leader"] == s["header"]["member_id"]:
                return n
        return None

    def wait_healthy(self, timeout):
        def ok():
            st = [self.member_status(n) for n in self.names]
            return all(st) and len({s.get("leader") for s in st}) == 1 and self.leader() is not None
        return h.wait_for(ok, timeout, poll=0.05) is not None

    def kill(self, n):
        self.procs[n].send_signal(signal.SIGKILL)
        self.procs[n].wait(10)

    def close(self):
        for p in self.procs.values():
            h.reap(p)
        for f in self.logs.values():
            f.close()



    def endpoints(self):
        return ["http://" + self.client[n] for n in self.names]
