#!/usr/bin/python3
"""Job-queue benchmark, driven by scripts/bench against its private stack and
the bedrock-runtime emulator. Timings come from the rows themselves
(created_at, claimed_at, generated_at: PostgreSQL's clock_timestamp()).

  pickup       jobs enqueued one at a time through nginx into an idle
               generator: median and p99 of claimed_at - created_at
  throughput   5,000 jobs queued at once, the emulator answering at once:
               jobs/s from the first claim to the last completion, next to
               pgbench running the bare claim and complete statements (batches
               of the same size, one connection) on the same database
  concurrency  640 jobs, the emulator answering after 500 ms,
               generator_concurrency = 64: wall time against the ideal 5 s

Environment: ADS_VAR, ADS_PREFIX, ADS_URL, ADS_KEY, ADS_BEDROCK_URL, ADS_PGBIN,
ADS_BEDROCK_PID, ADS_RUNAS, ADS_GEN_ENV (space-separated KEY=VALUE config overrides)."""

import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request

VAR, PREFIX = os.environ["ADS_VAR"], os.environ["ADS_PREFIX"]
URL, KEY, EMU = os.environ["ADS_URL"], os.environ["ADS_KEY"], os.environ["ADS_BEDROCK_URL"]
PGBIN = os.environ["ADS_PGBIN"]
EMU_PID = int(os.environ["ADS_BEDROCK_PID"])
RUNAS = shlex.split(os.environ.get("ADS_RUNAS", ""))
GEN_ENV = dict(kv.split("=", 1) for kv in os.environ.get("ADS_GEN_ENV", "").split())
BATCH = 16


def sql(query):
    p = subprocess.run(RUNAS + ["psql", "-X", "-q", "-At", "-h", os.path.join(VAR, "run"), "-U", "adsmith",
                                "-d", "adsmith", "-c", query], capture_output=True, text=True, check=True)
    return p.stdout.strip()


def emu(path, body):
    req = urllib.request.Request(EMU + path, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).read()


def generator(**overrides):
    env = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"))
    env.update({"ADSMITH_" + k.upper(): v for k, v in GEN_ENV.items()})
    env.update({"ADSMITH_" + k.upper(): str(v) for k, v in overrides.items()})
    log = open(os.path.join(VAR, "log", "bench-generator.log"), "a")
    p = subprocess.Popen(RUNAS + [os.path.join(PREFIX, "sbin", "adsmith-generator")], stdout=log, stderr=log, env=env)
    time.sleep(0.5)
    return p


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(p):
    try:
        p.cpu = cpu_seconds(p.pid)
    except OSError:
        p.cpu = 0.0
    p.terminate()
    p.wait(60)


def queue(n, tag):
    """n jobs in one statement, as n clients would have queued them."""
    sql("INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash)"
        " SELECT '%s-' || i, 'bench', 'Benchmark image number ' || i || ' for the queue', 'natural', '1:1', 'x'"
        " FROM generate_series(1, %d) AS i" % (tag, n))


def wait_done(tag, n, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if sql("SELECT count(*) FROM generated_images WHERE request_id LIKE '%s-%%' AND status <> 'pending'" % tag) == str(n):
            return True
        time.sleep(0.05)
    return False


def span(tag):
    """Seconds from the first claim to the last completion of a batch of jobs."""
    return float(sql("SELECT extract(epoch FROM max(generated_at) - min(claimed_at)) FROM generated_images"
                     " WHERE request_id LIKE '%s-%%'" % tag))


def pickup(n=200):
    emu("/_emu/reset", {})
    g = generator()
    ids = []
    for i in range(n):
        rid = "pickup-%d-%d" % (os.getpid(), i)
        body = json.dumps({"prompt": "Pickup latency probe number %d" % i, "request_id": rid}).encode()
        req = urllib.request.Request(URL + "/api/assets", data=body, method="POST",
                                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
        ids.append(rid)
        time.sleep(0.02)     # idle again before the next one
    time.sleep(0.5)
    stop(g)
    lags = sorted(float(x) for x in sql(
        "SELECT extract(epoch FROM claimed_at - created_at) * 1000 FROM generated_images"
        " WHERE request_id LIKE 'pickup-%d-%%'" % os.getpid()).split())
    print("pickup latency over %d jobs: median %.2f ms, p99 %.2f ms, max %.2f ms (goal: median < 5, p99 < 20)"
          % (len(lags), statistics.median(lags), lags[int(len(lags) * 0.99) - 1], lags[-1]))


def throughput(n=5000):
    emu("/_emu/reset", {})
    tag = "tput%d" % os.getpid()
    queue(n, tag)
    emu0 = cpu_seconds(EMU_PID)
    g = generator()
    ok = wait_done(tag, n, 300)
    stop(g)
    if not ok:
        print("throughput: the jobs did not finish in 300 s")
        return
    s = span(tag)
    gen_rate = n / s
    print("throughput: %d jobs in %.2f s = %.0f jobs/s (generator_concurrency %s; goal >= 1000);"
          " generator CPU %.0f us/job, emulator CPU %.0f us/job"
          % (n, s, gen_rate, GEN_ENV.get("generator_concurrency", "16"), g.cpu * 1e6 / n,
             (cpu_seconds(EMU_PID) - emu0) * 1e6 / n))
    # The bare statements on the same table: claim a batch, complete it.
    tag2 = "pgb%d" % os.getpid()
    queue(n, tag2)
    script = os.path.join(VAR, "claim-complete.sql")
    with open(script, "w") as f:
        f.write("WITH due AS (SELECT request_id FROM generated_images WHERE status = 'pending'"
                " AND run_after <= now() AND attempts < 3 AND (locked_until IS NULL OR locked_until < now())"
                " ORDER BY run_after LIMIT %d FOR UPDATE SKIP LOCKED),"
                " c AS (UPDATE generated_images g SET locked_until = now() + interval '300 s', locked_by = 'pgbench',"
                " attempts = g.attempts + 1, claimed_at = clock_timestamp() FROM due"
                " WHERE g.request_id = due.request_id RETURNING g.request_id)"
                " SELECT coalesce(json_agg(json_build_object('request_id', request_id, 's3_key', 'k', 's3_url', 'u')),"
                " '[]') AS batch FROM c \\gset\n" % BATCH)
        f.write("UPDATE generated_images g SET status = 'completed', s3_key = d.s3_key, s3_url = d.s3_url,"
                " generated_at = clock_timestamp(), locked_until = NULL, error = NULL"
                " FROM json_to_recordset(:batch::json) AS d(request_id text, s3_key text, s3_url text)"
                " WHERE g.request_id = d.request_id AND g.locked_by = 'pgbench' AND g.status = 'pending';\n")
    os.chmod(script, 0o644)
    tx = n // BATCH
    p = subprocess.run(RUNAS + [os.path.join(PGBIN, "pgbench"), "-n", "-M", "prepared", "-c", "1", "-t", str(tx),
                                "-f", script, "-h", os.path.join(VAR, "run"), "-U", "adsmith", "adsmith"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("pgbench failed: " + p.stderr[-500:])
        return
    done = int(sql("SELECT count(*) FROM generated_images WHERE request_id LIKE '%s-%%' AND status = 'completed'" % tag2))
    ps = span(tag2)
    print("pgbench, bare claim+complete in batches of %d, one connection: %d jobs in %.2f s = %.0f jobs/s"
          % (BATCH, done, ps, done / ps))
    print("ratio generator/pgbench: %.2f (the rest is HTTP to the model, base64, PNG checks, storage, logging)"
          % (gen_rate / (done / ps)))


def concurrency(n=640, delay_ms=500, conc=64):
    emu("/_emu/reset", {})
    emu("/_emu/behave", {"delay_ms": delay_ms})
    tag = "conc%d" % os.getpid()
    queue(n, tag)
    g = generator(generator_concurrency=conc)
    ok = wait_done(tag, n, 120)
    stop(g)
    emu("/_emu/reset", {})
    if not ok:
        print("concurrency: the jobs did not finish in 120 s")
        return
    ideal = n / conc * delay_ms / 1000.0
    s = span(tag)
    print("concurrency: %d jobs at %d ms each, %d in flight: %.2f s, ideal %.2f s, ratio %.2f (goal <= 1.2)"
          % (n, delay_ms, conc, s, ideal, s / ideal))


if __name__ == "__main__":
    which = sys.argv[1:] or os.environ.get("ADS_BENCH_JOBS", "pickup throughput concurrency").split()
    for name in which:
        globals()[name]()
