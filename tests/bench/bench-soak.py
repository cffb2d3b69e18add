#!/usr/bin/python3
"""Queue soak, driven by scripts/bench (`scripts/bench soak [JOBS]`) against
its private stack and the bedrock-runtime emulator answering at once.

JOBS image jobs (default 20,000) are queued at a steady RATE a second
(default 400, well under what one generator holds) ten batches a second, as
clients would queue them, while one generator works them. At the start,
the middle and the end it reports:
  pickup   median and p99 of claimed_at - created_at of the jobs queued
           since the last report (PostgreSQL's clock on both sides)
  claim    median time of the claim's SELECT ... FOR UPDATE SKIP LOCKED
           (50 runs in a rolled-back transaction, timed inside PostgreSQL)
  table    generated_images: heap, index and total size, live and dead
           tuples, HOT share of updates, autovacuum runs
Goal: pickup and claim at the end within 1.5x of the start, dead tuples
and the pending index bounded.

Environment: as tests/bench/bench-jobs.py, plus SOAK_JOBS and SOAK_RATE."""

import importlib.util
import os
import statistics
import sys
import time

spec = importlib.util.spec_from_file_location("benchjobs", os.path.join(os.path.dirname(__file__), "bench-jobs.py"))
jobs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(jobs)
sql, emu, generator, stop = jobs.sql, jobs.emu, jobs.generator, jobs.stop

N = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SOAK_JOBS", "20000"))
RATE = float(os.environ.get("SOAK_RATE", "400"))
BATCH = max(1, int(RATE / 10))
TAG = "soak%d" % os.getpid()


def enqueue(start, n):
    sql("INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash)"
        " SELECT '%s-' || i, 'bench', 'Soak image number ' || i || ' for the queue', 'natural', '1:1', 'x'"
        " FROM generate_series(%d, %d) AS i" % (TAG, start, start + n - 1))


def pickup(lo, hi):
    rows = sql("SELECT extract(epoch FROM claimed_at - created_at) * 1000 FROM generated_images"
               " WHERE request_id LIKE '%s-%%' AND split_part(request_id, '-', 2)::int BETWEEN %d AND %d"
               " AND claimed_at IS NOT NULL" % (TAG, lo, hi)).split()
    ms = sorted(float(x) for x in rows)
    if not ms:
        return float("nan"), float("nan")
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def claim_time():
    p = jobs.subprocess.run(jobs.RUNAS + ["psql", "-X", "-q", "-At", "-h", os.path.join(jobs.VAR, "run"), "-U",
                                          "adsmith", "-d", "adsmith", "-c", "BEGIN", "-c", CLAIM_SQL, "-c", "ROLLBACK"],
                            capture_output=True, text=True, check=True)
    for line in p.stderr.splitlines():
        if "claim_ms" in line:
            return float(line.rsplit(" ", 1)[1])
    return float("nan")


CLAIM_SQL = ("DO $$ DECLARE t timestamptz; d float8[] := '{}'; BEGIN"
             " FOR i IN 1..50 LOOP t := clock_timestamp();"
             "  PERFORM request_id FROM generated_images WHERE status = 'pending' AND run_after <= now()"
             "   AND (locked_until IS NULL OR locked_until < now()) ORDER BY run_after LIMIT 16"
             "   FOR UPDATE SKIP LOCKED;"
             "  d := d || extract(epoch FROM clock_timestamp() - t) * 1000; END LOOP;"
             " RAISE NOTICE 'claim_ms %', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(d) x);"
             " END $$")


def table():
    row = sql("SELECT pg_relation_size('generated_images'), pg_indexes_size('generated_images'),"
              " pg_total_relation_size('generated_images'), pg_relation_size('generated_images_pending_idx'),"
              " n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, autovacuum_count"
              " FROM pg_stat_user_tables WHERE relname = 'generated_images'").split("|")
    return [int(x) for x in row]


def report(name, lo, hi, t0, done):
    med, p99 = pickup(lo, hi)
    claim = claim_time()
    heap, idx, total, pend, live, dead, upd, hot, av = table()
    line = ("%-6s %7d jobs %6.0f s  pickup median %6.2f ms p99 %7.2f ms  claim %5.2f ms  heap %6.1f MB"
            " indexes %6.1f MB (pending %5.0f kB) total %6.1f MB  live %7d dead %6d  HOT %3.0f%%  autovacuum %d"
            % (name, done, time.time() - t0, med, p99, claim, heap / 1e6, idx / 1e6, pend / 1e3, total / 1e6,
               live, dead, 100.0 * hot / upd if upd else 0, av))
    print(line, flush=True)
    return med, claim, dead


def main():
    emu("/_emu/reset", {})
    g = generator()
    t0 = time.time()
    marks = {max(BATCH, N // 10): "start", N // 2: "middle", N: "end"}
    results, last = {}, 1
    queued = 0
    print("soak: %d jobs at %.0f/s, emulator answering at once, one generator" % (N, RATE), flush=True)
    while queued < N:
        n = min(BATCH, N - queued)
        enqueue(queued + 1, n)
        queued += n
        for mark, name in marks.items():
            if queued - n < mark <= queued:
                jobs.wait_done(TAG, queued, 120)
                results[name] = report(name, last, queued, t0, queued)
                last = queued + 1
        delay = t0 + queued / RATE - time.time()
        if delay > 0:
            time.sleep(delay)
    stop(g)
    s, e = results.get("start"), results.get("end")
    if s and e:
        print("end/start: pickup %.2fx, claim %.2fx (goal <= 1.5x each)" % (e[0] / s[0], e[1] / s[1]))


if __name__ == "__main__":
    main()
