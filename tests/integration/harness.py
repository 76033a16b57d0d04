"""Helpers shared by the integration tests and scripts/demo.py.

Everything here is bounded: every wait has a deadline, every loop a count and
a duration. Processes are started by this module only, tracked by PID, and
killed by PID at exit (atexit, SIGTERM, SIGINT), never by name.

    lb = Lb(binary, config_dict)       # writes YAML, starts `failover lb`, waits for ports
    b = Backend("a").start()            # tests/integration/backend.py in its own process
    load = LoadClient(lb.listen).start(); ...; res = load.stop()
"""
import argparse
import ctypes
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND_PY = os.path.join(HERE, "backend.py")

# ---------------------------------------------------------------- processes

_children = {}          # pid -> Popen, every process this module started
_children_lock = threading.Lock()
_tempdirs = []


def _pdeathsig():
    # The child dies with us even if we are SIGKILLed (e.g. by a ctest timeout).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(argv, stdout=None, stderr=None, env=None):
    """Starts a tracked child. Call from the main thread: PDEATHSIG is tied to
    the thread that forks."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout or subprocess.DEVNULL,
                         stderr=stderr or subprocess.DEVNULL, env=env, preexec_fn=_pdeathsig)
    with _children_lock:
        _children[p.pid] = p
    return p


def reap(p, timeout=5.0):
    """SIGKILLs `p` (one we started) if it still runs and waits for it."""
    if p is None:
        return None
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGCONT)  # a stopped process cannot die of SIGTERM
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with _children_lock:
        _children.pop(p.pid, None)
    return p.returncode


def cleanup_all():
    with _children_lock:
        procs = list(_children.values())
    for p in procs:
        reap(p, timeout=2.0)
    for d in _tempdirs:
        d.cleanup()
    _tempdirs.clear()


def _on_signal(signum, frame):
    cleanup_all()
    sys.exit(128 + signum)


import atexit  # noqa: E402

atexit.register(cleanup_all)
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_s, _on_signal)
    except ValueError:  # not the main thread (imported late); atexit still holds
        pass


def tempdir(prefix="failover-it-"):
    d = tempfile.TemporaryDirectory(prefix=prefix)
    _tempdirs.append(d)
    return d.name


# ---------------------------------------------------------------- ports

_handed_out = set()


def free_port():
    """A loopback port nobody listens on, below the ephemeral range so that the
    LB's own outgoing connections never take it (a connect to a dead port
    could otherwise connect to itself)."""
    for _ in range(500):
        port = random.randint(20000, 31999)
        if port in _handed_out:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))  # no SO_REUSEADDR: skips ports in TIME_WAIT too
        except OSError:
            continue
        finally:
            s.close()
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port found")


def wait_port(port, host="127.0.0.1", timeout=5.0, proc=None):
    """Polls until something accepts on host:port; False on timeout or if
    `proc` exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def wait_for(predicate, timeout, poll=0.01):
    """Seconds until predicate() was true, or None after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return time.monotonic() - t0
        time.sleep(poll)
    return None


def split_addr(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body, reason=""):
        self.status, self.headers, self.body, self.reason = status, headers, body, reason

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %r %r>" % (self.status, self.reason, self.body[:200])


def http_request(addr, method="GET", path="/", body=None, headers=None, timeout=5.0):
    """One request on a fresh connection. Raises on connection errors."""
    host, port = split_addr(addr)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data, r.reason)
    finally:
        conn.close()


def raw_exchange(addr, data, timeout=5.0, read_until_close=True, max_bytes=1 << 20):
    """Sends raw bytes and returns (bytes read, seconds until the first byte,
    closed_by_peer). Reads until the peer closes, or until `timeout`."""
    host, port = split_addr(addr)
    s = socket.create_connection((host, port), timeout=timeout)
    got, first, closed = bytearray(), None, False
    t0 = time.monotonic()
    try:
        if data:
            s.sendall(data)
        deadline = t0 + timeout
        while len(got) < max_bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            if first is None:
                first = time.monotonic() - t0
            got += chunk
            if not read_until_close and b"\r\n\r\n" in got:
                break
    finally:
        s.close()
    return bytes(got), first, closed


def status_line_code(raw):
    """The status code of a raw HTTP response, or None."""
    try:
        line = raw.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ", 2)
        if parts[0].startswith("HTTP/1."):
            return int(parts[1])
    except (ValueError, IndexError):
        pass
    return None


def check_role_endpoints(test, addr, role):
    """Every role serves GET /status (JSON naming the role), GET /metrics
    (Prometheus text with its own families) and GET / (the dashboard, whose
    script and styles come from /web/) on its admin address."""
    st = http_request(addr, "GET", "/status")
    test.assertEqual(st.status, 200, st)
    test.assertTrue(st.headers["content-type"].startswith("application/json"), st.headers)
    test.assertEqual(st.json()["role"], role)
    m = http_request(addr, "GET", "/metrics")
    test.assertEqual(m.status, 200, m)
    test.assertEqual(m.headers["content-type"], "text/plain; version=0.0.4")
    lines = m.body.decode().splitlines()
    test.assertTrue(any(ln.startswith("# TYPE failover_%s_" % role) for ln in lines), lines[:20])
    types = [ln.split()[2] for ln in lines if ln.startswith("# TYPE ")]
    test.assertEqual(len(types), len(set(types)), "a family has two TYPE lines")
    page = http_request(addr, "GET", "/")
    test.assertEqual(page.status, 200, page)
    test.assertTrue(page.headers["content-type"].startswith("text/html"), page.headers)
    test.assertIn(b"/web/app.js", page.body)
    for path, ctype in (("/web/app.js", "text/javascript"), ("/web/style.css", "text/css")):
        r = http_request(addr, "GET", path)
        test.assertEqual(r.status, 200, (path, r))
        test.assertTrue(r.headers["content-type"].startswith(ctype), (path, r.headers))
        test.assertTrue(r.body)
    test.assertEqual(http_request(addr, "GET", "/web/nothing.js").status, 404)


# ---------------------------------------------------------------- YAML

def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if s == "" or any(c in s for c in ":#{}[],&*!|>'\"%@`") or s.strip() != s:
        return json.dumps(s)
    return s


def _flow(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, _flow(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def to_yaml(obj, indent=0):
    """Block-style YAML, one key per line (so config errors name a line);
    lists of scalars and small dicts inside lists go in flow style."""
    pad = " " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 2))
            elif isinstance(v, list) and v and any(isinstance(x, dict) and len(x) > 3 for x in v):
                out.append("%s%s:" % (pad, k))
                for x in v:
                    body = to_yaml(x, indent + 4).lstrip(" ")
                    out.append("%s  - %s" % (pad, body))
            else:
                out.append("%s%s: %s" % (pad, k, _flow(v)))
    else:
        out.append(pad + _flow(obj))
    return "\n".join(out)


def lb_config(listen, admin, upstreams, threads=1, limits=None, **extra):
    lb = {"listen": listen, "admin": admin, "threads": threads}
    if limits:
        lb["limits"] = limits
    lb.update(extra)
    lb["upstreams"] = upstreams
    return {"lb": lb}


def upstream(name, servers, check=None, passive=None, retry=None, balance="round_robin",
             panic=True, slow_start=0, **extra):
    u = {"name": name, "balance": balance, "servers": servers}
    if check is not None:
        u["check"] = check
    if passive is not None:
        u["passive"] = passive
    if retry is not None:
        u["retry"] = retry
    u["slow_start"] = slow_start
    u["panic"] = panic
    u.update(extra)
    return u


# ---------------------------------------------------------------- the LB

class Lb:
    """`failover lb` with a generated config. stderr goes to a file that
    `log()` returns and tests print on failure."""

    def __init__(self, binary, config=None, config_text=None, nginx_text=None, args=(),
                 listen=None, admin=None, wait=True):
        self.binary = os.path.abspath(binary)
        self.dir = tempdir()
        if config is not None:  # the addresses the config names are the ones to wait for
            listen = listen or config["lb"].get("listen")
            admin = admin or config["lb"].get("admin")
        self.listen = listen or "127.0.0.1:%d" % free_port()
        self.admin = admin or "127.0.0.1:%d" % free_port()
        self.stderr_path = os.path.join(self.dir, "lb.stderr")
        if nginx_text is not None:
            self.config_path = os.path.join(self.dir, "nginx.conf")
            argv = [self.binary, "lb", "--nginx", self.config_path,
                    "--listen", self.listen, "--admin", self.admin]
            text = nginx_text
        else:
            self.config_path = os.path.join(self.dir, "lb.yaml")
            argv = [self.binary, "lb", "--config", self.config_path]
            text = config_text if config_text is not None else to_yaml(config) + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)
        self.argv = argv + list(args)
        self._err = open(self.stderr_path, "wb")
        self.proc = spawn(self.argv, stderr=self._err)
        self.pid = self.proc.pid
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=10.0):
        for addr in (self.listen, self.admin):
            host, port = split_addr(addr)
            if not wait_port(port, host, timeout, self.proc):
                raise AssertionError("failover lb did not listen on %s (exit %s)\n%s"
                                     % (addr, self.proc.poll(), self.log()))
        return self

    def write_config(self, config=None, text=None):
        with open(self.config_path + ".tmp", "w") as f:
            f.write(text if text is not None else to_yaml(config) + "\n")
        os.replace(self.config_path + ".tmp", self.config_path)

    def reload(self):
        os.kill(self.pid, signal.SIGHUP)

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    # admin API
    def status(self, timeout=2.0):
        r = http_request(self.admin, "GET", "/status", timeout=timeout)
        if r.status != 200:
            raise AssertionError("GET /status -> %s %r" % (r.status, r.body[:300]))
        return r.json()

    def metrics(self):
        return http_request(self.admin, "GET", "/metrics").body.decode()

    def admin_action(self, upstream_name, address, action):
        return http_request(self.admin, "POST", "/upstreams/%s/servers/%s/%s"
                            % (upstream_name, address, action), body=b"")

    def server(self, address, upstream_name=None, st=None):
        """The /status entry of one server (the first upstream that has it)."""
        st = st or self.status()
        for u in st.get("upstreams", []):
            if upstream_name and u.get("name") != upstream_name:
                continue
            for s in u.get("servers", []):
                if s.get("address") == address:
                    return s
        return None

    def server_states(self, st=None):
        st = st or self.status()
        return {s["address"]: s.get("state") for u in st.get("upstreams", [])
                for s in u.get("servers", [])}

    def wait_state(self, address, state, timeout, poll=0.05, since=None):
        """Polls /status until `address` is in `state`. Returns the seconds
        from `since` (a time.monotonic(); default: now), or None on timeout."""
        t0 = time.monotonic() if since is None else since
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("failover lb exited (status %s) while waiting for %s to be %s"
                                     % (self.proc.returncode, address, state))
            try:
                s = self.server(address)
                if s is not None and s.get("state") == state:
                    return time.monotonic() - t0
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(poll)
        return None

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def terminate(self, timeout=15.0):
        """SIGTERM and wait; returns the exit code (None if it hung, then killed)."""
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                reap(self.proc)
                return None
        reap(self.proc)
        return self.proc.returncode

    def close(self):
        """Kills the LB if it still runs; remembers whether it had exited on its own."""
        self.exit_before_close = self.proc.poll()
        if self.exit_before_close is None:
            self.exit_before_close = "still running"
        reap(self.proc)
        self._err.close()


# ---------------------------------------------------------------- other roles

class Node:
    """`failover ROLE --config FILE` (registry, agent, ...) with a generated
    config; waits until `wait_addr` (host:port) accepts, when given."""

    def __init__(self, binary, role, config, wait_addr=None, args=(), timeout=10.0):
        self.binary, self.role, self.config = os.path.abspath(binary), role, config
        self.dir = tempdir()
        self.config_path = os.path.join(self.dir, role + ".yaml")
        self.stderr_path = os.path.join(self.dir, role + ".stderr")
        with open(self.config_path, "w") as f:
            f.write(to_yaml(config) + "\n")
        self.argv = [self.binary, role, "--config", self.config_path] + list(args)
        self.wait_addr = wait_addr
        self.proc = None
        self.exit_before_close = None
        self.start(timeout)

    def start(self, timeout=10.0):
        if getattr(self, "_err", None):
            self._err.close()  # a restart after kill()
        self._err = open(self.stderr_path, "ab")
        self.proc = spawn(self.argv, stderr=self._err)
        self.pid = self.proc.pid
        if self.wait_addr:
            host, port = split_addr(self.wait_addr)
            if not wait_port(port, host, timeout, self.proc):
                raise AssertionError("failover %s did not listen on %s (exit %s)\n%s"
                                     % (self.role, self.wait_addr, self.proc.poll(), self.log()))
        return self

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """SIGKILL (a crash) by default; waits for the exit."""
        if self.alive():
            os.kill(self.proc.pid, sig)
            self.proc.wait(10)

    def terminate(self, timeout=10.0):
        """SIGTERM and wait: returns the exit status."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        return self.proc.poll()

    def close(self):
        if self.proc is not None:
            self.exit_before_close = self.proc.poll()
            reap(self.proc)
            self._err.close()


# ---------------------------------------------------------------- backends

class Backend:
    """tests/integration/backend.py in its own process (so it can be SIGKILLed
    or SIGSTOPped like a real server)."""

    def __init__(self, name, port=None, mode="normal", delay_ms=None):
        self.name, self.mode, self.delay_ms = name, mode, delay_ms
        self.port = port or free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.proc = None
        self.stopped = False

    def start(self, timeout=5.0):
        argv = [sys.executable, BACKEND_PY, "--port", str(self.port), "--name", self.name,
                "--mode", self.mode]
        if self.delay_ms is not None:
            argv += ["--delay-ms", str(self.delay_ms)]
        self.proc = spawn(argv)
        if not wait_port(self.port, timeout=timeout, proc=self.proc):
            raise AssertionError("backend %s did not listen on %d" % (self.name, self.port))
        return self

    def kill(self):
        """SIGKILL, as a crash."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        reap(self.proc)
        self.stopped = False

    def stop(self):
        """SIGSTOP: the process hangs, its sockets stay open."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.stopped = True

    def cont(self):
        if self.stopped and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.stopped = False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stats(self):
        return http_request(self.address, "GET", "/stats", timeout=2.0).json()

    def close(self):
        if self.proc:
            reap(self.proc)


# ---------------------------------------------------------------- load

def percentile(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


class LoadResult:
    def __init__(self, records, elapsed):
        self.records = records          # (t_since_start, ok, status, latency_s, served_by, reason)
        self.elapsed = elapsed

    @property
    def total(self):
        return len(self.records)

    @property
    def failures(self):
        return [r for r in self.records if not r[1]]

    def latencies(self, ok_only=True):
        return [r[3] for r in self.records if r[1] or not ok_only]

    def p(self, q):
        return percentile(self.latencies(), q)

    def by_backend(self):
        out = {}
        for r in self.records:
            if r[1]:
                out[r[4]] = out.get(r[4], 0) + 1
        return out

    def served_by_after(self, t, name):
        """Time (since load start) of the first success by `name` at or after t."""
        for r in sorted(self.records):
            if r[0] >= t and r[1] and r[4] == name:
                return r[0]
        return None

    def failure_summary(self, limit=10):
        out = {}
        for r in self.failures:
            out[r[5]] = out.get(r[5], 0) + 1
        items = sorted(out.items(), key=lambda kv: -kv[1])[:limit]
        return ", ".join("%s x%d" % kv for kv in items) or "none"

    def summary(self):
        return ("%d requests in %.1fs, %d failed (%s), p50 %.1f ms, p99 %.1f ms, by backend %s"
                % (self.total, self.elapsed, len(self.failures), self.failure_summary(),
                   self.p(50) * 1e3, self.p(99) * 1e3, self.by_backend()))


class LoadClient:
    """N threads, each a keep-alive loop of GET `path` on its own
    http.client.HTTPConnection. Bounded by `duration` and `max_requests`
    (total). A request fails on an exception or a status >= 500; after a
    connection error the thread reconnects."""

    def __init__(self, addr, threads=4, duration=30.0, max_requests=200000, path="/",
                 pause=0.004, timeout=5.0):
        self.host, self.port = split_addr(addr)
        self.threads, self.duration, self.max_requests = threads, duration, max_requests
        self.path, self.pause, self.timeout = path, pause, timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._records = []
        self._count = 0
        self._workers = []
        self.t0 = None

    def start(self):
        self.t0 = time.monotonic()
        for i in range(self.threads):
            t = threading.Thread(target=self._run, name="load-%d" % i, daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def now(self):
        return time.monotonic() - self.t0

    def _take(self):
        with self._lock:
            if self._count >= self.max_requests:
                return False
            self._count += 1
            return True

    def _run(self):
        deadline = self.t0 + self.duration
        conn = None
        while not self._stop.is_set() and time.monotonic() < deadline and self._take():
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            start = time.monotonic()
            try:
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                ok = r.status < 500
                rec = (start - self.t0, ok, r.status, time.monotonic() - start,
                       r.getheader("X-Served-By"), "" if ok else "status %d" % r.status)
                if r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                rec = (start - self.t0, False, None, time.monotonic() - start, None,
                       type(e).__name__)
                conn.close()
                conn = None
            with self._lock:
                self._records.append(rec)
            if self.pause:
                self._stop.wait(self.pause)
        if conn is not None:
            conn.close()

    def snapshot(self):
        with self._lock:
            return LoadResult(list(self._records), self.now())

    def stop(self, timeout=15.0):
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        return self.snapshot()

    def wait(self, timeout=None):
        """Waits for the load to end on its own bounds."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.duration + 15)
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        return self.stop()


def burst(addr, n, path="/", timeout=5.0):
    """n sequential GETs on one keep-alive connection; a list of (status or
    None, served_by)."""
    host, port = split_addr(addr)
    out = []
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        for _ in range(n):
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                out.append((r.status, r.getheader("X-Served-By")))
                if r.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                out.append((None, None))
                conn.close()
    finally:
        conn.close()
    return out


# ---------------------------------------------------------------- test running

BINARY = None


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True, help="path to the failover binary")
    ap.add_argument("-v", "--verbose", action="store_true")
    args, rest = ap.parse_known_args()
    return args, rest


class LbTestCase(unittest.TestCase):
    """Tracks what a test started and prints the LB's stderr when it fails."""

    def setUp(self):
        self._lbs, self._backends = [], []
        self._outcome_failed = False

    def lb(self, *a, **kw):
        lb = Lb(BINARY, *a, **kw)
        self._lbs.append(lb)
        return lb

    def node(self, role, config, wait_addr=None, **kw):
        """Another role of the binary; its stderr is printed if the test fails."""
        n = Node(BINARY, role, config, wait_addr, **kw)
        self._lbs.append(n)
        return n

    def assert_alive(self, lb):
        """Fails with the LB's exit status (e.g. -11: SIGSEGV) if it died."""
        self.assertTrue(lb.alive(), "failover lb died: exit %s" % lb.proc.poll())

    def backend(self, name, **kw):
        b = Backend(name, **kw).start()
        self._backends.append(b)
        return b

    def backends(self, *names, **kw):
        return [self.backend(n, **kw) for n in names]

    def tearDown(self):
        failed = self._failed()
        for b in self._backends:
            b.cont() if b.alive() else None
            b.close()
        for lb in self._lbs:
            lb.close()
            if failed:
                sys.stderr.write("\n----- failover stderr (%s; exit %s) -----\n%s\n----- end -----\n"
                                 % (" ".join(lb.argv), lb.exit_before_close, lb.log()[-20000:]))

    def _failed(self):
        # During tearDown, _outcome.success reads True again (3.11 resets it for
        # each part), so look for this test among the failures recorded so far.
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        if result is not None:
            return any(t is self for t, _ in result.failures + result.errors)
        return any(e for _, e in getattr(outcome, "errors", []))  # Python <= 3.10


def log(msg):
    sys.stderr.write("  " + msg + "\n")
    sys.stderr.flush()


def main():
    """Entry point of every test_*.py: `--binary PATH`, then unittest."""
    global BINARY
    args, rest = parse_args()
    BINARY = os.path.abspath(args.binary)
    if not os.access(BINARY, os.X_OK):
        sys.stderr.write("no executable at %s\n" % BINARY)
        sys.exit(2)
    prog = sys.argv[0]
    try:
        unittest.main(module="__main__", argv=[prog, "-v"] + rest, exit=True)
    finally:
        cleanup_all()
