#!/usr/bin/python3
"""Integration suite for the campaign bulkhead: POST /api/campaign/tier-1
runs in a worker pool of its own (campaign_workers on campaign_listen),
so slow campaigns never keep the other routes waiting, and a campaign that
finds the pool full gets 503 "unavailable" with Retry-After in a bounded
time. Runs on the cloud stack, whose providers the emulators can slow down:
campaign_workers equals the general workers (3; with one shared pool the
general routes would wait), campaign_backlog = 0 (one connection waits in
the socket's backlog) and campaign_queue_timeout_ms = 1000."""

import os
import signal
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Emulator, api_workers, config_value, expect, expect_error, get, lamp_brief, post,  # noqa: E402
                     request, run, test, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
PHOTO = open(os.path.join(os.environ["ADS_ROOT"], "data", "sample-product.png"), "rb").read()
BRIEF = lamp_brief(["North America"])
YOUTUBE = Emulator(os.environ["ADS_YOUTUBE_URL"])
REKOGNITION = Emulator(os.environ["ADS_REKOGNITION_URL"])
BEDROCK = Emulator(os.environ["ADS_BEDROCK_URL"])

POOL = int(config_value("campaign_workers"))
QUEUE_TIMEOUT = int(config_value("campaign_queue_timeout_ms")) / 1000.0
# Each provider stage answers after this long: Rekognition (beside YouTube),
# then Nova Pro twice, so a campaign takes about three times it, inside the
# stack's campaign_deadline_ms of 6000.
SLOW_MS = 1200
PROMPT = 1.0    # seconds: "promptly" on a shared machine; minutes-long queues fail it


def providers(slow):
    """Tier 2 (Converse refused) with every stage slow, or back to normal."""
    delay = SLOW_MS if slow else 0
    REKOGNITION.behave(delay_ms=delay)
    YOUTUBE.behave()
    BEDROCK.behave(converse_mode="off", text_delay_ms=delay)


def uploaded_photo():
    r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=ALICE)
    expect(r.status == 200, r.body)
    up = r.json()
    r = request("PUT", None, url=up["upload_url"], body=PHOTO, headers={"Content-Type": "image/png"})
    expect(r.status == 200, r.body)
    return up["upload_id"]


def campaigns(n, upload_id):
    """Starts n campaigns at once; returns (threads, results), each result
    (response or exception, seconds taken) once its thread is done."""
    results = [None] * n

    def one(i):
        t0 = time.time()
        try:
            r = post("/api/campaign/tier-1", dict(BRIEF, upload_id=upload_id), key=ALICE, timeout=60)
        except Exception as e:    # reported by the test that reads it
            r = e
        results[i] = (r, time.time() - t0)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def fill_the_pool(upload_id):
    """POOL slow campaigns, returned once every one is at its providers."""
    threads, results = campaigns(POOL, upload_id)
    started = wait_until(lambda: REKOGNITION.stats()["calls"] >= POOL, 10)
    expect(started, "the campaigns did not all reach the providers: %s" % REKOGNITION.stats())
    return threads, results


def expect_done(threads, results, status):
    for t in threads:
        t.join(60)
    for r, secs in results:
        expect(not isinstance(r, Exception), "campaign raised %r" % (r,))
        expect(r.status == status, "campaign answered %d after %.1fs, wanted %d: %r"
               % (r.status, secs, status, r.body[:300]))


def timed(fn):
    t0 = time.time()
    r = fn()
    return r, time.time() - t0


@test
def other_routes_answer_promptly_while_campaigns_fill_their_pool():
    providers(slow=True)
    upload_id = uploaded_photo()
    rid = "bulkhead-" + uuid.uuid4().hex[:12]
    r = post("/api/assets", {"prompt": "A desk lamp on an oak desk at dusk", "request_id": rid}, key=ALICE)
    expect(r.status == 200, r.body)
    checks = [
        ("GET /api/health", lambda: get("/api/health")),
        ("POST /api/upload/presigned-url",
         lambda: post("/api/upload/presigned-url", {"file_name": "b.png", "file_type": "image/png"}, key=ALICE)),
        ("GET /api/upload/status/{id}", lambda: get("/api/upload/status/" + upload_id, key=ALICE)),
        ("GET /api/assets/{id}", lambda: get("/api/assets/" + rid, key=ALICE)),
    ]
    threads, results = fill_the_pool(upload_id)
    worst = {}
    for _ in range(3):
        for name, fn in checks:
            r, secs = timed(fn)
            expect(r.status == 200, "%s answered %d: %r" % (name, r.status, r.body[:200]))
            worst[name] = max(worst.get(name, 0), secs)
        time.sleep(0.1)
    # Measured while every campaign worker was busy.
    expect(all(t.is_alive() for t in threads), "the campaigns ended before the checks did")
    expect_done(threads, results, 200)
    slowest = max(worst, key=worst.get)
    expect(worst[slowest] < PROMPT, "%s took %.2fs with the campaign pool full (all: %s)"
           % (slowest, worst[slowest], {k: round(v, 3) for k, v in worst.items()}))
    providers(slow=False)


@test
def a_campaign_beyond_the_pool_gets_503_unavailable_with_retry_after():
    providers(slow=True)
    upload_id = uploaded_photo()
    threads, results = fill_the_pool(upload_id)
    # One more waits in the campaign socket's backlog (one slot) ...
    queued, queued_result = campaigns(1, upload_id)
    time.sleep(0.3)
    # ... and the next finds the backlog full: refused at once by nginx.
    r, secs = timed(lambda: post("/api/campaign/tier-1", dict(BRIEF, upload_id=upload_id), key=ALICE))
    expect_error(r, 503, "unavailable")
    expect(r.header("Retry-After") == "5", "Retry-After: %r" % r.header("Retry-After"))
    expect(secs < PROMPT, "the overflow campaign waited %.2fs for its 503" % secs)
    # The queued one is taken when a campaign worker frees, after longer than
    # campaign_queue_timeout_ms: refused, not run for a caller kept waiting.
    queued[0].join(30)
    r, secs = queued_result[0]
    expect(not isinstance(r, Exception), "queued campaign raised %r" % (r,))
    expect_error(r, 503, "unavailable")
    expect(r.header("Retry-After") == "5", "Retry-After: %r" % r.header("Retry-After"))
    expect(QUEUE_TIMEOUT < secs < 3 * SLOW_MS / 1000.0 + 3, "the queued campaign's 503 came after %.2fs" % secs)
    expect_done(threads, results, 200)
    calls = REKOGNITION.stats()["calls"]
    expect(calls == POOL, "refused campaigns reached the providers: %d calls for %d campaigns" % (calls, POOL))
    providers(slow=False)


@test
def a_killed_campaign_worker_is_replaced_and_the_general_pool_is_untouched():
    providers(slow=False)
    _, general = api_workers("general")
    _, before = api_workers("campaign")
    expect(len(before) == POOL, "campaign workers %s, wanted %d" % (before, POOL))
    os.kill(before[0], signal.SIGKILL)
    after = wait_until(lambda: (lambda w: w if len(w) == POOL and before[0] not in w else None)(
        api_workers("campaign")[1]), 10)
    expect(after, "the killed campaign worker was not replaced: %s" % (api_workers("campaign")[1],))
    expect(sorted(api_workers("general")[1]) == sorted(general), "the general pool changed")
    threads, results = campaigns(1, uploaded_photo())
    expect_done(threads, results, 200)


@test
def sighup_replaces_both_pools_at_once_and_lets_a_campaign_in_hand_finish():
    providers(slow=True)
    upload_id = uploaded_photo()
    master, general = api_workers("general")
    _, campaign = api_workers("campaign")
    threads, results = campaigns(1, upload_id)
    expect(wait_until(lambda: REKOGNITION.stats()["calls"] >= 1, 10), "the campaign did not start")
    os.kill(master, signal.SIGHUP)
    # The new generation serves at once: the campaign in hand holds nothing.
    time.sleep(0.3)
    r, secs = timed(lambda: get("/api/health"))
    expect(r.status == 200 and secs < PROMPT, "health during the reload: %d after %.2fs" % (r.status, secs))
    expect(threads[0].is_alive(), "the campaign ended before the reload was checked")
    expect_done(threads, results, 200)

    def replaced():
        g, c = api_workers("general")[1], api_workers("campaign")[1]
        fresh = len(g) == len(general) and len(c) == POOL and not set(g + c) & set(general + campaign)
        return fresh
    expect(wait_until(replaced, 15), "both pools were not replaced on SIGHUP")
    providers(slow=False)
    expect(get("/api/health").status == 200)


if __name__ == "__main__":
    _, failed = run(set(sys.argv[1:]) or None)
    sys.exit(1 if failed else 0)
