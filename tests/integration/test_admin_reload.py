#!/usr/bin/env python3
"""The operator's side: admin API actions, SIGHUP reloads (good and bad),
config errors at start-up, nginx-format configs, /metrics and a graceful
SIGTERM.

    python3 tests/integration/test_admin_reload.py --binary build/failover
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

# /slow?ms=1500 must not hit try_timeout (connect to last byte of headers)
SLOW_OK = {"tries": 2, "timeout": "10s", "try_timeout": "5s"}
CHECK = {"interval": 200, "rise": 2, "fall": 3, "timeout": 200, "type": "http", "uri": "/health"}


def web(servers, **kw):
    kw.setdefault("check", CHECK)
    kw.setdefault("passive", {"max_fails": 1, "fail_timeout": "2s"})
    kw.setdefault("retry", {"tries": 3, "timeout": "5s", "try_timeout": "500ms"})
    return h.upstream("web", servers, **kw)


def config(lb_listen, lb_admin, servers, **kw):
    return h.lb_config(lb_listen, lb_admin, [web(servers, **kw)], threads=1)


class AdminReload(h.LbTestCase):
    def start(self, servers, **kw):
        listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
        lb = self.lb(config(listen, admin, servers, **kw))
        return lb

    def wait(self, lb, address, state, timeout=3.0):
        took = lb.wait_state(address, state, timeout)
        self.assertIsNotNone(took, "%s not %s within %.1fs: %s"
                             % (address, state, timeout, lb.server(address)))

    def served(self, lb, n=30):
        out = {}
        for status, who in h.burst(lb.listen, n):
            self.assertEqual(status, 200)
            out[who] = out.get(who, 0) + 1
        return out

    def test_admin_down_drain_up_move_traffic(self):
        a, b = self.backends("a", "b")
        lb = self.start([a.address, b.address])
        self.wait(lb, a.address, "up")
        self.wait(lb, b.address, "up")
        self.assertEqual(set(self.served(lb)), {"a", "b"})

        for action, state in (("down", "down"), ("drain", "drain")):
            r = lb.admin_action("web", a.address, action)
            log("POST %s -> %s %r" % (action, r.status, r.body[:120]))
            self.assertEqual(r.status, 200)
            r.json()  # a JSON answer
            s = lb.server(a.address)
            self.assertEqual((s["admin"], s["state"]), (action, state), s)
            self.assertEqual(self.served(lb), {"b": 30}, "traffic still reaches a after " + action)

        r = lb.admin_action("web", a.address, "up")
        self.assertEqual(r.status, 200)
        s = lb.server(a.address)
        self.assertEqual(s["admin"], "none", s)
        self.wait(lb, a.address, "up", 1.0)
        self.assertEqual(set(self.served(lb)), {"a", "b"})

        r = lb.admin_action("web", "127.0.0.1:1", "down")
        self.assertTrue(400 <= r.status < 500, "unknown server -> %s" % r.status)
        r = lb.admin_action("nosuch", a.address, "down")
        self.assertTrue(400 <= r.status < 500, "unknown upstream -> %s" % r.status)
        r = lb.admin_action("web", a.address, "explode")
        self.assertTrue(400 <= r.status < 500, "unknown action -> %s" % r.status)

    def test_drain_lets_an_in_flight_request_finish(self):
        a = self.backend("a")
        lb = self.start([a.address], retry=SLOW_OK)
        self.wait(lb, a.address, "up")
        result = {}

        def slow():
            try:
                result["r"] = h.http_request(lb.listen, "GET", "/slow?ms=1500", timeout=10)
            except Exception as e:  # noqa: BLE001 - reported below
                result["e"] = e

        t = threading.Thread(target=slow)
        t.start()
        deadline = time.monotonic() + 5.0  # until the slow request is in flight
        while lb.server(a.address)["requests"]["active"] != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(lb.admin_action("web", a.address, "drain").status, 200)
        self.assertEqual(lb.server(a.address)["requests"]["active"], 1)
        t.join(10)
        self.assertNotIn("e", result, result)
        self.assertEqual(result["r"].status, 200)

    def test_sighup_adds_a_server_and_keeps_health_state(self):
        a, b = self.backends("a", "b")
        dead = "127.0.0.1:%d" % h.free_port()
        lb = self.start([a.address, dead])
        self.wait(lb, a.address, "up")
        self.wait(lb, dead, "down")
        self.served(lb, 20)
        time.sleep(0.5)
        before = lb.status()
        sa, sd = lb.server(a.address, st=before), lb.server(dead, st=before)

        lb.write_config(config(lb.listen, lb.admin, [a.address, dead, b.address]))
        lb.reload()
        deadline = time.monotonic() + 3.0
        after = None
        while time.monotonic() < deadline:
            st = lb.status()
            if lb.server(b.address, st=st) is not None:
                after = st
                break
            time.sleep(0.02)
        self.assertIsNotNone(after, "new server not in /status 3s after SIGHUP\n" + lb.log()[-2000:])
        na, nd = lb.server(a.address, st=after), lb.server(dead, st=after)
        log("before: a=%s/%s dead=%s/%s" % (sa["state"], sa["requests"]["total"],
                                            sd["state"], sd["health"]["consecutive_failures"]))
        log("after:  a=%s/%s dead=%s/%s" % (na["state"], na["requests"]["total"],
                                            nd["state"], nd["health"]["consecutive_failures"]))
        self.assertEqual(na["state"], "up", "live server lost its state on reload: %s" % na)
        self.assertEqual(nd["state"], "down", "dead server lost its state on reload: %s" % nd)
        self.assertGreaterEqual(na["requests"]["total"], sa["requests"]["total"],
                                "counters reset by reload")
        self.assertGreaterEqual(na["health"]["consecutive_successes"],
                                sa["health"]["consecutive_successes"], "health streak reset")
        self.assertGreaterEqual(nd["health"]["consecutive_failures"],
                                sd["health"]["consecutive_failures"], "failure streak reset")
        self.wait(lb, b.address, "up", 2.0)
        self.assertEqual(set(self.served(lb, 30)), {"a", "b"})
        self.assertTrue(lb.alive())

    def test_sighup_with_broken_config_keeps_the_old_one(self):
        a = self.backend("a")
        lb = self.start([a.address])
        self.wait(lb, a.address, "up")
        lb.write_config(text="lb:\n  listen: %s\n  admin: %s\n  upstreams:\n"
                             "    - name: web\n      balance: nonsense\n      servers: [%s]\n"
                             % (lb.listen, lb.admin, a.address))
        lb.reload()
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and not re.search(r"lb\.yaml:\d+:", lb.log()):
            time.sleep(0.05)
        log("stderr after bad reload: %s" % lb.log().strip().splitlines()[-1:])
        self.assertTrue(lb.alive(), "broken config on SIGHUP killed the LB")
        self.assertRegex(lb.log(), r"lb\.yaml:6:", "reload error does not name file:line")
        st = lb.status()
        self.assertEqual(st["upstreams"][0]["balance"], "round_robin")
        self.assertEqual(lb.server(a.address, st=st)["state"], "up")
        self.assertEqual(self.served(lb, 10), {"a": 10})

    def test_bad_config_at_startup_exits_2_naming_file_and_line(self):
        d = h.tempdir()
        good_head = "lb:\n  listen: 127.0.0.1:%d\n  admin: 127.0.0.1:%d\n  upstreams:\n" % (
            h.free_port(), h.free_port())
        cases = [
            ("bad balance", good_head + "    - name: web\n      balance: nonsense\n"
                                        "      servers: [127.0.0.1:1]\n", 6),
            ("bad duration", good_head + "    - name: web\n      servers: [127.0.0.1:1]\n"
                                         "      check: {interval: 3 parsecs}\n", 7),
            ("bad weight", good_head + "    - name: web\n      servers:\n"
                                       "        - {address: 127.0.0.1:1, weight: 0}\n", 7),
            ("bad address", good_head + "    - name: web\n      servers: [not-an-address]\n", 6),
            ("no servers", good_head + "    - name: web\n      servers: []\n", (5, 6)),
            ("yaml syntax", good_head + "    - name: web\n      servers: [127.0.0.1:1\n", 6),
            ("bad listen", "lb:\n  listen: 127.0.0.1:99999\n  upstreams:\n"
                           "    - {name: web, servers: [127.0.0.1:1]}\n", 2),
        ]
        failures = []
        for what, text, line in cases:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write(text)
            p = h.spawn([h.BINARY, "lb", "--config", path], stderr=subprocess.PIPE)
            try:
                _, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                h.reap(p)
                failures.append("%s: still running after 10s" % what)
                continue
            err = err.decode("utf-8", "replace")
            log("%-12s exit %s: %s" % (what, p.returncode, err.strip().splitlines()[-1:] if err else ""))
            if p.returncode != 2:
                failures.append("%s: exit %s, want 2" % (what, p.returncode))
            # yaml syntax errors may be reported on the line where the parser noticed
            lines = line if isinstance(line, tuple) else \
                (line, line + 1) if what == "yaml syntax" else (line,)
            if not any("%s:%d:" % (path, n) in err for n in lines):
                failures.append("%s: stderr lacks %s:%s: -> %r" % (what, path, line, err[-300:]))
        p = h.spawn([h.BINARY, "lb", "--config", os.path.join(d, "missing.yaml")],
                    stderr=subprocess.PIPE)
        _, err = p.communicate(timeout=10)
        if p.returncode != 2 or "missing.yaml" not in err.decode("utf-8", "replace"):
            failures.append("missing file: exit %s %r" % (p.returncode, err[-200:]))
        self.assertEqual(failures, [], "\n".join(failures))

    def test_version_and_help(self):
        out = subprocess.run([h.BINARY, "--version"], capture_output=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        self.assertEqual(out.stdout.decode().strip(), "failover 0.1.0")
        out = subprocess.run([h.BINARY, "help"], capture_output=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        self.assertIn("lb", (out.stdout + out.stderr).decode())

    def test_nginx_config_end_to_end(self):
        a, b, bk = self.backends("a", "b", "bk")
        text = """
# as written for nginx + the upstream check module
http {
    upstream test_web {
        server %s weight=2;
        server %s;
        server %s backup;
        check interval=300 rise=2 fall=3 timeout=300 type=http;
        check_http_send "GET /health HTTP/1.0\\r\\n\\r\\n";
        check_http_expect_alive http_2xx http_3xx;
    }
    server {
        listen 80;
        location / { proxy_pass http://test_web; }
    }
}
""" % (a.address, b.address, bk.address)
        lb = self.lb(nginx_text=text)
        for x in (a, b, bk):
            self.wait(lb, x.address, "up", 3.0)
        st = lb.status()
        u = st["upstreams"][0]
        self.assertEqual(u["name"], "test_web")
        sa, sbk = lb.server(a.address, st=st), lb.server(bk.address, st=st)
        self.assertEqual((sa["weight"], sa["health"]["rise"], sa["health"]["fall"]), (2, 2, 3))
        self.assertTrue(sbk["backup"])
        got = self.served(lb, 60)
        log("nginx config: served %s" % got)
        self.assertEqual(set(got), {"a", "b"})
        self.assertGreater(got["a"], got["b"], "weight=2 not honoured")
        t0 = time.monotonic()
        a.kill()
        took = lb.wait_state(a.address, "down", 0.3 * 3 + 0.3 + 0.5, since=t0)
        self.assertIsNotNone(took, "killed server not down within fall*interval+timeout")
        self.assertEqual(self.served(lb, 20), {"b": 20})
        self.assertGreaterEqual(bk.stats()["health"], 1, "checks do not reach the backup")

    def test_nginx_check_port_probes_another_port_than_traffic(self):
        a, health = self.backends("a", "health")
        dead = h.free_port()
        text = """
http {
    upstream traffic_dead_health_alive {
        server 127.0.0.1:%d;
        check interval=200 rise=1 fall=2 timeout=300 type=http port=%d default_down=false;
        check_http_send "GET /health HTTP/1.0\\r\\n\\r\\n";
    }
    upstream traffic_alive_health_dead {
        server %s;
        check interval=200 rise=1 fall=2 timeout=300 type=tcp port=%d default_down=false;
    }
    server {
        listen 80;
        location / { proxy_pass http://traffic_dead_health_alive; }
    }
}
""" % (dead, health.port, a.address, dead)
        lb = self.lb(nginx_text=text)
        # fall=2 at 200 ms: either would be down well within a second.
        took = lb.wait_state(a.address, "down", 2.0)
        self.assertIsNotNone(took, "a server whose check port is dead stays up: %s" % lb.server(a.address))
        # As many checks as it takes to go down (fall=2) have run on it.
        dead_addr = "127.0.0.1:%d" % dead
        self.assertIsNotNone(h.wait_for(
            lambda: len(lb.server(dead_addr)["health"]["recent_checks"]) >= 3, 2.0), lb.server(dead_addr))
        s = lb.server(dead_addr)
        log("traffic port dead, health port alive: %s (%s)" % (s["state"], s["reason"]))
        self.assertEqual(s["state"], "up", s)
        self.assertEqual(s["health"]["port"], health.port)
        self.assertGreaterEqual(health.stats()["health"], 2, "the checks did not reach the health port")

    def test_default_down_and_initial_down_start_down_until_rise_checks_pass(self):
        a = self.backend("a")
        text = """
http {
    upstream web {
        server %s;
        check interval=1000 rise=2 fall=2 timeout=300 type=tcp default_down=true;
    }
    server { listen 80; location / { proxy_pass http://web; } }
}
""" % a.address
        up = h.upstream("web", [a.address], check={"interval": 1000, "rise": 2, "fall": 2, "timeout": 300,
                                                   "type": "tcp", "initial": "down"})
        listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
        for start in (lambda: self.lb(nginx_text=text), lambda: self.lb(h.lb_config(listen, admin, [up]))):
            lb = start()
            t0 = time.monotonic()
            s = lb.server(a.address)
            log("at start: %s (%s)" % (s["state"], s["reason"]))
            self.assertEqual(s["state"], "down")
            self.assertIn("initial: down", s["reason"])
            # Two passing checks: the first within half an interval, the second one interval later.
            took = lb.wait_state(a.address, "up", 1.5 + 1.0, since=t0)
            self.assertIsNotNone(took, lb.server(a.address))
            log("up after %.2f s" % took)
        # The module's default_down=false starts servers up at once.
        lb = self.lb(nginx_text=text.replace("default_down=true", "default_down=false"))
        self.assertEqual(lb.server(a.address)["state"], "up")

    def test_metrics_show_server_up(self):
        a = self.backend("a")
        dead = "127.0.0.1:%d" % h.free_port()
        lb = self.start([a.address, dead])
        self.wait(lb, a.address, "up")
        self.wait(lb, dead, "down")
        self.served(lb, 10)
        sd = lb.server(dead)
        log("dead server: reason %r, last check %s" % (sd.get("reason"), sd["health"]["last_check"]))
        self.assertTrue(sd.get("reason"), "a down server must say why")
        self.assertEqual(sd["health"]["last_check"]["cause"], "refused")
        self.assertFalse(sd["health"]["last_check"]["ok"])
        self.assertTrue(sd["health"]["recent_checks"], "no recent checks listed")
        m = lb.metrics()
        up = 'failover_lb_server_up{upstream="web",server="%s"} 1' % a.address
        down = 'failover_lb_server_up{upstream="web",server="%s"} 0' % dead
        self.assertIn(up, m.splitlines(), m[:2000])
        self.assertIn(down, m.splitlines(), m[:2000])
        def total(prefix, needle=""):
            lines = [ln for ln in m.splitlines() if ln.startswith(prefix) and needle in ln]
            self.assertTrue(lines, "no %s line %s" % (prefix, needle))
            return sum(float(ln.rsplit(" ", 1)[1]) for ln in lines)
        self.assertGreaterEqual(total("failover_lb_requests_total"), 10)
        self.assertGreaterEqual(total("failover_lb_server_requests_total", '"%s"' % a.address), 10)
        self.assertTrue(any(ln.startswith("# TYPE failover_lb_server_up") for ln in m.splitlines()))
        h.check_role_endpoints(self, lb.admin, "lb")

    def test_sigterm_drains_in_flight_request_and_exits_0(self):
        a = self.backend("a")
        lb = self.start([a.address], retry=SLOW_OK)
        self.wait(lb, a.address, "up")
        result = {}

        def slow():
            try:
                result["r"] = h.http_request(lb.listen, "GET", "/slow?ms=1500", timeout=10)
            except Exception as e:  # noqa: BLE001 - reported below
                result["e"] = e
            result["t"] = time.monotonic()

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.4)
        t_term = time.monotonic()
        os.kill(lb.pid, signal.SIGTERM)
        try:
            rc = lb.proc.wait(15)
        except subprocess.TimeoutExpired:
            rc = None
        t_exit = time.monotonic()
        t.join(10)
        log("SIGTERM: exit %s after %.2fs; slow request %s"
            % (rc, t_exit - t_term, result.get("r") or result.get("e")))
        self.assertEqual(rc, 0, "exit code after SIGTERM")
        self.assertNotIn("e", result, "in-flight request broken by SIGTERM")
        self.assertEqual(result["r"].status, 200)
        self.assertGreaterEqual(t_exit, result["t"] - 0.05, "exited before the request finished")


if __name__ == "__main__":
    h.main()
