#!/usr/bin/python3
"""Asynchronous campaigns under load, driven by `scripts/bench async`.

The campaigner runs with the cloud providers of the `cloud` test mode (text
bedrock with tier 1 on, vision rekognition, video youtube) against their
emulators, every call answering after ADS_BENCH_DELAY_MS (2000). Measured
through nginx as a client would, from the POST to the listing that first
says completed (GET /api/campaigns polled every 50 ms):

  T1   one campaign alone (after one warm-up campaign)
  T64  64 campaigns submitted at once, until the last completes;
       goal T64 <= 1.5 x T1
  peak RSS, summed over every adsmith process (API master and workers,
       generator, campaigner), sampled every 50 ms during the 64; goal < 300 MB

Environment: ADS_BENCH_URL, ADS_BENCH_VAR (the stack), ADS_BENCH_KEY, ADS_BENCH_PHOTO, ADS_YOUTUBE_URL,
ADS_REKOGNITION_URL, ADS_BEDROCK_URL."""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import importlib.util

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchclient import BASE, KEY, behave, call, upload_photo  # noqa: E402

VAR = os.environ["ADS_BENCH_VAR"]
DELAY = int(os.environ.get("ADS_BENCH_DELAY_MS", "2000"))
N = int(os.environ.get("ADS_BENCH_CAMPAIGNS", "64"))
BRIEF = {"product_info": {"name": "Aurora Desk Lamp", "category": "Home Office",
                          "description": "A dimmable LED desk lamp with a wireless charging base."},
         "target_markets": {"markets": ["North America", "Germany", "Japan"]},
         "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                                 "primary_goal": "drive online sales", "budget": "$8,000"}}


def post_from(src, path, body):
    """A POST from its own loopback address: each client has its own
    rate-limit bucket, as 64 clients would."""
    u = urllib.parse.urlsplit(BASE)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60, source_address=(src, 0))
    try:
        conn.request("POST", path, body=json.dumps(body).encode(),
                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 202:
            raise SystemExit("POST %s answered %d: %s" % (path, r.status, data[:200]))
        return json.loads(data)
    finally:
        conn.close()


def brief():
    return dict(BRIEF, upload_id=upload_photo())


def stack_pids():
    """The bench stack's adsmith processes: from its pid files, and the API
    master's workers (other stacks on the machine are not counted)."""
    pids = {}
    for name in ("api", "generator", "campaigner"):
        try:
            with open(os.path.join(VAR, "run", name + ".pid")) as f:
                pids[int(f.read().strip())] = name
        except (OSError, ValueError):
            continue
    masters = [p for p, n in pids.items() if n == "api"]
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid in masters:
                pids[int(pid)] = "api"
        except (OSError, ValueError, IndexError):
            continue
    return pids


def adsmith_rss_kib(pids):
    """(sum of VmRSS over the stack's adsmith processes, the campaigner's) in KiB."""
    total = camp = 0
    for pid, name in pids.items():
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        kib = int(line.split()[1])
                        total += kib
                        camp += kib if name == "campaigner" else 0
        except OSError:
            continue
    return total, camp


def cpu_seconds(pids):
    """CPU time (user + system) used so far by each process, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, ValueError, IndexError):
            out[pid] = 0.0
    return out


def emulator_pids():
    """The emulators this bench started (their ports are in the URLs)."""
    ports = {urllib.parse.urlsplit(os.environ[k]).port: k[4:-4].lower()
             for k in ("ADS_YOUTUBE_URL", "ADS_REKOGNITION_URL", "ADS_BEDROCK_URL")}
    found = {}
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            if b"--port" in argv:
                port = int(argv[argv.index(b"--port") + 1])
                if port in ports and any(a.endswith(b"emu.py") for a in argv):
                    found[int(pid)] = ports[port]
        except (OSError, ValueError, IndexError):
            continue
    return found


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = self.peak_campaigner = 0
        self.stop = False

    def run(self):
        pids = stack_pids()
        while not self.stop:
            total, camp = adsmith_rss_kib(pids)
            self.peak = max(self.peak, total)
            self.peak_campaigner = max(self.peak_campaigner, camp)
            time.sleep(0.05)


def run_campaigns(body, n):
    """Submits n at once; returns (seconds until the last completed, methods, failures)."""
    t0 = time.perf_counter()
    pids, lock = [], threading.Lock()

    def submit(i):
        j = post_from("127.0.%d.%d" % (i // 200 + 1, i % 200 + 2), "/api/campaigns", body)
        with lock:
            pids.append(j["product_id"])
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    submitted = time.perf_counter() - t0
    if len(pids) != n:
        raise SystemExit("only %d of %d campaigns were accepted" % (len(pids), n))
    waiting, methods, failed, last = set(pids), set(), [], t0
    while waiting:
        # One listing per poll (the newest 100 are these), not one GET each.
        for s in call("GET", BASE + "/api/campaigns?limit=100")["campaigns"]:
            if s["product_id"] in waiting and s["status"] in ("completed", "failed"):
                waiting.discard(s["product_id"])
                last = time.perf_counter()
                if s["status"] == "completed":
                    methods.add(s["generation_method"])
                else:
                    failed.append(s.get("code"))
        if waiting:
            time.sleep(0.05)
        if time.perf_counter() - t0 > 300:
            raise SystemExit("campaigns still running after 300 s: %d" % len(waiting))
    listed = {c["product_id"]: c for c in call("GET", BASE + "/api/campaigns?limit=100")["campaigns"]}
    rows = [listed[p] for p in pids if p in listed and listed[p]["completed_at"]]
    if len(rows) == n and n > 1:
        def ts(v):
            return time.mktime(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S")) + int(v[20:23]) / 1000.0
        waits = sorted(ts(r["started_at"]) - ts(r["created_at"]) for r in rows)
        span = max(ts(r["completed_at"]) for r in rows) - min(ts(r["created_at"]) for r in rows)
        print("server side: queued to claimed median %.3f s, max %.3f s; first queued to last completed %.2f s"
              % (waits[n // 2], waits[-1], span))
    return last - t0, submitted, methods, failed


def probers():
    """The bulkhead bench's probes: GET /api/assets/{id} back to back and
    /api/health every 20 ms, on kept-alive connections."""
    os.environ.setdefault("ADS_BENCH_ASSET", "bench-row")
    spec = importlib.util.spec_from_file_location("bulkhead", os.path.join(os.path.dirname(__file__),
                                                                           "bench-bulkhead.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, mod.Prober("/api/assets/" + os.environ["ADS_BENCH_ASSET"], 0, True), mod.Prober("/api/health", 0.02, False)


def main():
    body = brief()
    behave(os.environ["ADS_REKOGNITION_URL"], {"delay_ms": DELAY})
    behave(os.environ["ADS_YOUTUBE_URL"], {"delay_ms": DELAY})
    behave(os.environ["ADS_BEDROCK_URL"], {"text_delay_ms": DELAY})
    run_campaigns(body, 1)                                   # warm-up
    t1, _, m1, f1 = run_campaigns(body, 1)
    print("T1 (one async campaign alone, every provider call %d ms): %.2f s, method %s%s"
          % (DELAY, t1, ",".join(sorted(m1)), " FAILED %s" % f1 if f1 else ""))
    sampler = Sampler()
    pids = stack_pids()
    base_total, base_camp = adsmith_rss_kib(pids)
    emus = emulator_pids()
    cpu0 = cpu_seconds(list(pids) + list(emus))
    bulkhead, assets, health = probers()
    sampler.start()
    assets.start()
    health.start()
    tn, submitted, mn, fn = run_campaigns(body, N)
    sampler.stop = True
    sampler.join()
    for p in (assets, health):
        p.stop.set()
        p.join()
    cpu1 = cpu_seconds(list(pids) + list(emus))
    print("T%d (%d async campaigns submitted at once, all %d accepted in %.2f s): %.2f s, methods %s%s"
          % (N, N, N, submitted, tn, ",".join(sorted(mn)), " FAILED %d: %s" % (len(fn), fn) if fn else ""))
    print("ratio T%d / T1: %.2f (goal <= 1.5)" % (N, tn / t1))
    print("during the %d: GET /api/assets/{id} p50 %.2f ms p99 %.2f ms max %.2f ms (%d requests, %d errors) "
          "(goal p99 < 10 ms); GET /api/health max %.2f ms (%d requests, %d errors) (goal < 50 ms)"
          % (N, bulkhead.pct(assets.times, 50), bulkhead.pct(assets.times, 99), max(assets.times or [0]),
             len(assets.times), assets.errors, max(health.times or [0]), len(health.times), health.errors))
    runs = []
    with open(os.path.join(VAR, "log", "campaigner.log")) as f:
        for line in f:
            if " completed in " in line:
                runs.append(float(line.rsplit(" completed in ", 1)[1].split()[0]))
    runs = sorted(runs[-N:])
    if len(runs) == N:
        print("campaigner's own run time of each of the %d: min %.2f s, median %.2f s, max %.2f s"
              % (N, runs[0] / 1000, runs[N // 2] / 1000, runs[-1] / 1000))
    print("peak RSS of all adsmith processes during the %d: %.1f MB (before: %.1f MB; campaigner peak %.1f MB,"
          " before %.1f MB) (goal < 300 MB)"
          % (N, sampler.peak / 1024, base_total / 1024, sampler.peak_campaigner / 1024, base_camp / 1024))
    used = {}
    for pid, name in list(pids.items()) + list(emus.items()):
        used[name] = used.get(name, 0.0) + cpu1.get(pid, 0.0) - cpu0.get(pid, 0.0)
    print("CPU seconds used during the %d: %s; load average %.1f"
          % (N, ", ".join("%s %.2f" % kv for kv in sorted(used.items())), os.getloadavg()[0]))
    return 1 if fn or f1 else 0


if __name__ == "__main__":
    sys.exit(main())
