#!/usr/bin/python3
"""Integration suite for the image job queue with image_provider = bedrock:
a private PostgreSQL and nginx, the API, and adsmith-generator processes
this suite starts, kills and restarts itself, against the bedrock-runtime
emulator (tests/emulators/bedrockemu.py), which checks every call's SigV4
signature with botocore and can be told to delay, fail, throttle or refuse.

The stack runs with job_lease = 5 s, retry_backoff_ms = 200 and
poll_interval = 30 s: a job picked up in well under the sweep interval was
woken by NOTIFY, a retry that runs on time was scheduled by run_after."""

import glob
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (GENERATORS, VAR, Emulator, config_value, ctl, expect, get, new_source,  # noqa: E402
                     pg_ctl, post, read_log, request, run, sql, start_generator, stop_all, stop_process, test,
                     wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
EMU = os.environ["ADS_BEDROCK_URL"]


# ---------------------------------------------------------------- helpers

BEDROCK = Emulator(EMU)
behave = BEDROCK.behave
stats = BEDROCK.stats


def enqueue(prompt, **kw):
    rid = kw.pop("request_id", "j-" + uuid.uuid4().hex[:12])
    body = {"prompt": prompt, "request_id": rid}
    body.update(kw)
    r = post("/api/assets", body, key=ALICE)
    expect(r.status == 200, r.body)
    return rid


def row(rid, cols="status, attempts"):
    return sql("SELECT %s FROM generated_images WHERE request_id = '%s'" % (cols, rid))


def wait_status(rid, status, timeout=20):
    return wait_until(lambda: row(rid, "status") == status, timeout, 0.05)


def asset(rid):
    """The job as the API reports it."""
    r = get("/api/assets/" + rid, key=ALICE, src=new_source())
    expect(r.status == 200, r.body)
    return r.json()


def stored_files(rid):
    return glob.glob(os.path.join(VAR, "storage", "adsmith-assets", "generated", "*", "*_%s_*.png" % rid))


def png_size(data):
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# ---------------------------------------------------------------- tests

@test
def nova_canvas_jobs_complete_with_signed_calls_and_real_pngs():
    behave()
    cases = [("A walnut desk lamp in warm evening light", "natural", "1:1", (1024, 1024)),
             ("A neon sneaker ad over a rainy city street", "vivid", "16:9", (1280, 720)),
             ("An anime-style poster for a summer lemonade", "anime", "9:16", (720, 1280)),
             ("A studio photograph of a ceramic coffee mug", "photographic", "3:4", (864, 1152))]
    rids = [(enqueue(p, style=s, aspect_ratio=a), size) for p, s, a, size in cases]
    for rid, size in rids:
        expect(wait_status(rid, "completed"), "job %s: %s" % (rid, row(rid, "status, attempts, error")))
        j = asset(rid)
        expect(j["attempts"] == 1 and j["s3_key"].startswith("generated/alice/"), j)
        img = request("GET", None, url=j["s3_url"])
        expect(img.status == 200 and png_size(img.body) == size, (img.status, img.body[:40]))
    s = stats()
    expect(s["signed_ok"] == 4 and s["rejected"] == 0 and s["images"] == 4, s)
    # Timings an operator reads in psql.
    t = row(rids[0][0], "created_at <= claimed_at AND claimed_at <= generated_at AND started_at = claimed_at")
    expect(t == "t", "timings out of order: %s" % t)


@test
def pickup_is_woken_by_notify_not_by_the_sweep():
    behave()
    lags = []
    for i in range(5):
        rid = enqueue("Pickup latency probe number %d" % i)
        expect(wait_status(rid, "completed", 10), row(rid))
        lags.append(float(row(rid, "extract(epoch FROM claimed_at - created_at) * 1000")))
    # poll_interval is 30 s here: only the notification explains this.
    expect(max(lags) < 1000, "pickup took %s ms" % lags)


@test
def refused_prompt_fails_at_once_with_the_reason():
    behave(refuse_word="forbidden-thing")
    rid = enqueue("A poster showing a forbidden-thing on a shelf")
    expect(wait_status(rid, "failed"), row(rid, "status, attempts, error"))
    j = asset(rid)
    expect(j["status"] == "failed" and j["attempts"] == 1, j)
    expect("content filters" in j["error"] and "ValidationException" in j["error"], j["error"])
    expect(stats()["calls"].get("A poster showing a forbidden-thing on a shelf") == 1, "the refusal was retried")
    expect(sql("SELECT count(*) FROM dead_letter WHERE request_id = '%s' AND dead_lettered_at IS NOT NULL" % rid) == "1")
    expect(not stored_files(rid), "a refused job stored something")


@test
def server_errors_retry_with_backoff_then_dead_letter_after_three():
    prompt = "A product shot that always breaks the model"
    behave(fail_word="always breaks")
    rid = enqueue(prompt)
    expect(wait_status(rid, "failed", 30), row(rid, "status, attempts, error"))
    expect(row(rid, "attempts") == "3", row(rid))
    expect(stats()["calls"].get(prompt) == 3, stats()["calls"])
    expect("InternalServerException" in row(rid, "error"), row(rid, "error"))
    # 200 ms then 400 ms bases with jitter: the retries waited, but for
    # run_after, not for the 30 s sweep.
    spent = float(row(rid, "extract(epoch FROM dead_lettered_at - started_at)"))
    expect(0.2 <= spent < 10, "three attempts took %.2f s" % spent)
    expect(sql("SELECT attempts FROM dead_letter WHERE request_id = '%s'" % rid) == "3")
    code, out, _ = ctl("jobs", "list", "--status", "failed")
    expect(code == 0 and rid in out and "InternalServerException" in out, out)


@test
def jobs_retry_revives_dead_jobs():
    behave(fail_word="doomed")
    dead = [enqueue("A doomed product photo number %d" % i) for i in range(3)]
    for rid in dead:
        expect(wait_status(rid, "failed", 30), row(rid))
    behave()
    code, out, _ = ctl("jobs", "retry", dead[0])
    expect(code == 0 and dead[0] in out, out)
    expect(wait_status(dead[0], "completed"), row(dead[0], "status, attempts, error"))
    expect(asset(dead[0])["attempts"] == 1, "attempts start again from zero")
    expect(row(dead[0], "dead_lettered_at IS NULL") == "t")
    code, out, err = ctl("jobs", "retry", dead[0])
    expect(code == 1 and "no failed job" in err, (code, out, err))
    code, out, err = ctl("jobs", "retry", "../etc")
    expect(code == 1 and "request id" in err, (code, out, err))
    code, out, _ = ctl("jobs", "retry", "--all-dead")
    expect(code == 0 and "put back" in out, out)
    for rid in dead[1:]:
        expect(wait_status(rid, "completed"), row(rid, "status, attempts, error"))
    expect(sql("SELECT count(*) FROM dead_letter WHERE request_id IN ('%s')" % "','".join(dead)) == "0")
    code, out, _ = ctl("jobs", "list", "--status", "bogus")
    expect(code == 1)


@test
def transient_failures_are_retried_and_the_job_completes():
    behave(fail=1)
    rid = enqueue("A sunlit kitchen with a copper kettle")
    expect(wait_status(rid, "completed"), row(rid, "status, attempts, error"))
    expect(row(rid, "attempts") == "2", row(rid))
    behave(malformed=1)
    rid = enqueue("A broken reply must not be stored as an image")
    expect(wait_status(rid, "completed"), row(rid, "status, attempts, error"))
    expect(row(rid, "attempts") == "2", row(rid))
    expect(len(stored_files(rid)) == 1, stored_files(rid))


@test
def throttling_halves_concurrency_and_costs_no_attempts():
    behave(throttle=6, delay_ms=100)
    rids = [enqueue("Throttle probe image number %d" % i) for i in range(16)]
    for rid in rids:
        expect(wait_status(rid, "completed", 30), row(rid, "status, attempts, error"))
    expect(sql("SELECT max(attempts) FROM generated_images WHERE request_id IN ('%s')" % "','".join(rids)) == "1",
           "a throttled call counted as an attempt")
    expect(stats()["throttled"] == 6)
    logs = "".join(read_log(p) for p in GENERATORS if p.poll() is None)
    expect("model throttled: at most 8 jobs in flight" in logs, "the generator did not slow down")


@test
def a_long_call_keeps_its_lease_by_heartbeat():
    prompt = "A slow image that outlives its first lease"
    behave(hang=1, hang_ms=7000)
    rid = enqueue(prompt)
    expect(wait_until(lambda: stats()["in_flight"] == 1, 5), "the call did not start")
    first = row(rid, "locked_until")
    # The lease is 5 s; a heartbeat every 5/3 s moves it on.
    expect(wait_until(lambda: row(rid, "locked_until") != first, 4), "the lease was not extended")
    expect(wait_status(rid, "completed", 15), row(rid, "status, attempts, error"))
    expect(row(rid, "attempts") == "1" and stats()["calls"].get(prompt) == 1,
           "the job was taken again while running: %s" % row(rid))


@test
def a_late_worker_cannot_overwrite_the_new_lease_holder():
    behave(hang=1, hang_ms=1500)
    rid = enqueue("A slow image whose lease is taken over")
    expect(wait_until(lambda: stats()["in_flight"] == 1, 5), "the call did not start")
    # Another generator takes the job over, as after an expired lease.
    sql("UPDATE generated_images SET locked_by = 'elsewhere:1', claimed_at = clock_timestamp()"
        " WHERE request_id = '%s'" % rid)
    expect(wait_until(lambda: stats()["in_flight"] == 0 and stats()["images"] == 1, 5))
    time.sleep(0.3)
    expect(row(rid, "status, locked_by") == "pending|elsewhere:1", row(rid, "status, locked_by, s3_key"))
    expect(any("lease lost" in read_log(p) for p in GENERATORS))
    sql("UPDATE generated_images SET locked_by = NULL, locked_until = NULL, attempts = 0 WHERE request_id = '%s'" % rid)
    sql("NOTIFY adsmith_jobs")
    expect(wait_status(rid, "completed"), row(rid, "status, attempts, error"))


@test
def sigkill_mid_job_loses_nothing_and_the_job_completes_once():
    gen = [p for p in GENERATORS if p.poll() is None][0]
    behave(hang=1, hang_ms=2000)
    rid = enqueue("A job whose generator is killed mid-call")
    expect(wait_until(lambda: stats()["in_flight"] == 1, 5), "the call did not start")
    stop_process(gen, signal.SIGKILL)
    expect(row(rid, "status, attempts") == "pending|1")
    start_generator()
    # The 5 s lease expires, then the new generator takes the job.
    expect(wait_status(rid, "completed", 20), row(rid, "status, attempts, error"))
    expect(row(rid, "attempts") == "2", row(rid))
    expect(len(stored_files(rid)) == 1, "stored %s" % stored_files(rid))


@test
def two_generators_share_the_queue_and_run_each_job_once():
    second = start_generator()
    behave(delay_ms=40)
    tag = uuid.uuid4().hex[:8]
    prompts = ["Shared queue image %s number %03d" % (tag, i) for i in range(80)]
    rids = ["shared-%s-%d" % (tag, i) for i in range(80)]
    # One statement, as a burst of clients: both generators wake to a full queue.
    sql("INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash)"
        " SELECT 'shared-%s-' || i, 'alice', 'Shared queue image %s number ' || lpad(i::text, 3, '0'),"
        " 'natural', '1:1', 'x' FROM generate_series(0, 79) AS i" % (tag, tag))
    expect(wait_until(lambda: sql("SELECT count(*) FROM generated_images WHERE status = 'completed' AND request_id IN ('%s')"
                                  % "','".join(rids)) == str(len(rids)), 60), "not every job completed")
    calls = stats()["calls"]
    expect(all(calls.get(p) == 1 for p in prompts), "a job ran twice: %s" % [p for p in prompts if calls.get(p) != 1][:5])
    workers = sql("SELECT count(DISTINCT locked_by) FROM generated_images WHERE request_id IN ('%s')" % "','".join(rids))
    expect(workers == "2", "both generators should have worked: %s" % workers)
    stop_process(second)


@test
def postgres_restart_mid_run_and_the_generator_carries_on():
    gen = [p for p in GENERATORS if p.poll() is None][0]
    behave(delay_ms=300)
    rids = [enqueue("Image queued before the database restart %d" % i) for i in range(10)]
    expect(wait_until(lambda: stats()["in_flight"] > 0, 5), "no call in flight")
    pg_ctl("stop")
    time.sleep(1.0)
    pg_ctl("start")
    rids.append(enqueue("Image queued after the database restart"))
    for rid in rids:
        expect(wait_status(rid, "completed", 40), row(rid, "status, attempts, error"))
    expect(gen.poll() is None, "the generator exited")
    log = read_log(gen)
    expect("database connection lost" in log or "database unavailable" in log, log[-2000:])
    expect(log.count("listening for jobs") >= 2, "the generator did not LISTEN again")
    calls = stats()["calls"]
    expect(all(v == 1 for k, v in calls.items()), "a finished job ran again: %s" % calls)


@test
def sigterm_finishes_the_jobs_in_hand():
    gen = [p for p in GENERATORS if p.poll() is None][0]
    behave(delay_ms=800)
    rids = [enqueue("Image in hand at shutdown %d" % i) for i in range(4)]
    expect(wait_until(lambda: stats()["in_flight"] == 4, 5), "calls did not start")
    t0 = time.time()
    expect(stop_process(gen) == 0)
    expect(time.time() - t0 < 5)
    for rid in rids:
        expect(row(rid, "status, attempts") == "completed|1", row(rid, "status, attempts, error"))
    start_generator()


@test
def sigterm_releases_what_the_grace_period_cannot_finish():
    for p in GENERATORS:
        if p.poll() is None:
            stop_process(p)
    gen = start_generator(shutdown_grace=1)
    behave(hang=2, hang_ms=20000)
    rids = [enqueue("Image released at shutdown %d" % i) for i in range(2)]
    expect(wait_until(lambda: stats()["in_flight"] == 2, 5), "calls did not start")
    t0 = time.time()
    expect(stop_process(gen) == 0)
    expect(time.time() - t0 < 4, "shutdown took %.1f s" % (time.time() - t0))
    for rid in rids:
        expect(row(rid, "status, attempts, locked_by IS NULL, run_after <= now()") == "pending|0|t|t", row(rid))
    t0 = time.time()
    start_generator()
    for rid in rids:
        expect(wait_status(rid, "completed", 10), row(rid))
    expect(time.time() - t0 < 5, "released jobs were not taken at once")
    expect(sql("SELECT max(attempts) FROM generated_images WHERE request_id IN ('%s')" % "','".join(rids)) == "1")


@test
def missed_notifications_and_dead_leases_are_caught_by_the_sweep():
    for p in GENERATORS:
        if p.poll() is None:
            stop_process(p)
    gen = start_generator(poll_interval=1)
    behave()
    lost, dead = "sweep-" + uuid.uuid4().hex[:8], "reap-" + uuid.uuid4().hex[:8]
    # Rows written with triggers off: no NOTIFY reaches the generator.
    sql("SET session_replication_role = replica;"
        " INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash)"
        " VALUES ('%s', 'alice', 'A job whose notification was lost', 'natural', '1:1', 'x');"
        " INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash, attempts,"
        "   claimed_at, locked_until, locked_by)"
        " VALUES ('%s', 'alice', 'A job whose generators all died', 'natural', '1:1', 'x', 3,"
        "   now() - interval '10 minutes', now() - interval '5 minutes', 'gone:1')" % (lost, dead))
    expect(wait_status(lost, "completed", 5), row(lost))
    expect(wait_status(dead, "failed", 5), row(dead))
    expect("lease expired" in row(dead, "error") and row(dead, "dead_lettered_at IS NOT NULL") == "t")
    stop_process(gen)
    start_generator()


def start_s3():
    """An S3 emulator of this test's own (the stack itself stores locally),
    with the stack's S3 keys; (process, url)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    log = open(os.path.join(VAR, "log", "s3emu-jobs.log"), "a")
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(os.environ["ADS_ROOT"], "tests", "emulators", "s3emu.py"),
                          "--port", str(port), "--public", "adsmith-assets",
                          "--access-key", config_value("s3_access_key_id"),
                          "--secret-key", config_value("s3_secret_access_key")], stdout=log, stderr=log)
    url = "http://127.0.0.1:%d" % port
    expect(wait_until(lambda: _up(url), 10), "the S3 emulator did not start")
    return p, url


def _up(url):
    try:
        request("GET", None, url=url + "/_emu/stats")
        return True
    except OSError:
        return False


@test
def a_slow_s3_store_holds_no_other_job_up():
    """storage = s3 with every PutObject answered after 1.5 s: the generator
    stores from its event loop, so the four jobs' puts run at once and the
    jobs finish in well under four store delays, for Nova Canvas and the
    built-in renderer (which draws in the loop, one image at a time) alike;
    a SlowDown answer is retried by the loop without costing the job an
    attempt."""
    for p in GENERATORS:
        if p.poll() is None:
            stop_process(p)
    s3, url = start_s3()
    s3emu = Emulator(url)
    gen = None
    try:
        for provider in ("bedrock", "builtin"):
            behave()
            gen = start_generator(storage="s3", s3_endpoint=url, s3_path_style="yes", s3_retries=3,
                                  image_provider=provider)
            s3emu.call("/_emu/delay?ms=1500", {})
            t0 = time.time()
            rids = [enqueue("A %s image stored slowly, number %d" % (provider, i)) for i in range(4)]
            for rid in rids:
                expect(wait_status(rid, "completed", 20), row(rid, "status, attempts, error"))
            took = time.time() - t0
            most = s3emu.stats()["max_in_flight"]
            # One after another, the four puts alone would take 6 s.
            expect(most >= 3 and took < 6.0, "%s: puts at once %d, %.1f s for four jobs" % (provider, most, took))
            for rid in rids:
                j = asset(rid)
                o = s3emu.call("/_emu/object?bucket=adsmith-assets&key=" + j["s3_key"])
                expect(j["attempts"] == 1 and j["s3_url"].startswith(url + "/adsmith-assets/generated/"), j)
                expect(o["content_type"] == "image/png" and o["meta"].get("x-amz-meta-request-id") == rid, o)
            stop_process(gen)
        gen = start_generator(storage="s3", s3_endpoint=url, s3_path_style="yes", s3_retries=3)
        s3emu.call("/_emu/delay?ms=0", {})
        before = s3emu.stats()["failed_injected"]
        s3emu.call("/_emu/fail?count=1&status=503", {})
        rid = enqueue("An image whose first store attempt meets SlowDown")
        expect(wait_status(rid, "completed", 20), row(rid, "status, attempts, error"))
        expect(row(rid, "attempts") == "1" and s3emu.stats()["failed_injected"] == before + 1, row(rid))
        expect(re.search(r"S3 PutObject: HTTP 503 SlowDown.*; retrying", read_log(gen)), read_log(gen)[-2000:])
    finally:
        if gen is not None:
            stop_process(gen)
        s3.kill()
        s3.wait()
        start_generator()


@test
def no_secret_in_any_log():
    secret = [line.split("=", 1)[1].strip() for line in open(os.path.join(VAR, "adsmith.conf"))
              if line.startswith("s3_secret_access_key")][0]
    for path in glob.glob(os.path.join(VAR, "log", "*.log")):
        text = open(path, errors="replace").read()
        expect(secret not in text and ALICE not in text, "a secret is in %s" % path)


if __name__ == "__main__":
    try:
        start_generator()
        passed, failed = run(sys.argv[1:] or None)
    finally:
        stop_all()
    sys.exit(1 if failed else 0)
