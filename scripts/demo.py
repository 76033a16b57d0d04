#!/usr/bin/env python3
"""The load-balancer demo (`make demo`): three backends behind `failover lb`,
steady client load, one backend killed and brought back, and a report of
what the clients saw and when the LB noticed.

    python3 scripts/demo.py --binary build/failover [--duration 15]
"""
import argparse
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402

INTERVAL, RISE, FALL, TIMEOUT = 500, 2, 3, 300  # ms


def say(msg, t=None):
    prefix = "[%5.1fs] " % t if t is not None else ""
    print(prefix + msg, flush=True)


class StatusWatcher:
    """Polls /status every 100 ms and records every state change."""

    def __init__(self, lb, t0):
        self.lb, self.t0 = lb, t0
        self.changes = []  # (t, address, old, new, reason)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        last = {}
        while not self._stop.wait(0.1):
            try:
                st = self.lb.status(timeout=1.0)
            except Exception:  # noqa: BLE001 - a missed poll is only counted
                self.errors += 1
                continue
            t = time.monotonic() - self.t0
            for u in st.get("upstreams", []):
                for s in u.get("servers", []):
                    a, state = s.get("address"), s.get("state")
                    if a in last and last[a] != state:
                        self.changes.append((t, a, last[a], state, s.get("reason", "")))
                        say("LB: %s %s -> %s (%s)" % (a, last[a], state, s.get("reason", "")), t)
                    last[a] = state

    def first(self, address, state, after):
        for t, a, _, new, _ in self.changes:
            if a == address and new == state and t >= after:
                return t
        return None

    def stop(self):
        self._stop.set()
        self._thread.join(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--kill-at", type=float, default=4.0)
    ap.add_argument("--restart-at", type=float, default=9.0)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        sys.exit("demo: no executable at %s (run `make build`)" % binary)

    backends = [h.Backend(n).start() for n in ("web-1", "web-2", "web-3")]
    victim = backends[1]
    listen, admin = "127.0.0.1:%d" % h.free_port(), "127.0.0.1:%d" % h.free_port()
    cfg = h.lb_config(listen, admin, [h.upstream(
        "web", [b.address for b in backends],
        check={"interval": INTERVAL, "rise": RISE, "fall": FALL, "timeout": TIMEOUT,
               "type": "http", "uri": "/health"},
        passive={"max_fails": 1, "fail_timeout": "3s"},
        retry={"tries": 3, "timeout": "5s", "try_timeout": "1s"})], threads=1)
    lb = h.Lb(binary, cfg, wait=False)
    try:
        lb.wait_ready()
    except AssertionError as e:
        print(e)
        return 1
    say("failover lb pid %d: listen %s, admin %s (http://%s/status)" % (lb.pid, listen, admin, admin))
    say("backends: %s" % ", ".join("%s=%s" % (b.name, b.address) for b in backends))
    say("checks: interval %d ms, rise %d, fall %d, timeout %d ms" % (INTERVAL, RISE, FALL, TIMEOUT))
    for b in backends:
        if lb.wait_state(b.address, "up", 5.0) is None:
            print("demo: %s never came up in /status\n%s" % (b.address, lb.log()))
            return 1

    load = h.LoadClient(listen, threads=4, duration=args.duration, max_requests=10 ** 6,
                        pause=0.01).start()
    t0 = load.t0  # every time below is seconds since the load started
    watcher = StatusWatcher(lb, t0).start()
    t_kill = t_restart = None
    try:
        say("load: 4 client threads, keep-alive GET / for %.0fs" % args.duration, 0.0)
        time.sleep(max(0.0, t0 + args.kill_at - time.monotonic()))
        t_kill = time.monotonic() - t0
        victim.kill()
        say("SIGKILL %s (%s)" % (victim.name, victim.address), t_kill)
        time.sleep(max(0.0, t0 + args.restart_at - time.monotonic()))
        victim.start()  # from the main thread: see harness.spawn
        t_restart = time.monotonic() - t0
        say("restarted %s on the same port" % victim.name, t_restart)
        res = load.wait(timeout=args.duration + 15)
    finally:
        load.stop()
        watcher.stop()
    t_down = watcher.first(victim.address, "down", t_kill)
    t_up = watcher.first(victim.address, "up", t_restart)
    served = res.served_by_after(t_restart, victim.name)
    last_before = max((r[0] for r in res.records if r[4] == victim.name and r[0] < t_kill),
                      default=None)

    detect_bound = FALL * INTERVAL + TIMEOUT
    rise_bound = RISE * INTERVAL + INTERVAL
    ms = lambda x: "n/a" if x is None else "%d ms" % round(x * 1000)  # noqa: E731
    print()
    print("=" * 64)
    print("failover lb demo report")
    print("=" * 64)
    print("client side")
    print("  requests        %d in %.1f s (%.0f/s)" % (res.total, res.elapsed, res.total / max(res.elapsed, 1e-9)))
    print("  failures        %d%s" % (len(res.failures),
                                      "" if not res.failures else " (%s)" % res.failure_summary()))
    print("  latency         p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (res.p(50) * 1e3, res.p(99) * 1e3, max(res.latencies() or [0]) * 1e3))
    per = res.by_backend()
    print("  per backend     " + ", ".join("%s %d" % (b.name, per.get(b.name, 0)) for b in backends))
    print("LB side (%s killed at %.1fs, restarted at %.1fs)" % (victim.name, t_kill, t_restart))
    print("  detected down   %s after the kill      (expected <= fall*interval+timeout = %d ms)"
          % (ms(None if t_down is None else t_down - t_kill), detect_bound))
    print("  back up         %s after the restart   (expected <= rise*interval+interval = %d ms)"
          % (ms(None if t_up is None else t_up - t_restart), rise_bound))
    print("  serving again   %s after the restart"
          % ms(None if served is None else served - t_restart))
    if last_before is not None:
        print("  last request to %s before the kill at %.2fs" % (victim.name, last_before))
    lb_exit = lb.proc.poll()
    if lb_exit is not None:
        print("  LB PROCESS      exited during the demo with status %s%s" % (
            lb_exit, " (signal %d)" % -lb_exit if lb_exit < 0 else ""))
    print("  state changes   " + ("; ".join("%.1fs %s %s->%s" % (t, a, o, n)
                                             for t, a, o, n, _ in watcher.changes) or "none"))
    print("=" * 64)
    ok = not res.failures and t_down is not None and t_up is not None and lb_exit is None
    print("RESULT: %s" % ("PASS - no client request failed" if ok else "FAIL"))
    if lb_exit is not None:
        print("failover lb stderr:\n" + lb.log()[-3000:])
    lb.terminate()
    for b in backends:
        b.close()
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        h.cleanup_all()
