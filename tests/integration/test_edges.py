#!/usr/bin/python3
"""adsmith edge suite: what an attacker sends at the input edges (numbers
out of range, NUL inside strings, control characters meant for the logs,
broken HTTP at nginx, floods of upload slots) and what must never leak
(signed upload URLs in logs). Runs against the `local` stack of
scripts/test, after the API suite."""

import glob
import json
import os
import re
import socket
import stat
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HOST, PORT, VAR, ctl, expect, expect_error, get, new_source, post, request, run, sql,  # noqa: E402
                     test, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
ROOT = os.environ["ADS_ROOT"]
PHOTO = open(os.path.join(ROOT, "data", "sample-product.png"), "rb").read()
LOG = os.path.join(VAR, "log")

BRIEF = {
    "product_info": {"name": "Aurora Desk Lamp",
                     "description": "A dimmable LED desk lamp with warm-to-cool light and a wireless charging base.",
                     "category": "Home Office", "price": 89.0},
    "target_markets": {"markets": ["Japan"]},
    "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                            "primary_goal": "drive online sales", "budget": "$8,000"},
}


def new_user(name):
    """A key for a user of this test alone (its own upload slots)."""
    user = "%s-%s" % (name, uuid.uuid4().hex[:8])
    code, out, err = ctl("apikey", "create", "--user", user)
    expect(code == 0, err)
    return user, out.strip()


def presign(key, src=None, **body):
    return post("/api/upload/presigned-url", dict({"file_name": "lamp.png", "file_type": "image/png"}, **body),
                key=key, src=src or new_source())


def upload(key):
    r = presign(key)
    expect(r.status == 200, r.body)
    p = r.json()
    r = request("PUT", None, url=p["upload_url"], body=PHOTO, headers={"Content-Type": "image/png"})
    expect(r.status == 200, r.body)
    return p


def brief(upload_id, **changes):
    b = json.loads(json.dumps(BRIEF))
    b["upload_id"] = upload_id
    for path, value in changes.items():
        section, field = path.split("__")
        b[section][field] = value
    return b


def raw(data, timeout=5):
    """Sends bytes to nginx; returns (status, headers dict, body bytes)."""
    s = socket.create_connection((HOST, PORT), timeout=timeout, source_address=(new_source(), 0))
    out = b""
    try:
        try:
            s.sendall(data)
        except OSError:
            pass      # nginx may answer and close before reading all of it
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    expect(lines[0].startswith("HTTP/1."), "no HTTP answer to %r: %r" % (data[:60], out[:200]))
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = body.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
    return int(lines[0].split()[1]), headers, body


def log_text():
    text = ""
    for path in glob.glob(os.path.join(LOG, "*")):
        with open(path, "rb") as f:
            text += f.read().decode("utf-8", "replace")
    return text


# ---------------------------------------------------------------- numbers

@test
def numbers_out_of_range_are_refused_naming_the_field():
    before = (sql("SELECT count(*) FROM uploads"), sql("SELECT count(*) FROM products"))
    for size in (-1, 10485761, 1e19, 18446744073709551615, 1.5):
        j = expect_error(presign(ALICE, file_size=size), 400, "invalid_request")
        expect("file_size" in j["error"], j["error"])
    p = upload(ALICE)
    cases = [("campaign_objectives__budget", 1e19), ("campaign_objectives__budget", -5),
             ("campaign_objectives__budget", 1000000001), ("product_info__price", 18446744073709551615),
             ("product_info__price", -0.01), ("product_info__price", 1e300)]
    for path, value in cases:
        j = expect_error(post("/api/campaign/tier-1", brief(p["upload_id"], **{path: value}), key=ALICE,
                              src=new_source()), 400, "invalid_request")
        expect(path.replace("__", ".") in j["error"], "message %r does not name %s" % (j["error"], path))
    expect((sql("SELECT count(*) FROM uploads"), sql("SELECT count(*) FROM products")) == (str(int(before[0]) + 1), before[1]),
           "a refused request wrote a row")
    # In range, as numbers: accepted, and kept as given.
    r = post("/api/campaign/tier-1", brief(p["upload_id"], campaign_objectives__budget=1000000000,
                                           product_info__price=0), key=ALICE, src=new_source())
    expect(r.status == 200, r.body[:300])


@test
def a_huge_written_budget_gives_whole_positive_estimates():
    p = upload(ALICE)
    r = post("/api/campaign/tier-1", brief(p["upload_id"], campaign_objectives__budget="10000000000000000000 USD"),
             key=ALICE, src=new_source())
    expect(r.status == 200, r.body[:300])
    j = r.json()
    a = j["campaign"]["analytics"]
    for name in ("estimatedReach", "estimatedViews", "projectedShares", "newFollowers"):
        expect(isinstance(a[name], int) and 0 < a[name] <= 10 ** 15, "%s = %r" % (name, a[name]))
    expect(0 < j["campaign"]["campaigns"][0]["estimated_reach"] <= 10 ** 15)
    expect(any("1,000,000,000" in w for w in j["warnings"]), j["warnings"])


# ---------------------------------------------------------------- NUL

@test
def nul_inside_any_string_is_refused():
    before = (sql("SELECT count(*) FROM uploads"), sql("SELECT count(*) FROM generated_images"))
    j = expect_error(presign(ALICE, file_type="image/png\u0000evil"), 400, "invalid_request")
    expect("file_type" in j["error"], j["error"])
    j = expect_error(presign(ALICE, file_name="lamp\u0000.exe"), 400, "invalid_request")
    expect("file_name" in j["error"], j["error"])
    rid = "nul-" + uuid.uuid4().hex[:8]
    for prompt in ("A lamp on a desk at dusk\u0000 and then something else", "A lamp on a desk at dusk\u0000 entirely different"):
        j = expect_error(post("/api/assets", {"prompt": prompt, "request_id": rid}, key=ALICE, src=new_source()),
                         400, "invalid_request")
        expect("prompt" in j["error"], j["error"])
    j = expect_error(post("/api/assets", {"prompt": "A lamp on a desk at dusk", "style\u0000x": "vivid"}, key=ALICE,
                          src=new_source()), 400, "invalid_request")
    expect("NUL" in j["error"], j["error"])
    expect((sql("SELECT count(*) FROM uploads"), sql("SELECT count(*) FROM generated_images")) == before,
           "a refused request wrote a row")
    p = upload(ALICE)
    j = expect_error(post("/api/campaign/tier-1", dict(brief(p["upload_id"]), target_markets={"markets": ["Japan\u0000x"]}),
                          key=ALICE, src=new_source()), 400, "invalid_request")
    expect("target_markets.markets" in j["error"] and j["success"] is False, j)


# ---------------------------------------------------------------- logs

@test
def logged_values_cannot_forge_lines_or_reach_a_terminal():
    p = upload(ALICE)
    forged = "FORGED-%s" % uuid.uuid4().hex[:8]
    market = "Atlantis\n2026-01-01T00:00:00.000Z ERROR adsmith-api[1] %s \x1b[31mred\x1b[0m" % forged
    r = post("/api/campaign/tier-1", dict(brief(p["upload_id"]), target_markets={"markets": [market]}),
             key=ALICE, src=new_source())
    expect(r.status == 200, r.body[:300])

    def logged():
        return [line for line in open(os.path.join(LOG, "api.log"), encoding="utf-8", errors="replace")
                if forged in line]
    lines = wait_until(logged, 5)
    expect(lines, "the warning naming the market was not logged")
    for line in lines:
        expect(not line.startswith("2026-01-01"), "a forged line: %r" % line)
        expect("Atlantis\\n2026-01-01" in line and "\\x1b[31mred" in line, "not escaped: %r" % line)
        expect("\x1b" not in line, "an escape sequence went through raw: %r" % line)


@test
def log_files_are_not_readable_by_others():
    mode = os.stat(LOG).st_mode
    expect(not mode & stat.S_IRWXO, "log directory is open to others: %o" % mode)
    for path in glob.glob(os.path.join(LOG, "*.log")):
        mode = os.stat(path).st_mode
        expect(not mode & stat.S_IRWXO, "%s is readable by others: %o" % (path, mode))


@test
def signed_upload_urls_never_reach_a_log():
    r = presign(ALICE)
    p = r.json()
    url = p["upload_url"]
    sig = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    big = PHOTO + b"\0" * (2 * 1024 * 1024)      # past nginx's body buffer: a temp file, a warning
    r = request("PUT", None, url=url, body=big, headers={"Content-Type": "image/png"})
    expect(r.status == 200, r.body)
    r = request("PUT", None, url=url, body=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "image/png"})
    expect_error(r, 413, "payload_too_large")
    expect(request("GET", None, url=url).status == 403)
    expect(request("PUT", None, url=url, body=PHOTO, headers={"Content-Type": "image/jpeg"}).status == 403)
    path = urllib.parse.urlsplit(url).path
    wait_until(lambda: path in open(os.path.join(LOG, "access.log")).read(), 5)
    text = log_text()
    expect(path in text, "the upload is not in the access log")
    expect("X-Amz-Signature" not in text and sig not in text, "a signed upload URL is in a log")


# ---------------------------------------------------------------- nginx

@test
def nginx_answers_broken_http_with_json():
    long_uri = b"/api/" + b"a" * 20000
    cases = [
        (b"GARBAGE\r\n\r\n", 400, "invalid_request"),
        (b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_request"),
        (b"GET /api/health%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_request"),
        (b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_request"),
        (b"GET /api/%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_request"),
        (b"GET " + long_uri + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET /api/health HTTP/3.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
        (b"get /api/health HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_request"),
        (b"TRACE /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "method_not_allowed"),
        (b"FOO /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "method_not_allowed"),
        (b"POST /api/assets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"),
        (b"GET /objects/adsmith-uploads/uploads/x.png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 403,
         "access_denied"),
        (b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n", 400, "invalid_request"),
        (b"GET /nothing/here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "not_found"),
        (b"GET /_adsmith_error/500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "not_found"),
    ]
    for data, status, code in cases:
        got, headers, body = raw(data)
        what = data[:40]
        expect(got == status, "%r: status %d, wanted %d" % (what, got, status))
        expect(headers.get("content-type", "").startswith("application/json"), "%r: %s" % (what, headers))
        try:
            j = json.loads(body)
        except ValueError:
            raise AssertionError("%r: body is not JSON: %r" % (what, body[:200]))
        expect(j.get("code") == code and j.get("error"), "%r: %r" % (what, j))
    errlog = open(os.path.join(LOG, "nginx-error.log")).read()
    expect("empty URI" not in errlog, "nginx could not redirect to an error page")


# ---------------------------------------------------------------- upload slots

@test
def presign_is_rate_limited_per_address():
    _, key = new_user("flood")
    src = new_source()
    statuses = []
    for _ in range(40):
        r = presign(key, src=src)
        statuses.append(r.status)
        if r.status == 429:
            expect_error(r, 429, "rate_limited")
            expect(r.header("Retry-After"), "Retry-After missing")
            break
    expect(429 in statuses, "no 429 after %d presigns from one address" % len(statuses))
    expect(presign(key).status == 200, "another address was limited too")


@test
def pending_upload_slots_are_capped_and_unused_ones_expire():
    user, key = new_user("slots")
    cap = 100
    first = None
    for i in range(cap):
        r = presign(key)
        expect(r.status == 200, "slot %d: %d %r" % (i, r.status, r.body))
        first = first or r.json()
    expect_error(presign(key), 429, "rate_limited")
    r = presign(key)
    expect(r.status == 429 and 0 < int(r.header("Retry-After")) <= 3600, r.header("Retry-After"))
    expect(sql("SELECT count(*) FROM uploads WHERE user_id = '%s'" % user) == str(cap), "a refused slot was written")
    # A used slot no longer counts.
    r = request("PUT", None, url=first["upload_url"], body=PHOTO, headers={"Content-Type": "image/png"})
    expect(r.status == 200, r.body)
    expect(presign(key).status == 200, "an uploaded slot still counted as pending")
    expect_error(presign(key), 429, "rate_limited")
    # Expired and never used: the generator's sweep deletes them; the used one stays.
    sql("UPDATE uploads SET expires_at = now() - interval '1 second' WHERE user_id = '%s'" % user)
    left = wait_until(lambda: sql("SELECT count(*) FROM uploads WHERE user_id = '%s'" % user) == "1", 20)
    expect(left, "unused expired slots were not swept: %s left" % sql(
        "SELECT count(*) FROM uploads WHERE user_id = '%s'" % user))
    expect(sql("SELECT upload_id FROM uploads WHERE user_id = '%s'" % user) == first["upload_id"])
    expect(get("/api/upload/status/" + first["upload_id"], key=key).json()["status"] == "completed")
    expect(presign(key).status == 200, "slots did not free up after expiry")


if __name__ == "__main__":
    passed, failed = run(sys.argv[1:] or None)
    sys.exit(1 if failed else 0)
