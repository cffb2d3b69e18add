"""A small test harness for the integration suite: HTTP helpers that talk
to nginx as a client would (optionally from a chosen loopback source address,
so per-address rate limits stay independent), and a runner that prints one
line per test and a closing 'N passed, N failed'."""

import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.parse
import urllib.request

BASE = os.environ["ADS_URL"]
VAR = os.environ["ADS_VAR"]
PREFIX = os.environ["ADS_PREFIX"]
RUNAS = shlex.split(os.environ.get("ADS_RUNAS", ""))
HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port

_tests = []
_src_counter = [10]


def test(fn):
    _tests.append(fn)
    return fn


def test_if(condition):
    """Registers the test only where it applies (e.g. one storage driver)."""
    def register(fn):
        if condition:
            _tests.append(fn)
        return fn
    return register


def new_source():
    """A fresh loopback source address: its own rate-limit bucket."""
    _src_counter[0] += 1
    n = _src_counter[0] % 60000
    return "127.%d.%d.%d" % (n // 62500 + 1, (n // 250) % 250 + 1, n % 250 + 1)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def request(method, path, body=None, headers=None, key=None, src=None, timeout=30, url=None):
    """path may be a full URL (url=...) or a path on the API."""
    if url is not None:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
        target = parts.path + ("?" + parts.query if parts.query else "")
    else:
        host, port, target = HOST, PORT, path
    # Each request comes from its own loopback address unless a test picks
    # one: nginx's per-address rate limits then only bite where tested.
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(src or new_source(), 0))
    hdrs = dict(headers or {})
    if key:
        hdrs["Authorization"] = "Bearer " + key
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
    try:
        conn.request(method, target, body=data, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def get(path, **kw):
    return request("GET", path, **kw)


def post(path, body, **kw):
    return request("POST", path, body=body, **kw)


def ctl(*args, env_extra=None):
    """Runs adsmithctl against the stack; returns (code, stdout, stderr)."""
    env = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"), **(env_extra or {}))
    p = subprocess.run(RUNAS + [os.path.join(PREFIX, "bin", "adsmithctl")] + list(args),
                       capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def sql(query):
    """One psql query, returning the text of the result."""
    p = subprocess.run(RUNAS + ["psql", "-X", "-q", "-At", "-h", os.path.join(VAR, "run"),
                                "-U", "adsmith", "-d", "adsmith", "-c", query],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("psql failed: " + p.stderr)
    return p.stdout.strip()


def config_value(name):
    with open(os.path.join(VAR, "adsmith.conf")) as f:
        for line in f:
            if "=" in line and line.split("=", 1)[0].strip() == name:
                return line.split("=", 1)[1].strip()
    return None


def api_workers(pool="general"):
    """(master pid, pids of one pool's workers): "general" or "campaign"
    (adsmith-api names its campaign workers "campaign-worker")."""
    master = int(open(os.path.join(VAR, "run", "api.pid")).read())
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    pids = []
    for pid in out:
        try:
            with open("/proc/%s/comm" % pid) as f:
                name = f.read().strip()
        except OSError:
            continue
        if (name == "campaign-worker") == (pool == "campaign"):
            pids.append(int(pid))
    return master, pids


def wait_until(fn, timeout=10.0, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def expect(cond, msg="expectation failed"):
    if not cond:
        raise AssertionError(msg)


def expect_error(r, status, code):
    expect(r.status == status, "status %d, wanted %d: %r" % (r.status, status, r.body[:300]))
    ctype = r.header("Content-Type") or ""
    expect(ctype.startswith("application/json"), "error is not JSON: %s" % ctype)
    j = r.json()
    expect(j.get("code") == code, "code %r, wanted %r" % (j.get("code"), code))
    expect(isinstance(j.get("error"), str) and j["error"], "no error message")
    return j


def run(only=None):
    passed = failed = 0
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("ok   %-48s %6.2fs" % (fn.__name__, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %-48s %6.2fs" % (fn.__name__, time.time() - t0), flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
    print("integration: %d passed, %d failed" % (passed, failed))
    return passed, failed


class Emulator:
    """The /_emu/ control endpoints every emulator under tests/emulators has."""

    def __init__(self, url):
        self.url = url

    def call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def behave(self, **kw):
        """Back to answering normally, then the behaviour asked for."""
        self.call("/_emu/reset", {})
        if kw:
            self.call("/_emu/behave", kw)

    def stats(self):
        return self.call("/_emu/stats")


def lamp_brief(markets):
    """The Aurora Desk Lamp brief the provider suites send, for markets."""
    return {
        "product_info": {"name": "Aurora Desk Lamp", "category": "Home Office",
                         "description": "A dimmable LED desk lamp with a wireless charging base."},
        "target_markets": {"markets": list(markets)},
        "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                                "primary_goal": "drive online sales", "budget": "$5,000"},
    }


def campaign_from_photo(key, brief, photo, timeout=60):
    """Uploads the photo bytes through a presigned URL, then asks for a
    campaign; returns (answer, answer text). Expects both to succeed."""
    r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=key)
    expect(r.status == 200, r.body)
    up = r.json()
    r = request("PUT", None, url=up["upload_url"], body=photo, headers={"Content-Type": "image/png"}, timeout=60)
    expect(r.status == 200, r.body)
    r = post("/api/campaign/tier-1", dict(brief, upload_id=up["upload_id"]), key=key, timeout=timeout)
    expect(r.status == 200, r.body[:400])
    return r.json(), r.body.decode()


GENERATORS = []


def free_port():
    """A TCP port on 127.0.0.1 that is free now (for an emulator the suite starts)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_process(program, ready, procs, extra_env=None, **env):
    """Starts adsmith-PROGRAM of the stack's prefix, appended to procs, its
    log in log/PROGRAM-N.log; env overrides config keys (ADSMITH_*);
    extra_env sets other variables (AWS_*), None removing one. Waits for
    the line ready in its log."""
    n = len(procs) + 1
    log = open(os.path.join(VAR, "log", "%s-%d.log" % (program, n)), "a")
    e = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"))
    e.update({"ADSMITH_" + k.upper(): str(v) for k, v in env.items()})
    for k, v in (extra_env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    p = subprocess.Popen(RUNAS + [os.path.join(PREFIX, "sbin", "adsmith-" + program)],
                         stdout=log, stderr=log, env=e)
    p.log_path = log.name
    procs.append(p)
    expect(wait_until(lambda: ready in read_log(p), 10), "%s did not start: %s" % (program, read_log(p)))
    return p


def start_generator(**env):
    return start_process("generator", "listening for jobs", GENERATORS, **env)


def read_log(p):
    with open(p.log_path) as f:
        return f.read()


def stop_process(p, sig=signal.SIGTERM, timeout=40):
    if p.poll() is None:
        p.send_signal(sig)
        p.wait(timeout)
    return p.returncode


def stop_all():
    for p in GENERATORS:
        if p.poll() is None:
            stop_process(p, signal.SIGKILL)


def pg_ctl(action):
    """Stops or starts the stack's PostgreSQL."""
    pgbin = os.environ["ADS_PGBIN"]
    args = [os.path.join(pgbin, "pg_ctl"), "-D", os.path.join(VAR, "pg"), "-w", "-m", "fast"]
    if action == "start":
        args = [os.path.join(pgbin, "pg_ctl"), "-D", os.path.join(VAR, "pg"), "-w", "-l",
                os.path.join(VAR, "log", "postgres.log"), "-o",
                "-c listen_addresses='' -c unix_socket_directories='%s' -c fsync=off" % os.path.join(VAR, "run")]
    subprocess.run(RUNAS + args + [action], check=True, capture_output=True)
