"""`failover up`: the whole stack from one cluster file, as a user sees it.
The stack serves through every layer (HTTPDNS answers the LBs, an LB passes
a PUT and a GET to an instance, the instance reads and writes the store);
up's /status shows every component; a killed component shows as down and
nothing restarts it; no component holds one of up's sockets; SIGTERM stops every child; a bad file exits 2 with
file:line; a component that cannot start stops the rest and exits 1."""
import os
import signal
import subprocess
import time
import unittest

import harness as h
from cluster import Up, cluster_file


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (up reaps its own children).
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def socket_inodes(pid):
    """The sockets a process holds, by inode."""
    out = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except FileNotFoundError:
            continue
        if target.startswith("socket:"):
            out.add(target)
    return out


class UpTest(unittest.TestCase):
    def setUp(self):
        self.dir = h.tempdir("failover-up-")
        self.path, self.addr = cluster_file(self.dir)
        self.up = None

    def tearDown(self):
        if self.up:
            self.up.close()

    def start(self):
        self.up = Up(h.BINARY, self.path, self.addr["dashboard"])
        took = self.up.wait_serving()
        h.log("the stack served %.1f s after failover up started" % took)
        return self.up

    def test_the_stack_serves_through_every_layer_and_stops_cleanly(self):
        up = self.start()
        st = up.status()
        self.assertEqual(len(st["components"]), 15)
        for c in st["components"]:
            self.assertTrue(c["running"] and c["answering"], c)
        h.check_role_endpoints(self, self.addr["dashboard"], "up")
        out = up.stdout().decode()
        for name in ("witness", "store-a", "web-3-agent", "lb-b", "dns-2"):
            self.assertIn(name, out)

        # HTTPDNS answers both LBs.
        r = h.http_request(self.addr["dns-1"], path="/d?host=web.failover.test")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(sorted(r.json()["web.failover.test"]["ips"]), ["127.0.0.11", "127.0.0.12"])
        # A write through one LB, a read through the other: instance -> store.
        lb_a, lb_b = self.addr["lb-a"][0], self.addr["lb-b"][0]
        w = h.http_request(lb_a, "PUT", "/kv/greeting", body=b"hello",
                           headers={"Idempotency-Key": "up-test-1"})
        self.assertEqual(w.status, 200, w.body)
        self.assertTrue(w.header("X-Instance", "").startswith("web-"), w.headers)
        self.assertGreater(w.json()["version"], 0)
        g = h.http_request(lb_b, path="/kv/greeting")
        self.assertEqual((g.status, g.body), (200, b"hello"))
        self.assertTrue(g.header("X-Store-Node", "").startswith("http://127.0.0.1:"))
        self.assertEqual(h.http_request(lb_b, path="/kv/absent").status, 404)
        # The LBs' request rate shows on up's /status.
        self.assertTrue(h.wait_for(lambda: up.component("lb-a")["requests_per_s"] is not None, 3.0))
        # The store has a primary and a backup; up's summary says so.
        states = sorted(up.component(n)["state"].split()[0] for n in ("store-a", "store-b"))
        self.assertEqual(states, ["backup", "primary"])

        # No component holds a socket of up's (its dashboard, a fault
        # proxy's connection): a proxied connection a child still held would
        # never close, and its client would never learn that the far end died.
        ups = socket_inodes(up.proc.pid)
        self.assertGreater(len(ups), 3)
        for c in st["components"]:
            self.assertEqual(socket_inodes(c["pid"]) & ups, set(), c["name"])

        # A killed instance is shown down and stays down: up restarts nothing.
        victim = up.component("web-2")
        os.kill(victim["pid"], signal.SIGKILL)
        self.assertTrue(h.wait_for(lambda: not up.component("web-2")["running"], 5.0))
        time.sleep(1.0)
        c = up.component("web-2")
        self.assertEqual((c["running"], c["starts"], c["last_exit"]), (False, 1, 128 + 9))
        self.assertTrue(any(e["component"] == "web-2" and "signal 9" in e["event"] for e in up.status()["events"]))

        pids = up.pids()
        self.assertEqual(up.stop(), 0, up.stderr()[-3000:])
        self.assertEqual([p for p in pids if pid_alive(p)], [])

    def test_a_component_that_cannot_start_stops_the_rest(self):
        # Someone else holds registry-2's port.
        import socket
        host, port = self.addr["registry-2"].split(":")
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind((host, int(port)))
        blocker.listen()
        try:
            up = Up(h.BINARY, self.path, self.addr["dashboard"])
            self.up = up
            self.assertEqual(up.proc.wait(60), 1)
            err = up.stderr().decode()
            self.assertIn("registry-2", err)
            self.assertIn(self.addr["registry-2"], err)  # the log tail: cannot listen on it
        finally:
            blocker.close()
        # Nothing it started is left (witness, store, registry-1 were).
        out = subprocess.run(["pgrep", "-f", self.dir], capture_output=True, text=True).stdout.split()
        self.assertEqual(out, [])

    def test_a_bad_cluster_file_exits_2_with_its_line(self):
        with open(self.path) as f:
            text = f.read()
        with open(self.path, "w") as f:
            f.write(text.replace("ttl: 1s", "ttl: soon"))
        r = subprocess.run([h.BINARY, "up", "--config", self.path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        line = 1 + text.split("ttl: 1s")[0].count("\n")
        self.assertIn("%s:%d:" % (self.path, line), r.stderr)
        self.assertIn("service.ttl", r.stderr)


if __name__ == "__main__":
    h.main()
