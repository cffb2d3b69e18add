#!/usr/bin/python3
"""Integration suite for webhooks: image jobs with a callback_url get a
signed POST of their GET /api/assets/{id} JSON when they complete or fail.

Runs on the local-storage stack after the API suite, with
webhook_allow_private = yes and a webhook_secret in the stack's config (the
receiver is an http.server on 127.0.0.1 in this process). The suite stops
the stack's generator and runs its own, with config overrides per test
(ADSMITH_* variables): a short retry backoff and attempt timeout, broken
storage to make a job fail, webhook_allow_private = no."""

import glob
import hashlib
import hmac
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PREFIX, RUNAS, VAR, config_value, ctl, expect, expect_error, free_port, get,  # noqa: E402
                     lamp_brief, post, request, run, sql, test, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
SECRET = config_value("webhook_secret")
# Fast retries and a short attempt timeout, so the suite does not wait on
# the production defaults (10 s backoff base, 5 s timeout).
HOOK_ENV = {"webhook_backoff_ms": "300", "webhook_timeout_ms": "1500"}
# ADS_GENERATOR runs another build of the generator (a sanitizer's).
GENERATOR = os.environ.get("ADS_GENERATOR") or os.path.join(PREFIX, "sbin", "adsmith-generator")
GENERATORS = []


# ---------------------------------------------------------------- receiver

class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST; mode says how
    it answers (ok: 200, fail: 500, hang: holds the request until released)."""

    def __init__(self, port=0, mode="ok"):
        self.mode = mode
        self.hits = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.hits.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                       "at": time.time()})
                if outer.mode == "hang":
                    outer.release.wait(60)
                    return
                status = 200 if outer.mode == "ok" else 500
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def for_job(self, rid):
        with self.lock:
            return [h for h in self.hits if json.loads(h["body"]).get("request_id") == rid]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- generators

def read_log(p):
    with open(p.log_path) as f:
        return f.read()


def start_generator(**env):
    """Starts an adsmith-generator with HOOK_ENV and env as ADSMITH_* overrides."""
    n = len(GENERATORS) + 1
    log = open(os.path.join(VAR, "log", "generator-wh-%d.log" % n), "a")
    e = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"))
    e.update({"ADSMITH_" + k.upper(): str(v) for k, v in dict(HOOK_ENV, **env).items()})
    p = subprocess.Popen(RUNAS + [GENERATOR], stdout=log, stderr=log, env=e)
    p.log_path = log.name
    GENERATORS.append(p)
    expect(wait_until(lambda: "listening for jobs" in read_log(p), 10), "generator did not start: " + read_log(p))
    return p


def stop_generators():
    for p in GENERATORS:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(40)


def use_generator(**env):
    """Exactly one generator of ours, with these overrides."""
    stop_generators()
    return start_generator(**env)


def stop_stack_generator():
    pidfile = os.path.join(VAR, "run", "generator.pid")
    if not os.path.exists(pidfile):
        return
    pid = int(open(pidfile).read())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
               open("/proc/%d/stat" % pid).read().split()[2] == "Z", 40)


# ---------------------------------------------------------------- helpers

def enqueue(prompt="A webhook test poster with a red kite", **kw):
    rid = kw.pop("request_id", "wh-" + uuid.uuid4().hex[:12])
    body = {"prompt": prompt, "request_id": rid}
    body.update(kw)
    r = post("/api/assets", body, key=ALICE)
    expect(r.status == 200, r.body)
    return rid


def deliveries(rid, cols="attempt, state, coalesce(status_code, 0), coalesce(error, '')"):
    out = sql("SELECT %s FROM webhook_deliveries WHERE job_kind = 'image' AND job_id = '%s' ORDER BY attempt"
              % (cols, rid))
    return [line.split("|") for line in out.splitlines()] if out else []


def verify(hit, now=None):
    """Checks the signature as a receiver would; returns the parsed body."""
    sig = hit["headers"].get("X-Adsmith-Signature")
    expect(sig, "no signature header: %s" % hit["headers"])
    parts = dict(p.split("=", 1) for p in sig.split(","))
    t = int(parts["t"])
    want = hmac.new(SECRET.encode(), str(t).encode() + b"." + hit["body"], hashlib.sha256).hexdigest()
    expect(hmac.compare_digest(want, parts["v1"]), "signature does not verify: %s" % sig)
    expect(abs((now or hit["at"]) - t) < 300, "timestamp outside the replay window: %d" % t)
    expect(hit["headers"].get("Content-Type") == "application/json", hit["headers"])
    return json.loads(hit["body"])


# ---------------------------------------------------------------- tests

@test
def completed_job_webhook_is_signed_and_equals_get():
    rcv = Receiver()
    try:
        rid = enqueue(callback_url=rcv.url("/hooks/adsmith?tenant=7"))
        expect(wait_until(lambda: rcv.for_job(rid), 20), "no webhook arrived")
        hit = rcv.for_job(rid)[0]
        body = verify(hit)
        expect(hit["path"] == "/hooks/adsmith?tenant=7", hit["path"])
        expect(hit["headers"].get("X-Adsmith-Job-Kind") == "image")
        expect(body["status"] == "completed" and body["s3_url"], body)
        g = get("/api/assets/" + rid, key=ALICE)
        expect(g.status == 200 and g.json() == body, "webhook body %s differs from GET %s" % (body, g.body))
        # A tampered body or another secret does not verify.
        forged = dict(hit, body=hit["body"].replace(b"completed", b"failed"))
        try:
            verify(forged)
            expect(False, "a tampered body verified")
        except AssertionError as e:
            expect("does not verify" in str(e), str(e))
        expect(wait_until(lambda: deliveries(rid) == [["1", "delivered", "200", ""]], 5), deliveries(rid))
        expect(sql("SELECT attempted_at IS NOT NULL AND duration_ms >= 0 AND url = '%s' FROM webhook_deliveries"
                   " WHERE job_id = '%s'" % (rcv.url("/hooks/adsmith?tenant=7"), rid)) == "t")
        time.sleep(1)
        expect(len(rcv.for_job(rid)) == 1, "delivered more than once")
    finally:
        rcv.close()


@test
def campaign_webhook_is_signed_and_equals_get():
    rcv = Receiver()
    try:
        r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=ALICE)
        expect(r.status == 200, r.body)
        up = r.json()
        photo = open(os.path.join(os.environ["ADS_ROOT"], "data", "sample-product.png"), "rb").read()
        r = request("PUT", None, url=up["upload_url"], body=photo, headers={"Content-Type": "image/png"})
        expect(r.status == 200, r.body)
        r = post("/api/campaigns", dict(lamp_brief(["Germany"]), upload_id=up["upload_id"],
                                        callback_url=rcv.url("/hooks/campaigns")), key=ALICE)
        expect(r.status == 202, r.body)
        pid = r.json()["product_id"]

        def hit():
            return [h for h in rcv.hits if json.loads(h["body"]).get("product_id") == pid]
        expect(wait_until(hit, 60), "no campaign webhook arrived")
        h = hit()[0]
        body = verify(h)
        expect(h["headers"].get("X-Adsmith-Job-Kind") == "campaign", h["headers"])
        expect(body["status"] == "completed" and body["campaign"]["content_ideas"], str(body)[:300])
        g = get("/api/campaigns/" + pid, key=ALICE)
        expect(g.status == 200 and g.json() == body, "webhook body differs from GET")
    finally:
        rcv.close()


@test
def callback_url_is_validated_at_submit_and_changes_nothing():
    before = sql("SELECT count(*) FROM generated_images")
    for bad in ["ftp://example.com/hook", "not a url", "file:///etc/passwd", "//example.com/x",
                "http://exa mple.com/", "https://" + "a" * 2100 + ".example/"]:
        j = expect_error(post("/api/assets", {"prompt": "A webhook test poster", "callback_url": bad}, key=ALICE),
                         400, "invalid_request")
        expect("callback_url" in j["error"], j)
    expect_error(post("/api/assets", {"prompt": "A webhook test poster", "callback_url": 42}, key=ALICE),
                 400, "invalid_request")
    expect(sql("SELECT count(*) FROM generated_images") == before, "a bad callback_url stored a job")
    # The camelCase spelling is accepted too, and the URL is kept with the job.
    rid = enqueue(callbackUrl="https://hooks.example.com/x")
    expect(sql("SELECT callback_url FROM generated_images WHERE request_id = '%s'" % rid)
           == "https://hooks.example.com/x")
    # The callback belongs to the body a request_id stands for.
    r = post("/api/assets", {"prompt": "A webhook test poster with a red kite", "request_id": rid,
                             "callback_url": "https://hooks.example.com/other"}, key=ALICE)
    expect_error(r, 409, "conflict")


@test
def failed_job_webhook_carries_the_error():
    rcv = Receiver()
    try:
        # Storage that cannot be written and one attempt: the job fails for good.
        use_generator(storage_root="/dev/null/nowhere", max_attempts=1)
        rid = enqueue(callback_url=rcv.url())
        expect(wait_until(lambda: rcv.for_job(rid), 20), "no webhook arrived")
        body = verify(rcv.for_job(rid)[0])
        expect(body["status"] == "failed" and body["error"] == "could not store the image", body)
        expect(get("/api/assets/" + rid, key=ALICE).json() == body)
    finally:
        use_generator()
        rcv.close()


@test
def receiver_down_is_retried_with_backoff_until_it_is_back():
    port = free_port()
    rid = enqueue(callback_url="http://127.0.0.1:%d/hook" % port)
    expect(wait_until(lambda: len([d for d in deliveries(rid) if d[1] == "failed"]) >= 2, 20),
           "attempts not recorded: %s" % deliveries(rid))
    for d in deliveries(rid):
        if d[1] == "failed":
            expect(d[2] == "0" and ("connect" in d[3].lower() or "refused" in d[3].lower()), d)
    rcv = Receiver(port)
    try:
        expect(wait_until(lambda: rcv.for_job(rid), 30), "not delivered once the receiver was back: %s"
               % deliveries(rid))
        verify(rcv.for_job(rid)[0])
        rows = deliveries(rid)
        expect(wait_until(lambda: deliveries(rid)[-1][1] == "delivered", 5), rows)
        rows = deliveries(rid)
        expect([int(r[0]) for r in rows] == list(range(1, len(rows) + 1)) and len(rows) <= 5, rows)
        expect(all(r[1] == "failed" for r in rows[:-1]), rows)
        # Each retry waited its backoff: base 300 ms doubling, half of it jittered.
        gaps = sql("SELECT string_agg((extract(epoch FROM due_at - created_at) * 1000)::int::text, ',' ORDER BY attempt)"
                   " FROM webhook_deliveries WHERE job_id = '%s' AND attempt > 1" % rid).split(",")
        for i, g in enumerate(gaps):
            full = 300 * 2 ** i
            expect(full // 2 - 20 <= int(g) <= full + 20, "attempt %d waited %s ms" % (i + 2, g))
    finally:
        rcv.close()


@test
def a_receiver_that_keeps_failing_gets_five_attempts():
    rcv = Receiver(mode="fail")
    try:
        rid = enqueue(callback_url=rcv.url())
        expect(wait_until(lambda: len(deliveries(rid)) == 5 and deliveries(rid)[-1][1] == "failed", 30),
               deliveries(rid))
        time.sleep(1.5)
        rows = deliveries(rid)
        expect(len(rows) == 5 and all(r[1] == "failed" and r[2] == "500" for r in rows), rows)
        expect("HTTP 500" in rows[0][3], rows)
        expect(len(rcv.for_job(rid)) == 5, "receiver saw %d attempts" % len(rcv.for_job(rid)))
        for h in rcv.for_job(rid):
            verify(h)
    finally:
        rcv.close()


@test
def jobs_keep_completing_while_the_receiver_hangs():
    """Eight jobs whose receiver holds every request for the whole attempt
    timeout (10 s): were a delivery made in the job loop, the next job would
    wait for it; they all complete before the first attempt ends."""
    rcv = Receiver(mode="hang")
    try:
        use_generator(webhook_timeout_ms=10000)
        t0 = time.time()
        ids = [enqueue(callback_url=rcv.url()) for _ in range(8)]
        inlist = ",".join("'%s'" % i for i in ids)
        done = wait_until(lambda: sql("SELECT count(*) FROM generated_images WHERE status = 'completed'"
                                      " AND request_id IN (%s)" % inlist) == "8", 20)
        took = time.time() - t0
        expect(done, "jobs stalled behind a hanging receiver")
        expect(rcv.hits, "no delivery was attempted")
        expect(sql("SELECT count(*) FROM webhook_deliveries WHERE state <> 'pending' AND job_id IN (%s)" % inlist)
               == "0", "an attempt ended before the jobs completed (%.1f s): the test proves nothing" % took)
        expect(wait_until(lambda: any(d[3] == "timed out after 10000 ms" for i in ids for d in deliveries(i)), 20),
               "no attempt timed out")
        print("     8 jobs completed in %.1f s while the receiver hung" % took)
    finally:
        rcv.close()
        use_generator()


@test
def private_addresses_are_refused_unless_allowed():
    rcv = Receiver()
    try:
        use_generator(webhook_allow_private="no")
        lit = enqueue(callback_url=rcv.url())
        name = enqueue(callback_url="http://localhost:%d/hook" % rcv.port)
        expect(wait_until(lambda: deliveries(lit) and deliveries(name) and deliveries(lit)[0][1] != "pending"
                          and deliveries(name)[0][1] != "pending", 20), (deliveries(lit), deliveries(name)))
        time.sleep(1.5)    # several backoff periods: no retry comes
        for rid in (lit, name):
            rows = deliveries(rid)
            expect(len(rows) == 1 and rows[0][1] == "failed" and rows[0][2] == "0", rows)
            expect("refused" in rows[0][3] and "loopback" in rows[0][3], rows)
        expect(not rcv.hits, "the receiver was reached")
    finally:
        use_generator()
        rcv.close()


@test
def webhook_url_config_default_applies_to_jobs_without_one():
    rcv = Receiver()
    own = Receiver()
    api = None
    try:
        api = restart_api(webhook_url=rcv.url("/default"))
        rid = enqueue()
        explicit = enqueue(callback_url=own.url("/own"))
        expect(wait_until(lambda: rcv.for_job(rid) and own.for_job(explicit), 20), "webhooks did not arrive")
        expect(rcv.for_job(rid)[0]["path"] == "/default")
        verify(rcv.for_job(rid)[0])
        expect(not rcv.for_job(explicit), "the default was used over the job's own callback_url")
    finally:
        restart_api()
        rcv.close()
        own.close()
    # Without the default, a job without callback_url has no webhook.
    rid = enqueue()
    expect(wait_until(lambda: get("/api/assets/" + rid, key=ALICE).json()["status"] == "completed", 15))
    time.sleep(0.5)
    expect(deliveries(rid) == [], deliveries(rid))


def restart_api(**env):
    """Restarts adsmith-api with ADSMITH_* overrides; the stack keeps
    managing it through its pid file."""
    pidfile = os.path.join(VAR, "run", "api.pid")
    sock = os.path.join(VAR, "run", "api.sock")
    pid = int(open(pidfile).read())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
               open("/proc/%d/stat" % pid).read().split()[2] == "Z", 20)
    e = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"))
    e.update({"ADSMITH_" + k.upper(): str(v) for k, v in env.items()})
    log = open(os.path.join(VAR, "log", "api.log"), "a")
    p = subprocess.Popen(RUNAS + [os.path.join(PREFIX, "sbin", "adsmith-api")], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL, env=e, start_new_session=True)
    with open(pidfile, "w") as f:
        f.write(str(p.pid))
    expect(wait_until(lambda: os.path.exists(sock) and get("/api/health").status == 200, 15), "API did not restart")
    return p


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@test
def an_idle_generator_with_its_deliverer_uses_no_cpu():
    """Nothing queued, some webhooks already done: the deliverer sleeps
    until a notification, a retry or the sweep."""
    p = use_generator()
    time.sleep(1)
    before = cpu_seconds(p.pid)
    time.sleep(4)
    used = cpu_seconds(p.pid) - before
    expect(used < 0.1, "an idle generator used %.2f s of CPU in 4 s" % used)


@test
def the_secret_is_hidden_and_never_logged():
    stop_generators()
    code, out, err = ctl("config", "check")
    expect(code == 0 and "webhook_secret = (set, hidden)" in out, out + err)
    expect(SECRET not in out + err)
    for path in glob.glob(os.path.join(VAR, "log", "*.log")):
        with open(path, errors="replace") as f:
            expect(SECRET not in f.read(), "the webhook secret appears in " + path)


if __name__ == "__main__":
    expect(SECRET and SECRET.startswith("whsec_"), "the stack has no webhook_secret")
    stop_stack_generator()
    # The API suite before this one leaves a backlog (its worker-kill test
    # queues hundreds of jobs); this suite's jobs would wait behind it, so
    # what is left of it is dropped first.
    sql("DELETE FROM generated_images WHERE status = 'pending'")
    use_generator()
    try:
        passed, failed = run(sys.argv[1:] or None)
    finally:
        stop_generators()
    sys.exit(1 if failed else 0)
