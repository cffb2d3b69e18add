#!/usr/bin/python3
"""Integration suite for asynchronous campaigns (POST /api/campaigns, GET
/api/campaigns[/{id}], Prefer: respond-async on tier-1) and the
adsmith-campaigner processes this suite starts, kills and restarts itself,
on the cloud stack: Rekognition, YouTube and Nova Pro against their
emulators, which the suite tells to answer slowly to hold a campaign in
flight. The stack runs with job_lease = 5 s, retry_backoff_ms = 200,
poll_interval = 30 s and campaign_deadline_ms = 6000."""

import json
import os
import signal
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Emulator, config_value, ctl, expect, expect_error, get, lamp_brief, pg_ctl,  # noqa: E402
                     post, read_log, request, run, sql, start_process, stop_process, test, wait_until)
from harness import check_creatives, check_localised  # noqa: E402

ALICE = os.environ["ADS_KEY_ALICE"]
BOB = os.environ["ADS_KEY_BOB"]
PHOTO = open(os.path.join(os.environ["ADS_ROOT"], "data", "sample-product.png"), "rb").read()
BRIEF = lamp_brief(["North America", "Japan"])
YOUTUBE = Emulator(os.environ["ADS_YOUTUBE_URL"])
REKOGNITION = Emulator(os.environ["ADS_REKOGNITION_URL"])
BEDROCK = Emulator(os.environ["ADS_BEDROCK_URL"])
CAMPAIGNERS = []


# ---------------------------------------------------------------- helpers

def calm():
    """Every emulator back to answering at once."""
    for e in (YOUTUBE, REKOGNITION, BEDROCK):
        e.behave()


def start_campaigner(**env):
    return start_process("campaigner", "listening for campaigns", CAMPAIGNERS, **env)


def running_campaigners():
    return [p for p in CAMPAIGNERS if p.poll() is None]


def only_campaigner(**env):
    """Exactly one campaigner runs, started with env."""
    for p in running_campaigners():
        stop_process(p, signal.SIGKILL)
    return start_campaigner(**env)


def upload(key=ALICE, photo=PHOTO):
    r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=key)
    expect(r.status == 200, r.body)
    up = r.json()
    r = request("PUT", None, url=up["upload_url"], body=photo, headers={"Content-Type": "image/png"}, timeout=60)
    expect(r.status == 200, r.body)
    return up["upload_id"]


def submit(body, key=ALICE, path="/api/campaigns", headers=None):
    r = post(path, body, key=key, headers=headers)
    expect(r.status == 202, (r.status, r.body[:400]))
    j = r.json()
    expect(j["success"] is True and j["status"] == "pending", j)
    expect(j["product_id"] == j["productId"] and j["correlation_id"], j)
    expect(j["status_url"].endswith("/api/campaigns/" + j["product_id"]), j)
    expect(r.header("Location") == j["status_url"], r.headers)
    return j


def status(pid, key=ALICE):
    r = get("/api/campaigns/" + pid, key=key)
    expect(r.status == 200, (r.status, r.body[:300]))
    return r.json()


def wait_done(pid, timeout=40, key=ALICE):
    j = wait_until(lambda: (lambda s: s if s["status"] in ("completed", "failed") else None)(status(pid, key)),
                   timeout, 0.2)
    expect(j, "campaign %s still %s" % (pid, status(pid, key)["status"]))
    return j


def job(pid, cols="status, attempts"):
    return sql("SELECT %s FROM campaign_jobs WHERE product_id = '%s'" % (cols, pid))


def products_rows(pid):
    return int(sql("SELECT count(*) FROM products WHERE product_id = '%s'" % pid))


def strip(o):
    """A campaign without what differs between two runs of the same brief:
    ids and timestamps."""
    volatile = {"correlation_id", "product_id", "productId", "generated_at", "duration_ms",
                "started_at", "completed_at", "created_at"}
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in volatile}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


# ---------------------------------------------------------------- tests

@test
def async_campaign_equals_the_sync_one_for_the_same_brief():
    calm()
    only_campaigner()
    body = dict(BRIEF, upload_id=upload())
    r = post("/api/campaign/tier-1", body, key=ALICE, timeout=60)
    expect(r.status == 200, r.body[:300])
    sync = r.json()
    t0 = time.time()
    queued = submit(body)
    expect(time.time() - t0 < 1.0, "the 202 took %.2f s" % (time.time() - t0))
    done = wait_done(queued["product_id"])
    expect(done["status"] == "completed" and done["success"] is True, done)
    expect(done["correlation_id"] == queued["correlation_id"], done)
    for k in ("created_at", "started_at", "completed_at"):
        expect(isinstance(done.get(k), str) and done[k].endswith("Z"), (k, done.get(k)))
    expect(done["created_at"] <= done["started_at"] <= done["completed_at"], done)
    expect(done["generation_method"] == sync["generation_method"], (done["generation_method"], sync["generation_method"]))
    expect(done["warnings"] == sync["warnings"], (done["warnings"], sync["warnings"]))
    expect(strip(done["campaign"]) == strip(sync["campaign"]), "the campaigns differ")
    # The product row is kept as the sync route keeps it.
    cols = "name, description, category, product_info, s3_bucket, s3_key, target_markets, campaign_objectives"
    expect(sql("SELECT %s FROM products WHERE product_id = '%s'" % (cols, sync["product_id"]))
           == sql("SELECT %s FROM products WHERE product_id = '%s'" % (cols, queued["product_id"])), "rows differ")
    a = json.loads(sql("SELECT campaign FROM products WHERE product_id = '%s'" % sync["product_id"]))
    b = json.loads(sql("SELECT campaign FROM products WHERE product_id = '%s'" % queued["product_id"]))
    expect(sorted(a) == sorted(b), (sorted(a), sorted(b)))
    expect(strip(a["campaign_data"]) == strip(b["campaign_data"]) and a["generation_method"] == b["generation_method"])
    expect(products_rows(queued["product_id"]) == 1)
    expect(job(queued["product_id"], "status, attempts, generation_method, error")
           == "completed|1|%s|" % sync["generation_method"], job(queued["product_id"], "*"))


@test
def an_async_campaign_is_localised_per_market():
    calm()
    only_campaigner()
    body = dict(lamp_brief(["Japan", "Germany", "Brazil"]), upload_id=upload())
    queued = submit(body)
    done = wait_done(queued["product_id"])
    expect(done["status"] == "completed", done)
    c = done["campaign"]
    # This suite's stack writes with the text model: the model's variants,
    # checked, and adsmith's own creative requests.
    expect(done["generation_method"] != "fallback_campaign", done["warnings"])
    check_localised(c, {"Japan": "ja", "Germany": "de", "Brazil": "pt"}, source="model")
    key = sql("SELECT s3_key FROM products WHERE product_id = '%s'" % queued["product_id"])
    check_creatives(c, key, c["campaigns"][0]["platforms"])


@test
def prefer_respond_async_on_tier1_queues_the_campaign():
    calm()
    if not running_campaigners():
        start_campaigner()
    body = dict(BRIEF, upload_id=upload())
    queued = submit(body, path="/api/campaign/tier-1", headers={"Prefer": "return=minimal, respond-async"})
    done = wait_done(queued["product_id"])
    expect(done["status"] == "completed" and isinstance(done["campaign"], dict), done)
    # Without the preference tier-1 still answers the campaign itself.
    r = post("/api/campaign/tier-1", body, key=ALICE, headers={"Prefer": "return=minimal"}, timeout=60)
    expect(r.status == 200 and "campaign" in r.json(), r.status)


@test
def a_bad_brief_is_400_and_nothing_is_queued():
    before = sql("SELECT count(*) FROM campaign_jobs")
    uid = upload()
    short_name = dict(BRIEF, upload_id=uid, product_info=dict(BRIEF["product_info"], name="Lamp"))
    j = expect_error(post("/api/campaigns", short_name, key=ALICE), 400, "invalid_request")
    expect("product_info.name" in j["error"] and j["success"] is False and j["correlation_id"], j)
    no_markets = dict(BRIEF, upload_id=uid, target_markets={"markets": []})
    expect_error(post("/api/campaigns", no_markets, key=ALICE), 400, "invalid_request")
    for bad in ("ftp://example.com/hook", "http://exa mple.com/", 17, "http://" + "a" * 2100):
        j = expect_error(post("/api/campaigns", dict(BRIEF, upload_id=uid, callback_url=bad), key=ALICE),
                         400, "invalid_request")
        expect("callback_url" in j["error"], j)
    # Another user's upload answers as a missing one, on both routes.
    expect_error(post("/api/campaigns", dict(BRIEF, upload_id=uid), key=BOB), 404, "not_found")
    expect_error(post("/api/campaign/tier-1", dict(BRIEF, upload_id=uid), key=BOB,
                      headers={"Prefer": "respond-async"}), 404, "not_found")
    expect_error(post("/api/campaigns", "[1, 2]", key=ALICE, headers={"Content-Type": "application/json"}),
                 400, "invalid_json")
    expect_error(post("/api/campaigns", dict(BRIEF, upload_id=uid)), 401, "unauthorized")
    expect(sql("SELECT count(*) FROM campaign_jobs") == before, "a job was queued")
    # A good callback_url is kept for the webhook.
    q = submit(dict(BRIEF, upload_id=uid, callbackUrl="https://hooks.example.com/adsmith?x=1"))
    expect(job(q["product_id"], "callback_url") == "https://hooks.example.com/adsmith?x=1")


@test
def an_unreadable_photo_fails_the_job_with_invalid_image():
    calm()
    if not running_campaigners():
        start_campaigner()
    q = submit(dict(BRIEF, upload_id=upload(photo=b"\x89PNG\r\n\x1a\n this is not a picture" * 20)))
    done = wait_done(q["product_id"])
    expect(done["status"] == "failed" and done["success"] is False, done)
    expect(done["code"] == "invalid_image", done)
    expect(done["error"].startswith("image: ") and len(done["error"]) > 10, done)
    expect("campaign" not in done, done)
    expect(products_rows(q["product_id"]) == 0)
    # Failed at once: sending the same bytes again cannot succeed.
    expect(job(q["product_id"], "attempts, error_code") == "1|invalid_image")


@test
def another_users_campaign_is_404_like_a_missing_one():
    if not running_campaigners():
        start_campaigner()
    q = submit(dict(BRIEF, upload_id=upload()))
    theirs = get("/api/campaigns/" + q["product_id"], key=BOB)
    missing = get("/api/campaigns/" + str(uuid.uuid4()), key=BOB)
    a, b = expect_error(theirs, 404, "not_found"), expect_error(missing, 404, "not_found")
    expect(a["error"] == b["error"] and set(a) == set(b), (a, b))
    expect_error(get("/api/campaigns/not-a-uuid", key=ALICE), 404, "not_found")
    r = get("/api/campaigns?limit=100", key=BOB)
    expect(r.status == 200 and q["product_id"] not in r.body.decode(), "listed for another user")
    expect(status(q["product_id"])["product_id"] == q["product_id"])
    wait_done(q["product_id"])


@test
def listing_is_newest_first_and_cursors_survive_concurrent_inserts():
    user = "lister-" + uuid.uuid4().hex[:8]
    code, out, err = ctl("apikey", "create", "--user", user)
    expect(code == 0, err)
    key = out.strip()
    for p in running_campaigners():      # the jobs only need to exist
        stop_process(p, signal.SIGKILL)
    body = dict(BRIEF, upload_id=upload(key=key))

    def submit_many(n, into):
        for _ in range(n):
            into.append(submit(body, key=key)["product_id"])

    first = []
    threads = [threading.Thread(target=submit_many, args=(6, first)) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    later = []
    writer = threading.Thread(target=submit_many, args=(12, later))
    writer.start()
    seen, cursor, pages = [], None, 0
    while True:
        r = get("/api/campaigns?limit=5" + ("&cursor=" + cursor if cursor else ""), key=key)
        expect(r.status == 200, r.body)
        j = r.json()
        for c in j["campaigns"]:
            expect(set(c) >= {"product_id", "status", "product_name", "generation_method", "created_at",
                              "started_at", "completed_at"}, c)
            expect("campaign" not in c, "the listing carries whole campaigns")
            expect(c["product_name"] == "Aurora Desk Lamp", c)
        seen += [c for c in j["campaigns"]]
        pages += 1
        cursor = j["next_cursor"]
        if cursor is None:
            break
        time.sleep(0.05)                 # let the writer insert between pages
    writer.join()
    ids = [c["product_id"] for c in seen]
    expect(len(ids) == len(set(ids)), "duplicates across pages")
    expect(set(first) <= set(ids), "gaps: %d of the first %d missing" % (len(set(first) - set(ids)), len(first)))
    stamps = [(c["created_at"], c["product_id"]) for c in seen]
    expect(all(c["created_at"] >= d["created_at"] for c, d in zip(seen, seen[1:])), "not newest first")
    expect(pages >= 5, "pages %d" % pages)
    expect(len(stamps) <= len(first) + len(later))
    # A fresh listing sees every job, new ones first.
    r = get("/api/campaigns?limit=100", key=key)
    all_ids = [c["product_id"] for c in r.json()["campaigns"]]
    expect(sorted(all_ids) == sorted(first + later) and r.json()["next_cursor"] is None, len(all_ids))
    expect(all_ids.index(later[-1]) < all_ids.index(first[0]), "newest first")
    expect_error(get("/api/campaigns?cursor=bm90IGEgY3Vyc29y", key=key), 400, "invalid_request")
    expect_error(get("/api/campaigns?limit=0", key=key), 400, "invalid_request")
    expect_error(get("/api/campaigns?limit=101", key=key), 400, "invalid_request")
    sql("DELETE FROM campaign_jobs WHERE user_id = '%s'" % user)


@test
def a_runner_killed_mid_campaign_loses_nothing_and_gives_one_result():
    calm()
    first = only_campaigner()
    REKOGNITION.behave(delay_ms=4000)
    q = submit(dict(BRIEF, upload_id=upload()))
    pid = q["product_id"]
    expect(wait_until(lambda: REKOGNITION.stats().get("in_flight", 0) >= 1 or job(pid) == "running|1", 5),
           job(pid))
    expect(wait_until(lambda: job(pid) == "running|1", 5), job(pid))
    expect(status(pid)["status"] == "running")
    stop_process(first, signal.SIGKILL)
    calm()
    start_campaigner()
    # The 5 s lease expires, then the new runner takes the job and runs it again.
    done = wait_done(pid, 30)
    expect(done["status"] == "completed", done)
    expect(job(pid, "status, attempts") == "completed|2", job(pid, "*"))
    expect(products_rows(pid) == 1)
    time.sleep(4.5)                      # the killed run's late answer, had it lived, changes nothing
    expect(products_rows(pid) == 1 and job(pid, "status, attempts") == "completed|2")


@test
def postgres_restarted_mid_run_and_every_campaign_completes_once():
    calm()
    runner = only_campaigner()
    REKOGNITION.behave(delay_ms=4000)
    uid = upload()
    pids = [submit(dict(BRIEF, upload_id=uid))["product_id"] for _ in range(4)]
    # All four claimed, and still in their 4 s provider call when the
    # database goes away.
    expect(wait_until(lambda: sql("SELECT count(*) FROM campaign_jobs WHERE started_at IS NOT NULL AND status = 'running'"
                                  " AND product_id IN ('%s')" % "','".join(pids)) == "4", 15),
           "not all running: %s" % sql("SELECT status, attempts, error FROM campaign_jobs WHERE product_id IN ('%s')"
                                       % "','".join(pids)))
    pg_ctl("stop")
    time.sleep(1.0)
    pg_ctl("start")
    for pid in pids:
        done = wait_done(pid, 40)
        expect(done["status"] == "completed", done)
        expect(products_rows(pid) == 1, pid)
    expect(runner.poll() is None, "the campaigner exited")
    log = read_log(runner)
    expect("database connection lost" in log or "database unavailable" in log, log[-1500:])
    expect(log.count("listening for campaigns") >= 2, "the campaigner did not LISTEN again")
    calm()


@test
def a_campaign_past_its_deadline_fails_with_deadline_exceeded():
    calm()
    only_campaigner(campaign_deadline_ms=1500)
    REKOGNITION.behave(delay_ms=4000)
    BEDROCK.behave(text_delay_ms=4000)
    q = submit(dict(BRIEF, upload_id=upload()))
    done = wait_done(q["product_id"], 20)
    expect(done["status"] == "failed" and done["code"] == "deadline_exceeded", done)
    expect("nothing was saved" in done["error"], done)
    expect(products_rows(q["product_id"]) == 0)
    calm()
    only_campaigner()


@test
def sigterm_finishes_the_campaigns_in_hand():
    calm()
    runner = only_campaigner()
    REKOGNITION.behave(delay_ms=1500)
    pid = submit(dict(BRIEF, upload_id=upload()))["product_id"]
    expect(wait_until(lambda: job(pid, "status") == "running", 5), job(pid))
    expect(stop_process(runner, signal.SIGTERM) == 0)
    expect(job(pid, "status, attempts") == "completed|1", job(pid, "*"))
    expect(products_rows(pid) == 1)
    calm()
    start_campaigner()


@test
def sigterm_releases_what_the_grace_cannot_finish():
    calm()
    runner = only_campaigner(shutdown_grace=1)
    REKOGNITION.behave(delay_ms=5000)
    pid = submit(dict(BRIEF, upload_id=upload()))["product_id"]
    expect(wait_until(lambda: job(pid, "status") == "running", 5), job(pid))
    t0 = time.time()
    expect(stop_process(runner, signal.SIGTERM) == 0)
    expect(time.time() - t0 < 4, "stopping took %.1f s" % (time.time() - t0))
    # Back in the queue at once, the attempt not counted, no lease left.
    expect(job(pid, "status, attempts, locked_by") == "pending|0|", job(pid, "*"))
    expect("released" in read_log(runner) or "1 released" in read_log(runner), read_log(runner)[-800:])
    calm()
    start_campaigner()
    done = wait_done(pid, 20)
    expect(done["status"] == "completed" and job(pid, "attempts") == "1", job(pid, "*"))
    expect(products_rows(pid) == 1)


@test
def the_campaigner_logs_no_secret():
    secret = config_value("aws_secret_access_key")
    expect(secret and CAMPAIGNERS)
    for p in CAMPAIGNERS:
        log = read_log(p)
        expect(ALICE not in log and secret not in log, p.log_path)


if __name__ == "__main__":
    try:
        passed, failed = run(sys.argv[1:] or None)
    finally:
        for p in running_campaigners():
            stop_process(p, signal.SIGKILL)
    sys.exit(1 if failed else 0)
