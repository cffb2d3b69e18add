#!/usr/bin/python3
"""Fault matrix for the queue and the API, run on the cloud stack
(image_provider = bedrock against the bedrock-runtime emulator): the
database connections of the API and the generator killed in the middle of
traffic, PostgreSQL restarted under load, and a retry storm. Each case
drives the stack as clients would and then checks that every request the
API acknowledged became exactly one finished job."""

import ctypes
import ctypes.util
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (GENERATORS, VAR, Emulator, config_value, expect, get, pg_ctl, post, run, sql, start_generator,  # noqa: E402
                     stop_all, test, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
BEDROCK = Emulator(os.environ["ADS_BEDROCK_URL"])


class Traffic:
    """Clients on threads posting image jobs and reading health until
    stopped; every answer is kept as (time, route, status, code, request_id)."""

    def __init__(self, tag, clients=4):
        self.tag, self.stop, self.answers, self.lock = tag, threading.Event(), [], threading.Lock()
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]

    def client(self, n):
        i = 0
        while not self.stop.is_set():
            i += 1
            rid = "%s-%d-%d" % (self.tag, n, i)
            for route, fn in (("assets", lambda: post("/api/assets", {"prompt": "Fault matrix image %s" % rid,
                                                                        "request_id": rid}, key=ALICE, timeout=70)),
                              ("health", lambda: get("/api/health", timeout=70))):
                try:
                    r = fn()
                    code = r.json().get("code") if r.status >= 400 else None
                    status = r.status
                except Exception as e:  # a dropped connection is an answer too
                    status, code = 0, type(e).__name__
                with self.lock:
                    self.answers.append((time.time(), route, status, code, rid if route == "assets" else None))
            time.sleep(0.02)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(90)

    def acknowledged(self):
        return [a[4] for a in self.answers if a[1] == "assets" and a[2] == 200]

    def failures(self, since=0.0, until=None):
        return [a for a in self.answers if a[2] != 200 and a[0] >= since and (until is None or a[0] <= until)]


def expect_each_done_once(rids, timeout=60):
    """Every acknowledged job completed, with one model call for its prompt."""
    expect(rids, "no job was acknowledged")
    quoted = ",".join("'%s'" % r for r in rids)
    expect(wait_until(lambda: sql("SELECT count(*) FROM generated_images WHERE request_id IN (%s) "
                                  "AND status = 'completed'" % quoted) == str(len(rids)), timeout, 0.2),
           "acknowledged jobs not completed: %s" % sql("SELECT status, count(*) FROM generated_images WHERE "
                                                       "request_id IN (%s) GROUP BY status" % quoted))
    calls = BEDROCK.stats()["calls"]
    twice = [rid for rid in rids if calls.get("Fault matrix image %s" % rid, 0) != 1]
    expect(not twice, "%d jobs ran other than once, e.g. %s" % (len(twice), twice[:3]))


def live_generator():
    gens = [p for p in GENERATORS if p.poll() is None]
    return gens[0] if gens else start_generator()


# ---------------------------------------------------------------- cases

@test
def killed_database_connections_cost_at_most_the_requests_in_flight():
    BEDROCK.behave()
    gen = live_generator()
    killed = 0
    with Traffic("kill-" + uuid.uuid4().hex[:6]) as t:
        time.sleep(1.0)
        for _ in range(3):
            killed += int(sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                              "usename = 'adsmith' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
            time.sleep(1.0)
    failures = t.failures()
    print("     %d answers, %d connections killed, %d failed: %s" % (
        len(t.answers), killed, len(failures), sorted(set((f[1], f[2], f[3]) for f in failures))))
    expect(killed >= 3, "no connection was killed")
    expect(all(f[2] == 503 and f[3] == "unavailable" for f in failures), failures[:5])
    expect(len(failures) <= killed, "%d requests failed for %d killed connections" % (len(failures), killed))
    expect_each_done_once(t.acknowledged())
    expect(gen.poll() is None, "the generator exited")


@test
def postgres_restarted_under_load_answers_503_then_serves_within_2_s():
    BEDROCK.behave()
    gen = live_generator()
    with Traffic("restart-" + uuid.uuid4().hex[:6]) as t:
        time.sleep(1.0)
        pg_ctl("stop")
        down = time.time()
        time.sleep(2.0)
        r = get("/api/health")
        expect(r.status == 503 and r.json().get("database") == "unavailable", r.body)
        pg_ctl("start")
        up = time.time()
        expect(wait_until(lambda: get("/api/health").status == 200, 10, 0.05), "health did not come back")
        back = time.time() - up
        time.sleep(1.0)
    late = [f for f in t.failures(since=up + 2.0)]
    during = t.failures(since=down, until=up + 2.0)
    print("     health back %.0f ms after PostgreSQL; %d answers, %d failed while down, %d after" % (
        back * 1000, len(t.answers), len(during), len(late)))
    expect(back < 2.0, "the API served again only %.2f s after PostgreSQL returned" % back)
    expect(all(f[2] == 503 and f[3] == "unavailable" for f in during), "not 503 unavailable: %s" % during[:5])
    expect(not late, "requests failed after the database was back: %s" % late[:5])
    expect_each_done_once(t.acknowledged())
    expect(gen.poll() is None, "the generator exited")


class ConnectionHog:
    """Takes every PostgreSQL connection slot (max_connections, the
    superuser's reserve included: the stack's role is a superuser) through
    libpq itself, as a runaway client would, and keeps knocking from several
    threads so that each slot that frees is taken again at once."""

    def __init__(self, knockers=6):
        self.pq = ctypes.CDLL(ctypes.util.find_library("pq"))
        self.pq.PQconnectdb.restype = ctypes.c_void_p
        self.pq.PQconnectdb.argtypes = [ctypes.c_char_p]
        self.pq.PQstatus.argtypes = [ctypes.c_void_p]
        self.pq.PQfinish.argtypes = [ctypes.c_void_p]
        self.pq.PQexec.restype = ctypes.c_void_p
        self.pq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.pq.PQgetvalue.restype = ctypes.c_char_p
        self.pq.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        self.pq.PQclear.argtypes = [ctypes.c_void_p]
        self.dsn = ("host=%s user=adsmith dbname=adsmith application_name=hog connect_timeout=2"
                    % os.path.join(VAR, "run")).encode()
        self.held, self.refused, self.lock = [], 0, threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.knock) for _ in range(knockers)]

    def take(self):
        """One attempt: True when it got a slot."""
        c = self.pq.PQconnectdb(self.dsn)
        ok = self.pq.PQstatus(c) == 0    # CONNECTION_OK
        with self.lock:
            if ok:
                self.held.append(c)
            else:
                self.refused += 1
        if not ok:
            self.pq.PQfinish(c)
        return ok

    def knock(self):
        while not self.stop.is_set():
            if not self.take():
                time.sleep(0.001)

    def __enter__(self):
        while self.take() and len(self.held) < 1000:
            pass
        for t in self.threads:
            t.start()
        return self

    def cut_the_others(self):
        """From a held slot: ends every connection but the hog's; returns how many."""
        r = self.pq.PQexec(self.held[0], b"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                         b"WHERE application_name <> 'hog' AND backend_type = 'client backend'")
        n = int(self.pq.PQgetvalue(r, 0, 0) or b"0")
        self.pq.PQclear(r)
        return n

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()
        for c in self.held:
            self.pq.PQfinish(c)
        self.held = []


@test
def exhausted_connection_slots_answer_503_then_serve_when_freed():
    BEDROCK.behave()
    gen = live_generator()
    with Traffic("hog-" + uuid.uuid4().hex[:6]) as t:
        time.sleep(1.0)
        with ConnectionHog() as hog:
            start = time.time()
            # Every adsmith connection is cut while no slot is free: each
            # reconnect meets "too many clients" until the hog lets go.
            killed = hog.cut_the_others()
            time.sleep(3.0)
            t0 = time.time()
            r = get("/api/health", timeout=10)
            exhausted_health = (r.status, r.json().get("database"), round(time.time() - t0, 2))
            slots, refused = len(hog.held), hog.refused
        freed = time.time()
        expect(wait_until(lambda: get("/api/health").status == 200, 10, 0.05), "health did not come back")
        back = time.time() - freed
        time.sleep(1.0)
    during = t.failures(since=start, until=freed)
    late = t.failures(since=freed + 2.0)
    print("     %d slots held, %d adsmith connections cut, health while exhausted %s, back %.0f ms after"
          " release; %d answers, %d failed while exhausted, %d after" % (
              slots, killed, exhausted_health, back * 1000, len(t.answers), len(during), len(late)))
    expect(killed >= 2, "no adsmith connection was cut while the slots were taken")
    expect(refused > 0, "the server never refused a connection: the slots were not exhausted")
    # A worker that won a slot back before the hog answers 200; any other 503.
    expect(exhausted_health[:2] in ((503, "unavailable"), (200, "ok")) and exhausted_health[2] < 3.0,
           "health while exhausted: %s" % (exhausted_health,))
    expect(during, "no request failed while no connection slot was free")
    expect(all(f[2] == 503 and f[3] == "unavailable" for f in during), "not 503 unavailable: %s" % during[:5])
    expect(back < 2.0, "the API served again only %.2f s after the slots were freed" % back)
    expect(not late, "requests failed after the slots were freed: %s" % late[:5])
    expect_each_done_once(t.acknowledged())
    expect(gen.poll() is None, "the generator exited")


@test
def a_retry_storm_is_spread_by_backoff_and_dead_letters_exactly_all():
    live_generator()
    tag = "storm" + uuid.uuid4().hex[:6]
    BEDROCK.behave(fail_word=tag)
    rids = ["%s-%04d" % (tag, i) for i in range(1000)]
    errors = []

    def submit(part):
        for rid in part:
            r = post("/api/assets", {"prompt": "Retry storm %s image" % rid, "request_id": rid}, key=ALICE)
            if r.status != 200:
                errors.append((rid, r.status))
    threads = [threading.Thread(target=submit, args=(rids[i::8],)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    expect(not errors, errors[:5])
    dead = "SELECT count(*) FROM dead_letter WHERE request_id LIKE '%s-%%'" % tag
    expect(wait_until(lambda: sql(dead) == "1000", 180, 0.5), "dead letters: %s" % sql(dead))
    expect(sql("SELECT count(*) FROM generated_images WHERE request_id LIKE '%s-%%' AND attempts = 3 "
               "AND status = 'failed'" % tag) == "1000", "not every job failed after exactly 3 attempts")
    calls = [c for c in BEDROCK.stats()["call_times"] if tag in c[1]]
    expect(len(calls) == 3000, "%d model calls for 1000 jobs of 3 attempts" % len(calls))
    by_job = {}
    for t, prompt in calls:
        by_job.setdefault(prompt, []).append(t)
    gaps1 = sorted(ts[1] - ts[0] for ts in map(sorted, by_job.values()))
    gaps2 = sorted(ts[2] - ts[1] for ts in map(sorted, by_job.values()))
    times = sorted(c[0] for c in calls)

    def peak(ts, window=0.1):
        j, best = 0, 0
        for i, x in enumerate(ts):
            while ts[j] < x - window:
                j += 1
            best = max(best, i - j + 1)
        return best
    base = int(config_value("retry_backoff_ms")) / 1000.0
    print("     3000 calls over %.2f s, peak %d per 100 ms; wait before attempt 2: %.0f-%.0f ms (median %.0f), "
          "before attempt 3: %.0f-%.0f ms (median %.0f)" % (
              times[-1] - times[0], peak(times), gaps1[0] * 1000, gaps1[-1] * 1000, gaps1[500] * 1000,
              gaps2[0] * 1000, gaps2[-1] * 1000, gaps2[500] * 1000))
    # Equal jitter: the n-th retry waits between half and all of base *
    # 2^(n-1) before it may be claimed, so none comes early. Later than
    # that is the queue's backlog: the storm is three times the work.
    expect(gaps1[0] >= base / 2 * 0.9, "a retry came %.0f ms after its failure" % (gaps1[0] * 1000))
    expect(gaps2[0] >= base * 0.9, "a second retry came %.0f ms after its failure" % (gaps2[0] * 1000))

if __name__ == "__main__":
    try:
        passed, failed = run(sys.argv[1:] or None)
    finally:
        stop_all()
    sys.exit(1 if failed else 0)
