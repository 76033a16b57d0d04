#!/usr/bin/env python3
"""`failover dns` in front of two real `failover lb` processes on 127.0.0.11
and 127.0.0.12 (one name, two zones). What clients see when one LB is
SIGKILLed and restarted: it leaves the HTTPDNS and the DNS answers within
fall x interval + timeout and comes back after rise probes; a client
holding the old answer (`failover get` with its cache) still gets every
request through on the other IP. Also: panic, DNS over TCP, signed
HTTPDNS requests, bad input of every kind, and TCP connection limits: a
flood of idle connections never locks out a fresh TCP query."""
import json
import os
import random
import re
import resource
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

NAME = "www.example.com"
INTERVAL, RISE, FALL, TIMEOUT = 200, 2, 3, 200  # ms
LEAVE_BOUND = (FALL * INTERVAL + TIMEOUT) / 1000.0
RETURN_BOUND = (RISE * INTERVAL + INTERVAL) / 1000.0
SLACK = 0.3  # s: process scheduling on a loaded 2-core machine


# ---------------------------------------------------------------- a tiny DNS client

def dns_query(name, qtype=1, qid=None):
    qid = random.randrange(65536) if qid is None else qid
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)


def _skip_name(msg, i):
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def parse_reply(msg):
    """(rcode, tc, [(type, rdata bytes)] of the answer section)."""
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    i = 12
    for _ in range(qd):
        i = _skip_name(msg, i) + 4
    answers = []
    for _ in range(an):
        i = _skip_name(msg, i)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[i:i + 10])
        answers.append((rtype, msg[i + 10:i + 10 + rdlen]))
        i += 10 + rdlen
    return flags & 0xF, bool(flags & 0x0200), answers


def udp_exchange(addr, packet, timeout=1.0, tries=3):
    """As a stub resolver does it: UDP may drop a datagram (a full socket
    queue after a flood), so ask again before giving up."""
    host, port = h.split_addr(addr)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        for attempt in range(tries):
            s.sendto(packet, (host, port))
            try:
                return s.recvfrom(65535)[0]
            except socket.timeout:
                if attempt == tries - 1:
                    raise


def tcp_exchange(addr, packets, timeout=2.0):
    """Several queries on one TCP connection; the replies in order."""
    host, port = h.split_addr(addr)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"".join(struct.pack("!H", len(p)) + p for p in packets))
        replies, buf = [], b""
        while len(replies) < len(packets):
            chunk = s.recv(65535)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                replies.append(buf[2:2 + n])
                buf = buf[2 + n:]
        return replies


def a_records(addr, name=NAME):
    rcode, _, answers = parse_reply(udp_exchange(addr, dns_query(name)))
    return rcode, sorted(socket.inet_ntoa(r) for t, r in answers if t == 1)


class DnsNode:
    def __init__(self, test, domains, **extra):
        self.http = "127.0.0.1:%d" % h.free_port()
        self.dns = "127.0.0.1:%d" % h.free_port()
        cfg = {"http_listen": self.http, "dns_listen": self.dns, "ttl": 5, "threads": 2, "domains": domains}
        cfg.update(extra)
        self.node = test.node("dns", {"dns": cfg}, wait_addr=self.http)

    def httpdns(self, query, timeout=2.0):
        return h.http_request(self.http, "GET", "/d?" + query, timeout=timeout)

    def ips(self, name=NAME):
        r = self.httpdns("host=" + name)
        return sorted(json.loads(r.body)[name]["ips"])

    def status(self):
        return json.loads(h.http_request(self.http, "GET", "/status").body)


class DnsFailover(h.LbTestCase):
    def start_lb(self, ip, port, backend):
        up = h.upstream("web", [backend.address], check={"interval": 500, "rise": 1, "fall": 2,
                                                         "timeout": 300, "type": "http", "uri": "/health"})
        listen = "%s:%d" % (ip, port)
        return self.node("lb", h.lb_config(listen, "127.0.0.1:%d" % h.free_port(), [up], threads=1),
                         wait_addr=listen)

    def setUp(self):
        super().setUp()
        self.port = h.free_port()
        self.b1, self.b2 = self.backends("b1", "b2")
        self.lb1 = self.start_lb("127.0.0.11", self.port, self.b1)
        self.lb2 = self.start_lb("127.0.0.12", self.port, self.b2)
        self.targets = ["127.0.0.11:%d" % self.port, "127.0.0.12:%d" % self.port]
        self.dns = DnsNode(self, {NAME: {"targets": self.targets,
                                         "check": {"interval": INTERVAL, "rise": RISE, "fall": FALL,
                                                   "timeout": TIMEOUT, "type": "http", "uri": "/health"}}})
        self.dir = h.tempdir()
        self.cache = os.path.join(self.dir, "cache.json")

    def get(self, extra=()):
        argv = [h.BINARY, "get", "http://%s:%d/" % (NAME, self.port), "--httpdns", self.dns.http,
                "--cache", self.cache] + list(extra)
        return subprocess.run(argv, capture_output=True, timeout=20)

    def test_killed_lb_leaves_both_answers_and_clients_get_through(self):
        both = ["127.0.0.11", "127.0.0.12"]
        self.assertEqual(self.dns.ips(), both)
        self.assertEqual(a_records(self.dns.dns), (0, both))
        first = self.get()
        self.assertEqual(first.returncode, 0, first.stderr)  # also fills the client's cache

        self.lb1.kill()
        killed = time.monotonic()
        gone = lambda: self.dns.ips() == ["127.0.0.12"] and a_records(self.dns.dns) == (0, ["127.0.0.12"])
        self.assertTrue(h.wait_for(gone, 5.0), self.dns.status())
        left = time.monotonic() - killed
        log("left HTTPDNS and DNS after %.0f ms (bound %.0f ms)" % (left * 1000, LEAVE_BOUND * 1000))
        self.assertLessEqual(left, LEAVE_BOUND + SLACK)

        # A client still holding the old answer (both IPs, its ttl not passed)
        # gets every request through on the other IP.
        outcomes = [self.get() for _ in range(10)]
        failed = [o for o in outcomes if o.returncode != 0]
        self.assertEqual(failed, [], failed[0].stderr.decode() if failed else "")
        self.assertTrue(any(b"127.0.0.11" in o.stderr for o in outcomes),
                        "no client ever tried the dead IP, so nothing was tested")
        st = self.dns.status()["names"][0]
        down = [t for t in st["targets"] if t["state"] == "down"]
        self.assertEqual([t["ip"] for t in down], ["127.0.0.11"])
        self.assertIn("refused", down[0]["reason"])

        self.lb1.start()
        restarted = time.monotonic()
        self.assertTrue(h.wait_for(lambda: self.dns.ips() == both, 5.0), self.dns.status())
        back = time.monotonic() - restarted
        log("back after %.0f ms (bound %.0f ms)" % (back * 1000, RETURN_BOUND * 1000))
        self.assertLessEqual(back, RETURN_BOUND + SLACK)
        self.assertEqual(a_records(self.dns.dns), (0, both))

    def test_all_down_answers_all_in_panic(self):
        self.lb1.kill()
        self.lb2.kill()
        self.assertTrue(h.wait_for(lambda: self.dns.status()["names"][0]["panic"], 5.0))
        self.assertEqual(self.dns.ips(), ["127.0.0.11", "127.0.0.12"])
        self.assertIn("PANIC", self.dns.node.log())
        self.assertEqual(a_records(self.dns.dns), (0, ["127.0.0.11", "127.0.0.12"]))
        metrics = h.http_request(self.dns.http, "GET", "/metrics").body.decode()
        self.assertIn('failover_dns_name_panic{name="www.example.com"} 1', metrics)
        h.check_role_endpoints(self, self.dns.http, "dns")


class DnsResponder(h.LbTestCase):
    def setUp(self):
        super().setUp()
        many = ["10.0.%d.%d" % (i // 200, i % 200 + 1) for i in range(60)]
        self.dns = DnsNode(self, {NAME: {"targets": ["127.0.0.11", "127.0.0.12", "[::1]:80"]},
                                  "big.example.com": {"targets": many}})

    def test_answers_over_udp_and_tcp(self):
        rcode, answers = a_records(self.dns.dns)
        self.assertEqual((rcode, answers), (0, ["127.0.0.11", "127.0.0.12"]))
        rcode, _, answers = parse_reply(udp_exchange(self.dns.dns, dns_query(NAME, qtype=28)))
        self.assertEqual([socket.inet_ntop(socket.AF_INET6, r) for t, r in answers], ["::1"])
        self.assertEqual(parse_reply(udp_exchange(self.dns.dns, dns_query("no." + NAME)))[0], 3)  # NXDOMAIN
        self.assertEqual(parse_reply(udp_exchange(self.dns.dns, dns_query("example.org")))[0], 5)  # REFUSED
        self.assertEqual(len(parse_reply(udp_exchange(self.dns.dns, dns_query(NAME, qtype=6)))[2]), 1)  # SOA
        # 60 A records do not fit 512 bytes: TC over UDP, everything over TCP.
        rcode, tc, answers = parse_reply(udp_exchange(self.dns.dns, dns_query("big.example.com")))
        self.assertTrue(tc)
        replies = tcp_exchange(self.dns.dns, [dns_query("big.example.com"), dns_query(NAME)])
        self.assertEqual(len(replies), 2)
        self.assertEqual(len(parse_reply(replies[0])[2]), 60)
        self.assertFalse(parse_reply(replies[0])[1])
        self.assertEqual(len(parse_reply(replies[1])[2]), 2)

    def test_bad_packets_never_crash_it(self):
        query = dns_query(NAME, qid=7)
        loop = struct.pack("!HHHHHH", 8, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
        long_label = struct.pack("!HHHHHH", 9, 0x0100, 1, 0, 0, 0) + b"\x40" + b"a" * 64 + b"\0\0\1\0\1"
        garbage = [b"", b"\0", query[:5], query[:-1], loop, long_label, os.urandom(300), b"\xff" * 4000,
                   query + os.urandom(9000)]  # longer than any query we read
        host, port = h.split_addr(self.dns.dns)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(50):
                for g in garbage:
                    s.sendto(g, (host, port))
        for pkt in (loop, long_label, query[:-1]):
            rcode, _, _ = parse_reply(udp_exchange(self.dns.dns, pkt))
            self.assertEqual(rcode, 1)  # FORMERR
        with socket.create_connection((host, port), timeout=2) as s:  # a truncated TCP message, then close
            s.sendall(b"\x00\x40abc")
        self.assertEqual(a_records(self.dns.dns)[0], 0)
        self.assertTrue(self.dns.node.alive())

    def test_bad_httpdns_queries_get_400_with_a_message(self):
        for q in ["", "host=", "host=a..b", "host=%zz", "host=a&host=b", "host=" + ",".join("h%d.com" % i for i in range(40))]:
            r = self.dns.httpdns(q)
            self.assertEqual(r.status, 400, q)
            self.assertIn("error", json.loads(r.body))
        r = self.dns.httpdns("host=nope.example.org")
        self.assertEqual(r.status, 404)
        self.assertIn("unknown host", json.loads(r.body)["error"])
        r = self.dns.httpdns("host=%s,nope.example.org" % NAME)
        body = json.loads(r.body)
        self.assertEqual(body[NAME], {"ips": ["127.0.0.11", "127.0.0.12"], "ipsv6": ["::1"], "ttl": 5})
        self.assertEqual(body["nope.example.org"], {"error": "unknown host"})


# ---------------------------------------------------------------- TCP connection limits

def raise_own_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


def open_idle(addr, n, source="127.0.0.1"):
    """n connections from `source` that never send a query."""
    host, port = h.split_addr(addr)
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.settimeout(2.0)
        s.connect((host, port))  # completes in the kernel's backlog; the server accepts later
        socks.append(s)
    return socks


def closed_by_server(s):
    if not select.select([s], [], [], 0)[0]:
        return False  # nothing to read, not even an end of file
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except ConnectionError:  # reset
        return True


def metric(node, name):
    text = h.http_request(node.http, "GET", "/metrics").body.decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def timed_tcp_query(test, addr, name, source="127.0.0.1"):
    """One query on a fresh connection; asserts an answer within a second."""
    host, port = h.split_addr(addr)
    started = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        s.bind((source, 0))
        s.connect((host, port))
        q = dns_query(name)
        s.sendall(struct.pack("!H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            chunk = s.recv(65535)
            test.assertTrue(chunk, "the server closed a fresh connection without answering")
            buf += chunk
    elapsed = time.monotonic() - started
    test.assertLess(elapsed, 1.0)
    return parse_reply(buf[2:]), elapsed


class DnsTcpLimits(h.LbTestCase):
    def setUp(self):
        super().setUp()
        raise_own_fd_limit(2048)
        self.many = ["10.0.0.%d" % i for i in range(1, 61)]  # too big for UDP: the TC fallback's case
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        super().tearDown()

    def start(self, **tcp):
        domains = {"big.example.com": {"targets": self.many}}
        return DnsNode(self, domains, **({"tcp": tcp} if tcp else {}))

    def test_idle_flood_from_one_host_never_locks_out_fresh_queries(self):
        dns = self.start()  # the defaults: 512 in all, 64 per client, 10 s idle timeout
        self.socks = open_idle(dns.dns, 600)
        evicted = lambda: metric(dns, 'failover_dns_tcp_connections_closed_total{reason="evicted"}')
        self.assertTrue(h.wait_for(lambda: evicted() == 600 - 64, 5.0), "evicted: %s" % evicted())
        self.assertEqual(metric(dns, "failover_dns_tcp_connections"), 64)
        slowest = 0.0
        for _ in range(20):
            (rcode, tc, answers), elapsed = timed_tcp_query(self, dns.dns, "big.example.com")
            self.assertEqual((rcode, tc, len(answers)), (0, False, 60))
            slowest = max(slowest, elapsed)
        log("20 fresh TCP queries after 600 idle connections: slowest %.0f ms" % (slowest * 1000))
        # Only the flood's oldest idle connections were pushed out: the first
        # fresh one took a slot from the flood; once it had its answer and
        # closed, the next found that slot free (or, if its close was not yet
        # seen, pushed out one more of the flood's).
        closed = sum(map(closed_by_server, self.socks))
        self.assertTrue(600 - 64 + 1 <= closed <= 600 - 64 + 20, closed)
        self.assertEqual([closed_by_server(s) for s in self.socks], [True] * closed + [False] * (600 - closed))
        self.assertEqual(evicted(), closed)
        self.assertEqual(metric(dns, 'failover_dns_tcp_connections_closed_total{reason="refused"}'), 0)

    def test_full_server_evicts_the_oldest_idle_of_anyone(self):
        dns = self.start(max_connections=100, max_connections_per_client=40, idle_timeout="10s")
        for i in range(2, 7):  # 200 idle connections from five hosts, 40 each
            self.socks += open_idle(dns.dns, 40, source="127.0.0.%d" % i)
        self.assertTrue(h.wait_for(lambda: sum(map(closed_by_server, self.socks)) == 100, 5.0),
                        "closed: %d" % sum(map(closed_by_server, self.socks)))
        self.assertFalse(any(closed_by_server(s) for s in self.socks[100:]))  # the newest stay
        for _ in range(20):
            (rcode, _, answers), _ = timed_tcp_query(self, dns.dns, "big.example.com")
            self.assertEqual((rcode, len(answers)), (0, 60))
        # The fresh ones pushed out only the flood's oldest (at most one each)
        # and are gone after their answers; the flood's newest stay.
        evicted = lambda: metric(dns, 'failover_dns_tcp_connections_closed_total{reason="evicted"}')
        self.assertTrue(h.wait_for(lambda: metric(dns, "failover_dns_tcp_connections") == 200 - evicted(), 5.0))
        self.assertTrue(101 <= evicted() <= 120, evicted())
        closed = sum(map(closed_by_server, self.socks))
        self.assertEqual([closed_by_server(s) for s in self.socks], [True] * closed + [False] * (200 - closed))
        self.assertEqual(closed, evicted())

    def test_client_at_its_limit_pushes_out_only_its_own_idle_connections(self):
        dns = self.start(max_connections=512, max_connections_per_client=8)
        others = open_idle(dns.dns, 5, source="127.0.0.2")  # the oldest of all
        host, port = h.split_addr(dns.dns)
        busy = socket.create_connection((host, port), timeout=2.0)  # a query in progress: not idle
        q = dns_query("big.example.com")
        busy.sendall(struct.pack("!H", len(q)) + q[:5])
        self.socks = others + [busy]
        self.assertTrue(h.wait_for(lambda: metric(dns, "failover_dns_tcp_connections") == 6, 5.0))
        time.sleep(0.2)  # for the server to read the partial query, which makes that connection busy
        flood = open_idle(dns.dns, 20)
        self.socks += flood
        # 127.0.0.1 holds 8: the busy one and its 7 newest idle ones.
        self.assertTrue(h.wait_for(lambda: sum(map(closed_by_server, flood)) == 13, 5.0),
                        "closed: %d" % sum(map(closed_by_server, flood)))
        self.assertFalse(any(closed_by_server(s) for s in flood[13:]))
        self.assertFalse(any(closed_by_server(s) for s in others))
        busy.sendall(q[5:])
        reply = b""
        while len(reply) < 2 or len(reply) < 2 + struct.unpack("!H", reply[:2])[0]:
            chunk = busy.recv(65535)
            self.assertTrue(chunk, "the busy connection was closed")
            reply += chunk
        rcode, _, answers = parse_reply(reply[2:])
        self.assertEqual((rcode, len(answers)), (0, 60))

    def test_raises_its_own_descriptor_limit(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 1024:
            self.skipTest("hard descriptor limit %d is too low to tell" % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # what the server inherits
        try:
            dns = self.start(max_connections=400, max_connections_per_client=400)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        with open("/proc/%d/limits" % dns.node.pid) as f:
            line = next(l for l in f if l.startswith("Max open files"))
        self.assertEqual(line.split()[3], "unlimited" if hard == resource.RLIM_INFINITY else str(hard))
        self.socks = open_idle(dns.dns, 350)
        self.assertTrue(h.wait_for(lambda: metric(dns, "failover_dns_tcp_connections") == 350, 5.0),
                        "open: %s" % metric(dns, "failover_dns_tcp_connections"))


class DnsDiscovery(h.LbTestCase):
    """A name whose targets are a registry service's instances."""

    def test_targets_follow_the_registry_without_reload(self):
        reg = "127.0.0.1:%d" % h.free_port()
        self.node("registry", {"registry": {"listen": reg}}, wait_addr=reg)
        dns = DnsNode(self, {NAME: {"discovery": {"registry": ["http://" + reg], "service": "lbs"}}})

        def put(iid, ip):
            body = json.dumps({"address": ip, "port": 8080, "ttl_ms": 30000}).encode()
            r = h.http_request(reg, "PUT", "/v1/services/lbs/instances/" + iid, body=body,
                               headers={"Content-Type": "application/json"})
            self.assertIn(r.status, (200, 201), r.body)

        put("lb-1", "127.0.0.11")
        self.assertTrue(h.wait_for(lambda: dns.ips() == ["127.0.0.11"], 5.0), dns.status())
        put("lb-2", "127.0.0.12")
        started = time.monotonic()
        self.assertTrue(h.wait_for(lambda: dns.ips() == ["127.0.0.11", "127.0.0.12"], 5.0), dns.status())
        self.assertEqual(a_records(dns.dns)[1], ["127.0.0.11", "127.0.0.12"])
        log("a new instance was answered %.0f ms after it registered" % ((time.monotonic() - started) * 1000))
        self.assertEqual(h.http_request(reg, "DELETE", "/v1/services/lbs/instances/lb-1").status, 200)
        self.assertTrue(h.wait_for(lambda: dns.ips() == ["127.0.0.12"], 5.0), dns.status())


class SignedHttpdns(h.LbTestCase):
    def test_signed_requests_are_checked(self):
        import hashlib
        import hmac
        dns = DnsNode(self, {NAME: {"targets": ["127.0.0.11"]}}, secret="s3cret", dns_listen="")
        self.assertEqual(dns.httpdns("host=" + NAME).status, 403)
        t = str(int(time.time()) + 60)
        s = hmac.new(b"s3cret", (NAME + t).encode(), hashlib.sha256).hexdigest()
        self.assertEqual(dns.httpdns("host=%s&t=%s&s=%s" % (NAME, t, s)).status, 200)
        self.assertEqual(dns.httpdns("host=%s&t=%s&s=%s" % (NAME, t, "0" * 64)).status, 403)
        old = str(int(time.time()) - 10)  # well past: this VM's wall clock has been seen to step
        s_old = hmac.new(b"s3cret", (NAME + old).encode(), hashlib.sha256).hexdigest()
        r = dns.httpdns("host=%s&t=%s&s=%s" % (NAME, old, s_old))
        self.assertEqual(r.status, 403)
        self.assertIn("expired", json.loads(r.body)["error"])
        far = str(int(time.time()) + 10 * 86400)  # a signed URL must not be good for ever
        s_far = hmac.new(b"s3cret", (NAME + far).encode(), hashlib.sha256).hexdigest()
        self.assertEqual(dns.httpdns("host=%s&t=%s&s=%s" % (NAME, far, s_far)).status, 403)


class DnsConfigErrors(h.LbTestCase):
    def test_bad_config_exits_2_with_file_and_line(self):
        d = h.tempdir()
        path = os.path.join(d, "dns.yaml")
        for text, line in [("dns:\n  domains:\n    www.example.com:\n      targets: [not-an-ip]\n", 4),
                           ("dns:\n  tcp:\n    idle_timeout: soon\n  domains:\n    a.com: {targets: [1.2.3.4]}\n", 3),
                           ("dns:\n  tcp: {max_connections: 0}\n  domains:\n    a.com: {targets: [1.2.3.4]}\n", 2)]:
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([h.BINARY, "dns", "--config", path], capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("%s:%d:" % (path, line), r.stderr.decode())


if __name__ == "__main__":
    h.main()
