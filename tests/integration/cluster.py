"""A cluster file for `failover up` and `failover drill` on free loopback
ports (the shipped examples/cluster.yaml has fixed ones), and a handle on a
running `failover up`."""
import json
import os
import signal
import subprocess
import time

import harness as h


def cluster_file(dir_, instances=3, check=(200, 2, 2, 200), lbs=2, proxies=True):
    """Writes DIR/cluster.yaml; returns (path, addresses by component).
    With `proxies`, as in the example, fault proxies stand in front of both
    store nodes' replication ports and of web-2 (their addresses under
    "proxy:NAME")."""
    p = lambda: h.free_port()  # noqa: E731
    lb_port = p()
    a = {
        "dashboard": "127.0.0.1:%d" % p(),
        "witness": "127.0.0.1:%d" % p(),
        "store-a": ("127.0.0.1:%d" % p(), "127.0.0.1:%d" % p()),
        "store-b": ("127.0.0.1:%d" % p(), "127.0.0.1:%d" % p()),
        "registry-1": "127.0.0.1:%d" % p(),
        "registry-2": "127.0.0.1:%d" % p(),
        # One port on two IPs: DNS names IPs, so every LB serves one port.
        "lb-a": ("127.0.0.11:%d" % lb_port, "127.0.0.11:%d" % p()),
        "lb-b": ("127.0.0.12:%d" % lb_port, "127.0.0.12:%d" % p()),
        "dns-1": "127.0.0.21:%d" % p(),
        "dns-2": "127.0.0.22:%d" % p(),
    }
    for i in range(1, instances + 1):
        a["web-%d" % i] = ("127.0.0.1:%d" % p(), "127.0.0.1:%d" % p())
    proxied = ("store-a", "store-b", "web-2") if proxies and instances >= 2 else ()
    for n in proxied:
        a["proxy:" + n] = "127.0.0.1:%d" % p()
    px = lambda n: (", proxy: " + a["proxy:" + n]) if n in proxied else ""  # noqa: E731
    interval, rise, fall, timeout = check
    text = """cluster:
  dir: %(dir)s
  dashboard: %(dashboard)s
  check: {interval: %(interval)dms, rise: %(rise)d, fall: %(fall)d, timeout: %(timeout)dms}
witness: {listen: %(witness)s}
store:
  heartbeat: {interval: 50ms, timeout: 250ms}
  lease: 200ms
  nodes:
    store-a: {listen: %(sa0)s, peer_listen: %(sa1)s%(sap)s}
    store-b: {listen: %(sb0)s, peer_listen: %(sb1)s%(sbp)s}
registry:
  nodes:
    registry-1: {listen: %(r1)s}
    registry-2: {listen: %(r2)s}
service:
  name: web
  ttl: 1s
  instances:
%(instances)s
lb:
  nodes:
%(lbs)s
dns:
  name: web.failover.test
  ttl: 1
  nodes:
    dns-1: {http_listen: %(d1)s}
    dns-2: {http_listen: %(d2)s}
""" % {"dir": dir_, "dashboard": a["dashboard"], "interval": interval, "rise": rise, "fall": fall,
       "timeout": timeout, "witness": a["witness"],
       "sa0": a["store-a"][0], "sa1": a["store-a"][1], "sb0": a["store-b"][0], "sb1": a["store-b"][1],
       "sap": px("store-a"), "sbp": px("store-b"),
       "r1": a["registry-1"], "r2": a["registry-2"],
       "instances": "\n".join("    web-%d: {listen: %s, agent: %s%s}" % (i, a["web-%d" % i][0], a["web-%d" % i][1],
                                                                      px("web-%d" % i))
                              for i in range(1, instances + 1)),
       "lbs": "\n".join("    %s: {listen: %s, admin: %s}" % (n, a[n][0], a[n][1]) for n in ("lb-a", "lb-b")[:lbs]),
       "d1": a["dns-1"], "d2": a["dns-2"]}
    path = os.path.join(dir_, "cluster.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path, a


class Up:
    """`failover up --config PATH` as a tracked child; its stdout and stderr
    go to files in the cluster's directory."""

    def __init__(self, binary, config, dashboard, timeout=60.0):
        self.dashboard = dashboard
        d = os.path.dirname(config)
        self.out_path, self.err_path = os.path.join(d, "up.out"), os.path.join(d, "up.err")
        self.out, self.err = open(self.out_path, "wb"), open(self.err_path, "wb")
        self.proc = h.spawn([binary, "up", "--config", config], stdout=self.out, stderr=self.err)
        self.t0 = time.monotonic()

    def wait_serving(self, timeout=60.0):
        """Seconds until up printed that the stack serves; fails with its output."""
        ok = h.wait_for(lambda: b"components serving" in self.stdout() or self.proc.poll() is not None,
                        timeout, poll=0.05)
        if not ok or self.proc.poll() is not None:
            raise AssertionError("failover up did not come up (exit %s)\nstdout:\n%s\nstderr:\n%s"
                                 % (self.proc.poll(), self.stdout().decode(errors="replace"),
                                    self.stderr().decode(errors="replace")[-5000:]))
        return time.monotonic() - self.t0

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read()

    def status(self):
        return h.http_request(self.dashboard, path="/status").json()

    def component(self, name, st=None):
        for c in (st or self.status())["components"]:
            if c["name"] == name:
                return c
        raise KeyError(name)

    def pids(self):
        return [c["pid"] for c in self.status()["components"] if c["running"]]

    def stop(self, timeout=60.0):
        """SIGTERM; the exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.out.close()
            self.err.close()

    def close(self):
        h.reap(self.proc)
