"""A real etcd (Debian's etcd-server) on loopback for the registry's etcd
backend: started once per test process on free ports with its data in a
temporary directory, stopped by PID at exit like every other child.

Short elections (--heartbeat-interval 50 --election-timeout 500) let etcd
grant 1 s leases; with its defaults the shortest lease is 2 s."""
import os
import shutil
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
