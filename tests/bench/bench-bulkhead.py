#!/usr/bin/python3
"""The campaign bulkhead under load, driven by `scripts/bench bulkhead`.

Every cloud provider answers after ADS_BENCH_DELAY_MS (2000): Rekognition
beside YouTube (two calls of half that, so the stage lasts as long), then
Nova Pro's cultural insight, then its synthesis: a tier-2 campaign takes
about three times the delay. While ADS_BENCH_CAMPAIGNS (16) campaigns run
at once, one client reads GET /api/assets/{id} back to back and another
GET /api/health every 20 ms, each on a kept-alive connection; reported:
their p50, p99 and max latency, and the CPU each group of processes used
meanwhile (the machine is shared: the tail is the CPU's queue). Goals: assets p99 < 10 ms, health max <
50 ms. Then ADS_BENCH_OVERFLOW (8) more campaigns than the pool holds:
how many ran, how many were refused with 503 "unavailable", and how long
the slowest refusal took.

Environment: ADS_BENCH_URL, ADS_BENCH_KEY, ADS_BENCH_PHOTO, ADS_YOUTUBE_URL,
ADS_REKOGNITION_URL, ADS_BEDROCK_URL; ADS_BENCH_ASSET (an asset request id)."""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchclient import BASE, KEY, answer as call, behave, upload_photo as upload_id  # noqa: E402

DELAY = int(os.environ.get("ADS_BENCH_DELAY_MS", "2000"))
CAMPAIGNS = int(os.environ.get("ADS_BENCH_CAMPAIGNS", "16"))
OVERFLOW = int(os.environ.get("ADS_BENCH_OVERFLOW", "8"))
ASSET = os.environ["ADS_BENCH_ASSET"]
BRIEF = {"product_info": {"name": "Aurora Desk Lamp", "category": "Home Office",
                          "description": "A dimmable LED desk lamp with a wireless charging base."},
         "target_markets": {"markets": ["North America", "Germany"]},
         "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                                 "primary_goal": "drive online sales", "budget": "$8,000"}}


class Prober(threading.Thread):
    """GETs one path on a kept-alive connection until stopped; keeps each
    request's latency in ms."""

    def __init__(self, path, pause, auth):
        super().__init__(daemon=True)
        self.path, self.pause, self.auth = path, pause, auth
        self.times, self.errors, self.stop = [], 0, threading.Event()

    def run(self):
        u = urllib.parse.urlsplit(BASE)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=90)
        headers = {"Authorization": "Bearer " + KEY} if self.auth else {}
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("GET", self.path, headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=90)
            self.times.append((time.perf_counter() - t0) * 1000)
            self.errors += not ok
            if self.pause:
                time.sleep(self.pause)
        conn.close()


def cpu_ms(pids):
    """CPU time (user + system) used so far by pids, in ms; the ones gone
    count as 0."""
    total = 0
    for pid in pids:
        try:
            f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    return total * 1000.0 / os.sysconf("SC_CLK_TCK")


def children(pid):
    return subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()


def processes():
    """{"general": pids, "campaign": pids, "emulators": pids, "nginx": pids}
    from ADS_BENCH_API_PID, ADS_BENCH_EMU_PIDS, ADS_BENCH_NGINX_PID."""
    groups = {"general": [], "campaign": [], "emulators": [], "nginx": []}
    master = os.environ.get("ADS_BENCH_API_PID")
    if master:
        for child in children(master):
            name = open("/proc/%s/comm" % child).read().strip()
            groups["campaign" if name == "campaign-worker" else "general"].append(int(child))
    groups["emulators"] = [int(p) for p in os.environ.get("ADS_BENCH_EMU_PIDS", "").split()]
    ngx = os.environ.get("ADS_BENCH_NGINX_PID")
    if ngx:
        groups["nginx"] = [int(ngx)] + [int(c) for c in children(ngx)]
    return groups


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))] if v else float("nan")


_sources = [0]


def campaign(uid):
    """One campaign from a loopback address of its own (nginx's rate limit
    is per address); (status, parsed body, Retry-After)."""
    _sources[0] += 1
    n = _sources[0]
    u = urllib.parse.urlsplit(BASE)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=90,
                                      source_address=("127.2.%d.%d" % (n // 250 + 1, n % 250 + 1), 0))
    try:
        conn.request("POST", "/api/campaign/tier-1", body=json.dumps(dict(BRIEF, upload_id=uid)),
                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}"), r.getheader("Retry-After")
    finally:
        conn.close()


def campaigns(n, uid):
    """Runs n campaigns at once; returns [(status, seconds, body, Retry-After)]."""
    out = [None] * n

    def one(i):
        t0 = time.perf_counter()
        s, body, retry = campaign(uid)
        out[i] = (s, time.perf_counter() - t0, body, retry)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, out


def main():
    behave(os.environ["ADS_REKOGNITION_URL"], {"delay_ms": DELAY})
    behave(os.environ["ADS_YOUTUBE_URL"], {"delay_ms": DELAY // 2})
    behave(os.environ["ADS_BEDROCK_URL"], {"text_delay_ms": DELAY, "converse_mode": "off"})
    uid = upload_id()

    assets = Prober("/api/assets/" + ASSET, 0, True)
    health = Prober("/api/health", 0.02, False)
    assets.start()
    health.start()
    time.sleep(0.5)
    quiet = (list(assets.times), list(health.times))
    assets.times.clear()
    health.times.clear()
    procs = processes()
    cpu0 = {k: cpu_ms(v) for k, v in procs.items()}
    t0 = time.perf_counter()
    threads, out = campaigns(CAMPAIGNS, uid)
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu = {k: cpu_ms(v) - cpu0[k] for k, v in procs.items()}
    assets.stop.set()
    health.stop.set()
    assets.join()
    health.join()
    ok = [o for o in out if o[0] == 200]
    print("load average at the end: %.1f %.1f %.1f (the figures below are only as quiet as the machine)"
          % os.getloadavg())
    print("%d campaigns at once, every provider call %d ms: %d answered 200 (median %.1f s, max %.1f s; "
          "all done in %.1f s), other statuses %s"
          % (CAMPAIGNS, DELAY, len(ok), pct([o[1] for o in ok], 50), max([o[1] for o in ok] or [0]), wall,
             sorted(o[0] for o in out if o[0] != 200)))
    print("before the campaigns: GET /api/assets/{id} p50 %.2f ms p99 %.2f ms (%d requests); "
          "GET /api/health max %.2f ms" % (pct(quiet[0], 50), pct(quiet[0], 99), len(quiet[0]), max(quiet[1] or [0])))
    print("during the campaigns: GET /api/assets/{id} p50 %.2f ms p99 %.2f ms max %.2f ms (%d requests, %d errors)"
          " (goal p99 < 10 ms)" % (pct(assets.times, 50), pct(assets.times, 99), max(assets.times or [0]),
                                   len(assets.times), assets.errors))
    print("during the campaigns: GET /api/health p50 %.2f ms max %.2f ms (%d requests, %d errors) (goal max < 50 ms)"
          % (pct(health.times, 50), max(health.times or [0]), len(health.times), health.errors))

    print("CPU used meanwhile: campaign workers %.0f ms, general workers %.0f ms, nginx %.0f ms, emulators %.0f ms"
          " (%.1f s of wall time, 2 cores)" % (cpu["campaign"], cpu["general"], cpu["nginx"], cpu["emulators"], wall))

    if OVERFLOW <= 0:
        return
    n = CAMPAIGNS + OVERFLOW
    threads, out = campaigns(n, uid)
    for t in threads:
        t.join()
    ok = [o for o in out if o[0] == 200]
    busy = [o for o in out if o[0] == 503 and o[2].get("code") == "unavailable"]
    retry = sorted({o[3] for o in busy})
    print("%d campaigns at once: %d answered 200, %d refused 503 unavailable (Retry-After %s; fastest %.2f s, "
          "slowest %.2f s), other statuses %s"
          % (n, len(ok), len(busy), ",".join(str(r) for r in retry) or "-", min([o[1] for o in busy] or [0]),
             max([o[1] for o in busy] or [0]), sorted(o[0] for o in out if o not in ok and o not in busy)))


if __name__ == "__main__":
    main()
