#!/usr/bin/python3
"""Integration suite for GET /metrics on the cloud stack: scraped through
nginx as Prometheus would, every answer parsed by a strict reader of the
text exposition format (0.0.4), and values checked to move as requests,
jobs, failing model calls and lost database connections happen. The stack
runs with metrics_interval = 1 and metrics_allow = 127.0.0.3; the suite
starts its own generator and campaigner."""

import os
import re
import signal
import socket
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (VAR, Emulator, api_workers, expect, get, lamp_brief, post, request, run, sql,  # noqa: E402
                     start_process, stop_process, test, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
BEDROCK = Emulator(os.environ["ADS_BEDROCK_URL"])
PHOTO = open(os.path.join(os.environ["ADS_ROOT"], "data", "sample-product.png"), "rb").read()
PROCS = []


# ------------------------------------------------------ the strict reader

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(r"^(%s)(\{.*\})? (\S+)$" % NAME)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|\})')


def parse_labels(text, line):
    """{a="x",b="y"} -> (("a","x"),("b","y")), escapes undone; strict."""
    if not text:
        return ()
    expect(text[0] == "{" and text[-1] == "}", line)
    out, pos = [], 1
    while pos < len(text):
        m = LABEL.match(text, pos)
        expect(m is not None, "bad labels in %r" % line)
        value = re.sub(r'\\(.)', lambda e: {"n": "\n", "\\": "\\", '"': '"'}[e.group(1)], m.group(2))
        out.append((m.group(1), value))
        pos = m.end()
        if m.group(3) == "}":
            expect(pos == len(text), "text after labels in %r" % line)
            break
    names = [n for n, _ in out]
    expect(len(names) == len(set(names)), "a label twice in %r" % line)
    return tuple(out)


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return name


def parse(text):
    """The exposition as {(name, labels): value}, checking: every sample's
    family has one TYPE before it, families are contiguous, counters end in
    _total, histogram buckets are cumulative and end with +Inf == _count."""
    expect(text.endswith("\n"), "the exposition must end with a line feed")
    types, helps, samples, seen, current = {}, set(), {}, set(), None
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            expect(name not in helps, "HELP twice for " + name)
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            expect(len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram"), line)
            expect(parts[2] not in types, "TYPE twice for " + parts[2])
            types[parts[2]] = parts[3]
            if parts[3] == "counter":
                expect(parts[2].endswith("_total"), "counter without _total: " + parts[2])
            continue
        expect(line and not line.startswith("#"), "unexpected line %r" % line)
        m = SAMPLE.match(line)
        expect(m is not None, "not a sample: %r" % line)
        fam = family_of(m.group(1), types)
        expect(fam in types, "sample without TYPE: %r" % line)
        if fam != current:
            expect(fam not in seen, "family %s is not contiguous" % fam)
            seen.add(fam)
            current = fam
        key = (m.group(1), parse_labels(m.group(2) or "", line))
        expect(key not in samples, "sample twice: %r" % line)
        value = float(m.group(3))
        if types[fam] == "counter":
            expect(value >= 0, line)
        samples[key] = value
    check_histograms(types, samples)
    return samples


def check_histograms(types, samples):
    series = {}
    for (name, labels), value in samples.items():
        if name.endswith("_bucket") and types.get(name[:-7]) == "histogram":
            le = dict(labels).get("le")
            expect(le is not None, "bucket without le: %s %r" % (name, labels))
            rest = tuple(kv for kv in labels if kv[0] != "le")
            series.setdefault((name[:-7], rest), []).append((float(le), value))
    for (fam, rest), buckets in series.items():
        buckets.sort()
        expect(buckets[-1][0] == float("inf"), "%s%r has no +Inf bucket" % (fam, rest))
        counts = [v for _, v in buckets]
        expect(counts == sorted(counts), "%s%r buckets not cumulative: %r" % (fam, rest, buckets))
        expect(samples.get((fam + "_count", rest)) == counts[-1], "%s%r: +Inf != _count" % (fam, rest))
        expect((fam + "_sum", rest) in samples, "%s%r has no _sum" % (fam, rest))


# ------------------------------------------------------------- helpers

def scrape(src="127.0.0.1"):
    r = get("/metrics", src=src)
    expect(r.status == 200, (r.status, r.body[:300]))
    expect(r.header("Content-Type").startswith("text/plain; version=0.0.4"), r.header("Content-Type"))
    return parse(r.body.decode("utf-8"))


def value(samples, name, **want):
    """The sum over the series of name whose labels include want."""
    total = 0.0
    for (n, labels), v in samples.items():
        d = dict(labels)
        if n == name and all(d.get(k) == w for k, w in want.items()):
            total += v
    return total


def instance(p):
    return "%s:%d" % (socket.gethostname()[:63], p.pid)


def wait_value(name, at_least, timeout=15, **want):
    """Scrapes until the sum reaches at_least; returns the last scrape."""
    last = [None]

    def reached():
        last[0] = scrape()
        return value(last[0], name, **want) >= at_least
    expect(wait_until(reached, timeout, 0.3),
           "%s%r stayed at %s, wanted %s" % (name, want, value(last[0], name, **want), at_least))
    return last[0]


def enqueue(prompt):
    rid = "m-" + uuid.uuid4().hex[:12]
    r = post("/api/assets", {"prompt": prompt, "request_id": rid}, key=ALICE)
    expect(r.status == 200, r.body)
    return rid


def image_status(rid):
    return sql("SELECT status FROM generated_images WHERE request_id = '%s'" % rid)


def done_by(p):
    """Image jobs p completed, as the queue table says."""
    return int(sql("SELECT count(*) FROM generated_images WHERE status = 'completed' AND locked_by = '%s'"
                   % instance(p)))


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            stop_process(p, signal.SIGKILL)
    del PROCS[:]


def generator():
    stop_all()
    BEDROCK.behave()
    return start_process("generator", "listening for jobs", PROCS)


# --------------------------------------------------------------- tests

@test
def the_exposition_parses_and_names_every_family():
    s = scrape()
    names = {n for n, _ in s}
    for fam in ("adsmith_api_requests_total", "adsmith_api_request_duration_seconds_count",
                "adsmith_api_requests_in_flight", "adsmith_queue_jobs", "adsmith_metrics_dropped_total"):
        expect(fam in names, "no %s in the scrape" % fam)
    # The scrape itself is in flight while it is answered.
    expect(value(s, "adsmith_api_requests_in_flight", pool="general") >= 1, "in-flight gauge")
    expect(value(s, "adsmith_metrics_dropped_total") == 0)
    # The parser refuses what it must.
    for bad in ("x_total 1\n", "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                "h_sum 0\nh_count 1\n", "# TYPE c_total counter\nc_total{a=\"x\n"):
        try:
            parse(bad)
        except AssertionError:
            continue
        raise AssertionError("the parser took %r" % bad)


@test
def request_counts_move_by_exactly_the_requests_made():
    before = scrape()
    rid = "no-such-" + uuid.uuid4().hex[:8]
    for _ in range(5):
        expect(get("/api/assets/" + rid, key=ALICE).status == 404)
    for _ in range(3):
        expect(get("/api/health").status == 200)
    after = scrape()
    route = {"route": "/api/assets/{id}", "method": "GET"}
    expect(value(after, "adsmith_api_requests_total", status="404", pool="general", **route) -
           value(before, "adsmith_api_requests_total", status="404", pool="general", **route) == 5)
    expect(value(after, "adsmith_api_request_duration_seconds_count", **route) -
           value(before, "adsmith_api_request_duration_seconds_count", **route) == 5)
    expect(value(after, "adsmith_api_requests_total", route="/api/health", status="200") -
           value(before, "adsmith_api_requests_total", route="/api/health", status="200") == 3)
    # The raw path is never a label value: routes stay a bounded set.
    expect(not any(rid in v for (_, labels) in after for _, v in labels), "a raw id became a label")
    # The first scrape is counted too, once.
    expect(value(after, "adsmith_api_requests_total", route="/metrics", status="200") -
           value(before, "adsmith_api_requests_total", route="/metrics", status="200") == 1)


@test
def only_loopback_and_metrics_allow_may_scrape():
    with open(os.path.join(VAR, "nginx", "adsmith-locations.conf")) as f:
        conf = f.read()
    block = conf[conf.index("location = /metrics"):]
    block = block[:block.index("}")]
    expect("allow 127.0.0.1;" in block and "allow ::1;" in block and "allow 127.0.0.3;" in block
           and "deny all;" in block, block)
    r = get("/metrics", src="127.0.0.2")
    expect(r.status == 403, (r.status, r.body[:200]))
    expect(r.json() == {"error": "Access denied", "code": "access_denied"}, r.body)
    scrape(src="127.0.0.3")
    # A non-loopback address of this machine, when it has one.
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("192.0.2.1", 9))
        local = s.getsockname()[0]
        s.close()
    except OSError:
        local = None
    if local and not local.startswith("127."):
        r = get("/metrics", src=local)
        expect(r.status == 403, (local, r.status))


@test
def a_killed_worker_counts_as_a_restart_of_its_pool():
    before = scrape()
    _, pids = api_workers("campaign")
    expect(pids, "no campaign worker")
    os.kill(pids[0], signal.SIGKILL)
    expect(wait_until(lambda: pids[0] not in api_workers("campaign")[1]
                      and len(api_workers("campaign")[1]) == len(pids), 10), "the worker was not replaced")
    after = scrape()
    expect(value(after, "adsmith_api_worker_restarts_total", pool="campaign") -
           value(before, "adsmith_api_worker_restarts_total", pool="campaign") == 1)
    expect(value(after, "adsmith_api_worker_restarts_total", pool="general") ==
           value(before, "adsmith_api_worker_restarts_total", pool="general"))
    # Nothing was in flight in the campaign pool, nor is now.
    expect(value(after, "adsmith_api_requests_in_flight", pool="campaign") == 0)


@test
def a_job_moves_queue_depth_pickup_and_completed():
    stop_all()
    base = scrape()
    pending0 = value(base, "adsmith_queue_jobs", queue="images", status="pending")
    rid = enqueue("A metrics probe: a teapot on a windowsill")
    s = scrape()
    expect(value(s, "adsmith_queue_jobs", queue="images", status="pending") == pending0 + 1)
    g = generator()
    expect(wait_until(lambda: image_status(rid) == "completed", 20), image_status(rid))
    n = done_by(g)
    s = wait_value("adsmith_jobs_total", n, instance=instance(g), queue="images", outcome="completed")
    expect(value(s, "adsmith_jobs_total", instance=instance(g), queue="images", outcome="completed") == n >= 1)
    expect(value(s, "adsmith_job_pickup_seconds_count", instance=instance(g), queue="images") == n)
    expect(value(s, "adsmith_job_duration_seconds_count", instance=instance(g), queue="images") == n)
    expect(value(s, "adsmith_outcall_attempts_total", instance=instance(g), service="Nova Canvas") == n)
    expect(value(s, "adsmith_outcall_errors_total", instance=instance(g)) == 0)
    expect(value(s, "adsmith_jobs_running", instance=instance(g), queue="images") == 0)
    expect(value(s, "adsmith_metrics_snapshot_age_seconds", instance=instance(g), program="adsmith-generator") < 5)


@test
def a_failing_model_call_counts_as_an_error_of_its_service():
    g = generator()
    BEDROCK.behave(fail=1)
    rid = enqueue("A metrics probe that fails once, then draws")
    expect(wait_until(lambda: image_status(rid) == "completed", 20), image_status(rid))
    n = done_by(g)
    s = wait_value("adsmith_jobs_total", n, instance=instance(g), queue="images", outcome="completed")
    expect(value(s, "adsmith_outcall_errors_total", instance=instance(g), service="Nova Canvas", **{"class": "retry"})
           == 1, "no error counted for the failed call")
    expect(value(s, "adsmith_jobs_total", instance=instance(g), queue="images", outcome="retried") == 1)
    expect(value(s, "adsmith_outcall_attempts_total", instance=instance(g), service="Nova Canvas") == n + 1)


@test
def a_terminated_connection_counts_as_a_reconnect():
    g = generator()
    wait_value("adsmith_metrics_snapshot_age_seconds", 0, instance=instance(g))
    before = scrape()
    api0 = value(before, "adsmith_db_reconnects_total", instance=None)
    sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = 'adsmith' AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
    # Every API worker meets its dead connection at its next query.
    for _ in range(12):
        get("/api/assets/none-" + uuid.uuid4().hex[:6], key=ALICE)
    s = scrape()
    expect(value(s, "adsmith_db_reconnects_total", instance=None) > api0, "the API counted no reconnect")
    wait_value("adsmith_db_reconnects_total", 1, instance=instance(g))


@test
def a_queued_campaign_counts_for_the_campaigner_with_its_tokens():
    stop_all()
    BEDROCK.behave()
    c = start_process("campaigner", "listening for campaigns", PROCS)
    r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=ALICE)
    expect(r.status == 200, r.body)
    up = r.json()
    r = request("PUT", None, url=up["upload_url"], body=PHOTO, headers={"Content-Type": "image/png"}, timeout=60)
    expect(r.status == 200, r.body)
    r = post("/api/campaigns", dict(lamp_brief(["Japan"]), upload_id=up["upload_id"]), key=ALICE)
    expect(r.status == 202, r.body[:300])
    pid = r.json()["product_id"]
    expect(wait_until(lambda: sql("SELECT status FROM campaign_jobs WHERE product_id = '%s'" % pid) == "completed",
                      40, 0.3), "the campaign did not complete")
    # Campaigns an earlier suite left to lease expiry may have run here too.
    n = int(sql("SELECT count(*) FROM campaign_jobs WHERE status = 'completed' AND locked_by = '%s'" % instance(c)))
    s = wait_value("adsmith_jobs_total", n, instance=instance(c), queue="campaigns", outcome="completed")
    expect(value(s, "adsmith_jobs_total", instance=instance(c), queue="campaigns", outcome="completed") == n)
    expect(value(s, "adsmith_job_pickup_seconds_count", instance=instance(c), queue="campaigns") >= n)
    expect(value(s, "adsmith_model_tokens_total", instance=instance(c), provider="bedrock", direction="input") > 0)
    expect(value(s, "adsmith_model_cost_usd_total", instance=instance(c), provider="bedrock") > 0)
    stop_all()


@test
def a_scrape_costs_little():
    """Measured, not asserted tightly: printed for the record."""
    times = []
    for _ in range(20):
        t0 = time.time()
        r = get("/metrics", src="127.0.0.1")
        times.append((time.time() - t0) * 1000)
        expect(r.status == 200)
    times.sort()
    print("     scrape through nginx: median %.1f ms, max %.1f ms over 20; %d bytes, %d lines"
          % (times[10], times[-1], len(r.body), r.body.count(b"\n")))
    expect(times[10] < 500, times)


if __name__ == "__main__":
    try:
        passed, failed = run(sys.argv[1:] or None)
    finally:
        stop_all()
    sys.exit(1 if failed else 0)
